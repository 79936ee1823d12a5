/**
 * Trampoline tables: the call indirection a function-level patch swaps (LUCOS's
 * redirection of a function's entry, DESIGN.md §4).
 *
 * A table has one entry per function. The entry's current *version record* holds the
 * function version, the data view it runs with, its invocations in flight (`n`, of which
 * `a` are asynchronous) and the patch that installed it (`owner`, 0 = the table's own).
 * The trampoline reads the record on every call, counts the invocation on it and uncounts
 * it when the invocation ends: at once for a return, on settle for a returned Promise. A
 * record that is no longer current ("retired") only counts down; a patch that waits for
 * old invocations watches retired records and is told by the decrement that reaches
 * zero (`Wait`), so tracking is event-driven, never polled.
 *
 * A synchronous throw is not caught by the trampoline: a try/catch around the call lets
 * V8 inline the callee into the try region, where numeric loops lose their unboxed
 * representation (FNV-1a ran 1.2-1.4x a direct call; without it, 1.01-1.02x). The count
 * a throw leaves behind is settled when a patch looks at the record (`Wait`): at once if
 * no frame of the entry is on the stack (always, when the patch is applied from a task of
 * its own), else at the next microtask checkpoint, when no synchronous frame can remain.
 *
 * Each entry's trampoline is a function literal of its own (V8 keeps type feedback per
 * literal, so a call through a trampoline is monomorphic and the callee can be inlined),
 * taken from a pool of literals compiled 64 at a time (≈ 3 ms a pool, eagerly, so a
 * first call compiles nothing), so creating a table compiles nothing most of the time.
 *
 * Records are never reused once retired: a swap (apply, undo, rebinding to a new view)
 * always installs fresh records, so one record's count belongs to one (version, view).
 *
 * Views: each version runs with a view, a read-only object with one property per data
 * item (items are plain objects/arrays mutated in place). Views are only changed here
 * (`setViewItem`), in place, so invocations already running see a proxy installed later.
 *
 * Entry points: `patchable(name, { data, functions })`, and for patch.ts:
 * `VersionRecord`, `Wait`, `Entry`, `TableState`, `makeView`, `setViewItem`, `retire`,
 * `isPlainData`.
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
  /**
   * Invocations counted in flight: synchronous ones running, asynchronous ones not yet
   * settled, and synchronous ones that threw until a `Wait` settles them. Owner: the
   * trampoline, `settle`, `Wait`.
   */
  n = 0;
  /** Of `n`, the asynchronous invocations not yet settled (exact). */
  a = 0;
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
      this.a--;
      if (--this.n === 0 && this.watch !== null) drained(this);
    };
  }
}

/**
 * Waits until every watched record's count reaches zero, then calls `done` once (from the
 * decrement that reached zero). Only retired records are watched, so a count that reached
 * zero stays zero. Counts left by synchronous throws are settled first (see the header).
 */
