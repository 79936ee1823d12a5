/**
 * kvd's append-only file without a running system: the dataset dump and the replay give
 * back the same data; the AOF I/O (flush, sync, rewrite, load) against an in-memory vfs
 * with slow, interleaving replies keeps every mutation, in order, across rewrites that
 * run while writes keep coming; a truncated last command is dropped and cut off.
 */
import { describe, expect, it } from 'vitest';
import type { Ctx } from '../../src/sys/index.js';
import { dumpDataset, flushAndSync, loadAof, pump, replayBytes, replayClient } from '../../src/user/kvd/aof.js';
import { activeExpire, execute } from '../../src/user/kvd/engine.js';
import { latin1, latin1Bytes } from '../../src/user/kvd/resp.js';
import { freshSession, freshState, type KvdState, type Session } from '../../src/user/kvd/state.js';
import { snapshot } from '../helpers/kvd.js';

const T0 = 1_700_000_000_000;

const session = (): Session => freshSession('t', 0);


/** A mixed workload: every kind of value, expiry, several databases, binary bytes. */
function workload(run: (...argv: string[]) => string, n: number, seed = 1): void {
  let x = seed;
  const rnd = (m: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % m;
  };
  for (let i = 0; i < n; i++) {
    const k = `key:${rnd(50)}`;
    switch (rnd(14)) {
      case 0: run('SET', k, `v${i}\x00\xff\r\n`); break;
      case 1: run('INCR', `ctr:${rnd(5)}`); break;
      case 2: run('RPUSH', `list:${rnd(5)}`, `a${i}`, `b${i}`); break;
      case 3: run('LPOP', `list:${rnd(5)}`); break;
      case 4: run('HSET', `hash:${rnd(5)}`, `f${rnd(10)}`, String(i)); break;
      case 5: run('HDEL', `hash:${rnd(5)}`, `f${rnd(10)}`); break;
      case 6: run('SADD', `set:${rnd(5)}`, `m${rnd(20)}`); break;
      case 7: run('SREM', `set:${rnd(5)}`, `m${rnd(20)}`); break;
      case 8: run('SET', k, 'exp', 'EX', String(1 + rnd(1000))); break;
      case 9: run('DEL', k); break;
      case 10: run('SELECT', String(rnd(3))); break;
      case 11: run('APPEND', `app:${rnd(3)}`, 'xyz'); break;
      case 12: run('HINCRBY', `hash:${rnd(5)}`, 'n', String(rnd(100) - 50)); break;
      case 13: run('EXPIRE', `list:${rnd(5)}`, String(100 + rnd(100))); break;
    }
  }
}

function replayInto(bytes: Uint8Array, now: number): KvdState {
  const st = freshState({}, 1, now);
  const r = replayBytes(st, replayClient(now), bytes, now);
  expect(r.error).toBeNull();
  expect(r.pos).toBe(bytes.length);
  return st;
}

describe('kvd AOF: encode and replay', () => {
  it('replaying the log of a workload rebuilds the same data', () => {
    const st = freshState({}, 1, T0);
    st.aof.on = true;
    const c = session();
    workload((...argv) => execute(st, c, argv, T0), 3000);
    expect(replayInto(latin1Bytes(st.aof.buf), T0).dbs.map((d) => d.size)).toEqual(st.dbs.map((d) => d.size));
    expect(snapshot(replayInto(latin1Bytes(st.aof.buf), T0))).toEqual(snapshot(st));
  });

  it('the rewrite dump rebuilds the same data, leaving expired keys out; big collections are batched', () => {
    const st = freshState({}, 1, T0);
    const c = session();
    const run = (...argv: string[]) => execute(st, c, argv, T0);
    workload(run, 3000, 7);
    for (let i = 0; i < 300; i++) run('RPUSH', 'biglist', String(i));
    for (let i = 0; i < 300; i++) run('HSET', 'bighash', `f${i}`, String(i));
    run('SET', 'gone', 'x', 'PX', '5');
    const chunks = dumpDataset(st, T0 + 10);
    const text = chunks.join('');
    expect(text).not.toContain('gone');
    expect(text.match(/RPUSH\r\n\$7\r\nbiglist/g)!.length).toBe(5);
    const back = replayInto(latin1Bytes(text), T0 + 10);
    activeExpire(st, T0 + 10, 1e9);
    expect(snapshot(back)).toEqual(snapshot(st));
  });

  it('a replay stops at a truncated last command (pos tells how far it got)', () => {
    const st = freshState({}, 1, T0);
    const text = '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\n12';
    const r = replayBytes(st, replayClient(T0), latin1Bytes(text), T0);
    expect(r).toEqual({ pos: '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n'.length, commands: 1, error: null });
    expect(st.dbs[0]!.get('a')).toBe('1');
    expect(st.dbs[0]!.get('b')).toBeUndefined();
  });
});

