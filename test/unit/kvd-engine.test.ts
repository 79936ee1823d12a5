/**
 * kvd's command engine, without a running system: state in, reply bytes out, with a
 * controllable clock. Every command, SET's options, arity, WRONGTYPE, integer overflow,
 * lazy and active expiry, and what each mutation appends to the AOF. Replies follow
 * Redis 7 (checked against redis-server 7.0 while writing them).
 */
import { describe, expect, it } from 'vitest';
import { activeExpire, execute, parseInt64 } from '../../src/user/kvd/engine.js';
import { globMatch } from '../../src/user/kvd/glob.js';
import { parseRequests, latin1Bytes } from '../../src/user/kvd/resp.js';
import { freshSession, freshState, newList, type Session } from '../../src/user/kvd/state.js';

type Reply = string | number | null | { err: string } | Reply[];

/** Decode one RESP2 reply (the whole string must be one reply). */
export function decode(s: string): Reply {
  let i = 0;
  const line = () => {
    const e = s.indexOf('\r\n', i);
    const l = s.slice(i, e);
    i = e + 2;
    return l;
  };
  const one = (): Reply => {
    const t = s[i++];
    const l = line();
    switch (t) {
      case '+': return l;
      case '-': return { err: l };
      case ':': return Number(l);
      case '$': {
        const n = Number(l);
        if (n < 0) return null;
        const v = s.slice(i, i + n);
        i += n + 2;
        return v;
      }
      case '*': {
        const n = Number(l);
        if (n < 0) return null;
        return Array.from({ length: n }, one);
      }
      default: throw new Error(`bad reply ${JSON.stringify(s)}`);
    }
  };
  const v = one();
  if (i !== s.length) throw new Error(`trailing bytes in ${JSON.stringify(s)}`);
  return v;
}

const T0 = 1_700_000_000_000;

function kvd() {
  const st = freshState({ dir: '/var/lib/kvd', port: 6380 }, 1, T0);
  st.aof.on = true;
  const c: Session = freshSession('test', T0);
  const clock = { now: T0 };
  const raw = (...argv: string[]) => execute(st, c, argv, clock.now);
  const r = (...argv: string[]) => decode(raw(...argv));
  /** The AOF appended since the last call, as commands. */
  const log = () => {
    const out: string[][] = [];
    parseRequests(latin1Bytes(st.aof.buf), out);
    st.aof.buf = '';
    return out;
  };
  return { st, c, clock, r, raw, log };
}

const WRONGTYPE = { err: 'WRONGTYPE Operation against a key holding the wrong kind of value' };
const NOT_INT = { err: 'ERR value is not an integer or out of range' };
const SYNTAX = { err: 'ERR syntax error' };
const OVERFLOW = { err: 'ERR increment or decrement would overflow' };

