/**
 * Trampoline tables: the call indirection a function-level patch swaps (LUCOS's
 * redirection of a function's entry, DESIGN.md §4).
 *
 * A table has one entry per function. The entry's current *version record* holds the
 * function version, the data view it runs with, the number of its invocations in flight
 * (`n`) and the patch that installed it (`owner`, 0 = the table's own). The trampoline
 * reads the record on every call, counts the invocation on it, and uncounts it when the
 * invocation ends: synchronously for a return or a throw, on settle for a returned
 * Promise. A record that is no longer current ("retired") only counts down; a patch that
 * waits for old invocations watches retired records and is told by the decrement that
 * reaches zero (`Wait`), so tracking is exact and never polled.
 *
 * Records are never reused once retired: a swap (apply, undo, rebinding to a new view)
 * always installs fresh records, so one record's count belongs to one (version, view).
 *
 * Views: each version runs with a view, a read-only object with one property per data
 * item (items are plain objects/arrays mutated in place). Views are only changed here
 * (`setViewItem`), in place, so invocations already running see a proxy installed later.
 *
 * Entry points: `patchable(name, { data, functions })`, and for patch.ts:
 * `VersionRecord`, `Wait`, `Entry`, `TableState`, `makeView`, `setViewItem`, `retire`.
 */
import { PatchError } from './errors.js';
import { registry } from './registry.js';
import type { SyncPair } from './sync.js';
import type { PatchableFns, PatchableSpec, PatchTable, Trampolines } from './types.js';

/** A data view: item name → the copy (or its proxy) this version reads and writes. */
export type View = Record<string, object>;
/** A function version as stored: the view first, then the caller's arguments. */
export type AnyFn = (view: View, ...args: unknown[]) => unknown;

/** One (function version, view) pair and its invocations in flight. */
export class VersionRecord {
  /** Invocations in flight. Owner: the trampoline (and `settle`). */
  n = 0;
  /** Waits watching this record; null while nobody waits (the steady state). */
  watch: Wait[] | null = null;
  /** Uncounts one async invocation; one closure per record, so a call allocates nothing for it. */
  readonly settle: () => void;
  constructor(
    readonly fn: AnyFn,
    readonly view: View,
    /** The patch that installed this version (0 = the table's own). */
    readonly owner: number,
  ) {
    this.settle = () => {
      if (--this.n === 0 && this.watch !== null) drained(this);
    };
  }
}

/**
 * Waits until every watched record's count reaches zero, then calls `done` once (from the
 * decrement that reached zero). Only retired records are watched, so a count that reached
 * zero stays zero.
 */
export class Wait {
  remaining = 0;
  cancelled = false;
  constructor(
    readonly records: readonly VersionRecord[],
    readonly done: () => void,
  ) {
    for (const r of records) {
      if (r.n === 0) continue;
      if (r.watch === null) r.watch = [this];
      else r.watch.push(this);
      this.remaining++;
    }
  }

  /** Invocations still in flight on the watched records. */
  pending(): number {
    if (this.cancelled) return 0;
    let sum = 0;
    for (const r of this.records) sum += r.n;
    return sum;
  }
}

/** The decrement of a watched record reached zero: tell its waits. */
function drained(r: VersionRecord): void {
  const waits = r.watch;
  r.watch = null;
  if (waits === null) return;
  for (const w of waits) {
    if (w.cancelled || --w.remaining !== 0) continue;
    w.cancelled = true;
    try {
      w.done();
    } catch (e) {
      // `done` catches the patch's own failures; anything else is a bug in this module.
      // Surface it without throwing into the invocation that happened to end last.
      queueMicrotask(() => {
        throw e;
      });
    }
  }
}

/** One function of a table. */
export class Entry {
  /** Retired records that still had invocations in flight (pruned as they drain). */
  retired: VersionRecord[] = [];
  readonly trampoline: (...args: unknown[]) => unknown;
  constructor(
    readonly name: string,
    /** The current record. Owner: patch.ts (apply, undo). */
    public cur: VersionRecord,
  ) {
    this.trampoline = makeTrampoline(this);
  }
}

/** Retire `r` (no longer current): keep it only if invocations still run on it. */
export function retire(entry: Entry, r: VersionRecord): void {
  if (entry.retired.length > 0) entry.retired = entry.retired.filter((x) => x.n > 0);
  if (r.n > 0) entry.retired.push(r);
}

