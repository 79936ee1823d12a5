/**
 * kvd: the command engine — pure: (state, client, argv, now) in, the reply (RESP, a latin1
 * string) out. Semantics and error texts follow Redis 7 in RESP2. Every mutation is
 * appended to the append-only log (`propagate`) in a deterministic form: relative expiry
 * times become absolute PEXPIREATs, keys found expired become DELs.
 *
 * The engine reaches the databases only through `Keyspace`, so it runs unchanged over
 * any database layout (state.ts).
 *
 * The command functions are called through a trampoline table (src/patch, LUCOS):
 * `molt patch apply kvd FILE.ts` replaces any of them while kvd serves — see
 * test/corpus/kvd/patch-incr.ts for a patch, `KvdData` for the data the table carries.
 *
 * Entry points: `execute`, `propagate`, `activeExpire`, `isWriteCommand`, `COMMAND_NAMES`,
 * `commands` (the patchable table), `Call`, `KvdData`.
 */
import { patchable } from '../../patch/index.js';
import { globMatch } from './glob.js';
import {
  arr, bulk, bulkOrNil, EMPTY_ARRAY, encodeCommand, error, int, NIL, NIL_ARRAY, OK, ONE, PONG, simple, ZERO,
} from './resp.js';
import { DATABASES, isList, newList, type Keyspace, type KvdCore, type ListRef, type Session, type Value } from './state.js';

// ── errors (Redis 7 texts) ──
const WRONGTYPE = error('WRONGTYPE Operation against a key holding the wrong kind of value');
const NOT_INT = error('ERR value is not an integer or out of range');
const SYNTAX = error('ERR syntax error');
const OVERFLOW = error('ERR increment or decrement would overflow');
const NOT_POSITIVE = error('ERR value is out of range, must be positive');
const HASH_NOT_INT = error('ERR hash value is not an integer');
const arity = (name: string) => error(`ERR wrong number of arguments for '${name}' command`);
const badExpire = (name: string) => error(`ERR invalid expire time in '${name}' command`);

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const INT_RE = /^(0|-?[1-9][0-9]*)$/;

/** A 64-bit signed integer as Redis's string2ll reads it: a number when safe, a bigint beyond; null if not one. */
export function parseInt64(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20 || !INT_RE.test(s)) return null;
  if (n <= 15) return Number(s);
  const b = BigInt(s);
  if (b > INT64_MAX || b < INT64_MIN) return null;
  return Number.isSafeInteger(Number(b)) && BigInt(Number(b)) === b ? Number(b) : b;
}

/** An integer argument as a JS number (large ones lose precision, which no caller minds); null if malformed. */
function parseLong(s: string): number | null {
  const v = parseInt64(s);
  return v === null ? null : Number(v);
}

/** a + b within int64, as a string; null on overflow. */
function addInt64(a: number | bigint, b: number | bigint): string | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return String(r);
  }
  const r = BigInt(a) + BigInt(b);
  return r > INT64_MAX || r < INT64_MIN ? null : String(r);
}

/** Append a mutation (in database `db`) to the append-only log, and count it. */
export function propagate(st: KvdCore, db: number, argv: readonly string[]): void {
  st.stats.dirty++;
  const aof = st.aof;
  if (!aof.on) return;
  let s = '';
  if (aof.db !== db) {
    s = encodeCommand(['SELECT', String(db)]);
    aof.db = db;
  }
  s += encodeCommand(argv);
  aof.buf += s;
  if (aof.rwBuf !== null) aof.rwBuf += s;
}

/** Delete a key found expired and log it as a DEL. */
function expireNow(st: KvdCore, dbi: number, key: string): void {
  st.dbs[dbi]!.del(key);
  st.stats.expired++;
  propagate(st, dbi, ['DEL', key]);
}

/** A key's value, or undefined when missing — or expired (then it is deleted, lazily). */
function lookup(st: KvdCore, dbi: number, key: string, now: number): Value | undefined {
  const db = st.dbs[dbi]!;
  const v = db.get(key);
  if (v === undefined || db.volatileCount === 0) return v;
  const at = db.expireAt(key);
  if (at !== 0 && at <= now) {
    expireNow(st, dbi, key);
    return undefined;
  }
  return v;
}

/** Active expiry (the periodic sweep): up to `budget` keys per database. → keys removed. */
export function activeExpire(st: KvdCore, now: number, budget = 200): number {
  let n = 0;
  for (let i = 0; i < st.dbs.length; i++) {
    const db = st.dbs[i]!;
    if (db.volatileCount === 0) continue;
    n += db.sweep(now, budget, (key) => {
      st.stats.expired++;
      propagate(st, i, ['DEL', key]);
    });
  }
  return n;
}

/** One command being run: what a command function (and a patch replacing one) is given. */
export interface Call {
  st: KvdCore;
  c: Session;
  argv: string[];
  now: number;
  name: string;
}

/**
 * The data kvd's command table carries (plain, patchable: a patch may change its
 * representation, kept in sync while old invocations run).
 */