describe('kvd engine: connection and keyspace commands', () => {
  it('PING, ECHO, unknown commands and arity errors', () => {
    const { r, raw } = kvd();
    expect(raw('PING')).toBe('+PONG\r\n');
    expect(r('ping', 'hi')).toBe('hi');
    expect(r('PING', 'a', 'b')).toEqual({ err: "ERR wrong number of arguments for 'ping' command" });
    expect(r('ECHO', 'x\r\ny')).toBe('x\r\ny');
    expect(r('FOO')).toEqual({ err: "ERR unknown command 'FOO', with args beginning with: " });
    expect(r('foo', 'bar', 'baz')).toEqual({ err: "ERR unknown command 'foo', with args beginning with: 'bar' 'baz' " });
    expect(r('GET')).toEqual({ err: "ERR wrong number of arguments for 'get' command" });
    expect(r('GeT', 'a', 'b')).toEqual({ err: "ERR wrong number of arguments for 'get' command" });
    expect(r('SET', 'a')).toEqual({ err: "ERR wrong number of arguments for 'set' command" });
    expect(r('MSET', 'a', '1', 'b')).toEqual({ err: "ERR wrong number of arguments for 'mset' command" });
    expect(r('HSET', 'h', 'f')).toEqual({ err: "ERR wrong number of arguments for 'hset' command" });
    expect(r('HSET', 'h', 'f', 'v', 'g')).toEqual({ err: "ERR wrong number of arguments for 'hset' command" });
  });

  it('SELECT, DBSIZE, FLUSHDB, FLUSHALL: sixteen separate databases', () => {
    const { r, c } = kvd();
    expect(r('SET', 'a', '0')).toBe('OK');
    expect(r('SELECT', '3')).toBe('OK');
    expect(c.db).toBe(3);
    expect(r('GET', 'a')).toBeNull();
    expect(r('MSET', 'a', '3', 'b', '3')).toBe('OK');
    expect(r('DBSIZE')).toBe(2);
    expect(r('SELECT', '16')).toEqual({ err: 'ERR DB index is out of range' });
    expect(r('SELECT', '-1')).toEqual({ err: 'ERR DB index is out of range' });
    expect(r('SELECT', 'x')).toEqual(NOT_INT);
    expect(r('FLUSHDB', 'bogus')).toEqual(SYNTAX);
    expect(r('FLUSHDB')).toBe('OK');
    expect(r('DBSIZE')).toBe(0);
    expect(r('SELECT', '0')).toBe('OK');
    expect(r('DBSIZE')).toBe(1);
    expect(r('SELECT', '5')).toBe('OK');
    expect(r('SET', 'x', '5')).toBe('OK');
    expect(r('FLUSHALL', 'ASYNC')).toBe('OK');
    expect(r('DBSIZE')).toBe(0);
    expect(r('SELECT', '0')).toBe('OK');
    expect(r('DBSIZE')).toBe(0);
  });

  it('KEYS with glob patterns, EXISTS (counting repeats), DEL, TYPE', () => {
    const { r } = kvd();
    r('MSET', 'hello', '1', 'hallo', '2', 'hxllo', '3', 'heeello', '4', 'a*b', '5');
    r('LPUSH', 'list', 'x');
    r('HSET', 'hash', 'f', 'v');
    r('SADD', 'set', 'm');
    const keys = (p: string) => (r('KEYS', p) as string[]).sort();
    expect(keys('*')).toEqual(['a*b', 'hallo', 'hash', 'heeello', 'hello', 'hxllo', 'list', 'set']);
    expect(keys('h?llo')).toEqual(['hallo', 'hello', 'hxllo']);
    expect(keys('h*llo')).toEqual(['hallo', 'heeello', 'hello', 'hxllo']);
    expect(keys('h[ae]llo')).toEqual(['hallo', 'hello']);
    expect(keys('h[^e]llo')).toEqual(['hallo', 'hxllo']);
    expect(keys('h[a-b]llo')).toEqual(['hallo']);
    expect(keys('a\\*b')).toEqual(['a*b']);
    expect(keys('nothing*')).toEqual([]);
    expect(r('EXISTS', 'hello', 'hello', 'nope')).toBe(2);
    expect(r('TYPE', 'hello')).toBe('string');
    expect(r('TYPE', 'list')).toBe('list');
    expect(r('TYPE', 'hash')).toBe('hash');
    expect(r('TYPE', 'set')).toBe('set');
    expect(r('TYPE', 'nope')).toBe('none');
    expect(r('DEL', 'hello', 'list', 'nope')).toBe(2);
    expect(r('EXISTS', 'hello', 'list')).toBe(0);
  });

  it('globMatch corner cases', () => {
    expect(globMatch('*', '')).toBe(true);
    expect(globMatch('a*', 'a')).toBe(true);
    expect(globMatch('?', '')).toBe(false);
    expect(globMatch('[abc', 'a')).toBe(true);
    expect(globMatch('SAVE', 'save', true)).toBe(true);
    expect(globMatch('a**b', 'axxb')).toBe(true);
  });
});

