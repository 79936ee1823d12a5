/**
 * kvd state: everything kvd knows hangs off one root (`KvdState`) and is plain,
 * transferable data — the sixteen databases, the client sessions (keyed by socket), the
 * append-only file's bookkeeping and the counters INFO shows.
 *
 * Values are latin1 strings (one char per byte: binary-safe), lists `List` objects (a
 * deque: two arrays) — updatable objects (src/objects, K42): the state holds references
 * (`ListRef`), so `service update kvd FILE --mode objects [--lazy]` can change the list
 * representation in place, converting a million lists at once or each on its next use —
 * hashes `Map`s, sets `Set`s. A database is a `Db`
 * instance: its *layout* (here: values in one Map, expiry times in another) is private to
 * the class, and the command engine reaches it only through the `Keyspace` methods — so
 * a later version can change the layout (test/corpus/kvd/v2.ts keeps the expiry inside
 * each entry) and run the same engine.
 *
 * Entry points: `KvdState`, `KvdCore`, `Keyspace`, `Db`, `List`, `Value`, `Session`,
 * `AofState`, `freshCore`.
 */

import { create, dispose, type Obj } from '../../objects/index.js';

/** A value: a string, a list, a hash or a set. */
export type Value = string | ListRef | Map<string, string> | Set<string>;

/** A list as the state holds it: a reference to an updatable `List` object. */
export type ListRef = Obj<List>;

/** A new empty list (of the current implementation of `List`). */
export function newList(): ListRef {
  return create(List);
}

export function isList(v: Value | undefined): v is ListRef {
  return typeof v === 'object' && !(v instanceof Map) && !(v instanceof Set);
}

/** A value leaves the database: a list's reference leaves its class's table. */
export function release(v: Value | undefined): void {
  if (isList(v)) dispose(v);
}

/**
 * A list as a deque: `front` holds the head in reverse (so both ends push and pop at an
 * array's end), `back` the rest in order. Element i is front[front.length-1-i] for
 * i < front.length, else back[i - front.length].
 */
export class List {
  front: string[] = [];
  back: string[] = [];

  get length(): number {
    return this.front.length + this.back.length;
  }

  /** Elements (a method: the interface a reference offers is its class's methods). */
  size(): number {
    return this.front.length + this.back.length;
  }

  at(i: number): string | undefined {
    const f = this.front.length;
    return i < f ? this.front[f - 1 - i] : this.back[i - f];
  }

  pushLeft(v: string): void {
    this.front.push(v);
  }

  pushRight(v: string): void {
    this.back.push(v);
  }

  popLeft(): string | undefined {
    if (this.front.length > 0) return this.front.pop();
    if (this.back.length <= 32) return this.back.shift();
    // Move the older half of `back` over to `front` (reversed): O(1) amortised pops from either end.
    const half = this.back.splice(0, this.back.length >> 1);
    this.front = half.reverse();
    return this.front.pop();
  }

  popRight(): string | undefined {
    if (this.back.length > 0) return this.back.pop();
    if (this.front.length <= 32) return this.front.shift();
    const half = this.front.splice(0, this.front.length >> 1);
    this.back = half.reverse();
    return this.back.pop();
  }

  /** Elements start..stop (inclusive, already clamped to 0 ≤ start ≤ stop < length). */
  range(start: number, stop: number): string[] {
    const out: string[] = new Array(stop - start + 1);
    for (let i = start, j = 0; i <= stop; i++, j++) out[j] = this.at(i)!;
    return out;
  }

  toArray(): string[] {
    return this.length === 0 ? [] : this.range(0, this.length - 1);
  }
}

/** What the command engine needs of a database, whatever its layout. */
export interface Keyspace {
  /** Keys (including ones expired but not yet removed, as Redis's DBSIZE counts them). */
  readonly size: number;
  /** Keys with an expiry time. */
  readonly volatileCount: number;
  /** The value, expired or not (the engine checks `expireAt`). */
  get(key: string): Value | undefined;
  /** Absolute expiry time (ms since the epoch), 0 for none. */
  expireAt(key: string): number;
  /** Insert or replace a value; the key's expiry time is kept. */
  put(key: string, v: Value): void;
  /** Remove a key and its expiry; true if it was there. */
  del(key: string): boolean;
  /** Give an existing key an expiry time. */
  setExpire(key: string, at: number): void;
  /** Drop a key's expiry time; true if it had one. */
  persist(key: string): boolean;
  clear(): void;
  allKeys(): IterableIterator<string>;
  /**
   * Active expiry: look at up to `budget` keys that have an expiry time (oldest looked-at
   * first), delete each one due at `now` and report it to `expired`. → keys deleted.
   */
  sweep(now: number, budget: number, expired: (key: string) => void): number;
}

/** Version 1's database layout: values in `keys`, expiry times apart in `expires`. */
export class Db implements Keyspace {
  keys = new Map<string, Value>();
  expires = new Map<string, number>();

  get size(): number {
    return this.keys.size;
  }

