/**
 * One updatable class at run time: its record, its translation table and the references
 * (K42's object translation). A reference is a small object `{ o, v, a }` — the
 * implementation instance, the implementation version it belongs to, the calls in
 * flight on it — whose prototype (one per class) holds the class's interface: each
 * method reads `this.o` and calls it, counting the call. A swap therefore changes
 * table entries (`ref.o`, the prototype's methods), never the references the state
 * holds.
 *
 * The fast path is one comparison (`this.v === rec.gate`) and the call; an asynchronous
 * call is counted until it settles (the instance's generation count). A reference whose version is
 * not the gate's — a swap is mediating the class (gate -1), or a lazy update has not
 * converted this instance yet — takes the record's slow path.
 *
 * Entry points: `ClassRecord`, `Impl`, `RefObj`, `convertInstances`, `methodNames`.
 */
import { checkState } from '../update/check.js';
import { exportGraph } from '../update/graph.js';
import { importState, type ObjectHooks, type TransferCallbacks } from '../update/transfer.js';
import type { StateMeta, TypeMeta } from '../update/types.js';
import type { AdaptorFn, Ctor } from './types.js';

/** A reference: what the state holds in place of an instance. */
export interface RefObj {
  /** The implementation instance. */
  o: Record<string, (...args: unknown[]) => unknown>;
  /** The implementation version `o` belongs to. */
  v: number;
  /** Asynchronous calls in flight on `o` (returned, not yet settled): this instance's generation count. */
  a: number;
}

/** The class record a reference prototype belongs to (a symbol: not part of the state). */
export const RECORD = Symbol('molt.objects.record');

/** One implementation version of a class. */
export interface Impl {
  ver: number;
  cls: Ctor;
  adaptors: Record<string, AdaptorFn>;
  construct: ((...args: never[]) => object) | undefined;
  /** The type name of the class in `meta.types` (its name, unless the metadata says otherwise). */
  typeName: string;
  /** The version's type metadata (known for versions installed by an update). */
  meta: StateMeta | undefined;
  /** The version's classes by name (nested class instances, the other updatable classes). */
  classes: Record<string, new (...args: never[]) => object>;
  transfer: TransferCallbacks;
}

