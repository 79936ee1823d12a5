/**
 * Patches: define, apply, complete, undo (LUCOS, DESIGN.md §4).
 *
 * A patch swaps trampoline entries at any moment, with no quiescence: new calls go to the
 * new versions at once, invocations already running finish on the old ones. If the patch
 * changes the representation of data items, each item gets a new copy (`init`), and
 * while old invocations of the replaced functions remain, writes to either copy are
 * mirrored by the patch's `toNew` / `toOld` (sync.ts). The decrement that ends the last
 * old invocation completes the patch: the transformer runs, the views switch to the raw
 * new copies. Undo is the same walk backwards, and just as exact: invocations of the
 * undone versions finish on them, with the copies kept in sync until they have.
 *
 * The rule a patch author follows (as in LUCOS): a patch that changes an item's
 * representation replaces every function that uses the item; the other functions are
 * rebound to the new view, where the item is the new copy.
 *
 * Lifecycle of one patch (`PatchStatus`), with its events:
 *   syncing ──(last old invocation returns; transformer ok)──▶ complete      'applied', 'complete'
 *   syncing ──(transformer / sync function throws)──▶ failed, undone at once  'failed', then 'undone'
 *                                                                             when its last invocation returns
 *   syncing | complete ──undoPatch──▶ undoing ──(last undone invocation returns)──▶ undone   'undone'
 *
 * Stacking: patches stack in apply order. A patch that touches (replaces, changes, uses)
 * what a patch still synchronising touches is refused until that one completes (it may
 * still fail and be undone); undo is refused while a later applied patch touches the
 * same functions or items. Refusals and failed hooks leave everything as it was.
 *
 * Entry points: `definePatch(spec)`, `applyPatch(def)`, `undoPatch(id)`,
 * `listPatches(target?)`, `getPatch(id)`; internal: `Patch`.
 */
import { PatchError } from './errors.js';
import { emit, registry } from './registry.js';
import { SyncPair, unwrap } from './sync.js';
import { isPlainData as isPlain, makeView, retire, VersionRecord, Wait, type AnyFn, type Entry, type TableState, type View } from './table.js';
import type { DataChange, PatchDefinition, PatchInfo, PatchSpec, PatchStatus } from './types.js';

/** Marks definePatch's result; Symbol.for so a patch bundled apart is still recognised. */
const BRAND = Symbol.for('molt.patch.definition');

/** What a patch touches, for conflict checks. */
interface Touches {
  readonly functions: readonly string[];
  readonly items: readonly string[];
  readonly uses: readonly string[];
}

/** One applied patch. Owner of every field: this module. */
export class Patch implements Touches {
  status: PatchStatus = 'syncing';
  /** While syncing: old invocations of the replaced functions; while undoing: invocations of this patch's versions. */
  wait: Wait | null = null;
  /** Pairs this patch created and that are still active (item → pair). */
  readonly pairs = new Map<string, SyncPair>();
  /** Function → the version that was current before this patch (what undo restores). */
  readonly prev = new Map<string, { fn: AnyFn; owner: number }>();
  /** True while the transformer runs (a sync failure then fails the transformer). */
  inTransform = false;
  /** A sync function threw during the transformer (even if the transformer caught it). */
  transformSyncError: unknown = undefined;
  completedAt: number | null = null;
  undoneAt: number | null = null;
  applyUs = 0;
  undoUs = 0;
  /** performance.now() at the start of the undo. */
  undoStart = 0;
  error: string | null = null;

  constructor(
    readonly id: number,
    readonly def: PatchDefinition,
    readonly table: TableState,
    readonly functions: readonly string[],
    readonly items: readonly string[],
    readonly uses: readonly string[],
    readonly oldCopies: ReadonlyMap<string, object>,
    readonly newCopies: ReadonlyMap<string, object>,
    /** The view this patch's versions run with. */
    readonly newView: View,
    /** performance.now() at the start of the apply. */
    readonly start: number,
    readonly appliedAt: number,
    readonly epoch: number,
  ) {}
}