/** A table's state, as patch.ts sees it. */
export interface TableState {
  readonly name: string;
  readonly entries: Map<string, Entry>;
  readonly items: readonly string[];
  /** The view new calls get (every current record's view). Owner: patch.ts. */
  view: View;
  /** Every view created for this table (a proxy may have to be installed in any of them). */
  readonly views: View[];
  /** Item → the pair synchronising it (at most one per item). Owner: patch.ts. */
  readonly pairs: Map<string, SyncPair>;
  /** Patches on this table, in apply order (whatever their status). */
  readonly patches: number[];
}

/** A view with one read-only property per item (same order for every view of a table). */
export function makeView(items: readonly string[], value: (item: string) => object): View {
  const view: View = {};
  for (const item of items) {
    Object.defineProperty(view, item, { value: value(item), writable: false, enumerable: true, configurable: true });
  }
  return Object.preventExtensions(view);
}

/** Change one item of a view in place (invocations already running read the new value). */
export function setViewItem(view: View, item: string, value: object): void {
  Object.defineProperty(view, item, { value });
}

/**
 * The trampoline of an entry. Specialised for 0–3 arguments so the steady path allocates
 * nothing (a rest parameter would allocate an array per call); `arguments.length` keeps
 * the callee's own `arguments.length` / rest parameters exact. The callee runs with
 * `this` undefined.
 */
function makeTrampoline(entry: Entry): (...args: unknown[]) => unknown {
  return function trampoline(a?: unknown, b?: unknown, c?: unknown): unknown {
    const r = entry.cur;
    const f = r.fn;
    r.n++;
    let out: unknown;
    try {
      switch (arguments.length) {
        case 0: out = f(r.view); break;
        case 1: out = f(r.view, a); break;
        case 2: out = f(r.view, a, b); break;
        case 3: out = f(r.view, a, b, c); break;
        default: out = f(r.view, ...(arguments as unknown as unknown[])); break;
      }
    } catch (e) {
      if (--r.n === 0 && r.watch !== null) drained(r);
      throw e;
    }
    if (out instanceof Promise) out.then(r.settle, r.settle);
    else if (--r.n === 0 && r.watch !== null) drained(r);
    return out;
  };
}

function isPlainData(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Create and register a trampoline table. `functions` take the data view first; callers
 * call `table.fn.name(...args)`. Registering a name twice throws.
 */
export function patchable<D extends object, F extends PatchableFns<D>>(
  name: string,
  spec: PatchableSpec<D, F>,
): PatchTable<D, F> {
  if (typeof name !== 'string' || name === '') throw new PatchError('patchable: the table needs a non-empty name');
  if (registry.tables.has(name)) throw new PatchError(`patchable: a table named '${name}' is already registered`);
  if (typeof spec !== 'object' || spec === null) throw new PatchError(`patchable('${name}'): expected { data, functions }`);
  const data = (spec.data ?? {}) as Record<string, unknown>;
  const functions = spec.functions as Record<string, unknown> | undefined;
  if (typeof functions !== 'object' || functions === null) throw new PatchError(`patchable('${name}'): 'functions' must be an object of functions`);

  const items = Object.freeze(Object.keys(data));
  for (const item of items) {
    if (!isPlainData(data[item])) {
      throw new PatchError(`patchable('${name}'): data item '${item}' must be a plain object or array (wrap a scalar as { value })`);
    }
  }
  const view = makeView(items, (item) => data[item] as object);
  const entries = new Map<string, Entry>();
  const fn: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [fname, f] of Object.entries(functions)) {
    if (typeof f !== 'function') throw new PatchError(`patchable('${name}'): '${fname}' is not a function`);
    const entry = new Entry(fname, new VersionRecord(f as AnyFn, view, 0));
    Object.defineProperty(entry.trampoline, 'name', { value: fname });
    entries.set(fname, entry);
    fn[fname] = entry.trampoline;
  }
  const state: TableState = { name, entries, items, view, views: [view], pairs: new Map(), patches: [] };
  registry.tables.set(name, state);

  const names = Object.freeze([...entries.keys()]);
  return {
    name,
    fn: Object.freeze(fn) as Trampolines<F>,
    get data(): D {
      return state.view as D;
    },
    functions: names,
    items,
    version(f: keyof F & string): number {
      const entry = entries.get(f);
      if (entry === undefined) throw new PatchError(`table '${name}' has no function '${String(f)}'`);
      return entry.cur.owner;
    },
  };
}