  get volatileCount(): number {
    return this.expires.size;
  }

  get(key: string): Value | undefined {
    return this.keys.get(key);
  }

  expireAt(key: string): number {
    return this.expires.size === 0 ? 0 : this.expires.get(key) ?? 0;
  }

  put(key: string, v: Value): void {
    const old = this.keys.get(key);
    if (old !== v && typeof old === 'object') release(old);
    this.keys.set(key, v);
  }

  del(key: string): boolean {
    const old = this.keys.get(key);
    if (old === undefined) return false;
    this.keys.delete(key);
    if (typeof old === 'object') release(old);
    if (this.expires.size !== 0) this.expires.delete(key);
    return true;
  }

  setExpire(key: string, at: number): void {
    this.expires.set(key, at);
  }

  persist(key: string): boolean {
    return this.expires.size !== 0 && this.expires.delete(key);
  }

  clear(): void {
    for (const v of this.keys.values()) if (typeof v === 'object') release(v);
    this.keys.clear();
    this.expires.clear();
  }

  allKeys(): IterableIterator<string> {
    return this.keys.keys();
  }

  sweep(now: number, budget: number, expired: (key: string) => void): number {
    let n = 0;
    const seen: string[] = [];
    for (const [key, at] of this.expires) {
      if (budget-- <= 0) break;
      if (at <= now) {
        release(this.keys.get(key));
        this.keys.delete(key);
        this.expires.delete(key);
        expired(key);
        n++;
      } else {
        seen.push(key);
      }
    }
    // Rotate what was looked at to the end, so the next sweep looks at other keys first.
    for (const key of seen) {
      const at = this.expires.get(key)!;
      this.expires.delete(key);
      this.expires.set(key, at);
    }
    return n;
  }
}

/** One client connection, keyed by its socket. */
export interface Session {
  /** The selected database. */
  db: number;
  /** CLIENT SETNAME ('' for none). */
  name: string;
  /** Where the client is (host:port), for CLIENT LIST / INFO. */
  addr: string;
  /** Input not yet parsed: a partial request, kept as received (joined once `need` bytes are here). */
  pending: Uint8Array[];
  pendingBytes: number;
  /** Bytes the partial request needs before a parse can finish it (0: unknown, try on every chunk). */
  need: number;
  /** QUIT was received: reply, then close. */
  quit: boolean;
  createdAt: number;
  /**
   * The kernel TCP handle when net delegated the connection's data path to kvd (replies
   * are written straight to it), or -1: replies go through net (`net.send`).
   */
  handle: number;
  /**
   * Acknowledged delivery (the connection's bytes carry stream offsets; see the kernel's
   * TCP device): the offset of the next byte expected, or -1 (no offsets).
   */
  next: number;
  /** The stream offset of the first byte of `pending` (or of the chunk being run). */
  bufAt: number;
  /** Replies held until the AOF bytes they depend on are handed to vfs (group commit). */
  held: number;
  /** Close once the held replies are out (QUIT or a protocol error after a held reply). */
  closeAfter: boolean;
  /** An incomplete request is kept only here (too large to keep for redelivery): a crash of kvd closes the connection. */
  risky: boolean;
  /** After a restart: the reply the AOF says was owed for the stream up to `end` (its writes are in the file). */
  answered?: Answered | null;
}

/** A batch of an acknowledging connection whose writes reached the AOF: its reply, and where in the stream it ends. */
export interface Answered {
  end: number;
  reply: string;
}

/**
 * kvd's server state region (one per client that brings it connection events: the kernel
 * for delegated connections, net otherwise): the sessions whose state is not the default,
 * so that a restarted kvd gives each open connection its database and name back. A session
 * changed by a chunk of requests starting at stream offset `at` is kept as before (`db`,
 * `name`) and after (`db1`, `name1`) that chunk: if the device delivers the chunk again
 * (it was not answered), the session starts from the state before it.
 */
export interface SessionRegion {
  db: number;
  name: string;
  at: number;
  db1: number;
  name1: string;
  risky: boolean;
  stamp: number;
}

export interface KvdRegion {
  sessions: Record<string, SessionRegion>;
}

/** A reply held for the group commit: sent once the AOF is written up to `pos`. */
export interface HeldReply {
  sock: number;
  reply: string;
  pos: number;
}

/**
 * The append-only file. The engine appends each mutation to `buf` (RESP text, latin1);
 * the I/O pump (aof.ts) writes `buf` out in order, one operation at a time (`busy`), and
 * syncs about once a second. While a rewrite runs, mutations also go to `rwBuf`, which
 * the rewrite appends to the new file before it replaces the old one.
 */