// ---------------------------------------------------------------------------------------
// definePatch

function isFn(v: unknown): v is (...a: never[]) => unknown {
  return typeof v === 'function';
}

/** >0 while a patch's own hook (init, apply, transform, revert) runs. */
let hookDepth = 0;

/** Run a patch author's hook; applying or undoing a patch from inside one is refused. */
function hook<T>(f: () => T): T {
  hookDepth++;
  try {
    return f();
  } finally {
    hookDepth--;
  }
}

function notInHook(verb: string): void {
  if (hookDepth > 0) throw new PatchError(`${verb}: called from inside a patch hook (init, apply, transform or revert); do it after the hook returns`);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Validate and freeze a patch (a patch module's default export). Shape errors (a
 * non-function replacement, a malformed data change) throw here; what depends on the
 * target table (names that must exist) is checked by `applyPatch`.
 */
// `any` by default: the view a patch's functions see is the patch author's own type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function definePatch<V extends object = any>(spec: PatchSpec<V>): PatchDefinition {
  if (typeof spec !== 'object' || spec === null) throw new PatchError('definePatch: expected a patch object { target, functions, data, … }');
  const target: unknown = spec.target;
  if (typeof target !== 'string' || target === '') throw new PatchError('definePatch: the patch needs a target (the name of a patchable table)');
  const where = `definePatch(${target})`;
  if (spec.description !== undefined && typeof spec.description !== 'string') throw new PatchError(`${where}: description must be a string`);

  const functions: Record<string, AnyFn> = {};
  const fnsIn: unknown = spec.functions ?? {};
  if (!isPlain(fnsIn) || Array.isArray(fnsIn)) throw new PatchError(`${where}: functions must be an object { name: replacement }`);
  for (const [name, f] of Object.entries(fnsIn)) {
    if (!isFn(f)) throw new PatchError(`${where}: replacement '${name}' is not a function (got ${typeof f})`);
    functions[name] = f as AnyFn;
  }

  const data: Record<string, DataChange> = {};
  const dataIn: unknown = spec.data ?? {};
  if (!isPlain(dataIn) || Array.isArray(dataIn)) throw new PatchError(`${where}: data must be an object { item: { init, toNew, toOld, revert? } }`);
  for (const [item, change] of Object.entries(dataIn)) {
    const c = change as Partial<Record<keyof DataChange, unknown>> | null;
    if (typeof c !== 'object' || c === null) throw new PatchError(`${where}: data item '${item}' needs { init, toNew, toOld, revert? }`);
    for (const k of ['init', 'toNew', 'toOld'] as const) {
      if (!isFn(c[k])) throw new PatchError(`${where}: data item '${item}' has no ${k} function`);
    }
    if (c.revert !== undefined && !isFn(c.revert)) throw new PatchError(`${where}: data item '${item}': revert must be a function`);
    data[item] = Object.freeze({ ...(c as DataChange) });
  }

  const usesIn: unknown = spec.uses ?? [];
  if (!Array.isArray(usesIn) || !usesIn.every((u) => typeof u === 'string')) throw new PatchError(`${where}: uses must be an array of data item names`);
  if (spec.apply !== undefined && !isFn(spec.apply)) throw new PatchError(`${where}: apply must be a function`);
  if (spec.transform !== undefined && !isFn(spec.transform)) throw new PatchError(`${where}: transform must be a function`);

  const def: PatchDefinition = {
    target,
    description: spec.description ?? '',
    functions: Object.freeze(functions),
    data: Object.freeze(data),
    uses: Object.freeze([...(usesIn as string[])]),
    apply: spec.apply ? spec.apply.bind(spec) : null,
    transform: spec.transform ? spec.transform.bind(spec) : null,
  };
  Object.defineProperty(def, BRAND, { value: true });
  return Object.freeze(def);
}