/** An in-memory vfs with replies that come back after random delays (in order per call, not across calls). */
function fakeVfs(seed = 3) {
  const files = new Map<string, string>();
  const dirs = new Set<string>(['/']);
  const fds = new Map<number, { path: string; pos: number; append: boolean }>();
  let nextFd = 3;
  let x = seed;
  const delay = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return new Promise((r) => setTimeout(r, x % 3));
  };
  const ops: string[] = [];
  let failWrites = 0;
  const handle = (m: Record<string, unknown>): { ok: true; value: unknown } | { ok: false; code: string } => {
    ops.push(String(m.type));
    switch (m.type) {
      case 'vfs.mkdir': {
        const p = String(m.path);
        if (dirs.has(p)) return { ok: false, code: 'EEXIST' };
        dirs.add(p);
        return { ok: true, value: null };
      }
      case 'vfs.open': {
        const p = String(m.path);
        const flags = String(m.flags);
        if (flags === 'r' && !files.has(p)) return { ok: false, code: 'ENOENT' };
        if (flags === 'w' || !files.has(p)) files.set(p, flags === 'r' ? files.get(p)! : flags === 'a' ? files.get(p) ?? '' : '');
        const fd = nextFd++;
        fds.set(fd, { path: p, pos: 0, append: flags === 'a' });
        return { ok: true, value: fd };
      }
      case 'vfs.read': {
        const f = fds.get(Number(m.fd))!;
        const data = files.get(f.path)!.slice(f.pos, f.pos + Number(m.length));
        f.pos += data.length;
        return { ok: true, value: latin1Bytes(data) };
      }
      case 'vfs.write': {
        if (failWrites > 0) {
          failWrites--;
          return { ok: false, code: 'EIO' };
        }
        const f = fds.get(Number(m.fd));
        if (!f) return { ok: false, code: 'EBADF' };
        const d = m.data as Uint8Array;
        const s = latin1(d, 0, d.length);
        const cur = files.get(f.path) ?? '';
        if (f.append) files.set(f.path, cur + s);
        else {
          files.set(f.path, cur.slice(0, f.pos) + s + cur.slice(f.pos + s.length));
          f.pos += s.length;
        }
        return { ok: true, value: d.length };
      }
      case 'vfs.close':
        fds.delete(Number(m.fd));
        return { ok: true, value: null };
      case 'vfs.rename': {
        const from = String(m.oldPath);
        files.set(String(m.newPath), files.get(from)!);
        files.delete(from);
        for (const f of fds.values()) if (f.path === from) f.path = String(m.newPath);
        return { ok: true, value: null };
      }
      case 'vfs.truncate':
        files.set(String(m.path), files.get(String(m.path))!.slice(0, Number(m.size)));
        return { ok: true, value: null };
      case 'vfs.unlink':
        files.delete(String(m.path));
        return { ok: true, value: null };
      case 'vfs.sync':
        return { ok: true, value: null };
      default:
        return { ok: false, code: 'ENOSYS' };
    }
  };
  const clock = { now: T0 };
  const alarms: string[] = [];
  const ctx = {
    self: { kind: 'fresh', label: 'kvd', endpoint: 9, incarnation: 1, version: 'x', args: {} },
    send: () => {},
    sendrec: async (_to: unknown, msg: Record<string, unknown>) => {
      await delay();
      return handle(msg);
    },
    kcall: async (k: { call: string; tag?: string }) => {
      if (k.call === 'alarm') alarms.push(k.tag!);
      return { ok: true, value: null };
    },
    now: () => clock.now,
  } as unknown as Ctx;
  return { files, ctx, clock, ops, alarms, failNextWrites: (n: number) => (failWrites = n) };
}