describe('kvd engine: strings', () => {
  it('GET/SET and binary values', () => {
    const { r } = kvd();
    const bin = '\x00\x01\r\n\xff\xfe';
    expect(r('SET', bin, bin)).toBe('OK');
    expect(r('GET', bin)).toBe(bin);
    expect(r('GET', 'missing')).toBeNull();
    expect(r('SET', 'empty', '')).toBe('OK');
    expect(r('GET', 'empty')).toBe('');
    expect(r('STRLEN', bin)).toBe(6);
  });

  it('SET NX / XX / GET / KEEPTTL / EX / PX / EXAT / PXAT and their conflicts', () => {
    const { r, clock } = kvd();
    expect(r('SET', 'k', 'v', 'NX')).toBe('OK');
    expect(r('SET', 'k', 'w', 'NX')).toBeNull();
    expect(r('SET', 'k', 'w', 'XX')).toBe('OK');
    expect(r('SET', 'n', 'w', 'XX')).toBeNull();
    expect(r('GET', 'n')).toBeNull();
    expect(r('SET', 'k', 'x', 'GET')).toBe('w');
    expect(r('SET', 'k', 'y', 'NX', 'GET')).toBe('x'); // not set: GET still answers the old value
    expect(r('GET', 'k')).toBe('x');
    expect(r('SET', 'fresh', 'y', 'GET')).toBeNull();
    expect(r('SET', 'k', 'v', 'EX', '100')).toBe('OK');
    expect(r('TTL', 'k')).toBe(100);
    expect(r('SET', 'k', 'v2', 'KEEPTTL')).toBe('OK');
    expect(r('TTL', 'k')).toBe(100);
    expect(r('SET', 'k', 'v3')).toBe('OK');
    expect(r('TTL', 'k')).toBe(-1);
    expect(r('SET', 'k', 'v', 'PX', '1500')).toBe('OK');
    expect(r('PTTL', 'k')).toBe(1500);
    expect(r('TTL', 'k')).toBe(2);
    expect(r('SET', 'k', 'v', 'EXAT', String(Math.floor(T0 / 1000) + 50))).toBe('OK');
    expect(r('TTL', 'k')).toBe(50);
    expect(r('SET', 'k', 'v', 'PXAT', String(clock.now + 700))).toBe('OK');
    expect(r('PTTL', 'k')).toBe(700);
    expect(r('SET', 'k', 'v', 'ex', '10', 'GET', 'xx')).toBe('v');
    expect(r('SET', 'k', 'v', 'NX', 'XX')).toEqual(SYNTAX);
    expect(r('SET', 'k', 'v', 'EX', '10', 'PX', '100')).toEqual(SYNTAX);
    expect(r('SET', 'k', 'v', 'KEEPTTL', 'EX', '5')).toEqual(SYNTAX);
    expect(r('SET', 'k', 'v', 'EX')).toEqual(SYNTAX);
    expect(r('SET', 'k', 'v', 'BOGUS')).toEqual(SYNTAX);
    expect(r('SET', 'k', 'v', 'EX', 'x')).toEqual(NOT_INT);
    expect(r('SET', 'k', 'v', 'EX', '0')).toEqual({ err: "ERR invalid expire time in 'set' command" });
    expect(r('SET', 'k', 'v', 'PX', '-5')).toEqual({ err: "ERR invalid expire time in 'set' command" });
    expect(r('SET', 'k', 'v', 'EX', '9999999999999999')).toEqual({ err: "ERR invalid expire time in 'set' command" });
    r('LPUSH', 'list', 'a');
    expect(r('SET', 'list', 'v', 'GET')).toEqual(WRONGTYPE);
    expect(r('SET', 'list', 'v')).toBe('OK'); // SET overwrites any type
    expect(r('TYPE', 'list')).toBe('string');
  });

  it('SETNX, SETEX, PSETEX, GETSET, GETDEL, MGET, MSET, MSETNX, APPEND, STRLEN', () => {
    const { r } = kvd();
    expect(r('SETNX', 'a', '1')).toBe(1);
    expect(r('SETNX', 'a', '2')).toBe(0);
    expect(r('SETEX', 'e', '10', 'v')).toBe('OK');
    expect(r('TTL', 'e')).toBe(10);
    expect(r('SETEX', 'e', '0', 'v')).toEqual({ err: "ERR invalid expire time in 'setex' command" });
    expect(r('PSETEX', 'p', '2500', 'v')).toBe('OK');
    expect(r('PTTL', 'p')).toBe(2500);
    expect(r('GETSET', 'a', '9')).toBe('1');
    expect(r('GETSET', 'new', '9')).toBeNull();
    expect(r('GETSET', 'e', 'z')).toBe('v');
    expect(r('TTL', 'e')).toBe(-1); // GETSET drops the expiry time
    expect(r('GETDEL', 'new')).toBe('9');
    expect(r('EXISTS', 'new')).toBe(0);
    r('SADD', 's', 'x');
    expect(r('MGET', 'a', 'missing', 's', 'e')).toEqual(['9', null, null, 'z']);
    expect(r('MSET', 'm1', 'a', 'm2', 'b')).toBe('OK');
    expect(r('MSETNX', 'm2', 'x', 'm3', 'y')).toBe(0);
    expect(r('MSETNX', 'm3', 'x', 'm4', 'y')).toBe(1);
    expect(r('APPEND', 'ap', 'hello')).toBe(5);
    expect(r('APPEND', 'ap', ' world')).toBe(11);
    expect(r('GET', 'ap')).toBe('hello world');
    expect(r('STRLEN', 'ap')).toBe(11);
    expect(r('STRLEN', 'missing')).toBe(0);
    expect(r('APPEND', 's', 'x')).toEqual(WRONGTYPE);
    expect(r('STRLEN', 's')).toEqual(WRONGTYPE);
    expect(r('GETSET', 's', 'x')).toEqual(WRONGTYPE);
    expect(r('GET', 's')).toEqual(WRONGTYPE);
  });

  it('INCR, DECR, INCRBY, DECRBY: int64 arithmetic, malformed integers, overflow', () => {
    const { r, raw } = kvd();
    expect(r('INCR', 'c')).toBe(1);
    expect(r('INCRBY', 'c', '10')).toBe(11);
    expect(r('DECR', 'c')).toBe(10);
    expect(r('DECRBY', 'c', '15')).toBe(-5);
    expect(r('GET', 'c')).toBe('-5');
    expect(r('INCRBY', 'c', 'x')).toEqual(NOT_INT);
    expect(r('INCRBY', 'c', '1.5')).toEqual(NOT_INT);
    for (const bad of ['01', ' 1', '+1', '1 ', '', '-0', '1e3', '99999999999999999999']) {
      r('SET', 'b', bad);
      expect(r('INCR', 'b')).toEqual(NOT_INT);
    }
    r('SET', 'big', '9223372036854775806');
    expect(raw('INCR', 'big')).toBe(':9223372036854775807\r\n');
    expect(r('INCR', 'big')).toEqual(OVERFLOW);
    expect(r('GET', 'big')).toBe('9223372036854775807');
    r('SET', 'small', '-9223372036854775808');
    expect(r('DECR', 'small')).toEqual(OVERFLOW);
    expect(r('DECRBY', 'small', '-9223372036854775808')).toEqual({ err: 'ERR decrement would overflow' });
    expect(raw('INCRBY', 'z', '9223372036854775807')).toBe(':9223372036854775807\r\n');
    expect(r('INCRBY', 'z', '9223372036854775808')).toEqual(NOT_INT);
    r('SET', 'e', '5', 'EX', '100');
    expect(r('INCR', 'e')).toBe(6);
    expect(r('TTL', 'e')).toBe(100); // INCR keeps the expiry time
    r('LPUSH', 'l', 'x');
    expect(r('INCR', 'l')).toEqual(WRONGTYPE);
  });

  it('parseInt64 accepts exactly the int64 range', () => {
    expect(parseInt64('0')).toBe(0);
    expect(parseInt64('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseInt64('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseInt64('9223372036854775808')).toBeNull();
    expect(parseInt64('123456789012345678')).toBe(123456789012345678n);
    expect(parseInt64('9007199254740991')).toBe(9007199254740991);
  });
});

describe('kvd engine: lists, hashes, sets', () => {
  it('LPUSH, RPUSH, LPOP, RPOP (with counts), LLEN, LRANGE, LINDEX', () => {
    const { r } = kvd();
    expect(r('LPUSH', 'l', 'a', 'b', 'c')).toBe(3);
    expect(r('RPUSH', 'l', 'd', 'e')).toBe(5);
    expect(r('LRANGE', 'l', '0', '-1')).toEqual(['c', 'b', 'a', 'd', 'e']);
    expect(r('LRANGE', 'l', '-2', '100')).toEqual(['d', 'e']);
    expect(r('LRANGE', 'l', '-100', '1')).toEqual(['c', 'b']);
    expect(r('LRANGE', 'l', '5', '1')).toEqual([]);
    expect(r('LRANGE', 'l', 'x', '1')).toEqual(NOT_INT);
    expect(r('LRANGE', 'nope', '0', '-1')).toEqual([]);
    expect(r('LINDEX', 'l', '0')).toBe('c');
    expect(r('LINDEX', 'l', '-1')).toBe('e');
    expect(r('LINDEX', 'l', '99')).toBeNull();
    expect(r('LINDEX', 'l', 'z')).toEqual(NOT_INT);
    expect(r('LLEN', 'l')).toBe(5);
    expect(r('LLEN', 'nope')).toBe(0);
    expect(r('LPOP', 'l')).toBe('c');
    expect(r('RPOP', 'l')).toBe('e');
    expect(r('LPOP', 'l', '2')).toEqual(['b', 'a']);
    expect(r('LPOP', 'l', '0')).toEqual([]);
    expect(r('LPOP', 'l', '-1')).toEqual({ err: 'ERR value is out of range, must be positive' });
    expect(r('LPOP', 'l', '1', '2')).toEqual({ err: "ERR wrong number of arguments for 'lpop' command" });
    expect(r('RPOP', 'l', '5')).toEqual(['d']);
    expect(r('EXISTS', 'l')).toBe(0); // an emptied list is gone
    expect(r('LPOP', 'l')).toBeNull();
    expect(r('LPOP', 'l', '2')).toBeNull();
    r('SET', 's', 'x');
    for (const cmd of [['LPUSH', 's', 'x'], ['RPUSH', 's', 'x'], ['LPOP', 's'], ['LLEN', 's'], ['LRANGE', 's', '0', '1'], ['LINDEX', 's', '0']]) {
      expect(r(...cmd)).toEqual(WRONGTYPE);
    }
  });

  it('a long list works as a queue and a stack from both ends (the deque rebalances)', () => {
    const { r } = kvd();
    const n = 1000;
    for (let i = 0; i < n; i++) r('RPUSH', 'q', String(i));
    for (let i = 0; i < n / 2; i++) expect(r('LPOP', 'q')).toBe(String(i));
    for (let i = 0; i < 10; i++) r('LPUSH', 'q', `f${i}`);
    expect(r('LINDEX', 'q', '0')).toBe('f9');
    expect(r('LINDEX', 'q', '10')).toBe('500');
    for (let i = n - 1; i >= n / 2; i--) expect(r('RPOP', 'q')).toBe(String(i));
    expect(r('LRANGE', 'q', '0', '-1')).toEqual(Array.from({ length: 10 }, (_, i) => `f${9 - i}`));
    const l = newList();
    for (let i = 0; i < 100; i++) l.pushLeft(String(i));
    for (let i = 0; i < 100; i++) expect(l.popRight()).toBe(String(i));
    expect(l.size()).toBe(0);
  });

  it('HSET, HMSET, HSETNX, HGET, HMGET, HDEL, HGETALL, HKEYS, HVALS, HLEN, HEXISTS, HINCRBY', () => {
    const { r } = kvd();
    expect(r('HSET', 'h', 'f1', 'v1', 'f2', 'v2')).toBe(2);
    expect(r('HSET', 'h', 'f1', 'x')).toBe(0);
    expect(r('HMSET', 'h', 'f3', 'v3')).toBe('OK');
    expect(r('HSETNX', 'h', 'f3', 'no')).toBe(0);
    expect(r('HSETNX', 'h', 'f4', 'v4')).toBe(1);
    expect(r('HGET', 'h', 'f1')).toBe('x');
    expect(r('HGET', 'h', 'none')).toBeNull();
    expect(r('HGET', 'nokey', 'f')).toBeNull();
    expect(r('HMGET', 'h', 'f1', 'none', 'f2')).toEqual(['x', null, 'v2']);
    expect(r('HGETALL', 'h')).toEqual(['f1', 'x', 'f2', 'v2', 'f3', 'v3', 'f4', 'v4']);
    expect(r('HKEYS', 'h')).toEqual(['f1', 'f2', 'f3', 'f4']);
    expect(r('HVALS', 'h')).toEqual(['x', 'v2', 'v3', 'v4']);
    expect(r('HLEN', 'h')).toBe(4);
    expect(r('HEXISTS', 'h', 'f2')).toBe(1);
    expect(r('HEXISTS', 'h', 'zz')).toBe(0);
    expect(r('HDEL', 'h', 'f2', 'zz')).toBe(1);
    expect(r('HINCRBY', 'h', 'c', '5')).toBe(5);
    expect(r('HINCRBY', 'h', 'c', '-7')).toBe(-2);
    expect(r('HINCRBY', 'h', 'c', 'x')).toEqual(NOT_INT);
    expect(r('HINCRBY', 'h', 'f1', '1')).toEqual({ err: 'ERR hash value is not an integer' });
    r('HSET', 'h', 'm', '9223372036854775807');
    expect(r('HINCRBY', 'h', 'm', '1')).toEqual(OVERFLOW);
    expect(r('HGETALL', 'nokey')).toEqual([]);
    expect(r('HDEL', 'h', 'f1', 'f3', 'f4', 'c', 'm')).toBe(5);
    expect(r('EXISTS', 'h')).toBe(0);
    r('SET', 's', 'x');
    for (const cmd of [['HSET', 's', 'a', 'b'], ['HGET', 's', 'a'], ['HGETALL', 's'], ['HDEL', 's', 'a'], ['HLEN', 's'], ['HEXISTS', 's', 'a'], ['HINCRBY', 's', 'a', '1']]) {
      expect(r(...cmd)).toEqual(WRONGTYPE);
    }
  });

  it('SADD, SREM, SMEMBERS, SISMEMBER, SCARD', () => {
    const { r } = kvd();
    expect(r('SADD', 's', 'a', 'b', 'a')).toBe(2);
    expect(r('SADD', 's', 'a')).toBe(0);
    expect(r('SCARD', 's')).toBe(2);
    expect(r('SISMEMBER', 's', 'a')).toBe(1);
    expect(r('SISMEMBER', 's', 'z')).toBe(0);
    expect((r('SMEMBERS', 's') as string[]).sort()).toEqual(['a', 'b']);
    expect(r('SREM', 's', 'a', 'z')).toBe(1);
    expect(r('SREM', 's', 'b')).toBe(1);
    expect(r('EXISTS', 's')).toBe(0);
    expect(r('SMEMBERS', 's')).toEqual([]);
    expect(r('SCARD', 's')).toBe(0);
    r('SET', 'k', 'x');
    for (const cmd of [['SADD', 'k', 'a'], ['SREM', 'k', 'a'], ['SMEMBERS', 'k'], ['SISMEMBER', 'k', 'a'], ['SCARD', 'k']]) {
      expect(r(...cmd)).toEqual(WRONGTYPE);
    }
  });
});

describe('kvd engine: expiry', () => {
  it('EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT with NX XX GT LT, TTL, PTTL, PERSIST, lazy expiry', () => {
    const { r, clock } = kvd();
    r('SET', 'e', 'v');
    expect(r('TTL', 'e')).toBe(-1);
    expect(r('TTL', 'nokey')).toBe(-2);
    expect(r('EXPIRE', 'e', '100')).toBe(1);
    expect(r('TTL', 'e')).toBe(100);
    expect(r('EXPIRE', 'e', '50', 'NX')).toBe(0);
    expect(r('EXPIRE', 'e', '50', 'XX')).toBe(1);
    expect(r('EXPIRE', 'e', '70', 'GT')).toBe(1);
    expect(r('EXPIRE', 'e', '80', 'LT')).toBe(0);
    expect(r('EXPIRE', 'e', '10', 'LT')).toBe(1);
    expect(r('TTL', 'e')).toBe(10);
    expect(r('EXPIRE', 'e', '10', 'NX', 'XX')).toEqual({ err: 'ERR NX and XX, GT or LT options at the same time are not compatible' });
    expect(r('EXPIRE', 'e', '10', 'GT', 'LT')).toEqual({ err: 'ERR GT and LT options at the same time are not compatible' });
    expect(r('EXPIRE', 'e', '10', 'FOO')).toEqual({ err: 'ERR Unsupported option FOO' });
    expect(r('EXPIRE', 'e', 'x')).toEqual(NOT_INT);
    expect(r('EXPIRE', 'nokey', '10')).toBe(0);
    expect(r('PEXPIRE', 'e', '1500')).toBe(1);
    expect(r('PTTL', 'e')).toBe(1500);
    expect(r('EXPIREAT', 'e', String(Math.floor(T0 / 1000) + 30))).toBe(1);
    expect(r('TTL', 'e')).toBe(30);
    expect(r('PEXPIREAT', 'e', String(T0 + 2000))).toBe(1);
    expect(r('PERSIST', 'e')).toBe(1);
    expect(r('PERSIST', 'e')).toBe(0);
    expect(r('TTL', 'e')).toBe(-1);
    r('SET', 'e2', 'v');
    expect(r('EXPIRE', 'e2', '10', 'GT')).toBe(0); // no expiry counts as infinite
    expect(r('EXPIRE', 'e2', '10', 'LT')).toBe(1);
    // Lazy expiry: the key is gone as soon as its time has come.
    r('SET', 'soon', 'v', 'PX', '100');
    clock.now += 99;
    expect(r('GET', 'soon')).toBe('v');
    clock.now += 1;
    expect(r('GET', 'soon')).toBeNull();
    expect(r('EXISTS', 'soon')).toBe(0);
    // A time in the past deletes at once.
    r('SET', 'old', 'v');
    expect(r('EXPIRE', 'old', '-1')).toBe(1);
    expect(r('EXISTS', 'old')).toBe(0);
  });

  it('expired keys are invisible to every command and KEYS, and count in DBSIZE until removed', () => {
    const { r, clock, st } = kvd();
    r('SET', 'a', '1', 'PX', '10');
    r('LPUSH', 'l', 'x');
    r('PEXPIRE', 'l', '10');
    r('SET', 'b', '2');
    clock.now += 10;
    expect(r('DBSIZE')).toBe(3);
    expect(r('KEYS', '*')).toEqual(['b']);
    expect(r('DBSIZE')).toBe(1);
    expect(r('LLEN', 'l')).toBe(0);
    expect(r('INCR', 'a')).toBe(1); // a fresh key, without the old expiry time
    expect(r('TTL', 'a')).toBe(-1);
    expect(st.stats.expired).toBe(2);
  });

  it('the active sweep removes expired keys no one touches, and logs them as DEL', () => {
    const { r, clock, st, log } = kvd();
    for (let i = 0; i < 500; i++) r('SET', `k${i}`, 'v', 'PX', String(i < 250 ? 50 : 100_000));
    r('SELECT', '2');
    r('SET', 'other', 'v', 'PX', '50');
    log();
    clock.now += 50;
    let removed = 0;
    for (let round = 0; round < 10; round++) removed += activeExpire(st, clock.now, 100);
    expect(removed).toBe(251);
    expect(st.dbs[0]!.size).toBe(250);
    expect(st.dbs[2]!.size).toBe(0);
    const dels = log().filter((c) => c[0] === 'DEL');
    expect(dels.length).toBe(251);
  });
});

describe('kvd engine: server commands', () => {
  it('INFO has the server section ioredis reads (redis_version, loading:0) and the keyspace', () => {
    const { r } = kvd();
    r('SET', 'a', '1', 'EX', '10');
    const info = r('INFO') as string;
    expect(info).toMatch(/^# Server\r\n/);
    expect(info).toContain('redis_version:7.0.0\r\n');
    expect(info).toContain('loading:0\r\n');
    expect(info).toContain('db0:keys=1,expires=1,avg_ttl=0');
    expect(r('INFO', 'keyspace')).toMatch(/^# Keyspace\r\ndb0:keys=1/);
  });

  it('CONFIG GET (patterns, several), COMMAND, CLIENT, QUIT, BGREWRITEAOF, TIME', () => {
    const { r, c, st } = kvd();
    expect(r('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    expect(r('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(r('CONFIG', 'GET', 'save', 'appendonly')).toEqual(['appendonly', 'yes', 'save', '']);
    expect(r('CONFIG', 'GET', 'append*')).toEqual(['appendonly', 'yes', 'appendfsync', 'everysec', 'appendfilename', 'appendonly.aof']);
    expect(r('CONFIG', 'GET', 'nothing')).toEqual([]);
    expect(r('CONFIG', 'GET')).toEqual({ err: "ERR wrong number of arguments for 'config|get' command" });
    expect(r('CONFIG', 'FOO')).toEqual({ err: "ERR unknown subcommand 'FOO'. Try CONFIG HELP." });
    expect(r('COMMAND')).toEqual([]);
    expect(r('COMMAND', 'DOCS')).toEqual([]);
    expect(r('CLIENT', 'GETNAME')).toBeNull();
    expect(r('CLIENT', 'SETNAME', 'bob')).toBe('OK');
    expect(r('CLIENT', 'GETNAME')).toBe('bob');
    expect(r('CLIENT', 'SETNAME', 'a b')).toEqual({ err: 'ERR Client names cannot contain spaces, newlines or special characters.' });
    expect(r('CLIENT', 'SETINFO', 'LIB-NAME', 'x')).toBe('OK');
    expect(r('BGREWRITEAOF')).toBe('Background append only file rewriting started');
    expect(st.aof.rewriteQueued).toBe(true);
    expect(r('BGREWRITEAOF')).toEqual({ err: 'ERR Background append only file rewriting already in progress' });
    expect((r('TIME') as string[]).map(Number)[0]).toBe(Math.floor(T0 / 1000));
    expect(r('QUIT')).toBe('OK');
    expect(c.quit).toBe(true);
  });
});

describe('kvd engine: what mutations append to the AOF', () => {
  it('deterministic forms: absolute PEXPIREAT, SELECT when the database changes, nothing for reads and no-ops', () => {
    const { r, clock, log } = kvd();
    r('SET', 'k', 'v', 'EX', '10');
    r('GET', 'k');
    r('SETNX', 'k', 'no');
    r('SELECT', '1');
    r('INCR', 'c');
    r('DEL', 'nothing');
    r('EXPIRE', 'c', '5');
    r('SADD', 's', 'a');
    r('SADD', 's', 'a');
    expect(log()).toEqual([
      ['SELECT', '0'], ['SET', 'k', 'v'], ['PEXPIREAT', 'k', String(T0 + 10_000)],
      ['SELECT', '1'], ['SET', 'c', '1', 'KEEPTTL'], ['PEXPIREAT', 'c', String(T0 + 5000)],
      ['SADD', 's', 'a'],
    ]);
    clock.now += 6000;
    expect(r('GET', 'c')).toBeNull();
    expect(log()).toEqual([['DEL', 'c']]);
  });
});