/** How error messages name a patch. */
function labelOf(def: PatchDefinition): string {
  return `patch${def.description ? ` '${def.description}'` : ''} for ${def.target}`;
}

function isDefinition(v: unknown): v is PatchDefinition {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[BRAND] === true;
}

// ---------------------------------------------------------------------------------------
// Snapshots

function info(p: Patch): PatchInfo {
  return {
    id: p.id,
    target: p.table.name,
    description: p.def.description,
    functions: [...p.functions],
    data: [...p.items],
    status: p.status,
    appliedAt: p.appliedAt,
    completedAt: p.completedAt,
    undoneAt: p.undoneAt,
    applyUs: p.applyUs,
    undoUs: p.undoUs,
    oldInvocations: p.wait === null ? 0 : p.wait.pending(),
    error: p.error,
  };
}

/** Every patch of this registry (optionally of one table), in id order. */
export function listPatches(target?: string): PatchInfo[] {
  const out: PatchInfo[] = [];
  for (const p of registry.patches.values()) if (target === undefined || p.table.name === target) out.push(info(p));
  return out;
}

/** One patch's snapshot, or undefined if there is no such patch. */
export function getPatch(id: number): PatchInfo | undefined {
  const p = registry.patches.get(id);
  return p === undefined ? undefined : info(p);
}

// ---------------------------------------------------------------------------------------
// Conflicts

/** Why `later` depends on `earlier` (so `earlier` cannot be undone first), or null. */
function conflict(earlier: Touches, later: Touches): string | null {
  for (const f of later.functions) if (earlier.functions.includes(f)) return `replaces ${f}`;
  for (const x of later.items) if (earlier.items.includes(x)) return `changes data item ${x}`;
  for (const x of later.uses) if (earlier.items.includes(x)) return `uses data item ${x}`;
  return null;
}

function patchOf(id: number): Patch {
  const p = registry.patches.get(id);
  if (p === undefined) throw new Error(`patch ${id} vanished from the registry`);
  return p;
}

function entryOf(table: TableState, name: string): Entry {
  const e = table.entries.get(name);
  if (e === undefined) throw new Error(`table ${table.name} lost its entry ${name}`);
  return e;
}

/** The patch (or undo) synchronising an item, in words. */
function pairOwner(pair: SyncPair): string {
  const p = registry.patches.get(pair.owner);
  const n = p?.wait?.pending() ?? 0;
  const doing = p?.status === 'syncing' ? 'patch' : 'the undo of patch';
  return `${doing} ${pair.owner} (${n} invocation${n === 1 ? '' : 's'} still running)`;
}

// ---------------------------------------------------------------------------------------
// Apply

/**
 * Apply a patch now. Returns its snapshot (`syncing`, or `complete` if no old invocation
 * was running). Throws `PatchError`, with everything left as it was, if the patch is
 * refused (bad definition, unknown names, a conflict with a patch still synchronising) or
 * its `init` / `apply` hook throws; also if its transformer, run at once because nothing
 * was running, throws (the patch is then recorded as `failed` and undone).
 */