export interface KvdData {
  server: { version: string };
}

type CommandFn = (x: Call, d: KvdData) => string;

interface CommandSpec {
  /** Redis arity: n exact, -n at least n (the command name included). */
  arity: number;
  fn: CommandFn;
  /** Changes data (kvd counts these; the AOF takes what `propagate` is given). */
  write: boolean;
}

// ── keyspace ──

const doPing: CommandFn = ({ argv }) => (argv.length === 1 ? PONG : argv.length === 2 ? bulk(argv[1]!) : arity('ping'));

const doEcho: CommandFn = ({ argv }) => bulk(argv[1]!);

const doSelect: CommandFn = ({ c, argv }) => {
  const id = parseLong(argv[1]!);
  if (id === null || id > 2147483647 || id < -2147483648) return NOT_INT;
  if (id < 0 || id >= DATABASES) return error('ERR DB index is out of range');
  c.db = id;
  return OK;
};

const doDbsize: CommandFn = ({ st, c }) => int(st.dbs[c.db]!.size);

function flushArg(argv: string[]): boolean {
  if (argv.length === 1) return true;
  if (argv.length > 2) return false;
  const a = argv[1]!.toLowerCase();
  return a === 'async' || a === 'sync';
}

const doFlushdb: CommandFn = ({ st, c, argv }) => {
  if (!flushArg(argv)) return SYNTAX;
  st.dbs[c.db]!.clear();
  propagate(st, c.db, ['FLUSHDB']);
  return OK;
};

const doFlushall: CommandFn = ({ st, c, argv }) => {
  if (!flushArg(argv)) return SYNTAX;
  for (const db of st.dbs) db.clear();
  propagate(st, c.db, ['FLUSHALL']);
  return OK;
};

const doKeys: CommandFn = ({ st, c, argv, now }) => {
  const pattern = argv[1]!;
  const db = st.dbs[c.db]!;
  const out: string[] = [];
  const expired: string[] = [];
  for (const key of db.allKeys()) {
    if (!globMatch(pattern, key)) continue;
    const at = db.volatileCount === 0 ? 0 : db.expireAt(key);
    if (at !== 0 && at <= now) expired.push(key);
    else out.push(key);
  }
  for (const key of expired) expireNow(st, c.db, key);
  return arr(out);
};

const doExists: CommandFn = ({ st, c, argv, now }) => {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookup(st, c.db, argv[i]!, now) !== undefined) n++;
  return int(n);
};

const doDel: CommandFn = ({ st, c, argv, now }) => {
  const deleted: string[] = [];
  const db = st.dbs[c.db]!;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    if (lookup(st, c.db, key, now) !== undefined && db.del(key)) deleted.push(key);
  }
  if (deleted.length > 0) propagate(st, c.db, ['DEL', ...deleted]);
  return int(deleted.length);
};

function typeName(v: Value | undefined): string {
  if (v === undefined) return 'none';
  if (typeof v === 'string') return 'string';
  if (isList(v)) return 'list';
  if (v instanceof Map) return 'hash';
  return 'set';
}

const doType: CommandFn = ({ st, c, argv, now }) => simple(typeName(lookup(st, c.db, argv[1]!, now)));

/** EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]. */
function expireGeneric(x: Call, unitMs: number, relative: boolean): string {
  const { st, c, argv, now, name } = x;
  const key = argv[1]!;
  const t = parseInt64(argv[2]!);
  if (t === null) return NOT_INT;
  let nx = false, xx = false, gt = false, lt = false;
  for (let i = 3; i < argv.length; i++) {
    const o = argv[i]!.toLowerCase();
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o === 'gt') gt = true;
    else if (o === 'lt') lt = true;
    else return error(`ERR Unsupported option ${argv[i]}`);
  }
  if (nx && (xx || gt || lt)) return error('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (gt && lt) return error('ERR GT and LT options at the same time are not compatible');
  const tn = Number(t);
  let when = tn * unitMs;
  if (!Number.isSafeInteger(when)) return badExpire(name);
  if (relative) when += now;
  if (!Number.isSafeInteger(when)) return badExpire(name);
  if (lookup(st, c.db, key, now) === undefined) return ZERO;
  const db = st.dbs[c.db]!;
  const cur = db.expireAt(key);
  if (nx && cur !== 0) return ZERO;
  if (xx && cur === 0) return ZERO;
  if (gt && (cur === 0 || when <= cur)) return ZERO;
  if (lt && cur !== 0 && when >= cur) return ZERO;
  if (when <= now) {
    db.del(key);
    propagate(st, c.db, ['DEL', key]);
    return ONE;
  }
  db.setExpire(key, when);
  propagate(st, c.db, ['PEXPIREAT', key, String(when)]);
  return ONE;
}

const doExpire: CommandFn = (x) => expireGeneric(x, 1000, true);
const doPexpire: CommandFn = (x) => expireGeneric(x, 1, true);
const doExpireat: CommandFn = (x) => expireGeneric(x, 1000, false);
const doPexpireat: CommandFn = (x) => expireGeneric(x, 1, false);

