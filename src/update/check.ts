/**
 * State checking: after an import, validate the whole new state against the new
 * version's type metadata — every value of its declared type, no function or foreign
 * object (an instance of a class from another version, a host object), class
 * instances of the registered class — and report the first violations by path:
 * `state.files.get(7).inode.size: expected number, got string`.
 *
 * Entry point: `checkState(state, meta, classes) → string[]` (empty: valid).
 */
import { describe, typeText } from './transfer.js';
import type { StateMeta, TypeMeta } from './types.js';

type Classes = Record<string, new (...args: never[]) => object>;

const MAX_ERRORS = 20;

/**
 * References to updatable objects (src/objects): the instance a reference of this
 * version stands for (checked in its place), `true` for a reference accepted as it is
 * (an object-level transfer keeps references to other objects), undefined for any other value.
 */
export interface CheckHooks {
  unwrap(v: object): object | true | undefined;
}

export function checkState(state: unknown, meta: StateMeta, classes: Classes, objects?: CheckHooks): string[] {
  const errors: string[] = [];
  const knownProtos = new Set<unknown>([Object.prototype, null, ...Object.values(classes).map((c) => c.prototype)]);
  // (object, type name) pairs already checked: shared references and cycles are checked once.
  let done = new Map<object, Set<string>>();
  // The first pass builds no path strings (most of the cost); a second one runs only to
  // name the path of a violation it found.
  let named = false;

  const check = (v: unknown, t: TypeMeta, path: string): string | null => {
    switch (t.k) {
      case 'unknown': return plainData(v, path, new Set());
      case 'string': return typeof v === 'string' ? null : bad(path, t, v);
      case 'number': return typeof v === 'number' ? null : bad(path, t, v);
      case 'boolean': return typeof v === 'boolean' ? null : bad(path, t, v);
      case 'bigint': return typeof v === 'bigint' ? null : bad(path, t, v);
      case 'null': return v === null ? null : bad(path, t, v);
      case 'undefined': return v === undefined ? null : bad(path, t, v);
      case 'literal': return v === t.value ? null : bad(path, t, v);
      case 'function': return `${path}: a function cannot be part of the state`;
      case 'date': return v instanceof Date ? null : bad(path, t, v);
      case 'typed': return ArrayBuffer.isView(v) && v.constructor.name === t.name ? null : bad(path, t, v);
      case 'union': {
        let first: string | null = null;
        for (const m of t.of) {
          const e = check(v, m, path);
          if (e === null) return null;
          first ??= e;
        }
        return t.of.every((m) => m.k === 'literal' || m.k === 'null' || m.k === 'undefined' || m.k === 'string' || m.k === 'number' || m.k === 'boolean')
          ? bad(path, t, v)
          : first;
      }
      case 'array': {
        if (!Array.isArray(v)) return bad(path, t, v);
        if (once(v, keyOf(t))) return null;
        for (let i = 0; i < v.length; i++) {
          const e = check(v[i], t.of, named ? `${path}[${i}]` : path);
          if (e) return e;
        }
        return null;
      }
      case 'tuple': {
        if (!Array.isArray(v)) return bad(path, t, v);
        if (v.length < t.required || (!t.rest && v.length > t.items.length)) return `${path}: expected ${typeText(t)}, got ${v.length} elements`;
        for (let i = 0; i < v.length; i++) {
          const e = check(v[i], i < t.items.length ? t.items[i]! : t.rest!, named ? `${path}[${i}]` : path);
          if (e) return e;
        }
        return null;
      }
      case 'map': {
        if (!(v instanceof Map)) return bad(path, t, v);
        if (once(v, keyOf(t))) return null;
        for (const [k, x] of v) {
          const kp = named ? (typeof k === 'string' ? JSON.stringify(k) : String(k)) : '';
          const e = check(k, t.key, named ? `${path}.key(${kp})` : path) ?? check(x, t.value, named ? `${path}.get(${kp})` : path);
          if (e) return e;
        }
        return null;
      }
      case 'set': {
        if (!(v instanceof Set)) return bad(path, t, v);
        if (once(v, keyOf(t))) return null;
        let i = 0;
        for (const x of v) {
          const e = check(x, t.of, named ? `${path}.item(${i})` : path);
          i++;
          if (e) return e;
        }
        return null;
      }
      case 'object':
        return checkObject(v, t.fields, t.index, path, '{…}', undefined);
      case 'ref': {
        const nt = meta.types[t.name];
        if (!nt) return `${path}: type ${t.name} is missing from the metadata`;
        const cls = nt.kind === 'class' ? classes[nt.name] : undefined;
        if (nt.kind === 'class' && !cls) return `${path}: class ${nt.name} is not registered`;
        const impl = nt.kind === 'class' && v !== null && typeof v === 'object' ? objects?.unwrap(v) : undefined;
        if (impl === true) return null;
        return checkObject(impl ?? v, nt.fields, nt.index, path, nt.name, cls);
      }
    }
  };

  const checkObject = (
    v: unknown,
    fields: { name: string; type: TypeMeta; optional: boolean }[],
    index: TypeMeta | undefined,
    path: string,
    name: string,
    cls: (new (...args: never[]) => object) | undefined,
  ): string | null => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Map || v instanceof Set || v instanceof Date) {
      return `${path}: expected ${name}, got ${describe(v)}`;
    }
    const proto = Object.getPrototypeOf(v);
    if (cls) {
      if (proto !== cls.prototype) return `${path}: expected an instance of the new version's class ${name}, got ${foreign(proto)}`;
    } else if (proto !== Object.prototype && proto !== null) {
      return `${path}: expected plain ${name}, got ${foreign(proto)}`;
    }
    if (once(v, name)) return null;
    const o = v as Record<string, unknown>;
    const declared = new Set<string>();
    for (const f of fields) {
      declared.add(f.name);
      const x = o[f.name];
      if (x === undefined && f.optional) continue;
      const e = check(x, f.type, named ? `${path}.${f.name}` : path);
      if (e) return e;
    }
    for (const k of Object.keys(o)) {
      if (declared.has(k)) continue;
      if (!index) {
        if (typeof o[k] === 'function') return `${path}.${k}: a function cannot be part of the state`;
        continue; // extra data the type does not declare: allowed, but still checked for functions
      }
      const e = check(o[k], index, named ? `${path}.${k}` : path);
      if (e) return e;
    }
    return null;
  };

  /** `unknown` values: any plain data, no functions or foreign objects. */
  const plainData = (v: unknown, path: string, seen: Set<object>): string | null => {
    if (typeof v === 'function') return `${path}: a function cannot be part of the state`;
    if (typeof v === 'symbol') return `${path}: a symbol cannot be part of the state`;
    if (v === null || typeof v !== 'object' || seen.has(v)) return null;
    seen.add(v);
    const impl = objects?.unwrap(v);
    if (impl === true) return null;
    if (impl) return plainData(impl, path, seen);
    if (v instanceof Map) {
      for (const [k, x] of v) {
        const e = plainData(k, named ? `${path}.key` : path, seen) ?? plainData(x, named ? `${path}.get(${String(k)})` : path, seen);
        if (e) return e;
      }
      return null;
    }
    if (v instanceof Set) {
      for (const x of v) {
        const e = plainData(x, named ? `${path}.item` : path, seen);
        if (e) return e;
      }
      return null;
    }
    if (v instanceof Date || ArrayBuffer.isView(v)) return null;
    if (!Array.isArray(v) && !knownProtos.has(Object.getPrototypeOf(v))) return `${path}: ${foreign(Object.getPrototypeOf(v))} is not plain data`;
    for (const k of Object.keys(v)) {
      const e = plainData((v as Record<string, unknown>)[k], named ? `${path}.${k}` : path, seen);
      if (e) return e;
    }
    return null;
  };

  /** A container type's text, computed once per type (it names what an object was checked as). */
  const keys = new WeakMap<TypeMeta, string>();
  const keyOf = (t: TypeMeta): string => {
    let k = keys.get(t);
    if (k === undefined) keys.set(t, (k = typeText(t)));
    return k;
  };

  const once = (o: object, typeName: string): boolean => {
    let s = done.get(o);
    if (!s) done.set(o, (s = new Set()));
    if (s.has(typeName)) return true;
    s.add(typeName);
    return false;
  };

  let e = check(state, meta.root, 'state');
  if (e) {
    named = true;
    done = new Map();
    e = check(state, meta.root, 'state') ?? e;
    errors.push(e);
  }
  return errors.slice(0, MAX_ERRORS);
}

function bad(path: string, t: TypeMeta, v: unknown): string {
  return `${path}: expected ${typeText(t)}, got ${describe(v)}`;
}

function foreign(proto: unknown): string {
  const name = (proto as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name ? `an object of class ${name} (not this version's)` : 'a foreign object';
}
