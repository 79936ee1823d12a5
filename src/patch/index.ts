/**
 * Function-level live patching (LUCOS, DESIGN.md §4), in process and pure: no kernel, no
 * I/O. A component exports its patchable functions and data through a trampoline table;
 * a patch file (anywhere) exports `definePatch({ … })`; whoever holds the patch applies
 * it at any moment, and may undo it.
 *
 *   export const lib = patchable('kvd.commands', { data: { limits }, functions: { clamp(d, n) { … } } });
 *   lib.fn.clamp(5);
 *   const info = applyPatch(patch);      // swaps at once; running invocations finish on the old code
 *   undoPatch(info.id);
 *
 * The rule patch authors follow (as in LUCOS): a patch that changes the representation of
 * a data item must replace every function that uses the item — the table's other
 * functions are rebound to the new view, where the item is the new copy. Declare items a
 * patch's functions read without changing in `uses`, so an earlier patch that changed them
 * cannot be undone underneath.
 *
 * Limits:
 * - Writes are intercepted through proxies of plain objects and arrays; the inner
 *   mutations of a Map, Set, Date or class instance inside a changed item are not seen,
 *   and neither are writes through a reference to the item taken before the patch was
 *   applied (read items through the view after an `await`). A proxy cannot be
 *   `structuredClone`d: clone the raw copies the sync functions get.
 * - An invocation counts as asynchronous if it returns a native Promise of this realm
 *   (other thenables count as returned at once); the trampoline's settle handler marks the
 *   promise handled, so a rejection nobody handles is not reported as unhandled.
 * - A synchronous throw is accounted when a patch next looks at the function's counts:
 *   at once, unless the patch was applied from inside the throwing function's own frame,
 *   then at the next microtask checkpoint (see table.ts).
 * - A patch cannot stack on one still synchronising the same functions or items.
 *
 * Entry points: `patchable`, `definePatch`, `applyPatch`, `undoPatch`, `listPatches`,
 * `getPatch`, `onPatchEvent`, `resetRegistry`, `PatchError`, and the types of types.ts.
 */
export { patchable } from './table.js';
export { definePatch, applyPatch, undoPatch, listPatches, getPatch } from './patch.js';
export { onPatchEvent, resetRegistry } from './registry.js';
export { PatchError } from './errors.js';
export type {
  Change,
  DataChange,
  PatchableFns,
  PatchableSpec,
  PatchDefinition,
  PatchEvent,
  PatchInfo,
  PatchListener,
  PatchSpec,
  PatchStatus,
  PatchTable,
  Trampolines,
} from './types.js';