function ttlGeneric(x: Call, ms: boolean): string {
  const { st, c, argv, now } = x;
  const key = argv[1]!;
  if (lookup(st, c.db, key, now) === undefined) return int(-2);
  const at = st.dbs[c.db]!.expireAt(key);
  if (at === 0) return int(-1);
  const left = Math.max(0, at - now);
  return int(ms ? left : Math.floor((left + 500) / 1000));
}

const doTtl: CommandFn = (x) => ttlGeneric(x, false);
const doPttl: CommandFn = (x) => ttlGeneric(x, true);

const doPersist: CommandFn = ({ st, c, argv, now }) => {
  const key = argv[1]!;
  if (lookup(st, c.db, key, now) === undefined) return ZERO;
  if (!st.dbs[c.db]!.persist(key)) return ZERO;
  propagate(st, c.db, ['PERSIST', key]);
  return ONE;
};

// ── strings ──

/** The string at key: the string, undefined if missing, null if another type. */
function getString(x: Call, key: string): string | undefined | null {
  const v = lookup(x.st, x.c.db, key, x.now);
  if (v === undefined) {
    x.st.stats.misses++;
    return undefined;
  }
  x.st.stats.hits++;
  return typeof v === 'string' ? v : null;
}

const doGet: CommandFn = (x) => {
  const v = getString(x, x.argv[1]!);
  return v === null ? WRONGTYPE : bulkOrNil(v);
};

/** Set a string, dropping any expiry time (SET, MSET, GETSET, SETNX). */
function setString(st: KvdCore, dbi: number, key: string, v: string): void {
  const db = st.dbs[dbi]!;
  db.put(key, v);
  if (db.volatileCount !== 0) db.persist(key);
}

const doSet: CommandFn = (x) => {
  const { st, c, argv, now } = x;
  const key = argv[1]!;
  const val = argv[2]!;
  let nx = false, xx = false, get = false, keepttl = false;
  let unit = '';
  let expArg = '';
  for (let i = 3; i < argv.length; i++) {
    const o = argv[i]!.toLowerCase();
    if (o === 'nx' && !xx) nx = true;
    else if (o === 'xx' && !nx) xx = true;
    else if (o === 'get') get = true;
    else if (o === 'keepttl' && !unit) keepttl = true;
    else if ((o === 'ex' || o === 'px' || o === 'exat' || o === 'pxat') && !keepttl && !unit && i + 1 < argv.length) {
      unit = o;
      expArg = argv[++i]!;
    } else return SYNTAX;
  }
  let at = 0;
  if (unit) {
    const t = parseInt64(expArg);
    if (t === null) return NOT_INT;
    const tn = Number(t);
    if (tn <= 0) return badExpire('set');
    at = unit === 'ex' ? tn * 1000 + now : unit === 'px' ? tn + now : unit === 'exat' ? tn * 1000 : tn;
    if (!Number.isSafeInteger(at)) return badExpire('set');
  }
  let reply = OK;
  if (get) {
    const old = getString(x, key);
    if (old === null) return WRONGTYPE;
    reply = bulkOrNil(old);
  }
  const found = lookup(st, c.db, key, now) !== undefined;
  if ((nx && found) || (xx && !found)) return get ? reply : NIL;
  const db = st.dbs[c.db]!;
  if (keepttl) {
    db.put(key, val);
    propagate(st, c.db, ['SET', key, val, 'KEEPTTL']);
  } else {
    setString(st, c.db, key, val);
    propagate(st, c.db, ['SET', key, val]);
  }
  if (at !== 0) {
    if (at <= now) {
      db.del(key);
      propagate(st, c.db, ['DEL', key]);
    } else {
      db.setExpire(key, at);
      propagate(st, c.db, ['PEXPIREAT', key, String(at)]);
    }
  }
  return reply;
};

const doSetnx: CommandFn = ({ st, c, argv, now }) => {
  const key = argv[1]!;
  if (lookup(st, c.db, key, now) !== undefined) return ZERO;
  setString(st, c.db, key, argv[2]!);
  propagate(st, c.db, ['SET', key, argv[2]!]);
  return ONE;
};

/** SETEX key seconds value / PSETEX key ms value. */
function setexGeneric(x: Call, unitMs: number): string {
  const { st, c, argv, now, name } = x;
  const t = parseInt64(argv[2]!);
  if (t === null) return NOT_INT;
  const tn = Number(t);
  if (tn <= 0) return badExpire(name);
  const at = tn * unitMs + now;
  if (!Number.isSafeInteger(at)) return badExpire(name);
  const key = argv[1]!;
  setString(st, c.db, key, argv[3]!);
  st.dbs[c.db]!.setExpire(key, at);
  propagate(st, c.db, ['SET', key, argv[3]!]);
  propagate(st, c.db, ['PEXPIREAT', key, String(at)]);
  return OK;
}