export interface AofState {
  /** Appending at all (false while the file is replayed, or when there is no file). */
  on: boolean;
  path: string;
  /** vfs fd of the file open for appending; -1 when none. */
  fd: number;
  buf: string;
  rwBuf: string | null;
  /** The database the file's command stream has selected (-1: unknown, SELECT before the next command). */
  db: number;
  /** Bytes in the file (written), and after the last rewrite (or at load). */
  size: number;
  baseSize: number;
  /** An I/O operation is in flight (write, sync, rename, a rewrite). */
  busy: boolean;
  /** A `flush` alarm is pending. */
  flushArmed: boolean;
  /**
   * Characters of the command stream taken out of `buf` by writes that completed (or are
   * in flight); the stream position after the last appended character is `taken +
   * buf.length`. A held reply waits until its position is written.
   */
  taken: number;
  /** Written but not yet synced. */
  unsynced: boolean;
  lastSync: number;
  rewriting: boolean;
  /** BGREWRITEAOF (or the growth trigger) asked for a rewrite the pump has not started. */
  rewriteQueued: boolean;
  rewrites: number;
  /** What the load found (e.g. a truncated last command), for INFO. */
  loadNote: string;
  lastError: string;
}

export interface KvdStats {
  startedAt: number;
  connections: number;
  commands: number;
  expired: number;
  hits: number;
  misses: number;
  /** Mutations since start. */
  dirty: number;
  protocolErrors: number;
}

/** Everything but the database layout: what the engine, the connections and the AOF use. */
export interface KvdCore {
  phase: 'loading' | 'serving' | 'stopped';
  host: string;
  /** The port asked for (0: any) and the one listened on. */
  port: number;
  boundPort: number;
  dir: string;
  /** The listening socket (net), -1 before listening. */
  listener: number;
  dbs: Keyspace[];
  sessions: Map<number, Session>;
  aof: AofState;
  stats: KvdStats;
  /** Tags the periodic alarm chain of this run (a stale chain's alarms are ignored). */
  tickGen: number;
  /** Connection events that came while loading (after a restart, open connections keep talking): run once serving. */
  held: HeldEvent[];
  /** Replies waiting for the AOF (group commit), in stream order. */
  waiting: HeldReply[];
  /** Sessions whose region entry must be committed (by the next handler that can). */
  regionDirty: number[];
  /** Each session's region entry as last changed (committed with `regionDirty`). */
  regionEntries: Map<number, SessionRegion>;
  regionStamp: number;
  /** After a crash: the sessions the regions kept, by socket (used once, at start). */
  recovered: Array<[number, SessionRegion]> | null;
  /** The AOF's `KVD.ANSWERED` records of this boot, by TCP handle (read at load, used once, at start). */
  answered: Map<number, Answered>;
}

/** A net event kept for later. */
export interface HeldEvent {
  sock: number;
  kind: 'accept' | 'data' | 'end' | 'close';
  conn?: number;
  remote?: { host: string; port: number };
  data?: Uint8Array;
  handle?: number;
  /** A delegated connection's stream offset of `data` (acknowledged delivery). */
  at?: number;
}

/** Version 1's state root. */
export interface KvdState extends KvdCore {
  dbs: Db[];
}

export const DATABASES = 16;

/** A new client session: database 0, nothing pending. */
export function freshSession(addr: string, now: number, name = ''): Session {
  return {
    db: 0, name, addr, pending: [], pendingBytes: 0, need: 0, quit: false, createdAt: now, handle: -1,
    next: -1, bufAt: -1, held: 0, closeAfter: false, risky: false,
  };
}

/** A fresh state around the given databases. */
export function freshCore<D extends Keyspace>(args: Record<string, unknown>, dbs: D[], tickGen: number, now: number): KvdCore & { dbs: D[] } {
  const dir = typeof args.dir === 'string' && args.dir.startsWith('/') ? args.dir.replace(/\/+$/, '') || '/' : '/var/lib/kvd';
  return {
    phase: 'loading',
    host: typeof args.host === 'string' ? args.host : '127.0.0.1',
    port: typeof args.port === 'number' ? args.port : 6380,
    boundPort: 0,
    dir,
    listener: -1,
    dbs,
    sessions: new Map(),
    aof: {
      on: false,
      path: `${dir === '/' ? '' : dir}/appendonly.aof`,
      fd: -1,
      buf: '',
      rwBuf: null,
      db: -1,
      size: 0,
      baseSize: 0,
      busy: false,
      flushArmed: false,
      taken: 0,
      unsynced: false,
      lastSync: now,
      rewriting: false,
      rewriteQueued: false,
      rewrites: 0,
      loadNote: '',
      lastError: '',
    },
    stats: { startedAt: now, connections: 0, commands: 0, expired: 0, hits: 0, misses: 0, dirty: 0, protocolErrors: 0 },
    tickGen,
    held: [],
    waiting: [],
    regionDirty: [],
    regionEntries: new Map(),
    regionStamp: 0,
    recovered: null,
    answered: new Map(),
  };
}

export function freshState(args: Record<string, unknown>, tickGen: number, now: number): KvdState {
  const dbs: Db[] = [];
  for (let i = 0; i < DATABASES; i++) dbs.push(new Db());
  return freshCore(args, dbs, tickGen, now);
}
