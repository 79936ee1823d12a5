/**
 * Test helper for kvd's unit tests: everything a client could observe of the data — per
 * database, its sorted keys with type, value and expiry.
 */
import type { KvdCore } from '../../src/user/kvd/state.js';
import { isList } from '../../src/user/kvd/state.js';

export function snapshot(st: KvdCore): unknown[] {
  return st.dbs.map((db) =>
    [...db.allKeys()].sort().map((k) => {
      const v = db.get(k)!;
      const val = typeof v === 'string' ? v : isList(v) ? v.toArray() : v instanceof Map ? [...v].sort() : [...v].sort();
      return [k, val, db.expireAt(k)];
    }),
  );
}