const doSetex: CommandFn = (x) => setexGeneric(x, 1000);
const doPsetex: CommandFn = (x) => setexGeneric(x, 1);

const doGetset: CommandFn = (x) => {
  const { st, c, argv } = x;
  const key = argv[1]!;
  const old = getString(x, key);
  if (old === null) return WRONGTYPE;
  setString(st, c.db, key, argv[2]!);
  propagate(st, c.db, ['SET', key, argv[2]!]);
  return bulkOrNil(old);
};

const doGetdel: CommandFn = (x) => {
  const key = x.argv[1]!;
  const old = getString(x, key);
  if (old === null) return WRONGTYPE;
  if (old !== undefined) {
    x.st.dbs[x.c.db]!.del(key);
    propagate(x.st, x.c.db, ['DEL', key]);
  }
  return bulkOrNil(old);
};

const doMget: CommandFn = ({ st, c, argv, now }) => {
  let body = '';
  for (let i = 1; i < argv.length; i++) {
    const v = lookup(st, c.db, argv[i]!, now);
    body += typeof v === 'string' ? bulk(v) : NIL;
  }
  return `*${argv.length - 1}\r\n${body}`;
};

const doMset: CommandFn = ({ st, c, argv }) => {
  if (argv.length % 2 === 0) return arity('mset');
  for (let i = 1; i < argv.length; i += 2) setString(st, c.db, argv[i]!, argv[i + 1]!);
  propagate(st, c.db, argv);
  return OK;
};

const doMsetnx: CommandFn = ({ st, c, argv, now }) => {
  if (argv.length % 2 === 0) return arity('msetnx');
  for (let i = 1; i < argv.length; i += 2) if (lookup(st, c.db, argv[i]!, now) !== undefined) return ZERO;
  for (let i = 1; i < argv.length; i += 2) setString(st, c.db, argv[i]!, argv[i + 1]!);
  propagate(st, c.db, ['MSET', ...argv.slice(1)]);
  return ONE;
};

/** INCR / DECR / INCRBY / DECRBY: the value becomes old + by (the expiry time is kept). */
function incrGeneric(x: Call, by: number | bigint): string {
  const { st, c, argv } = x;
  const key = argv[1]!;
  const old = getString(x, key);
  if (old === null) return WRONGTYPE;
  const cur = old === undefined ? 0 : parseInt64(old);
  if (cur === null) return NOT_INT;
  const next = addInt64(cur, by);
  if (next === null) return OVERFLOW;
  st.dbs[c.db]!.put(key, next);
  propagate(st, c.db, ['SET', key, next, 'KEEPTTL']);
  return `:${next}\r\n`;
}

const doIncr: CommandFn = (x) => incrGeneric(x, 1);
const doDecr: CommandFn = (x) => incrGeneric(x, -1);
const doIncrby: CommandFn = (x) => {
  const by = parseInt64(x.argv[2]!);
  return by === null ? NOT_INT : incrGeneric(x, by);
};
const doDecrby: CommandFn = (x) => {
  const by = parseInt64(x.argv[2]!);
  if (by === null) return NOT_INT;
  if (typeof by === 'bigint' && by === INT64_MIN) return error('ERR decrement would overflow');
  return incrGeneric(x, typeof by === 'bigint' ? -by : -by); // (narrowed per branch)
};

const doAppend: CommandFn = (x) => {
  const { st, c, argv } = x;
  const key = argv[1]!;
  const old = getString(x, key);
  if (old === null) return WRONGTYPE;
  const next = old === undefined ? argv[2]! : old + argv[2]!;
  st.dbs[c.db]!.put(key, next);
  propagate(st, c.db, argv);
  return int(next.length);
};

const doStrlen: CommandFn = (x) => {
  const v = getString(x, x.argv[1]!);
  return v === null ? WRONGTYPE : int(v === undefined ? 0 : v.length);
};

// ── lists ──

/** The list at key: the list, undefined if missing, null if another type. */
function getList(x: Call, key: string): ListRef | undefined | null {
  const v = lookup(x.st, x.c.db, key, x.now);
  if (v === undefined) return undefined;
  return isList(v) ? v : null;
}

function pushGeneric(x: Call, left: boolean): string {
  const { st, c, argv } = x;
  const key = argv[1]!;
  let l = getList(x, key);
  if (l === null) return WRONGTYPE;
  if (l === undefined) {
    l = newList();
    st.dbs[c.db]!.put(key, l);
  }
  if (left) for (let i = 2; i < argv.length; i++) l.pushLeft(argv[i]!);
  else for (let i = 2; i < argv.length; i++) l.pushRight(argv[i]!);
  propagate(st, c.db, argv);
  return int(l.size());
}

const doLpush: CommandFn = (x) => pushGeneric(x, true);
const doRpush: CommandFn = (x) => pushGeneric(x, false);

