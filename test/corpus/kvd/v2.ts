/**
 * Update corpus: `kvd`, version 2 — the same daemon (same engine, connections, AOF; same
 * replies to every client) over a changed database layout: version 1 keeps values and
 * expiry times in two Maps (`Db.keys`, `Db.expires`); this version keeps ONE Map of
 * entries with the expiry time inside each (`Db.entries: Map<string, Entry>`), plus a
 * count of the entries that have one (`Db.volatile`).
 *
 * The default transfer rules would drop `keys`/`expires` and start `entries` empty, so
 * `typeTransfer.Db` rebuilds each database from an old one of either layout
 * (src/user/kvd/transfer.ts) — which is also what lets version 1 take this state back on
 * a rollback. Everything else (sessions with their partial input, the AOF's buffer and
 * counters, the tick) is paired by name.
 */
import { defineServer } from '../../../src/sys/index.js';
import { kvdProtocol } from '../../../src/user/kvd/protocol.js';
import { checkKvd, kvdHandlers, kvdPrepare, startKvd, stopKvd, withListener } from '../../../src/user/kvd/server.js';
import { DATABASES, freshCore, List, release, type Keyspace, type KvdCore, type Value } from '../../../src/user/kvd/state.js';
import { readOldDb, readOldList } from '../../../src/user/kvd/transfer.js';

/** A key's value and its expiry time (0: none). */
export interface Entry {
  v: Value;
  at: number;
}

export class Db implements Keyspace {
  entries = new Map<string, Entry>();
  /** Entries with an expiry time. */
  volatile = 0;

  get size(): number {
    return this.entries.size;
  }

  get volatileCount(): number {
    return this.volatile;
  }

  get(key: string): Value | undefined {
    return this.entries.get(key)?.v;
  }

  expireAt(key: string): number {
    return this.entries.get(key)?.at ?? 0;
  }

  put(key: string, v: Value): void {
    const e = this.entries.get(key);
    if (e) {
      if (e.v !== v) release(e.v);
      e.v = v;
    } else this.entries.set(key, { v, at: 0 });
  }

  del(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (e.at !== 0) this.volatile--;
    this.entries.delete(key);
    release(e.v);
    return true;
  }

  setExpire(key: string, at: number): void {
    const e = this.entries.get(key);
    if (!e) return;
    if (e.at === 0) this.volatile++;
    e.at = at;
  }

  persist(key: string): boolean {
    const e = this.entries.get(key);
    if (!e || e.at === 0) return false;
    e.at = 0;
    this.volatile--;
    return true;
  }

  clear(): void {
    for (const e of this.entries.values()) release(e.v);
    this.entries.clear();
    this.volatile = 0;
  }

  allKeys(): IterableIterator<string> {
    return this.entries.keys();
  }

  sweep(now: number, budget: number, expired: (key: string) => void): number {
    // No index of the volatile keys here: look at entries in turn, rotating the ones
    // looked at to the end so that the next sweep goes on from where this one stopped.
    let n = 0;
    const seen: Array<[string, Entry]> = [];
    let looks = Math.min(this.entries.size, budget * 4);
    for (const [key, e] of this.entries) {
      if (looks-- <= 0) break;
      if (e.at !== 0 && e.at <= now) {
        release(e.v);
        this.entries.delete(key);
        this.volatile--;
        expired(key);
        n++;
      } else {
        seen.push([key, e]);
      }
    }
    for (const [key, e] of seen) {
      this.entries.delete(key);
      this.entries.set(key, e);
    }
    return n;
  }
}

interface KvdState extends KvdCore {
  dbs: Db[];
}

export default defineServer<KvdState, typeof kvdProtocol>({
  protocol: kvdProtocol,
  init: withListener((ctx): KvdState => {
    const dbs: Db[] = [];
    for (let i = 0; i < DATABASES; i++) dbs.push(new Db());
    return freshCore(ctx.self.args, dbs, ctx.self.incarnation, ctx.now());
  }),
  start: startKvd,
  stop: stopKvd,
  handlers: kvdHandlers,
  classes: { Db },
  objects: { List },
  prepare: kvdPrepare,
  check: (st) => {
    const out = checkKvd(st);
    st.dbs.forEach((db, i) => {
      let volatile = 0;
      for (const e of db.entries.values()) if (e.at !== 0) volatile++;
      if (volatile !== db.volatile) out.push(`db ${i}: volatile ${db.volatile} but ${volatile} entries expire`);
    });
    return out;
  },
  transfer: {
    typeTransfer: {
      Db: (old, h) => {
        const { values, expires } = readOldDb(old, h);
        const db = new Db();
        for (const [k, v] of values) db.entries.set(k, { v, at: expires.get(k) ?? 0 });
        db.volatile = expires.size;
        return db;
      },
      List: (old) => {
        const l = new List();
        l.back = readOldList(old);
        return l;
      },
    },
  },
});