describe('kvd AOF: I/O against a (slow) vfs', () => {
  it('load on an empty disk makes the directory and the file; appends; a reload gives the data back', async () => {
    const fs = fakeVfs();
    const st = freshState({ dir: '/var/lib/kvd' }, 1, T0);
    expect(await loadAof(st, fs.ctx)).toBe(0);
    // Only the record of this boot of kvd (KVD.BOOT: see aof.ts).
    expect(fs.files.get('/var/lib/kvd/appendonly.aof')).toMatch(/^\*2\r\n\$8\r\nKVD\.BOOT\r\n\$\d+\r\n[^\r]+\r\n$/);
    const c = session();
    workload((...argv) => execute(st, c, argv, T0), 500);
    await pump(st, fs.ctx);
    expect(st.aof.buf).toBe('');
    expect(st.aof.size).toBe(fs.files.get('/var/lib/kvd/appendonly.aof')!.length);
    const again = freshState({ dir: '/var/lib/kvd' }, 2, T0);
    expect(await loadAof(again, fs.ctx)).toBeGreaterThan(0);
    expect(snapshot(again)).toEqual(snapshot(st));
    expect(again.aof.loadNote).toBe('');
  });

  it('writes issued while a flush or a rewrite is in flight are neither lost nor reordered', async () => {
    const fs = fakeVfs(11);
    const st = freshState({ dir: '/d' }, 1, T0);
    await loadAof(st, fs.ctx);
    const c = session();
    const running: Array<Promise<void>> = [];
    for (let round = 0; round < 40; round++) {
      workload((...argv) => execute(st, c, argv, fs.clock.now), 60, round + 1);
      if (round % 3 === 0) running.push(pump(st, fs.ctx)); // overlapping pumps: one runs, the others return
      // (The second rewrite waits for the first, writes still coming meanwhile.)
      for (let spin = 0; round === 25 && (st.aof.rewriting || st.aof.rewriteQueued) && spin < 2000; spin++) {
        workload((...argv) => execute(st, c, argv, fs.clock.now), 5, spin);
        running.push(pump(st, fs.ctx));
        await new Promise((r) => setTimeout(r, 1));
      }
      if (round === 10 || round === 25) expect(execute(st, c, ['BGREWRITEAOF'], fs.clock.now)).toBe('+Background append only file rewriting started\r\n');
      running.push(pump(st, fs.ctx));
      await new Promise((r) => setTimeout(r, round % 4));
    }
    await Promise.all(running);
    await flushAndSync(st, fs.ctx);
    expect(st.aof.rewrites).toBe(2);
    expect(st.aof.lastError).toBe('');
    expect(fs.files.has('/d/appendonly.aof.tmp')).toBe(false);
    const file = fs.files.get('/d/appendonly.aof')!;
    expect(st.aof.size).toBe(file.length);
    expect(snapshot(replayInto(latin1Bytes(file), fs.clock.now))).toEqual(snapshot(st));
  });

  it('the file is rewritten by itself once it has grown past twice its base size (and 1 MiB)', async () => {
    const fs = fakeVfs();
    const st = freshState({ dir: '/d' }, 1, T0);
    await loadAof(st, fs.ctx);
    const c = session();
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 1500; i++) execute(st, c, ['SET', `k${i % 10}`, value], T0);
    await pump(st, fs.ctx);
    expect(st.aof.rewrites).toBe(1);
    expect(fs.files.get('/d/appendonly.aof')!.length).toBeLessThan(20_000);
    expect(snapshot(replayInto(latin1Bytes(fs.files.get('/d/appendonly.aof')!), T0))).toEqual(snapshot(st));
  });

  it('a failed write keeps its data for the next round, in order', async () => {
    const fs = fakeVfs();
    const st = freshState({ dir: '/d' }, 1, T0);
    await loadAof(st, fs.ctx);
    const c = session();
    execute(st, c, ['SET', 'a', '1'], T0);
    fs.failNextWrites(1);
    await pump(st, fs.ctx);
    expect(st.aof.lastError).toMatch(/EIO/);
    execute(st, c, ['SET', 'b', '2'], T0);
    await pump(st, fs.ctx);
    expect(st.aof.lastError).toBe('');
    expect(snapshot(replayInto(latin1Bytes(fs.files.get('/d/appendonly.aof')!), T0))).toEqual(snapshot(st));
  });

  it('a truncated last command is dropped at load, noted, and cut off so later appends read back', async () => {
    const fs = fakeVfs();
    const whole = '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n';
    fs.files.set('/d/appendonly.aof', `${whole}*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$4\r\n12`);
    const st = freshState({ dir: '/d' }, 1, T0);
    expect(await loadAof(st, fs.ctx)).toBe(1);
    expect(st.aof.loadNote).toMatch(/truncated/);
    // Cut back to the last whole command, then this boot's KVD.BOOT record.
    expect(fs.files.get('/d/appendonly.aof')!.startsWith(whole)).toBe(true);
    expect(fs.files.get('/d/appendonly.aof')!.slice(whole.length)).toMatch(/^\*2\r\n\$8\r\nKVD\.BOOT\r\n/);
    const c = session();
    execute(st, c, ['SET', 'c', '3'], T0);
    await flushAndSync(st, fs.ctx);
    const back = freshState({ dir: '/d' }, 2, T0);
    expect(await loadAof(back, fs.ctx)).toBe(3); // SET a, SELECT 0, SET c
    expect(back.aof.loadNote).toBe('');
    expect(snapshot(back)).toEqual(snapshot(st));
  });
});