function popGeneric(x: Call, left: boolean): string {
  const { st, c, argv, name } = x;
  if (argv.length > 3) return arity(name);
  let count = -1;
  if (argv.length === 3) {
    const n = parseLong(argv[2]!);
    if (n === null || n < 0) return NOT_POSITIVE;
    count = n;
  }
  const key = argv[1]!;
  const l = getList(x, key);
  if (l === null) return WRONGTYPE;
  if (l === undefined) return count < 0 ? NIL : NIL_ARRAY;
  if (count === 0) return EMPTY_ARRAY;
  const take = count < 0 ? 1 : Math.min(count, l.size());
  const out: string[] = [];
  for (let i = 0; i < take; i++) out.push((left ? l.popLeft() : l.popRight())!);
  if (l.size() === 0) st.dbs[c.db]!.del(key);
  propagate(st, c.db, count < 0 ? [argv[0]!, key] : [argv[0]!, key, String(take)]);
  return count < 0 ? bulk(out[0]!) : arr(out);
}

const doLpop: CommandFn = (x) => popGeneric(x, true);
const doRpop: CommandFn = (x) => popGeneric(x, false);

const doLlen: CommandFn = (x) => {
  const l = getList(x, x.argv[1]!);
  return l === null ? WRONGTYPE : int(l === undefined ? 0 : l.size());
};

const doLrange: CommandFn = (x) => {
  let start = parseLong(x.argv[2]!);
  let stop = parseLong(x.argv[3]!);
  if (start === null || stop === null) return NOT_INT;
  const l = getList(x, x.argv[1]!);
  if (l === null) return WRONGTYPE;
  if (l === undefined) return EMPTY_ARRAY;
  const n = l.size();
  if (start < 0) start = Math.max(0, n + start);
  if (stop < 0) stop = n + stop;
  if (stop >= n) stop = n - 1;
  if (start > stop || start >= n) return EMPTY_ARRAY;
  return arr(l.range(start, stop));
};

const doLindex: CommandFn = (x) => {
  let i = parseLong(x.argv[2]!);
  if (i === null) return NOT_INT;
  const l = getList(x, x.argv[1]!);
  if (l === null) return WRONGTYPE;
  if (l === undefined) return NIL;
  if (i < 0) i += l.size();
  return i < 0 || i >= l.size() ? NIL : bulk(l.at(i)!);
};

// ── hashes ──

function getHash(x: Call, key: string): Map<string, string> | undefined | null {
  const v = lookup(x.st, x.c.db, key, x.now);
  if (v === undefined) return undefined;
  return v instanceof Map ? v : null;
}

function hashForWrite(x: Call, key: string): Map<string, string> | null {
  const h = getHash(x, key);
  if (h === null) return null;
  if (h !== undefined) return h;
  const fresh = new Map<string, string>();
  x.st.dbs[x.c.db]!.put(key, fresh);
  return fresh;
}

const doHset: CommandFn = (x) => {
  const { st, c, argv, name } = x;
  if (argv.length % 2 !== 0) return arity(name);
  const h = hashForWrite(x, argv[1]!);
  if (h === null) return WRONGTYPE;
  let added = 0;
  for (let i = 2; i < argv.length; i += 2) {
    if (!h.has(argv[i]!)) added++;
    h.set(argv[i]!, argv[i + 1]!);
  }
  propagate(st, c.db, name === 'hmset' ? ['HSET', ...argv.slice(1)] : argv);
  return name === 'hmset' ? OK : int(added);
};

const doHsetnx: CommandFn = (x) => {
  const { st, c, argv } = x;
  const h = hashForWrite(x, argv[1]!);
  if (h === null) return WRONGTYPE;
  if (h.has(argv[2]!)) return ZERO;
  h.set(argv[2]!, argv[3]!);
  propagate(st, c.db, ['HSET', argv[1]!, argv[2]!, argv[3]!]);
  return ONE;
};

const doHget: CommandFn = (x) => {
  const h = getHash(x, x.argv[1]!);
  return h === null ? WRONGTYPE : bulkOrNil(h?.get(x.argv[2]!));
};

const doHmget: CommandFn = (x) => {
  const h = getHash(x, x.argv[1]!);
  if (h === null) return WRONGTYPE;
  const out: Array<string | null> = [];
  for (let i = 2; i < x.argv.length; i++) out.push(h?.get(x.argv[i]!) ?? null);
  return arr(out);
};

const doHdel: CommandFn = (x) => {
  const { st, c, argv } = x;
  const key = argv[1]!;
  const h = getHash(x, key);
  if (h === null) return WRONGTYPE;
  if (h === undefined) return ZERO;
  const gone: string[] = [];
  for (let i = 2; i < argv.length; i++) if (h.delete(argv[i]!)) gone.push(argv[i]!);
  if (h.size === 0) st.dbs[c.db]!.del(key);
  if (gone.length > 0) propagate(st, c.db, ['HDEL', key, ...gone]);
  return int(gone.length);
};

