/**
 * State import: the new incarnation's side of a state transfer. Rebuilds the old state
 * graph (a structured-clone copy, with class tags) against the *new* version's type
 * metadata, by DESIGN.md §3's default rules, with the component's callbacks first:
 *
 *  - fields added take the new version's initial value (from its `init` where the path
 *    exists there, else the type's zero value); removed fields are dropped and
 *    reported; order follows the new type;
 *  - primitives convert where lossless (`number ↔ bigint`, `number → string`, numeric
 *    `string → number`); anything else is refused unless a callback handles it;
 *  - arrays and tuples are truncated or extended; Map, Set, Date, typed arrays kept;
 *  - class instances are re-created from the new version's class of the same name
 *    (or the name the pairing callback gives);
 *  - shared references and cycles are kept (one new object per old object);
 *  - objects the new state no longer reaches are dropped and counted.
 *
 * Entry points: `importState(...) → { state, report }`, `TransferCallbacks`,
 * `TransferError`, `TransferReport`.
 */
import { classTags, type ExportedGraph } from './graph.js';
import type { FieldMeta, NamedType, StateMeta, TypeMeta } from './types.js';

/** Helpers a callback may use to convert nested values by the default rules. */
export interface TransferHelpers {
  /** Convert `value` to the new type named `typeName` (or a TypeMeta) by the default rules. */
  convert(value: unknown, type: string | TypeMeta): unknown;
  /** The class name an old object was an instance of (or undefined for plain data). */
  classOf(value: unknown): string | undefined;
}

export interface TransferCallbacks {
  /** Pairing: new type name → old type name (renamed types/classes). */
  types?: Record<string, string>;
  /** Pairing: new type name → { new field → old field } (renamed fields). */
  fields?: Record<string, Record<string, string>>;
  /** Per-type transfer: new type name → build the new value from the old one. */
  typeTransfer?: Record<string, (old: unknown, h: TransferHelpers) => unknown>;
  /** Per-field transfer: `'NewType.field'` → the field's new value from the old object. */
  fieldTransfer?: Record<string, (oldObject: Record<string, unknown>, h: TransferHelpers) => unknown>;
}

export interface TransferReport {
  /** `Type.field` names dropped, with how many objects had them. */
  removed: Record<string, number>;
  /** `Type.field` names that took their initial value. */
  added: Record<string, number>;
  /** Conversions applied: `Type.field: number → string` → count. */
  converted: Record<string, number>;
  /** Objects in the old state. */
  objectsBefore: number;
  /** Objects created in the new state. */
  objectsAfter: number;
  /** Old objects the new state no longer reaches (dropped leaks / removed data). */
  dropped: number;
}

/**
 * Object references (src/objects): how a transfer treats the references to updatable
 * objects it meets, and how it wraps the new instances of updatable classes.
 */
export interface ObjectHooks {
  /**
   * Is this old value a reference (`tag`: its class tag, for a structured-clone copy)?
   * `keep`: leave it as it is (an object-level transfer keeps references to other
   * objects); `impl`: transfer the object it refers to in its place (a process-level
   * transfer moves the objects themselves); null: not a reference.
   */
  ref(v: object, tag: string | undefined): { keep: true; cls: string } | { impl: object } | null;
  /** A new instance of class `name` is being made: the reference to stand for it, or null (a plain instance). */
  wrap(name: string, instance: object): object | null;
}