interface Held {
  ref: RefObj;
  name: string;
  args: unknown[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** What a mediator (src/objects/swap.ts) offers the record. */
export interface Mediator {
  call(ref: RefObj, name: string, args: unknown[]): unknown;
  drained(ref: RefObj): void;
}

export class ClassRecord {
  /** References of this version take the fast path; -1 while a mediator is installed. */
  gate: number;
  cur: Impl;
  /** Implementations some reference still uses (lazy mode), by version. */
  readonly impls = new Map<number, Impl>();
  /** The translation table: every live reference of the class. */
  readonly live = new Set<RefObj>();
  readonly proto: Record<string | symbol, unknown>;
  readonly Ref: new (o: object, v: number) => RefObj;
  /** Every method name the interface has ever had (a removed one answers with an error). */
  private readonly names = new Set<string>();
  med: Mediator | null = null;
  /** Someone wants to know when a reference's calls drain (a mediator, or held lazy calls). */
  watch = false;
  /** Lazy mode: live references not yet converted to `cur`. */
  pending = 0;
  converted = 0;
  failed = 0;
  lastError: string | null = null;
  private readonly lazyHeld = new Map<RefObj, Held[]>();
  private nextVer: number;

  constructor(
    readonly name: string,
    first: Omit<Impl, 'ver'>,
  ) {
    this.cur = { ...first, ver: 1 };
    this.nextVer = 2;
    this.gate = 1;
    this.impls.set(1, this.cur);
    const proto: Record<string | symbol, unknown> = {};
    // Named ObjRef in every bundle: a process-level transfer recognises references by this tag.
    const Ref = function ObjRef(this: RefObj, o: object, v: number) {
      this.o = o as RefObj['o'];
      this.v = v;
      this.a = 0;
    } as unknown as new (o: object, v: number) => RefObj;
    Object.defineProperty(proto, 'constructor', { value: Ref, enumerable: false, writable: true });
    Object.defineProperty(proto, RECORD, { value: this, enumerable: false });
    (Ref as unknown as { prototype: object }).prototype = proto;
    this.proto = proto;
    this.Ref = Ref;
    this.installInterface();
  }

  newVersion(impl: Omit<Impl, 'ver'>): Impl {
    return { ...impl, ver: this.nextVer++ };
  }

  /** A new instance of the current implementation, behind a new reference. */
  create(caller: Ctor | null, args: unknown[]): RefObj {
    const impl = this.cur;
    const o = caller !== null && caller !== impl.cls && impl.construct
      ? (impl.construct as (...a: unknown[]) => object)(...args)
      : new impl.cls(...args);
    const ref = new this.Ref(o, impl.ver);
    this.live.add(ref);
    return ref;
  }

  dispose(ref: RefObj): void {
    if (!this.live.delete(ref)) return;
    if (ref.v !== this.cur.ver && this.pending > 0) this.pending--;
    this.lazyHeld.delete(ref);
  }

  /**
   * The interface of implementation `impl` (its methods and adaptors, each a fast-path
   * method; names it lacks answer with an error), built apart from installing it, so an
   * update can prepare it before the moment it applies.
   */
  buildInterface(impl: Impl): Map<string, unknown> {
    const methods = methodNames(impl.cls);
    const own = new Set([...methods, ...Object.keys(impl.adaptors)]);
    const out = new Map<string, unknown>();
    for (const name of own) {
      // A method of the class wins over an adaptor of the same name.
      out.set(name, methods.includes(name) ? method(this, name) : adaptorMethod(this, name, impl.adaptors[name]!));
    }
    for (const name of this.names) {
      if (own.has(name)) continue;
      const cls = this.name;
      const ver = impl.ver;
      out.set(name, function removed() {
        throw new TypeError(`${cls}.${name} was removed in implementation version ${ver}, and the new version declares no adaptor for it`);
      });
    }
    return out;
  }

  /** Point the prototype at the current implementation's interface (built before, or now). */
  installInterface(built: Map<string, unknown> = this.buildInterface(this.cur)): void {
    for (const [name, fn] of built) {
      this.names.add(name);
      this.proto[name] = fn;
    }
  }

  /** A reference's calls have all returned (called by the fast path when `watch` is set). */
  drained(ref: RefObj): void {
    this.med?.drained(ref);
    const held = this.lazyHeld.get(ref);
    if (held && ref.v !== this.cur.ver) {
      this.lazyHeld.delete(ref);
      this.watch = this.med !== null || this.lazyHeld.size > 0;
      this.convertOne(ref);
      for (const h of held) settle(h, () => (ref as unknown as Record<string, (...a: unknown[]) => unknown>)[h.name]!(...h.args));
    }
  }

  /** Every call that is not on the fast path. */
  slow(ref: RefObj, name: string, args: unknown[]): unknown {
    if (this.med !== null) return this.med.call(ref, name, args);
    if (ref.v === this.cur.ver) return this.invoke(ref, this.cur, name, args); // (a reference made while the gate was closed)
    // Lazy mode: this instance is still on an older implementation.
    if (ref.a === 0) {
      this.convertOne(ref);
      return this.invoke(ref, this.impls.get(ref.v)!, name, args);
    }
    // Its older calls are still running: they finish on the old code first. A call the old
    // implementation can answer joins them; any other waits for them, then converts.
    const old = this.impls.get(ref.v)!;
    if (has(old, name)) return this.invoke(ref, old, name, args);
    return new Promise((resolve, reject) => {
      let list = this.lazyHeld.get(ref);
      if (!list) this.lazyHeld.set(ref, (list = []));
      list.push({ ref, name, args, resolve, reject });
      this.watch = true;
    });
  }

  /** Convert one instance to the current implementation (lazy mode). A failure leaves it on its old one, recorded. */
  convertOne(ref: RefObj): void {
    const target = this.cur;
    try {
      const [next] = convertInstances([ref.o], target);
      ref.o = next as RefObj['o'];
      ref.v = target.ver;
      this.converted++;
    } catch (e) {
      this.failed++;
      this.lastError = (e as Error).message;
      return;
    }
    if (--this.pending <= 0) {
      this.pending = 0;
      for (const v of [...this.impls.keys()]) if (v !== target.ver) this.impls.delete(v);
    }
  }

  /** A call on a given implementation (slow path: adaptors resolved by name), counted while it is asynchronous. */
  invoke(ref: RefObj, impl: Impl, name: string, args: unknown[]): unknown {
    const r = callable(impl, ref.o, name)(args);
    if (r instanceof Promise) track(this, ref, r);
    return r;
  }

  stats() {
    return {
      name: this.name,
      version: this.cur.ver,
      instances: this.live.size,
      pending: this.pending,
      converted: this.converted,
      failed: this.failed,
      lastError: this.lastError,
      swapping: this.med !== null,
    };
  }
}

/** The end of a counted call: the generation count, and whoever waits for it to drain. */
function end(rec: ClassRecord, ref: RefObj): void {
  if (--ref.a === 0 && rec.watch) rec.drained(ref);
}

/**
 * The fast-path method for `name`: one gate comparison and the call. Only a call that
 * returns a promise is counted (from its return to its settling): a synchronous call
 * cannot be in flight when an update looks — updates run in tasks of their own — so
 * counting it would buy nothing. Up to three arguments are passed without an array.
 */
function method(rec: ClassRecord, name: string) {
  // Each method gets code of its own (not one closure shared by every method): V8 keeps
  // type feedback per function literal, and shared feedback would make every call site
  // in it polymorphic — no inlining of the method behind the reference.
  if (/^[A-Za-z_$][\w$]*$/.test(name)) return generated(name)(rec, track, Array.prototype.slice) as (this: RefObj, ...a: unknown[]) => unknown;
  return function (this: RefObj, a?: unknown, b?: unknown, c?: unknown): unknown {
    if (this.v !== rec.gate) return rec.slow(this, name, Array.prototype.slice.call(arguments));
    let r: unknown;
    switch (arguments.length) {
      case 0: r = this.o[name]!(); break;
      case 1: r = this.o[name]!(a); break;
      case 2: r = this.o[name]!(a, b); break;
      case 3: r = this.o[name]!(a, b, c); break;
      default: r = this.o[name]!(...(arguments as unknown as unknown[]));
    }
    if (r instanceof Promise) track(rec, this, r);
    return r;
  };
}

/** The source of the fast-path method for an identifier `name` (the same logic as the closure above). */
function generated(name: string): (rec: ClassRecord, trackFn: typeof track, slice: typeof Array.prototype.slice) => unknown {
  return new Function('rec', 'track', 'slice', `"use strict"; return function ${name}(a, b, c) {
    if (this.v !== rec.gate) return rec.slow(this, ${JSON.stringify(name)}, slice.call(arguments));
    let r;
    switch (arguments.length) {
      case 0: r = this.o.${name}(); break;
      case 1: r = this.o.${name}(a); break;
      case 2: r = this.o.${name}(a, b); break;
      case 3: r = this.o.${name}(a, b, c); break;
      default: r = this.o.${name}(...arguments);
    }
    if (r instanceof Promise) track(rec, this, r);
    return r;
  };`) as (rec: ClassRecord, trackFn: typeof track, slice: typeof Array.prototype.slice) => unknown;
}

/** An adaptor: an old method name answered by the new implementation. */
function adaptorMethod(rec: ClassRecord, name: string, adaptor: AdaptorFn) {
  return function (this: RefObj, ...args: unknown[]): unknown {
    if (this.v !== rec.gate) return rec.slow(this, name, args);
    const r = adaptor(this.o, ...args);
    if (r instanceof Promise) track(rec, this, r);
    return r;
  };
}

/** An asynchronous call in flight on `ref`: counted until it settles. */
function track(rec: ClassRecord, ref: RefObj, r: Promise<unknown>): void {
  ref.a++;
  r.then(() => end(rec, ref), () => end(rec, ref));
}

function has(impl: Impl, name: string): boolean {
  return methodNames(impl.cls).includes(name) || Object.hasOwn(impl.adaptors, name);
}

/** `name` on an instance of `impl`: its method, else its adaptor; a TypeError when neither exists. */
export function callable(impl: Impl, o: RefObj['o'], name: string): (args: unknown[]) => unknown {
  const m = o[name];
  if (typeof m === 'function' && methodNames(impl.cls).includes(name)) return (args) => m.apply(o, args);
  const adaptor = impl.adaptors[name];
  if (adaptor) return (args) => adaptor(o, ...args);
  return () => {
    throw new TypeError(`${impl.cls.name} (implementation version ${impl.ver}) has no method ${name}`);
  };
}

/** Run a held call and settle its promise with the outcome. */
export function settle(h: Held, run: () => unknown): void {
  try {
    const r = run();
    if (r instanceof Promise) r.then(h.resolve, h.reject);
    else h.resolve(r);
  } catch (e) {
    h.reject(e);
  }
}

export type { Held };

const methodCache = new WeakMap<Ctor, string[]>();

/** The method names of a class (its prototype chain up to Object), constructor excluded. */
export function methodNames(cls: Ctor): string[] {
  let names = methodCache.get(cls);
  if (names) return names;
  const out = new Set<string>();
  for (let p = cls.prototype as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const k of Object.getOwnPropertyNames(p)) {
      if (k === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, k);
      if (d && typeof d.value === 'function') out.add(k);
    }
  }
  names = [...out];
  methodCache.set(cls, names);
  return names;
}

/** Is `v` a reference of some class record (of this bundle)? */
export function recordOf(v: object): ClassRecord | undefined {
  return (Object.getPrototypeOf(v) as Record<symbol, unknown> | null)?.[RECORD] as ClassRecord | undefined;
}

const isRef = (o: object) => recordOf(o) !== undefined;

/** Object-level transfer: references met inside an instance stay as they are. */
const keepRefs: ObjectHooks = {
  ref: (v) => {
    const rec = recordOf(v);
    return rec ? { keep: true, cls: rec.cur.cls.name } : null;
  },
  wrap: () => null,
};

/**
 * Transfer instances to implementation `target` by the live-update transfer rules
 * (src/update: the same metadata, transfer and checker as a process-level update),
 * then check them against the target's metadata. New objects are made; the old ones are
 * not touched, so a failure (thrown) leaves them as they were.
 */
export function convertInstances(olds: object[], target: Impl): object[] {
  const meta = target.meta;
  if (!meta) throw new Error(`no type metadata for ${target.typeName} version ${target.ver}`);
  const nt = meta.types[target.typeName];
  if (!nt) throw new Error(`class ${target.typeName} is missing from the new version's type metadata`);
  // The class goes by its own name here (the metadata may call it `List#2` when the state
  // type names another class `List`): that is the name its transfer callbacks use.
  const name = target.cls.name;
  const types = nt.name === name ? meta.types : { ...meta.types, [name]: { ...nt, name } };
  const root: TypeMeta = { k: 'array', of: { k: 'ref', name } };
  const m: StateMeta = { root, types };
  const exported = exportGraph(olds, isRef);
  const classes = { ...target.classes, [name]: target.cls };
  const { state } = importState(exported, m, freshInstance(target.cls), classes, target.transfer, keepRefs, isRef);
  const violations = checkState(state, m, classes, { unwrap: (v) => (isRef(v) ? true : undefined) });
  if (violations.length > 0) throw new Error(`state check failed: ${violations.join('; ')}`);
  return state as object[];
}

/** A fresh instance (its fields give added fields their initial values), if the constructor needs no arguments. */
function freshInstance(cls: Ctor): object | undefined {
  if (cls.length > 0) return undefined;
  try {
    return new cls();
  } catch {
    return undefined;
  }
}