const doHgetall: CommandFn = (x) => {
  const h = getHash(x, x.argv[1]!);
  if (h === null) return WRONGTYPE;
  if (h === undefined) return EMPTY_ARRAY;
  let body = '';
  for (const [f, v] of h) body += `$${f.length}\r\n${f}\r\n$${v.length}\r\n${v}\r\n`;
  return `*${h.size * 2}\r\n${body}`;
};

const doHkeys: CommandFn = (x) => {
  const h = getHash(x, x.argv[1]!);
  return h === null ? WRONGTYPE : h === undefined ? EMPTY_ARRAY : arr(h.keys());
};

const doHvals: CommandFn = (x) => {
  const h = getHash(x, x.argv[1]!);
  return h === null ? WRONGTYPE : h === undefined ? EMPTY_ARRAY : arr(h.values());
};

const doHlen: CommandFn = (x) => {
  const h = getHash(x, x.argv[1]!);
  return h === null ? WRONGTYPE : int(h === undefined ? 0 : h.size);
};

const doHexists: CommandFn = (x) => {
  const h = getHash(x, x.argv[1]!);
  return h === null ? WRONGTYPE : h?.has(x.argv[2]!) ? ONE : ZERO;
};

const doHincrby: CommandFn = (x) => {
  const { st, c, argv } = x;
  const by = parseInt64(argv[3]!);
  if (by === null) return NOT_INT;
  const h = getHash(x, argv[1]!);
  if (h === null) return WRONGTYPE;
  const old = h?.get(argv[2]!);
  const cur = old === undefined ? 0 : parseInt64(old);
  if (cur === null) return HASH_NOT_INT;
  const next = addInt64(cur, by);
  if (next === null) return OVERFLOW;
  hashForWrite(x, argv[1]!)!.set(argv[2]!, next);
  propagate(st, c.db, ['HSET', argv[1]!, argv[2]!, next]);
  return `:${next}\r\n`;
};

// ── sets ──

function getSet(x: Call, key: string): Set<string> | undefined | null {
  const v = lookup(x.st, x.c.db, key, x.now);
  if (v === undefined) return undefined;
  return v instanceof Set ? v : null;
}

const doSadd: CommandFn = (x) => {
  const { st, c, argv } = x;
  const key = argv[1]!;
  let s = getSet(x, key);
  if (s === null) return WRONGTYPE;
  if (s === undefined) {
    s = new Set();
    st.dbs[c.db]!.put(key, s);
  }
  let added = 0;
  for (let i = 2; i < argv.length; i++) {
    if (!s.has(argv[i]!)) {
      s.add(argv[i]!);
      added++;
    }
  }
  if (added > 0) propagate(st, c.db, argv);
  return int(added);
};

const doSrem: CommandFn = (x) => {
  const { st, c, argv } = x;
  const key = argv[1]!;
  const s = getSet(x, key);
  if (s === null) return WRONGTYPE;
  if (s === undefined) return ZERO;
  const gone: string[] = [];
  for (let i = 2; i < argv.length; i++) if (s.delete(argv[i]!)) gone.push(argv[i]!);
  if (s.size === 0) st.dbs[c.db]!.del(key);
  if (gone.length > 0) propagate(st, c.db, ['SREM', key, ...gone]);
  return int(gone.length);
};

const doSmembers: CommandFn = (x) => {
  const s = getSet(x, x.argv[1]!);
  return s === null ? WRONGTYPE : s === undefined ? EMPTY_ARRAY : arr(s);
};

const doSismember: CommandFn = (x) => {
  const s = getSet(x, x.argv[1]!);
  return s === null ? WRONGTYPE : s?.has(x.argv[2]!) ? ONE : ZERO;
};

const doScard: CommandFn = (x) => {
  const s = getSet(x, x.argv[1]!);
  return s === null ? WRONGTYPE : int(s === undefined ? 0 : s.size);
};

// ── server ──

function configTable(st: KvdCore): Array<[string, string]> {
  return [
    ['appendonly', st.aof.path ? 'yes' : 'no'],
    ['appendfsync', 'everysec'],
    ['appendfilename', 'appendonly.aof'],
    ['save', ''],
    ['databases', String(DATABASES)],
    ['port', String(st.boundPort || st.port)],
    ['bind', st.host],
    ['dir', st.dir],
    ['maxmemory', '0'],
    ['maxclients', '10000'],
    ['timeout', '0'],
    ['auto-aof-rewrite-percentage', '100'],
    ['auto-aof-rewrite-min-size', '1048576'],
  ];
}

const doConfig: CommandFn = ({ st, argv }) => {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'get') {
    if (argv.length < 3) return arity('config|get');
    const out: string[] = [];
    for (const [k, v] of configTable(st)) {
      if (argv.slice(2).some((p) => globMatch(p, k, true))) out.push(k, v);
    }
    return arr(out);
  }
  if (sub === 'set') return argv.length >= 4 && argv.length % 2 === 0 ? OK : arity('config|set');
  if (sub === 'resetstat') return OK;
  return error(`ERR unknown subcommand '${argv[1]}'. Try CONFIG HELP.`);
};