export class TransferError extends Error {
  override name = 'TransferError';
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

type Classes = Record<string, new (...args: never[]) => object>;

const bump = (r: Record<string, number>, k: string) => (r[k] = (r[k] ?? 0) + 1);

export function importState(
  exported: ExportedGraph,
  meta: StateMeta,
  fresh: unknown,
  classes: Classes,
  callbacks: TransferCallbacks = {},
  objects?: ObjectHooks,
  leaf?: (o: object) => boolean,
): { state: unknown; report: TransferReport } {
  const tags = classTags(exported.root, exported.classes, leaf);
  const memo = new Map<object, unknown>();
  const report: TransferReport = { removed: {}, added: {}, converted: {}, objectsBefore: exported.objects, objectsAfter: 0, dropped: 0 };
  const oldNameOf = (newName: string) => callbacks.types?.[newName] ?? newName;

  const helpers: TransferHelpers = {
    convert: (value, type) => convert(value, typeof type === 'string' ? { k: 'ref', name: type } : type, 'callback', undefined),
    classOf: (value) => (value !== null && typeof value === 'object' ? tags.get(value) : undefined),
  };

  /** Does `v` fit `t` exactly, with no conversion? (Used to choose a union member.) */
  const fits = (v: unknown, t: TypeMeta, depth = 0): boolean => {
    switch (t.k) {
      case 'string': return typeof v === 'string';
      case 'number': return typeof v === 'number';
      case 'boolean': return typeof v === 'boolean';
      case 'bigint': return typeof v === 'bigint';
      case 'null': return v === null;
      case 'undefined': return v === undefined;
      case 'literal': return v === t.value;
      case 'unknown': return true;
      case 'array':
        return Array.isArray(v) && (depth > 1 || sample(v).every((x) => fits(x, t.of, depth + 1)));
      case 'tuple':
        return Array.isArray(v) && v.length >= t.required && (t.rest !== undefined || v.length <= t.items.length) &&
          (depth > 1 || v.every((x, i) => fits(x, i < t.items.length ? t.items[i]! : t.rest!, depth + 1)));
      case 'map':
        return v instanceof Map && (depth > 1 || sample([...v.values()]).every((x) => fits(x, t.value, depth + 1)));
      case 'set':
        return v instanceof Set && (depth > 1 || sample([...v]).every((x) => fits(x, t.of, depth + 1)));
      case 'date': return v instanceof Date;
      case 'typed': return ArrayBuffer.isView(v) && v.constructor.name === t.name;
      case 'function': return typeof v === 'function';
      case 'union': return t.of.some((m) => fits(v, m, depth));
      case 'object': return isRecord(v) && tags.get(v) === undefined && shapeFits(t.fields, t.index, v, undefined);
      case 'ref': {
        if (!isRecord(v)) return false;
        const nt = meta.types[t.name];
        if (!nt) return false;
        const r = objects?.ref(v, tags.get(v));
        if (r) return 'keep' in r ? nt.kind === 'class' && classMatches(r.cls, nt.name) : fits(r.impl, t, depth);
        const tag = tags.get(v);
        if (nt.kind === 'class') return tag !== undefined && classMatches(tag, nt.name);
        if (tag !== undefined) return false;
        return shapeFits(nt.fields, nt.index, v, callbacks.fields?.[nt.name]);
      }
    }
  };

  /** An instance of old class `tag` becomes new class `name`: same name, or paired by `transfer.types`. */
  const classMatches = (tag: string, name: string) => tag === name || tag === oldNameOf(name);

  /**
   * Does a record have this shape exactly: its discriminants, every required field, and
   * (without an index signature) no field the type does not declare?
   */
  const shapeFits = (fields: FieldMeta[], index: TypeMeta | undefined, v: Record<string, unknown>, renames: Record<string, string> | undefined): boolean => {
    if (!discriminantsMatch(fields, v)) return false;
    for (const f of fields) {
      if (!f.optional && v[renames?.[f.name] ?? f.name] === undefined && !admitsUndefined(f.type)) return false;
    }
    if (index) return true;
    const declared = new Set(fields.map((f) => renames?.[f.name] ?? f.name));
    return Object.keys(v).every((k) => declared.has(k));
  };

  /** How well a record matches a member's fields (to try the likeliest member first). */
  const overlap = (m: TypeMeta, v: unknown): number => {
    if (!isRecord(v)) return 0;
    const fields = m.k === 'object' ? m.fields : m.k === 'ref' ? meta.types[m.name]?.fields ?? [] : [];
    const keys = new Set(Object.keys(v));
    return fields.reduce((n, f) => n + (keys.has(f.name) ? 1 : f.optional ? 0 : -1), 0);
  };

  /** Memo entries made by a conversion attempt, so a failed attempt can be undone. */
  const trail: object[] = [];
  const remember = (old: object, made: unknown) => {
    memo.set(old, made);
    trail.push(old);
  };

  const convert = (v: unknown, t: TypeMeta, path: string, owner: string | undefined): unknown => {
    switch (t.k) {
      case 'unknown':
        return v;
      case 'string':
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'bigint') return note(owner, `${typeof v} → string`, String(v));
        break;
      case 'number':
        if (typeof v === 'number') return v;
        if (typeof v === 'bigint') {
          const n = Number(v);
          if (BigInt(n) === v) return note(owner, 'bigint → number', n);
          throw new TransferError(path, `bigint ${v} does not fit a number without loss`);
        }
        if (typeof v === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v)) return note(owner, 'string → number', Number(v));
        break;
      case 'bigint':
        if (typeof v === 'bigint') return v;
        if (typeof v === 'number' && Number.isInteger(v)) return note(owner, 'number → bigint', BigInt(v));
        if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return note(owner, 'string → bigint', BigInt(v.trim()));
        break;
      case 'boolean':
        if (typeof v === 'boolean') return v;
        break;
      case 'null':
        if (v === null) return v;
        break;
      case 'undefined':
        if (v === undefined) return v;
        break;
      case 'literal':
        if (v === t.value) return v;
        break;
      case 'function':
        throw new TransferError(path, 'a function cannot be part of the state');
      case 'union': {
        for (const m of t.of) if (fits(v, m)) return convert(v, m, path, owner);
        // A class instance whose class the new union does not have (even after pairing) is not
        // turned into another class by shape: that would silently change what it is.
        const tag = v !== null && typeof v === 'object' ? tags.get(v) : undefined;
        const hasClass = t.of.some((m) => m.k === 'ref' && meta.types[m.name]?.kind === 'class');
        if (tag !== undefined && hasClass) {
          throw new TransferError(path, `an instance of class ${tag} matches no class of ${typeText(t)} (a renamed class needs transfer.types pairing)`);
        }
        // Otherwise try the members by the default rules, likeliest first; a failed attempt leaves nothing behind.
        const errors: string[] = [];
        for (const m of [...t.of].sort((a, b) => overlap(b, v) - overlap(a, v))) {
          const mark = trail.length;
          const saved = JSON.stringify(report);
          try {
            return convert(v, m, path, owner);
          } catch (e) {
            for (const o of trail.splice(mark)) memo.delete(o);
            Object.assign(report, JSON.parse(saved) as TransferReport);
            errors.push((e as Error).message);
          }
        }
        throw new TransferError(path, `${describe(v)} fits no member of the union (${errors.slice(0, 3).join('; ')})`);
      }
      case 'array': {
        if (!Array.isArray(v)) break;
        const hit = memo.get(v);
        if (hit) return hit;
        const out: unknown[] = new Array(v.length);
        remember(v, out);
        report.objectsAfter++;
        for (let i = 0; i < v.length; i++) out[i] = convert(v[i], t.of, `${path}[${i}]`, owner);
        return out;
      }
      case 'tuple': {
        if (!Array.isArray(v)) break;
        const hit = memo.get(v);
        if (hit) return hit;
        const out: unknown[] = [];
        remember(v, out);
        report.objectsAfter++;
        const n = t.rest ? Math.max(v.length, t.required) : t.items.length;
        for (let i = 0; i < n; i++) {
          const it = i < t.items.length ? t.items[i]! : t.rest!;
          if (i < v.length) out.push(convert(v[i], it, `${path}[${i}]`, owner));
          else if (i < t.required) out.push(zero(it, `${path}[${i}]`));
        }
        return out;
      }
      case 'map': {
        if (!(v instanceof Map)) break;
        const hit = memo.get(v);
        if (hit) return hit;
        const out = new Map();
        remember(v, out);
        report.objectsAfter++;
        for (const [k, x] of v) {
          const p = `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : String(k)})`;
          out.set(convert(k, t.key, `${path}.key`, owner), convert(x, t.value, p, owner));
        }
        return out;
      }
      case 'set': {
        if (!(v instanceof Set)) break;
        const hit = memo.get(v);
        if (hit) return hit;
        const out = new Set();
        remember(v, out);
        report.objectsAfter++;
        let i = 0;
        for (const x of v) out.add(convert(x, t.of, `${path}.item(${i++})`, owner));
        return out;
      }
      case 'date':
        if (v instanceof Date) {
          remember(v, v); // the clone is already a Date of this realm
          return v;
        }
        break;
      case 'typed':
        if (ArrayBuffer.isView(v) && v.constructor.name === t.name) {
          remember(v, v);
          return v;
        }
        break;
      case 'object':
        if (isRecord(v)) return convertObject(v, undefined, t.fields, t.index, path);
        break;
      case 'ref': {
        const nt = meta.types[t.name];
        if (!nt) throw new TransferError(path, `type ${t.name} is missing from the metadata`);
        const r = objects && isRecord(v) ? objects.ref(v, tags.get(v)) : null;
        if (r && isRecord(v)) {
          const hit = memo.get(v);
          if (hit) return hit;
          if ('keep' in r) {
            if (nt.kind !== 'class' || !classMatches(r.cls, nt.name)) throw new TransferError(path, `a reference to a ${r.cls} object cannot become ${nt.name}`);
            remember(v, v);
            return v;
          }
          const made = convert(r.impl, t, path, owner);
          remember(v, made);
          return made;
        }
        const custom = callbacks.typeTransfer?.[nt.name];
        if (custom) {
          if (v !== null && typeof v === 'object') {
            const hit = memo.get(v);
            if (hit) return hit;
            const out = custom(v, helpers);
            // An instance of an updatable class made by the callback: a reference stands for it too.
            const made = nt.kind === 'class' && out !== null && typeof out === 'object' ? objects?.wrap(nt.name, out) ?? out : out;
            remember(v, made);
            return made;
          }
          return custom(v, helpers);
        }
        if (isRecord(v)) {
          const tag = tags.get(v);
          if (nt.kind === 'class' && tag !== undefined && !classMatches(tag, nt.name)) {
            throw new TransferError(path, `an instance of class ${tag} cannot become class ${nt.name} (a renamed class needs transfer.types pairing)`);
          }
          return convertObject(v, nt, nt.fields, nt.index, path);
        }
        break;
      }
    }
    throw new TransferError(path, `expected ${typeText(t)}, got ${describe(v)}`);
  };

  const convertObject = (
    v: Record<string, unknown>,
    nt: NamedType | undefined,
    fields: FieldMeta[],
    index: TypeMeta | undefined,
    path: string,
  ): unknown => {
    const hit = memo.get(v);
    if (hit) return hit;
    let out: Record<string, unknown>;
    let made: object;
    if (nt?.kind === 'class') {
      const cls = classes[nt.name];
      if (!cls) throw new TransferError(path, `class ${nt.name} is not registered (defineServer({ classes: { ${nt.name} } }))`);
      out = Object.create(cls.prototype) as Record<string, unknown>;
      // An updatable class: the state holds a reference standing for the instance (made
      // before the fields, so a cycle back to it finds the reference).
      made = objects?.wrap(nt.name, out) ?? out;
    } else {
      made = out = {};
    }
    remember(v, made);
    report.objectsAfter++;
    const owner = nt?.name ?? 'object';
    const renames = nt ? callbacks.fields?.[nt.name] : undefined;
    const used = new Set<string>();
    for (const f of fields) {
      const oldName = renames?.[f.name] ?? f.name;
      used.add(oldName);
      const fp = `${path}.${f.name}`;
      const custom = nt ? callbacks.fieldTransfer?.[`${nt.name}.${f.name}`] : undefined;
      if (custom) {
        out[f.name] = custom(v, helpers);
        continue;
      }
      const present = Object.hasOwn(v, oldName);
      if (present && v[oldName] !== undefined) {
        out[f.name] = convert(v[oldName], f.type, fp, `${owner}.${f.name}`);
      } else if (present && (f.optional || admitsUndefined(f.type))) {
        out[f.name] = undefined; // undefined on purpose (e.g. "no limit"): kept, not re-initialised
      } else if (!f.optional) {
        out[f.name] = initialValue(fp, f.type);
        bump(report.added, `${owner}.${f.name}`);
      }
    }
    for (const k of Object.keys(v)) {
      if (used.has(k)) continue;
      if (index) out[k] = convert(v[k], index, `${path}.${k}`, owner);
      else bump(report.removed, `${owner}.${k}`);
    }
    return made;
  };

  const note = <T>(owner: string | undefined, what: string, value: T): T => {
    bump(report.converted, `${owner ?? 'state'}: ${what}`);
    return value;
  };

  /** A field the old state lacks: its value at the same path in the new `init`, else the type's zero. */
  const initialValue = (path: string, t: TypeMeta): unknown => {
    const fromInit = atPath(fresh, path);
    if (fromInit.found) return fromInit.value;
    return zero(t, path);
  };

  const zero = (t: TypeMeta, path: string): unknown => {
    switch (t.k) {
      case 'string': return '';
      case 'number': return 0;
      case 'boolean': return false;
      case 'bigint': return 0n;
      case 'null': return null;
      case 'undefined': case 'unknown': return undefined;
      case 'literal': return t.value;
      case 'array': return [];
      case 'tuple': return t.items.slice(0, t.required).map((it, i) => zero(it, `${path}[${i}]`));
      case 'map': return new Map();
      case 'set': return new Set();
      case 'date': return new Date(0);
      case 'union': {
        const simple = t.of.find((m) => m.k === 'null' || m.k === 'undefined');
        return zero(simple ?? t.of[0]!, path);
      }
      case 'object':
        return Object.fromEntries(t.fields.filter((f) => !f.optional).map((f) => [f.name, zero(f.type, `${path}.${f.name}`)]));
      case 'ref': {
        const nt = meta.types[t.name];
        if (nt && nt.kind !== 'class') return Object.fromEntries(nt.fields.filter((f) => !f.optional).map((f) => [f.name, zero(f.type, `${path}.${f.name}`)]));
        break;
      }
    }
    throw new TransferError(path, `new field of type ${typeText(t)} has no initial value (give it one in init, or a field transfer callback)`);
  };

  const state = convert(exported.root, meta.root, 'state', undefined);
  report.dropped = Math.max(0, exported.objects - memo.size);
  return { state, report };
}