export function applyPatch(def: PatchDefinition): PatchInfo {
  const t0 = performance.now();
  notInHook('applyPatch');
  if (!isDefinition(def)) {
    const hint = typeof def === 'object' && def !== null && isDefinition((def as { default?: unknown }).default) ? ' (this looks like a patch module: pass its default export)' : '';
    throw new PatchError(`applyPatch: not a patch definition${hint}; patch files export definePatch({ … })`);
  }
  const table = registry.tables.get(def.target);
  
  if (table === undefined) {
    const known = [...registry.tables.keys()];
    throw new PatchError(`${labelOf(def)}: unknown target table '${def.target}' (registered: ${known.length ? known.join(', ') : 'none'})`);
  }
  const functions = Object.keys(def.functions);
  const items = Object.keys(def.data);
  const uses = def.uses.length === 0 ? def.uses : def.uses.filter((u) => !items.includes(u));
  for (const f of functions) {
    if (!table.entries.has(f)) throw new PatchError(`${labelOf(def)}: table ${table.name} has no function '${f}' (it has: ${[...table.entries.keys()].join(', ')})`);
  }
  for (const item of uses.length === 0 ? items : [...items, ...uses]) {
    if (!table.items.includes(item)) throw new PatchError(`${labelOf(def)}: table ${table.name} has no data item '${item}' (it has: ${table.items.join(', ') || 'none'})`);
  }
  if (functions.length === 0 && items.length === 0) throw new PatchError(`${labelOf(def)}: the patch replaces no function and changes no data item`);

  // A patch stacks on one still synchronising only if they touch nothing in common: the
  // earlier one may yet fail and be undone, which must not pull the ground from under it.
  const touches: Touches = { functions, items, uses };
  for (const id of table.applied) {
    const e = patchOf(id);
    if (e.status !== 'syncing') continue;
    const why = conflict(e, touches);
    if (why !== null) {
      const n = e.wait?.pending() ?? 0;
      throw new PatchError(`${labelOf(def)}: ${why}, which patch ${e.id} also touches and is still synchronising (${n} old invocation${n === 1 ? '' : 's'} running): apply it after patch ${e.id} completes, or undo patch ${e.id}`);
    }
  }
  for (const item of items) {
    const pair = table.pairs.get(item);
    if (pair !== undefined) throw new PatchError(`${labelOf(def)}: data item '${item}' is still being synchronised by ${pairOwner(pair)}: apply it when that finishes`);
  }

  // 1. New copies of the changed items. Nothing has changed yet.
  const oldView = table.view;
  const oldCopies = new Map<string, object>();
  const newCopies = new Map<string, object>();
  for (const item of items) {
    const old = unwrap(oldView[item] as object);
    let neu: unknown;
    try {
      neu = hook(() => (def.data[item] as DataChange).init(old));
    } catch (e) {
      throw new PatchError(`${labelOf(def)}: init of data item '${item}' threw: ${message(e)}; nothing was changed`);
    }
    if (!isPlain(neu)) throw new PatchError(`${labelOf(def)}: init of data item '${item}' must return a plain object or array; nothing was changed`);
    if (neu === old) throw new PatchError(`${labelOf(def)}: init of data item '${item}' returned the old copy itself: it must build a new one; nothing was changed`);
    oldCopies.set(item, old);
    newCopies.set(item, neu);
  }

  // 2. Swap the entries: new calls go to the new versions from here on. Unpatched
  //    functions are rebound to the new view if it differs.
  const id = registry.nextId;
  const newView = items.length === 0 ? oldView : makeView(table.items, (it) => newCopies.get(it) ?? (oldView[it] as object));
  const replaced: Entry[] = [];
  const before: VersionRecord[] = [];
  for (const name of functions) {
    const entry = entryOf(table, name);
    replaced.push(entry);
    before.push(entry.cur);
    entry.cur = new VersionRecord(def.functions[name] as AnyFn, newView, id);
  }
  const rebound: Entry[] = [];
  if (newView !== oldView) {
    for (const entry of table.entries.values()) {
      if (entry.cur.owner === id) continue;
      rebound.push(entry);
      before.push(entry.cur);
      entry.cur = new VersionRecord(entry.cur.fn, newView, entry.cur.owner);
    }
  }
  table.view = newView;

  // 3. The apply hook, before synchronisation starts. A throw puts the old records back.
  if (def.apply !== null) {
    try {
      const apply = def.apply;
      hook(() => apply(newView));
    } catch (e) {
      replaced.forEach((entry, i) => (entry.cur = before[i] as VersionRecord));
      rebound.forEach((entry, i) => (entry.cur = before[replaced.length + i] as VersionRecord));
      table.view = oldView;
      throw new PatchError(`${labelOf(def)}: apply hook threw: ${message(e)}; nothing was changed`);
    }
  }

  // 4. Commit: retire the old records and wait (exactly) for their invocations.
  registry.nextId++;
  const p = new Patch(id, def, table, functions, items, uses, oldCopies, newCopies, newView, t0, Date.now(), registry.epoch);
  replaced.forEach((entry, i) => {
    const r = before[i] as VersionRecord;
    p.prev.set(entry.name, { fn: r.fn, owner: r.owner });
    retire(entry, r);
  });
  rebound.forEach((entry, i) => retire(entry, before[replaced.length + i] as VersionRecord));
  if (newView !== oldView) {
    addView(table, newView);
    for (const pair of table.pairs.values()) pair.adopt(newView);
  }
  const old: VersionRecord[] = [];
  for (const entry of replaced) for (const r of entry.retired) if (r.n > 0) old.push(r);
  p.wait = new Wait(old, replaced, () => complete(p));
  // 5. Synchronise the changed items only if an old invocation could still touch them.
  if (items.length > 0 && p.wait.remaining > 0) {
    for (const item of items) startPair(p, item, oldCopies.get(item) as object, newCopies.get(item) as object);
  }
  registry.patches.set(id, p);
  table.applied.push(id);
  p.applyUs = (performance.now() - t0) * 1000;
  emit(p.epoch, () => ({ type: 'applied', patch: info(p), applyUs: p.applyUs }));

  if (p.wait.remaining === 0) {
    p.wait.cancelled = true;
    complete(p);
    if (p.status === 'failed') throw new PatchError(`${labelOf(def)}: ${p.error ?? 'failed'}; the patch was undone`, info(p));
  }
  return info(p);
}

