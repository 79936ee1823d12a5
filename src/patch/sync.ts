/**
 * Write interception for a data item whose representation a patch changes: the role of
 * LUCOS's page write-protection (DESIGN.md §4), played by a Proxy.
 *
 * While old and new invocations may both run, the item has two copies: the old one (old
 * versions' views) and the new one (the patch's). A `SyncPair` wraps each copy in a
 * write-intercepting proxy; a write (set, delete, defineProperty) at any depth of plain
 * objects and arrays goes to its copy, then calls the patch's `toNew` (a write to the old
 * copy) or `toOld` (a write to the new copy) with the change's path. `get` returns
 * memoised proxies of nested plain objects/arrays, so `p.a === p.a` and writes below
 * are seen. The sync functions get the raw copies; a write they make, even through a
 * proxy, does not trigger another sync (no ping-pong).
 *
 * When the pair is deactivated, the views that held its proxies get the raw copies back
 * (no proxy cost afterwards) and proxies still referenced somewhere pass writes through.
 *
 * Limits: Map/Set/Date/class instances are returned raw, so their inner mutations are not
 * intercepted; a reference to an item taken before the proxy was installed (e.g. `const
 * L = d.limits` held across the apply) writes the raw copy unseen; a value written is
 * unwrapped one level (a proxy assigned is stored as its raw object).
 *
 * Entry points: `SyncPair`, `SyncFns`, `unwrap(value)`.
 */
import { isPlainData as isPlain, setViewItem, type View } from './table.js';
import type { Change } from './types.js';

export type Side = 'old' | 'new';

/** The patch's sync functions for one item (its `DataChange`). */
export interface SyncFns {
  toNew(old: unknown, neu: unknown, change: Change): void;
  toOld(neu: unknown, old: unknown, change: Change): void;
}

/** A proxied object within a copy: where it was last reached from (for the change path). */
interface Node {
  proxy: object;
  parent: Node | null;
  key: string;
}

/** Every proxy made here → its raw object (so a proxy written into a copy is unwrapped). */
const raws = new WeakMap<object, object>();

/** The raw object behind one of our proxies, or the value itself. */
export function unwrap<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  return (raws.get(value) as T | undefined) ?? value;
}

export class SyncPair {
  /** False once deactivated: proxies then pass everything through. */
  active = true;
  /** True while a sync function runs (its writes must not sync back). */
  private busy = false;
  readonly oldProxy: object;
  readonly newProxy: object;
  /** Views holding one of this pair's proxies (restored to raw copies on deactivate). */
  private readonly holders: { view: View; side: Side }[] = [];

  constructor(
    /** The patch whose apply (or undo) created the pair. */
    readonly owner: number,
    readonly item: string,
    readonly oldRaw: object,
    readonly newRaw: object,
    private readonly fns: SyncFns,
    /** A sync function threw; may rethrow (into the writer). */
    private readonly onError: (error: unknown, direction: 'toNew' | 'toOld') => void,
  ) {
    this.oldProxy = this.makeSide('old', oldRaw);
    this.newProxy = this.makeSide('new', newRaw);
  }

  /** Install this pair's proxy of `side` as `view`'s item. */
  hold(view: View, side: Side): void {
    setViewItem(view, this.item, side === 'old' ? this.oldProxy : this.newProxy);
    this.holders.push({ view, side });
  }

  /** Install proxies in every view holding one of the raw copies. */
  holdAll(views: readonly View[]): void {
    for (const view of views) {
      const v = view[this.item];
      if (v === this.oldRaw) this.hold(view, 'old');
      else if (v === this.newRaw) this.hold(view, 'new');
    }
  }

  /** Register a view that was copied from one holding a proxy of this pair. */
  adopt(view: View): void {
    const v = view[this.item];
    if (v === this.oldProxy) this.holders.push({ view, side: 'old' });
    else if (v === this.newProxy) this.holders.push({ view, side: 'new' });
  }

  /** Stop synchronising: views get the raw copies back. */
  deactivate(): void {
    if (!this.active) return;
    this.active = false;
    for (const { view, side } of this.holders) {
      const proxy = side === 'old' ? this.oldProxy : this.newProxy;
      if (view[this.item] === proxy) setViewItem(view, this.item, side === 'old' ? this.oldRaw : this.newRaw);
    }
    this.holders.length = 0;
  }

  /** A write landed on one copy: run the sync function towards the other. */
  private written(side: Side, node: Node, key: string, value: unknown, deleted: boolean): void {
    if (!this.active || this.busy) return;
    const path = [key];
    for (let n: Node | null = node; n !== null && n.parent !== null; n = n.parent) path.push(n.key);
    path.reverse();
    const change: Change = { path, value, deleted };
    this.busy = true;
    try {
      if (side === 'old') this.fns.toNew(this.oldRaw, this.newRaw, change);
      else this.fns.toOld(this.newRaw, this.oldRaw, change);
    } catch (e) {
      this.busy = false;
      this.onError(e, side === 'old' ? 'toNew' : 'toOld');
    } finally {
      this.busy = false;
    }
  }

  private makeSide(side: Side, root: object): object {
    const memo = new WeakMap<object, Node>();
    const make = (target: object, parent: Node | null, key: string): Node => {
      const node: Node = { proxy: target, parent, key };
      const handler: ProxyHandler<object> = {
        get: (t, k) => {
          const v: unknown = Reflect.get(t, k);
          if (!this.active || typeof k === 'symbol' || !isPlain(v)) return v;
          let child = memo.get(v);
          if (child === undefined) {
            child = make(v, node, k);
            memo.set(v, child);
          } else {
            child.parent = node;
            child.key = k;
          }
          return child.proxy;
        },
        set: (t, k, v) => {
          const raw: unknown = unwrap(v);
          if (typeof k === 'symbol') return Reflect.set(t, k, raw);
          const had = Object.hasOwn(t, k);
          const prev: unknown = had ? Reflect.get(t, k) : undefined;
          if (!Reflect.set(t, k, raw)) return false;
          if (!had || !Object.is(prev, raw)) this.written(side, node, k, raw, false);
          return true;
        },
        deleteProperty: (t, k) => {
          const had = Object.hasOwn(t, k);
          if (!Reflect.deleteProperty(t, k)) return false;
          if (had && typeof k !== 'symbol') this.written(side, node, k, undefined, true);
          return true;
        },
        defineProperty: (t, k, desc) => {
          const d = 'value' in desc ? { ...desc, value: unwrap(desc.value) } : desc;
          if (!Reflect.defineProperty(t, k, d)) return false;
          if (typeof k !== 'symbol') this.written(side, node, k, 'value' in d ? d.value : Reflect.get(t, k), false);
          return true;
        },
      };
      node.proxy = new Proxy(target, handler);
      raws.set(node.proxy, target);
      return node;
    };
    return make(root, null, '').proxy;
  }
}