export class Wait {
  remaining = 0;
  cancelled = false;
  constructor(
    readonly records: readonly VersionRecord[],
    /** The entries the records belong to (whose frames may still be on the stack). */
    private readonly entries: readonly Entry[],
    readonly done: () => void,
  ) {
    if (records.some((r) => r.n > r.a)) {
      if (onStack(entries)) queueMicrotask(() => this.settleThrows());
      else for (const r of records) r.n = r.a;
    }
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

  /**
   * No synchronous invocation of the entries can be running any more (a microtask runs on
   * an empty stack): what remains beyond the asynchronous count was left by throws.
   */
  private settleThrows(): void {
    if (this.cancelled || this.remaining === 0) return;
    if (onStack(this.entries)) {
      // A microtask checkpoint nested inside a running frame (not seen in practice): retry from a task.
      setTimeout(() => this.settleThrows(), 0);
      return;
    }
    for (const r of this.records) {
      if (r.n <= r.a) continue;
      r.n = r.a;
      if (r.n === 0 && r.watch !== null) drained(r);
    }
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
  /** The trampoline (compiled with the table's others by `makeTrampolines`). */
  trampoline: (...args: unknown[]) => unknown = unset;
  /** Where the trampoline's code is, as stack frames report it: script name and line. */
  script = '';
  line = 0;
  constructor(
    readonly name: string,
    /** The current record. Owner: patch.ts (apply, undo). */
    public cur: VersionRecord,
  ) {}
}

function unset(): never {
  throw new Error('trampoline not compiled yet');
}

/** Retire `r` (no longer current): keep it only if invocations may still run on it. */
export function retire(entry: Entry, r: VersionRecord): void {
  if (entry.retired.length > 0) entry.retired = entry.retired.filter((x) => x.n > 0);
  if (r.n > 0) entry.retired.push(r);
}

/** Whether a frame of one of these entries' trampolines is on the current stack. */
function onStack(entries: readonly Entry[]): boolean {
  const frames = new Set(entries.map((e) => `${e.script}:${e.line}`));
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  let found = false;
  try {
    Error.stackTraceLimit = Infinity;
    Error.prepareStackTrace = (_e, sites) => {
      found = sites.some((s) => !s.isAsync() && frames.has(`${s.getScriptNameOrSourceURL() ?? ''}:${s.getLineNumber() ?? 0}`));
      return '';
    };
    const probe: { stack?: string } = {};
    Error.captureStackTrace(probe);
    void probe.stack;
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
  return found;
}

/** A table's state, as patch.ts sees it. */
export interface TableState {
  readonly name: string;
  readonly entries: Map<string, Entry>;
  readonly items: readonly string[];
  /** The view new calls get (every current record's view). Owner: patch.ts. */
  view: View;
  /** The views some invocation may still use (a proxy may have to be installed in any of them). Owner: patch.ts. */
  views: View[];
  /** Item → the pair synchronising it (at most one per item). Owner: patch.ts. */
  readonly pairs: Map<string, SyncPair>;
  /** Ids of the patches applied and not undone (`syncing` or `complete`), in apply order. Owner: patch.ts. */
  applied: number[];
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
 * One trampoline, as source (one line: its line identifies it in a stack frame); `I` is
 * its slot. Each entry gets a function literal of its own (V8 keeps type feedback per
 * literal and closure site: one closure shared by every entry would make its call site
 * polymorphic and keep the callee from being inlined). Specialised for 0–3 arguments,
 * so the steady path allocates nothing, with `arguments.length` keeping the callee's own
 * `arguments.length` / rest parameters exact; more arguments are copied into an array
 * (no spread of `arguments`, which would make V8 materialise it on every call). The
 * callee runs with `this` undefined. No try/catch: see the header.
 */
const TRAMPOLINE = `function trampoline(a, b, c) {
  const r = E[I].cur;
  const f = r.fn;
  r.n++;
  let out;
  switch (arguments.length) {
    case 0: out = f(r.view); break;
    case 1: out = f(r.view, a); break;
    case 2: out = f(r.view, a, b); break;
    case 3: out = f(r.view, a, b, c); break;
    default: {
      const n = arguments.length;
      const xs = new Array(n + 1);
      xs[0] = r.view;
      for (let i = 0; i < n; i++) xs[i + 1] = arguments[i];
      out = apply(f, undefined, xs);
    }
  }
  if (out instanceof P) {
    r.a++;
    out.then(r.settle, r.settle);
  } else if (--r.n === 0 && r.watch !== null) drained(r);
  return out;
}`.replace(/\n\s*/g, ' ');

type Trampoline = (...args: unknown[]) => unknown;

/** A compiled batch of trampoline literals, handed out to entries one by one. */
interface Pool {
  readonly script: string;
  /** Script line of slot 0 (slot i is on line + i). */
  readonly line: number;
  readonly fns: readonly Trampoline[];
  readonly entries: (Entry | null)[];
  next: number;
}

/** Slots per pool: compiling one (≈ 3 ms) is paid once per POOL functions of all tables. */
const POOL = 64;
let pools = 0;
let pool: Pool | null = null;

/**
 * Compile a pool of trampolines. Its `sourceURL` is unique: it names the frames in stack
 * traces (`at clamp (molt-patch/1:7:…)`), lets `onStack` find them, and keeps V8's eval
 * cache from handing two pools the same code, hence the same feedback. A slot is used by
 * one entry only, ever: sharing a literal would share its feedback.
 */
function makePool(): Pool {
  const script = `molt-patch/${++pools}`;
  const body = [
    '"use strict";',
    `const E = new Array(${POOL}).fill(null);`,
    'const where = (see) => see();',
    'return { E, where, fns: [',
    // Parenthesised: V8 compiles such literals with the script (eagerly), so a slot's first
    // call does not compile it.
    ...Array.from({ length: POOL }, (_, i) => `(${TRAMPOLINE.replace('E[I]', `E[${i}]`)}),`),
    '] };',
    `//# sourceURL=${script}`,
  ];
  const factory = new Function('drained', 'P', 'apply', body.join('\n')) as (
    d: typeof drained,
    p: PromiseConstructor,
    a: typeof Reflect.apply,
  ) => { E: (Entry | null)[]; where: (see: () => number) => number; fns: Trampoline[] };
  const made = factory(drained, Promise, Reflect.apply);
  // The line `where` is on, as frames report it (the wrapper `new Function` adds is V8's business).
  const whereLine = made.where(() => callerLine());
  return { script, line: whereLine + 2, fns: made.fns, entries: made.E, next: 0 };
}

/** The line of the caller of the function calling this. */
function callerLine(): number {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  let line = 0;
  try {
    Error.stackTraceLimit = 10;
    Error.prepareStackTrace = (_e, sites) => {
      line = sites[1]?.getLineNumber() ?? 0;
      return '';
    };
    const probe: { stack?: string } = {};
    Error.captureStackTrace(probe, callerLine);
    void probe.stack;
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
  return line;
}

/** Give each entry a trampoline of its own (a fresh slot of the current pool). */
function makeTrampolines(entries: readonly Entry[]): void {
  for (const entry of entries) {
    if (pool === null || pool.next === POOL) pool = makePool();
    const i = pool.next++;
    pool.entries[i] = entry;
    const t = pool.fns[i] as Trampoline;
    Object.defineProperty(t, 'name', { value: entry.name });
    entry.trampoline = t;
    entry.script = pool.script;
    entry.line = pool.line + i;
  }
}

/** A plain object (prototype Object.prototype or null) or an array: what data items are made of. */
export function isPlainData(v: unknown): v is object {
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
  for (const [fname, f] of Object.entries(functions)) {
    if (typeof f !== 'function') throw new PatchError(`patchable('${name}'): '${fname}' is not a function`);
    entries.set(fname, new Entry(fname, new VersionRecord(f as AnyFn, view, 0)));
  }
  const state: TableState = { name, entries, items, view, views: [view], pairs: new Map(), applied: [] };
  registry.tables.set(name, state);

  makeTrampolines([...entries.values()]);
  const out: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [fname, entry] of entries) out[fname] = entry.trampoline;
  const fn = Object.freeze(out) as Trampolines<F>;
  const names = Object.freeze([...entries.keys()]);
  return {
    name,
    fn,
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
