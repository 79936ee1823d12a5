/**
 * Function-level live patching (LUCOS, DESIGN.md §4): the public types. Types only; the
 * logic lives in table.ts (trampolines, views), sync.ts (write interception), patch.ts
 * (apply / complete / undo) and registry.ts (the per-bundle registry and events).
 *
 * Entry points: `PatchTable`, `Trampolines`, `PatchableSpec`, `PatchSpec`,
 * `PatchDefinition`, `DataChange`, `Change`, `PatchInfo`, `PatchStatus`, `PatchEvent`,
 * `PatchListener`.
 */

// `any` below: function tables are variadic by nature, and a patch's data view is the
// patch author's own type (the table's type describes the old representation).

/**
 * The functions of a table: each takes the data view of its version first, then the
 * caller's arguments.
 */
export type PatchableFns<D> = Record<string, (d: D, ...a: any[]) => unknown>;

/** What callers call: each function without its data parameter. */
export type Trampolines<F> = {
  readonly [K in keyof F]: F[K] extends (d: any, ...a: infer A) => infer R ? (...a: A) => R : never;
};

/** The argument of `patchable(name, spec)`. */
export interface PatchableSpec<D extends object, F extends PatchableFns<D>> {
  /**
   * The table's patchable data items, each a plain object or array (JSON-like; wrap a
   * scalar as `{ value: 0 }`). Functions mutate them in place; the view itself is
   * read-only, so an item is never replaced by assignment.
   */
  data: D;
  functions: F;
}

/** A registered trampoline table, as a component module exports it. */
export interface PatchTable<D extends object, F extends PatchableFns<D>> {
  /** The table's unique name (what a patch's `target` names). */
  readonly name: string;
  /** The trampolines: call `lib.fn.clamp(5)`; the current version gets its data view. */
  readonly fn: Trampolines<F>;
  /**
   * The data view new calls get. Typed by the table's original data; after a patch that
   * changes an item's representation the item has the patch's shape. While a patch
   * synchronises an item this is a write-intercepting proxy of the item's copy.
   */
  readonly data: D;
  /** The function names, in declaration order. */
  readonly functions: readonly string[];
  /** The data item names, in declaration order. */
  readonly items: readonly string[];
  /** Id of the patch whose version of `fn` is current (0 = the table's own version). */
  version(fn: keyof F & string): number;
}

/** One write intercepted on a copy of a data item while a patch synchronises it. */
export interface Change {
  /** Keys from the item's root to the written property (`['limits', 'maxKeyLen']` is `d.limits.maxKeyLen`, path `['maxKeyLen']`). */
  path: string[];
  /** The value written (undefined for a delete). */
  value: unknown;
  deleted: boolean;
}

/** How a patch changes the representation of one data item. */
export interface DataChange<Old = any, New = any> {
  /** Build the new copy from the old one at apply (must not modify `old`). */
  init(old: Old): New;
  /** A write to the old copy happened (by an old invocation): bring `neu` in line. */
  toNew(old: Old, neu: New, change: Change): void;
  /** A write to the new copy happened (by a new invocation): bring `old` in line. */
  toOld(neu: New, old: Old, change: Change): void;
  /** Build an old copy from the new one, to undo the patch after it completed. */
  revert?(neu: New): Old;
}

/** What a patch file passes to `definePatch`. `V` is the data view its functions see. */
export interface PatchSpec<V extends object = any> {
  /** The name of the table to patch (`patchable(name, …)`). */
  target: string;
  description?: string;
  /** Replacement functions; every name must exist in the table. */
  functions?: Record<string, (d: V, ...a: any[]) => unknown>;
  /**
   * Items whose representation the patch changes. The patch must replace every function
   * that uses such an item: unpatched functions are rebound to the new view too.
   */
  data?: Record<string, DataChange>;
  /**
   * Items the patch's functions read without changing them. Only used to refuse undoing
   * an earlier patch that changed one of them while this patch is applied.
   */
  uses?: readonly string[];
  /**
   * Runs once the new functions are installed, before synchronisation starts: writes to
   * changed items go to the new copies only (like `init`). A throw undoes the patch.
   */
  apply?(view: V): void;
  /**
   * The state transformer: runs when the last old invocation returns (at once if none
   * was running), with synchronisation still on. A throw undoes the patch (`failed`).
   */
  transform?(view: V): void;
}

/** A validated, frozen patch, as `definePatch` returns it (a patch module's default export). */
export interface PatchDefinition {
  readonly target: string;
  readonly description: string;
  readonly functions: Readonly<Record<string, (d: any, ...a: any[]) => unknown>>;
  readonly data: Readonly<Record<string, DataChange>>;
  readonly uses: readonly string[];
  readonly apply: ((view: any) => void) | null;
  readonly transform: ((view: any) => void) | null;
}

/**
 * A patch's lifecycle. `syncing` → `complete` (transformer ran) → `undoing` → `undone`;
 * `syncing` → `undoing` → `undone` (undone before completing); `syncing` → `failed` (the
 * transformer or a sync function threw: undone automatically). `undoing` lasts while
 * invocations of the undone versions still run.
 */
export type PatchStatus = 'syncing' | 'complete' | 'undoing' | 'undone' | 'failed';

/** A snapshot of one patch. */
export interface PatchInfo {
  id: number;
  target: string;
  description: string;
  /** Functions the patch replaces. */
  functions: string[];
  /** Data items whose representation it changes. */
  data: string[];
  status: PatchStatus;
  /** Wall-clock ms (Date.now) of the apply. */
  appliedAt: number;
  /** When the transformer finished (status `complete`), else null. */
  completedAt: number | null;
  /** When the undo finished (no undone invocation left), else null. */
  undoneAt: number | null;
  /** µs the apply took (validation, init, swap, apply hook; not the transformer). */
  applyUs: number;
  /** µs the undo took (0 if never undone). */
  undoUs: number;
  /**
   * Invocations the patch is waiting for: while `syncing`, invocations of the versions it
   * replaced; while `undoing` (or `failed` and still draining), invocations of its own
   * versions. (A synchronous throw out of a frame the patch was applied from counts until
   * the next microtask checkpoint: see src/patch/table.ts.)
   */
  oldInvocations: number;
  /** Why the patch failed (transformer or sync function threw), else null. */
  error: string | null;
}

export type PatchEvent =
  | { type: 'applied'; patch: PatchInfo; applyUs: number }
  | { type: 'complete'; patch: PatchInfo; syncMs: number; transformUs: number }
  | { type: 'undone'; patch: PatchInfo; undoUs: number; drainMs: number }
  | { type: 'failed'; patch: PatchInfo; phase: 'transform' | 'sync'; error: string };

/** Listeners run synchronously, in the middle of the patch's step; a listener's throw is ignored. */
export type PatchListener = (event: PatchEvent) => void;
