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