/**
 * Record a new view of the table, dropping the views nothing can use any more (no record
 * current or still running holds them, no applied patch runs its hooks with them), so a
 * long run of patches does not accumulate them.
 */
function addView(table: TableState, view: View): void {
  const live = new Set<View>([view, table.view]);
  for (const entry of table.entries.values()) {
    live.add(entry.cur.view);
    for (const r of entry.retired) if (r.n > 0) live.add(r.view);
  }
  for (const id of table.applied) live.add(patchOf(id).newView);
  table.views = table.views.filter((v) => live.has(v));
  table.views.push(view);
}

/** Start synchronising `item` between two copies (proxies installed in every view holding one). */
function startPair(p: Patch, item: string, oldCopy: object, newCopy: object): SyncPair {
  const change = p.def.data[item] as DataChange;
  const pair = new SyncPair(p.id, item, oldCopy, newCopy, change, (e, direction) => syncFailed(p, item, direction, e));
  pair.holdAll(p.table.views);
  p.table.pairs.set(item, pair);
  p.pairs.set(item, pair);
  return pair;
}

function stopPairs(p: Patch): void {
  for (const [item, pair] of p.pairs) {
    pair.deactivate();
    if (p.table.pairs.get(item) === pair) p.table.pairs.delete(item);
  }
  p.pairs.clear();
}

/** A sync function threw while mirroring a write. */
function syncFailed(p: Patch, item: string, direction: 'toNew' | 'toOld', e: unknown): void {
  const what = `${direction} of data item '${item}' threw: ${message(e)}`;
  if (p.status === 'syncing') {
    if (p.inTransform) {
      p.transformSyncError ??= new Error(what);
      throw e;
    }
    if (hookDepth > 0) {
      // Written from another patch's hook: that hook fails (its apply is rolled back);
      // this patch fails once the hook has unwound.
      queueMicrotask(() => {
        if (p.status === 'syncing') fail(p, what, 'sync');
      });
      throw e;
    }
    fail(p, what, 'sync');
    return;
  }
  // Already being undone: the copies can only be kept as close as the patch's own
  // functions allow. Record the first failure and carry on.
  p.error ??= what;
}

