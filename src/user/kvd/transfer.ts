/**
 * kvd: live-update transfer of the databases across layouts. Version 1 keeps values and
 * expiry times in two Maps (`Db.keys`, `Db.expires`); version 2 (test/corpus/kvd/v2.ts)
 * keeps one Map of entries, each with its expiry time inside (`Db.entries`). The default
 * rules cannot guess that move, so each version's `typeTransfer.Db` reads an old `Db` of
 * *either* layout with `readOldDb` and builds its own — so update and rollback both keep
 * every key and expiry time.
 *
 * Entry point: `readOldDb(old, h)`.
 */
import type { TransferHelpers } from '../../update/transfer.js';
import type { Value } from './state.js';

/** An old value (structured-clone copy) as a value of the new version: lists re-made from the new `List` class. */
export function convertValue(v: unknown, h: TransferHelpers): Value {
  if (typeof v === 'string' || v instanceof Map || v instanceof Set) return v as Value;
  if (h.classOf(v) === 'List') return h.convert(v, 'List') as Value;
  throw new TypeError(`kvd: a value of unknown kind (${h.classOf(v) ?? typeof v}) in an old database`);
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
