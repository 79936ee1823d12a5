/**
 * State graph export: the old incarnation's side of a state transfer. Walks the state
 * from its root, refuses what cannot cross (functions, symbols, promises, weak
 * collections, proxies of host objects) with the path where it was found, and records
 * the class name of every class instance, in a depth-first visit order that the new
 * side repeats on the structured-clone copy (`classTags`).
 *
 * The graph itself crosses by structured clone, which keeps shared references,
 * cycles, Map, Set, Date, typed arrays and bigint.
 *
 * Entry points: `exportGraph(root) → ExportedGraph`, `classTags(graph, tags)`,
 * `UntransferableError`.
 */

export interface ExportedGraph {
  root: unknown;
  /** [visit index, class name] for every class instance, in visit order. */
  classes: Array<[number, string]>;
  /** Objects visited (arrays, maps, … included). */
  objects: number;
}

export class UntransferableError extends Error {
  override name = 'UntransferableError';
  constructor(readonly path: string, what: string) {
    super(`${path}: ${what} cannot be transferred`);
  }
}

const PLAIN_PROTOS = new Set<unknown>([Object.prototype, null, Array.prototype]);

/** What kind of container an object is, for the visit order both sides share. */
type Kind = 'plain' | 'array' | 'map' | 'set' | 'date' | 'typed' | 'instance';

function kindOf(v: object): Kind {
  if (Array.isArray(v)) return 'array';
  if (v instanceof Map) return 'map';
  if (v instanceof Set) return 'set';
  if (v instanceof Date) return 'date';
  if (ArrayBuffer.isView(v)) return 'typed';
  const proto = Object.getPrototypeOf(v);
  return PLAIN_PROTOS.has(proto) ? 'plain' : 'instance';
}

/**
 * Visit the graph depth-first; `onObject` is called once per object with its visit index.
 * A `leaf` object is visited (it gets an index) but not descended into: an object-level
 * transfer keeps the references to other objects it finds (src/objects) as they are.
 */
function visit(
  root: unknown,
  onObject: (o: object, index: number, kind: Kind, path: string) => void,
  withPaths: boolean,
  leaf?: (o: object) => boolean,
): number {
  const seen = new Set<object>();
  let index = 0;
  // Iterative, so deep lists do not overflow the stack.
  const stack: Array<[unknown, string]> = [[root, 'state']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') {
      if (typeof v === 'function') throw new UntransferableError(path, 'a function');
      if (typeof v === 'symbol') throw new UntransferableError(path, 'a symbol');
      continue;
    }
    if (seen.has(v)) continue;
    seen.add(v);
    const kind = kindOf(v);
    onObject(v, index++, kind, path);
    if (leaf?.(v)) continue;
    // Children are pushed in reverse so they are visited in forward order.
    switch (kind) {
      case 'array': {
        const a = v as unknown[];
        for (let i = a.length - 1; i >= 0; i--) stack.push([a[i], withPaths ? `${path}[${i}]` : '']);
        break;
      }
      case 'map': {
        const entries = [...(v as Map<unknown, unknown>)];
        for (let i = entries.length - 1; i >= 0; i--) {
          const [k, x] = entries[i]!;
          stack.push([x, withPaths ? `${path}.get(${fmtKey(k)})` : '']);
          stack.push([k, withPaths ? `${path}.key(${fmtKey(k)})` : '']);
        }
        break;
      }
      case 'set': {
        const items = [...(v as Set<unknown>)];
        for (let i = items.length - 1; i >= 0; i--) stack.push([items[i], withPaths ? `${path}.item(${i})` : '']);
        break;
      }
      case 'date':
      case 'typed':
        break;
      case 'plain':
      case 'instance': {
        const keys = Object.keys(v);
        for (let i = keys.length - 1; i >= 0; i--) {
          const k = keys[i]!;
          stack.push([(v as Record<string, unknown>)[k], withPaths ? `${path}.${k}` : '']);
        }
        break;
      }
    }
  }
  return index;
}

function fmtKey(k: unknown): string {
  return typeof k === 'string' ? JSON.stringify(k) : String(k);
}

const REFUSED: Array<[unknown, string]> = [
  [Promise.prototype, 'a Promise'],
  [WeakMap.prototype, 'a WeakMap'],
  [WeakSet.prototype, 'a WeakSet'],
  [WeakRef.prototype, 'a WeakRef'],
  [RegExp.prototype, 'a RegExp'],
];

/**
 * Old side: check the graph and tag class instances. The walk builds no path strings
 * (they are most of its cost); only if something cannot cross does it walk again, with
 * paths, to say where.
 */
export function exportGraph(root: unknown, leaf?: (o: object) => boolean): ExportedGraph {
  try {
    return walkExport(root, false, leaf);
  } catch (e) {
    if (e instanceof UntransferableError) return walkExport(root, true, leaf); // throws again, naming the path
    throw e;
  }
}

function walkExport(root: unknown, withPaths: boolean, leaf: ((o: object) => boolean) | undefined): ExportedGraph {
  const classes: Array<[number, string]> = [];
  const objects = visit(
    root,
    (o, index, kind, path) => {
      if (kind !== 'instance') return;
      const proto = Object.getPrototypeOf(o) as object;
      for (const [p, what] of REFUSED) if (proto === p) throw new UntransferableError(path, what);
      const ctor = (proto as { constructor?: { name?: string } }).constructor;
      const name = ctor?.name;
      if (!name) throw new UntransferableError(path, 'an object of an anonymous class');
      classes.push([index, name]);
    },
    withPaths,
    leaf,
  );
  return { root, classes, objects };
}

/** New side: the same visit over the structured-clone copy gives each tagged object its class name. */
export function classTags(root: unknown, tags: Array<[number, string]>, leaf?: (o: object) => boolean): Map<object, string> {
  const out = new Map<object, string>();
  if (tags.length === 0) return out;
  let next = 0;
  visit(
    root,
    (o, index) => {
      if (next < tags.length && tags[next]![0] === index) out.set(o, tags[next++]![1]);
    },
    false,
    leaf,
  );
  return out;
}
