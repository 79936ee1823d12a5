/**
 * kvd: live-update transfer of the databases across layouts. Version 1 keeps values and
 * expiry times in two Maps (`Db.keys`, `Db.expires`); version 2 (test/corpus/kvd/v2.ts)
 * keeps one Map of entries, each with its expiry time inside (`Db.entries`). The default
 * rules cannot guess that move, so each version's `typeTransfer.Db` reads an old `Db` of
 * *either* layout with `readOldDb` and builds its own — so update and rollback both keep
 * every key and expiry time.
 *
 * Entry points: `readOldDb(old, h)`, `dbFromOld(old, h)`, `readOldList(old)`, `convertValue(v, h)`.
 */
import type { TransferHelpers } from '../../update/transfer.js';
import { Db, type Value } from './state.js';

/**
 * An old value (structured-clone copy) as a value of the new version: a list (a reference
 * to a `List` object, or a `List` of a version before lists were objects) becomes a
 * reference to a `List` of the new version.
 */
export function convertValue(v: unknown, h: TransferHelpers): Value {
  if (typeof v === 'string' || v instanceof Map || v instanceof Set) return v as Value;
  const cls = h.classOf(v);
  if (cls === 'List' || cls === 'ObjRef') return h.convert(v, 'List') as Value;
  throw new TypeError(`kvd: a value of unknown kind (${h.classOf(v) ?? typeof v}) in an old database`);
}

/**
 * An old list, whichever representation: a deque of two arrays (`front` reversed, then
 * `back`: src/user/kvd/state.ts) or one array with a start offset (`items` from `head`:
 * test/corpus/kvd/lists-v2.ts) → its elements in order. The old object is not changed
 * (an object-level update reads the live instance).
 */
export function readOldList(old: unknown): string[] {
  const o = old as Record<string, unknown>;
  if (Array.isArray(o.front) && Array.isArray(o.back)) return [...(o.front as string[])].reverse().concat(o.back as string[]);
  if (Array.isArray(o.items) && typeof o.head === 'number') return (o.items as string[]).slice(o.head);
  throw new TypeError('kvd: an old list of an unknown representation (neither front/back nor items/head)');
}

/** An old database, whichever layout: its values (converted) and expiry times. */
export function readOldDb(old: unknown, h: TransferHelpers): { values: Map<string, Value>; expires: Map<string, number> } {
  const o = old as Record<string, unknown>;
  const values = new Map<string, Value>();
  const expires = new Map<string, number>();
  if (o.keys instanceof Map) {
    for (const [k, v] of o.keys as Map<string, unknown>) values.set(k, convertValue(v, h));
    if (o.expires instanceof Map) for (const [k, at] of o.expires as Map<string, number>) if (values.has(k)) expires.set(k, at);
  } else if (o.entries instanceof Map) {
    for (const [k, e] of o.entries as Map<string, { v: unknown; at: number }>) {
      values.set(k, convertValue(e.v, h));
      if (e.at) expires.set(k, e.at);
    }
  } else {
    throw new TypeError('kvd: an old database of an unknown layout (neither keys/expires nor entries)');
  }
  return { values, expires };
}

/** An old database, whichever layout, as version 1's `Db` (values and expiry times in two Maps). */
export function dbFromOld(old: unknown, h: TransferHelpers): Db {
  const { values, expires } = readOldDb(old, h);
  const db = new Db();
  db.keys = values;
  db.expires = expires;
  return db;
}