/** Does the type admit `undefined` (so a field holding it is a value, not a missing field)? */
function admitsUndefined(t: TypeMeta): boolean {
  return t.k === 'undefined' || t.k === 'unknown' || (t.k === 'union' && t.of.some(admitsUndefined));
}

/** Object unions are told apart by their literal-typed fields (e.g. `kind: 'file'`). */
function discriminantsMatch(fields: FieldMeta[], v: Record<string, unknown>): boolean {
  return fields.every((f) => f.type.k !== 'literal' || v[f.name] === f.type.value);
}

/** Enough elements to choose a union member by (choosing is a heuristic; conversion then checks all). */
function sample<T>(a: T[]): T[] {
  return a.length <= 8 ? a : [...a.slice(0, 4), ...a.slice(-4)];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !(v instanceof Date) && !ArrayBuffer.isView(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Map) return 'Map';
  if (v instanceof Set) return 'Set';
  if (v instanceof Date) return 'Date';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return typeof v;
}

export function typeText(t: TypeMeta): string {
  switch (t.k) {
    case 'literal': return JSON.stringify(t.value);
    case 'array': return `${typeText(t.of)}[]`;
    case 'tuple': return `[${t.items.map(typeText).join(', ')}]`;
    case 'map': return `Map<${typeText(t.key)}, ${typeText(t.value)}>`;
    case 'set': return `Set<${typeText(t.of)}>`;
    case 'date': return 'Date';
    case 'typed': return t.name;
    case 'union': return t.of.map(typeText).join(' | ');
    case 'object': return '{…}';
    case 'ref': return t.name;
    default: return t.k;
  }
}

/** Follow a `state.a.b` path (plain fields only) in a fresh state. */
function atPath(root: unknown, path: string): { found: boolean; value?: unknown } {
  const parts = path.split('.').slice(1);
  let cur: unknown = root;
  for (const p of parts) {
    if (!/^[\w$]+$/.test(p) || cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p)) return { found: false };
    cur = (cur as Record<string, unknown>)[p];
  }
  return { found: true, value: cur };
}