const INFO_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'keyspace'];

const doInfo: CommandFn = (x, d) => infoReply(x, d.server.version);

/** INFO's reply for a server of version `version` (exported for patches that change how the version is kept). */
export function infoReply({ st, now, argv }: Call, version: string): string {
  const asked = argv.slice(1).map((a) => a.toLowerCase());
  const all = asked.length === 0 || asked.some((a) => a === 'all' || a === 'default' || a === 'everything');
  const want = (s: string) => all || asked.includes(s);
  const up = Math.floor((now - st.stats.startedAt) / 1000);
  const parts: string[] = [];
  const section = (name: string, lines: string[]) => {
    if (want(name)) parts.push(`# ${name[0]!.toUpperCase()}${name.slice(1)}\r\n${lines.join('\r\n')}\r\n`);
  };
  section('server', [
    `redis_version:${version}`, 'redis_mode:standalone', 'os:Molt', 'arch_bits:64', 'multiplexing_api:molt-net',
    'process_id:1', `tcp_port:${st.boundPort || st.port}`, `uptime_in_seconds:${up}`, `uptime_in_days:${Math.floor(up / 86400)}`,
    'executable:/bin/kvd', 'config_file:',
  ]);
  section('clients', [`connected_clients:${st.sessions.size}`, 'blocked_clients:0']);
  section('memory', ['used_memory:0', 'maxmemory:0', 'maxmemory_policy:noeviction']);
  section('persistence', [
    'loading:0', 'rdb_bgsave_in_progress:0', `aof_enabled:${st.aof.on ? 1 : 0}`,
    `aof_rewrite_in_progress:${st.aof.rewriting ? 1 : 0}`, `aof_rewrite_scheduled:${st.aof.rewriteQueued ? 1 : 0}`,
    `aof_rewrites:${st.aof.rewrites}`, `aof_current_size:${st.aof.size}`, `aof_base_size:${st.aof.baseSize}`,
    `aof_buffer_length:${st.aof.buf.length}`, `aof_last_write_status:${st.aof.lastError ? 'err' : 'ok'}`,
    `aof_last_load_truncated:${st.aof.loadNote ? 1 : 0}`,
  ]);
  section('stats', [
    `total_connections_received:${st.stats.connections}`, `total_commands_processed:${st.stats.commands}`,
    `expired_keys:${st.stats.expired}`, `keyspace_hits:${st.stats.hits}`, `keyspace_misses:${st.stats.misses}`,
    `total_error_replies:0`, `protocol_errors:${st.stats.protocolErrors}`,
  ]);
  section('replication', ['role:master', 'connected_slaves:0']);
  const ks: string[] = [];
  st.dbs.forEach((db, i) => {
    if (db.size > 0) ks.push(`db${i}:keys=${db.size},expires=${db.volatileCount},avg_ttl=0`);
  });
  section('keyspace', ks);
  return bulk(parts.join('\r\n'));
}

const doCommand: CommandFn = ({ argv }) => {
  if (argv.length === 1) return EMPTY_ARRAY;
  const sub = argv[1]!.toLowerCase();
  if (sub === 'count') return int(COMMANDS.size);
  if (sub === 'docs' || sub === 'info' || sub === 'list') return EMPTY_ARRAY;
  return error(`ERR unknown subcommand '${argv[1]}'. Try COMMAND HELP.`);
};

const doClient: CommandFn = ({ c, argv }) => {
  const sub = argv[1]!.toLowerCase();
  switch (sub) {
    case 'setname': {
      if (argv.length !== 3) return arity('client|setname');
      const name = argv[2]!;
      for (let i = 0; i < name.length; i++) {
        const ch = name.charCodeAt(i);
        if (ch < 33 || ch > 126) return error('ERR Client names cannot contain spaces, newlines or special characters.');
      }
      c.name = name;
      return OK;
    }
    case 'getname':
      return c.name ? bulk(c.name) : NIL;
    case 'setinfo':
      return OK;
    case 'id':
      return int(0);
    case 'list':
    case 'info':
      return bulk(`addr=${c.addr} name=${c.name} db=${c.db}\n`);
    default:
      return error(`ERR unknown subcommand '${argv[1]}'. Try CLIENT HELP.`);
  }
};

const doQuit: CommandFn = ({ c }) => {
  c.quit = true;
  return OK;
};

const doBgrewriteaof: CommandFn = ({ st }) => {
  if (st.aof.rewriting || st.aof.rewriteQueued) return error('ERR Background append only file rewriting already in progress');
  st.aof.rewriteQueued = true;
  return simple('Background append only file rewriting started');
};

const doTime: CommandFn = ({ now }) => arr([String(Math.floor(now / 1000)), String((now % 1000) * 1000)]);

const doLastsave: CommandFn = ({ st }) => int(Math.floor(st.aof.lastSync / 1000));

const spec = (arity: number, fn: CommandFn, write = false): CommandSpec => ({ arity, fn, write });