// ---------------------------------------------------------------------------------------
// Completion

/** The last old invocation returned: run the transformer, drop the proxies. */
function complete(p: Patch): void {
  if (p.status !== 'syncing') return;
  const t = performance.now();
  if (p.def.transform !== null) {
    p.inTransform = true;
    try {
      const transform = p.def.transform;
      hook(() => transform(p.newView));
    } catch (e) {
      p.inTransform = false;
      fail(p, `transformer threw: ${message(e)}`, 'transform');
      return;
    }
    p.inTransform = false;
    if (p.transformSyncError !== undefined) {
      fail(p, `transformer: ${message(p.transformSyncError)}`, 'transform');
      return;
    }
  }
  const transformUs = (performance.now() - t) * 1000;
  stopPairs(p);
  p.wait = null;
  p.status = 'complete';
  p.completedAt = Date.now();
  const syncMs = performance.now() - p.start;
  emit(p.epoch, () => ({ type: 'complete', patch: info(p), syncMs, transformUs }));
}

/** The patch failed while synchronising: undo it automatically. */
function fail(p: Patch, error: string, phase: 'transform' | 'sync'): void {
  p.error = error;
  const drained = startUndo(p, null, true);
  emit(p.epoch, () => ({ type: 'failed', patch: info(p), phase, error }));
  if (drained) finishUndo(p);
}

// ---------------------------------------------------------------------------------------
// Undo

/**
 * Undo a patch: the versions it replaced become current again (new calls go to them at
 * once), and its data items get back their old representation — the old copies (kept in
 * sync) if the patch was still synchronising, else what each item's `revert` builds from
 * the new copy. Invocations of the undone versions still running finish on them, with
 * both copies kept in sync until they have (status `undoing`, then `undone`).
 *
 * Refused with a reason if a later patch still applied replaces one of the same
 * functions, changes one of the same items or uses one of them; if an item has no
 * `revert` after completion; if the patch is already undone or failed.
 */
export function undoPatch(id: number): PatchInfo {
  notInHook('undoPatch');
  const p = registry.patches.get(id);
  if (p === undefined) throw new PatchError(`undo: no patch ${id}${registry.patches.size ? ` (patches: ${[...registry.patches.keys()].join(', ')})` : ''}`);
  const refuse = (why: string): never => {
    throw new PatchError(`cannot undo patch ${id}: ${why}`);
  };
  if (p.status === 'undone') refuse('it is already undone');
  if (p.status === 'undoing') refuse(`it is already being undone (${p.wait?.pending() ?? 0} invocations of its versions still running)`);
  if (p.status === 'failed') refuse(`it failed (${p.error ?? 'unknown error'}) and was undone automatically`);
  const table = p.table;
  for (const qid of table.applied) {
    if (qid <= id) continue;
    const q = patchOf(qid);
    const why = conflict(p, q);
    if (why !== null) refuse(`patch ${q.id} ${why} after patch ${id}: undo ${q.id} first`);
  }
  for (const item of p.items) {
    const pair = table.pairs.get(item);
    if (pair !== undefined && pair.owner !== id) refuse(`data item '${item}' is still being synchronised by ${pairOwner(pair)}: try again when that finishes`);
  }
  let reverted: Map<string, object> | null = null;
  if (p.status === 'complete' && p.items.length > 0) {
    const missing = p.items.filter((item) => (p.def.data[item] as DataChange).revert === undefined);
    if (missing.length) refuse(`it completed and data item${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ha${missing.length > 1 ? 've' : 's'} no revert`);
    reverted = new Map();
    for (const item of p.items) {
      const current = unwrap(table.view[item] as object);
      let old: unknown;
      try {
        const change = p.def.data[item] as Required<DataChange>;
        old = hook(() => change.revert(current));
      } catch (e) {
        refuse(`revert of data item '${item}' threw: ${message(e)}; nothing was changed`);
      }
      if (!isPlain(old) || old === current) refuse(`revert of data item '${item}' must return a new plain object or array; nothing was changed`);
      reverted.set(item, old as object);
    }
  }
  if (startUndo(p, reverted, false)) finishUndo(p);
  return info(p);
}

/**
 * The undo proper (validated by the caller, or a failure): restore the entries, give the
 * items their old copies, and wait for the undone versions' invocations. Returns true if
 * none was running: the caller then calls `finishUndo` (after its own event).
 */
function startUndo(p: Patch, reverted: Map<string, object> | null, failed: boolean): boolean {
  const t0 = performance.now();
  const table = p.table;
  const wasSyncing = p.status === 'syncing';
  if (p.wait !== null) p.wait.cancelled = true;
  table.applied = table.applied.filter((id) => id !== p.id);

  // 1. Invocations of this patch's versions still running: the undo waits for them.
  const mine = p.functions.map((name) => entryOf(table, name));
  const running: VersionRecord[] = [];
  for (const entry of mine) {
    if (entry.cur.owner === p.id && entry.cur.n > 0) running.push(entry.cur);
    for (const r of entry.retired) if (r.owner === p.id && r.n > 0) running.push(r);
  }
  const wait = new Wait(running, mine, () => finishUndo(p));
  const draining = wait.remaining > 0;

  // 2. The items' old copies; kept in sync with the new ones while `running` runs.
  let view = table.view;
  if (p.items.length > 0) {
    const values = new Map<string, object>();
    for (const item of p.items) {
      const newCopy = wasSyncing ? (p.newCopies.get(item) as object) : unwrap(table.view[item] as object);
      const oldCopy = wasSyncing ? (p.oldCopies.get(item) as object) : ((reverted as Map<string, object>).get(item) as object);
      let pair = p.pairs.get(item);
      if (draining) {
        pair ??= startPair(p, item, oldCopy, newCopy);
        values.set(item, pair.oldProxy);
      } else {
        if (pair !== undefined) {
          pair.deactivate();
          table.pairs.delete(item);
          p.pairs.delete(item);
        }
        values.set(item, oldCopy);
      }
    }
    const from = table.view;
    view = makeView(table.items, (it) => values.get(it) ?? (from[it] as object));
    addView(table, view);
    for (const pair of table.pairs.values()) pair.adopt(view);
  }

  // 3. Swap the entries back (fresh records: the undone ones keep counting down); with a
  //    new view, rebind the others too.
  for (const entry of mine) {
    const cur = entry.cur;
    const prev = p.prev.get(entry.name);
    if (prev === undefined || cur.owner !== p.id) throw new Error(`undo of patch ${p.id}: ${entry.name} is not its version (patch ${cur.owner})`);
    entry.cur = new VersionRecord(prev.fn, view, prev.owner);
    retire(entry, cur);
  }
  if (view !== table.view) {
    for (const entry of table.entries.values()) {
      const cur = entry.cur;
      if (cur.view === view) continue;
      entry.cur = new VersionRecord(cur.fn, view, cur.owner);
      retire(entry, cur);
    }
  }
  table.view = view;

  // 4. Wait for the undone versions.
  p.status = failed ? 'failed' : 'undoing';
  p.undoStart = t0;
  p.undoUs = (performance.now() - t0) * 1000;
  p.wait = wait;
  if (draining) return false;
  wait.cancelled = true;
  return true;
}

/** The last invocation of the undone versions returned. */
function finishUndo(p: Patch): void {
  stopPairs(p);
  p.wait = null;
  if (p.status === 'undoing') p.status = 'undone';
  p.undoneAt = Date.now();
  const drainMs = performance.now() - p.undoStart;
  emit(p.epoch, () => ({ type: 'undone', patch: info(p), undoUs: p.undoUs, drainMs }));
}