/** The command table (lower-case name → spec). Immutable. */
const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map([
  ['ping', spec(-1, doPing)],
  ['echo', spec(2, doEcho)],
  ['select', spec(2, doSelect)],
  ['dbsize', spec(1, doDbsize)],
  ['flushdb', spec(-1, doFlushdb, true)],
  ['flushall', spec(-1, doFlushall, true)],
  ['keys', spec(2, doKeys)],
  ['exists', spec(-2, doExists)],
  ['del', spec(-2, doDel, true)],
  ['unlink', spec(-2, doDel, true)],
  ['type', spec(2, doType)],
  ['expire', spec(-3, doExpire, true)],
  ['pexpire', spec(-3, doPexpire, true)],
  ['expireat', spec(-3, doExpireat, true)],
  ['pexpireat', spec(-3, doPexpireat, true)],
  ['ttl', spec(2, doTtl)],
  ['pttl', spec(2, doPttl)],
  ['persist', spec(2, doPersist, true)],
  ['get', spec(2, doGet)],
  ['set', spec(-3, doSet, true)],
  ['setnx', spec(3, doSetnx, true)],
  ['setex', spec(4, doSetex, true)],
  ['psetex', spec(4, doPsetex, true)],
  ['getset', spec(3, doGetset, true)],
  ['getdel', spec(2, doGetdel, true)],
  ['mget', spec(-2, doMget)],
  ['mset', spec(-3, doMset, true)],
  ['msetnx', spec(-3, doMsetnx, true)],
  ['incr', spec(2, doIncr, true)],
  ['decr', spec(2, doDecr, true)],
  ['incrby', spec(3, doIncrby, true)],
  ['decrby', spec(3, doDecrby, true)],
  ['append', spec(3, doAppend, true)],
  ['strlen', spec(2, doStrlen)],
  ['lpush', spec(-3, doLpush, true)],
  ['rpush', spec(-3, doRpush, true)],
  ['lpop', spec(-2, doLpop, true)],
  ['rpop', spec(-2, doRpop, true)],
  ['llen', spec(2, doLlen)],
  ['lrange', spec(4, doLrange)],
  ['lindex', spec(3, doLindex)],
  ['hset', spec(-4, doHset, true)],
  ['hmset', spec(-4, doHset, true)],
  ['hsetnx', spec(4, doHsetnx, true)],
  ['hget', spec(3, doHget)],
  ['hmget', spec(-3, doHmget)],
  ['hdel', spec(-3, doHdel, true)],
  ['hgetall', spec(2, doHgetall)],
  ['hkeys', spec(2, doHkeys)],
  ['hvals', spec(2, doHvals)],
  ['hlen', spec(2, doHlen)],
  ['hexists', spec(3, doHexists)],
  ['hincrby', spec(4, doHincrby, true)],
  ['sadd', spec(-3, doSadd, true)],
  ['srem', spec(-3, doSrem, true)],
  ['smembers', spec(2, doSmembers)],
  ['sismember', spec(3, doSismember)],
  ['scard', spec(2, doScard)],
  ['config', spec(-2, doConfig)],
  ['info', spec(-1, doInfo)],
  ['quit', spec(-1, doQuit)],
  ['command', spec(-1, doCommand)],
  ['client', spec(-2, doClient)],
  ['bgrewriteaof', spec(1, doBgrewriteaof)],
  ['time', spec(1, doTime)],
  ['lastsave', spec(1, doLastsave)],
]);

export const COMMAND_NAMES: readonly string[] = [...COMMANDS.keys()];

/** The command functions through a trampoline table: a patch replaces them at any moment. */
export const commands = patchable('kvd.commands', {
  data: { server: { version: '7.0.0' } } as KvdData,
  functions: Object.fromEntries([...COMMANDS].map(([name, s]) => [name, (d: KvdData, x: Call) => s.fn(x, d)])),
});
const run = commands.fn as Readonly<Record<string, (x: Call) => string>>;

export function isWriteCommand(name: string): boolean {
  return COMMANDS.get(name.toLowerCase())?.write ?? false;
}

/** The unknown-command error, as Redis 7 words it (the first arguments quoted, up to ~128 bytes). */
function unknownCommand(argv: string[]): string {
  let args = '';
  for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${argv[i]!.slice(0, 128 - args.length)}' `;
  return error(`ERR unknown command '${argv[0]!.slice(0, 128)}', with args beginning with: ${args}`);
}

/** Run one command for client `c` at time `now` (ms): the reply, RESP-encoded. */
export function execute(st: KvdCore, c: Session, argv: string[], now: number): string {
  const name = argv[0]!.toLowerCase();
  const cmd = COMMANDS.get(name);
  st.stats.commands++;
  if (cmd === undefined) return unknownCommand(argv);
  const a = cmd.arity;
  if (a > 0 ? argv.length !== a : argv.length < -a) return arity(name);
  return run[name]!({ st, c, argv, now, name });
}

