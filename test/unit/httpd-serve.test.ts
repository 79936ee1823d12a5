/**
 * httpd's data path without a booted system (src/user/httpd/conn.ts, serve.ts): the
 * `net.event` handler driven with a fake Ctx whose vfs is an in-memory tree answering
 * when the test says so — responses in request order whatever order file operations
 * finish in, shared stats (one stat for many waiting requests, never a result older than
 * a request), the small-file cache, closing rules, and the state check.
 */
import { describe, expect, it } from 'vitest';
import type { Ctx } from '../../src/sys/index.js';
import { MAX_QUEUE } from '../../src/user/httpd/conn.js';
import httpd from '../../src/user/httpd/main.js';
import { freshState, type HttpdState } from '../../src/user/httpd/state.js';

interface FakeFile {
  type: 'file' | 'dir';
  data: Uint8Array;
  ino: number;
  mtime: number;
}

interface Pending {
  msg: { type: string } & Record<string, unknown>;
  resolve: (r: unknown) => void;
}

/** A fake world: a file tree behind vfs (calls wait in `pending` until `settle`), and what was sent to net. */
class World {
  files = new Map<string, FakeFile>();
  pending: Pending[] = [];
  sent = new Map<number, string>();
  closed = new Set<number>();
  fds = new Map<number, { path: string; off: number }>();
  nextFd = 3;
  nextIno = 10;
  calls: string[] = [];
  now = Date.UTC(2024, 0, 2, 3, 4, 5);

  put(path: string, text: string | Uint8Array): void {
    const old = this.files.get(path);
    this.files.set(path, {
      type: 'file', data: typeof text === 'string' ? new TextEncoder().encode(text) : text,
      ino: old?.ino ?? this.nextIno++, mtime: (this.now += 1000),
    });
  }

  dir(path: string): void {
    this.files.set(path, { type: 'dir', data: new Uint8Array(0), ino: this.nextIno++, mtime: this.now });
  }

  answerVfs(msg: { type: string } & Record<string, unknown>): unknown {
    switch (msg.type) {
      case 'vfs.stat': {
        const f = this.files.get(msg.path as string);
        if (!f) return { ok: false, code: 'ENOENT' };
        return { ok: true, value: { dev: 'mfs', ino: f.ino, type: f.type, mode: 0o644, uid: 0, size: f.data.length, nlink: 1, mtime: f.mtime, ctime: f.mtime } };
      }
      case 'vfs.open': {
        if (!this.files.has(msg.path as string)) return { ok: false, code: 'ENOENT' };
        const fd = this.nextFd++;
        this.fds.set(fd, { path: msg.path as string, off: 0 });
        return { ok: true, value: fd };
      }
      case 'vfs.read': {
        const o = this.fds.get(msg.fd as number)!;
        const data = this.files.get(o.path)!.data.slice(o.off, o.off + (msg.length as number));
        o.off += data.length;
        return { ok: true, value: data };
      }
      default:
        throw new Error(`unexpected vfs call ${msg.type}`);
    }
  }

  /** Answer every pending vfs call (in order, or reversed), and what they lead to, until none is left. */
  async settle(order: 'fifo' | 'lifo' = 'fifo'): Promise<void> {
    for (let rounds = 0; rounds < 1000; rounds++) {
      await new Promise((r) => setImmediate(r));
      if (this.pending.length === 0) return;
      const batch = this.pending.splice(0);
      if (order === 'lifo') batch.reverse();
      for (const p of batch) p.resolve(this.answerVfs(p.msg));
    }
    throw new Error('vfs calls never settled');
  }

  ctx(): Ctx {
    return {
      self: { kind: 'fresh', label: 'httpd', endpoint: 9, incarnation: 1, version: 'test', args: {} },
      send: (to, msg) => {
        const m = msg as { type: string; sock: number; data?: Uint8Array; fd?: number };
        if (to === 'vfs' && m.type === 'vfs.close') {
          this.fds.delete(m.fd!);
          return;
        }
        if (to !== 'net') throw new Error(`unexpected send to ${String(to)}`);
        if (m.type === 'net.send') this.sent.set(m.sock, (this.sent.get(m.sock) ?? '') + Buffer.from(m.data!).toString('latin1'));
        else if (m.type === 'net.close') this.closed.add(m.sock);
      },
      sendrec: (to, msg) => {
        if (to !== 'vfs') throw new Error(`unexpected call to ${String(to)}`);
        const m = msg as { type: string } & Record<string, unknown>;
        this.calls.push(m.type === 'vfs.stat' ? `stat ${String(m.path)}` : m.type);
        return new Promise((resolve) => this.pending.push({ msg: m, resolve: resolve as (r: unknown) => void }));
      },
      notify: () => undefined,
      kcall: () => Promise.reject(new Error('no kernel calls')),
      kcast: () => undefined,
      defer: () => ({ to: 0, id: 0 }),
      reply: () => undefined,
      now: () => this.now,
      whois: async () => null,
      inflight: 0,
    } as Ctx;
  }
}

/** httpd's state and its net.event handler over a World; `data(sock, text)` delivers bytes. */
function setup(args: Record<string, unknown> = {}) {
  const w = new World();
  const ctx = w.ctx();
  const st: HttpdState = freshState({ root: '/www', ...args });
  st.listener = 1;
  st.phase = 'serving';
  const handler = httpd.handlers['net.event'];
  const running: Array<Promise<unknown>> = [];
  const ev = (e: Record<string, unknown>) => {
    const r = handler(st, { type: 'net.event', id: 0, from: 5, ...e } as never, ctx);
    if (r instanceof Promise) running.push(r);
  };
  const accept = (conn: number) => ev({ sock: 1, kind: 'accept', conn, remote: { host: '127.0.0.1', port: 40000 + conn } });
  const data = (sock: number, text: string) => ev({ sock, kind: 'data', data: new Uint8Array(Buffer.from(text, 'latin1')) });
  const settle = async (order: 'fifo' | 'lifo' = 'fifo') => {
    await w.settle(order);
    await Promise.all(running.splice(0));
    await w.settle(order);
  };
  return { w, st, ev, accept, data, settle };
}

/** Split what a connection received into responses: [status line, body] each (no HEAD here). */
function responses(raw: string | undefined): Array<{ status: number; headers: Record<string, string>; body: string }> {
  const out: Array<{ status: number; headers: Record<string, string>; body: string }> = [];
  let s = raw ?? '';
  while (s.length > 0) {
    const end = s.indexOf('\r\n\r\n');
    const lines = s.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
    const len = Number(headers['content-length']);
    out.push({ status: Number(lines[0]!.split(' ')[1]), headers, body: s.slice(end + 4, end + 4 + len) });
    s = s.slice(end + 4 + len);
  }
  return out;
}

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe('httpd data path (fake vfs and net)', () => {
  it('pipelined responses go out in request order even when file operations finish in reverse', async () => {
    const { w, accept, data, settle } = setup();
    w.dir('/www');
    w.put('/www/a.txt', 'A');
    w.put('/www/b.txt', 'BB');
    w.dir('/www/d');
    w.put('/www/d/index.html', '<i>');
    accept(7);
    data(7, GET('/a.txt') + GET('/missing') + GET('/d') + GET('/b.txt') + GET('/d/') + 'HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n');
    await settle('lifo');
    // The HEAD response is last: its Content-Length (1) announces no body, so cut it off before splitting.
    const raw = w.sent.get(7)!;
    const headAt = raw.lastIndexOf('HTTP/1.1 ');
    const rs = [...responses(raw.slice(0, headAt)), ...responses(`${raw.slice(headAt)}x`)];
    expect(rs.slice(0, 5).map((r) => [r.status, r.body.startsWith('<!DOCTYPE') ? 'html' : r.body])).toEqual([
      [200, 'A'], [404, 'html'], [301, 'html'], [200, 'BB'], [200, '<i>'],
    ]);
    expect(rs[2]!.headers.location).toBe('/d/');
    expect(rs[5]!.status).toBe(200);
    expect(rs[5]!.headers['content-length']).toBe('1');
    expect(w.closed.has(7)).toBe(false);
  });

  it('concurrent requests for one file share one stat; a request arriving after a stat answered gets a new one', async () => {
    const { w, st, accept, data, settle } = setup();
    w.put('/www/f.txt', 'v1');
    for (let c = 10; c < 20; c++) accept(c);
    for (let c = 10; c < 20; c++) data(c, GET('/f.txt'));
    await settle();
    expect(w.calls.filter((c) => c === 'stat /www/f.txt')).toHaveLength(1);
    for (let c = 10; c < 20; c++) expect(responses(w.sent.get(c)).map((r) => r.body)).toEqual(['v1']);
    // The file changes; the next request must not be served from the old stat.
    w.put('/www/f.txt', 'v2!');
    data(10, GET('/f.txt'));
    await settle();
    expect(w.calls.filter((c) => c === 'stat /www/f.txt')).toHaveLength(2);
    expect(responses(w.sent.get(10)).map((r) => r.body)).toEqual(['v1', 'v2!']);
    expect(st.stats.statCalls).toBe(2);
    // Reads are not shared: the ten first requests each read the (not yet cached) file, the last one too (it changed).
    expect(st.stats.cacheMisses).toBe(11);
  });

  it('a request that arrives while a stat is in flight rides on it; one that arrives after it answered does not', async () => {
    const { w, accept, data } = setup();
    w.put('/www/f.txt', 'x');
    accept(2);
    accept(3);
    data(2, GET('/f.txt'));
    await new Promise((r) => setImmediate(r));
    expect(w.pending.map((p) => p.msg.type)).toEqual(['vfs.stat']);
    data(3, GET('/f.txt')); // while the stat is in flight
    await w.settle();
    expect(w.calls.filter((c) => c.startsWith('stat'))).toHaveLength(1);
    expect(responses(w.sent.get(3)).map((r) => r.body)).toEqual(['x']);
  });

  it('statValidMs lets a recent stat serve later requests; 0 does not', async () => {
    const relaxed = setup({ statValidMs: 1000 });
    relaxed.w.put('/www/f.txt', 'x');
    relaxed.accept(2);
    relaxed.data(2, GET('/f.txt'));
    await relaxed.settle();
    relaxed.data(2, GET('/f.txt'));
    await relaxed.settle();
    expect(relaxed.w.calls.filter((c) => c.startsWith('stat'))).toHaveLength(1);
    relaxed.w.now += 2000;
    relaxed.data(2, GET('/f.txt'));
    await relaxed.settle();
    expect(relaxed.w.calls.filter((c) => c.startsWith('stat'))).toHaveLength(2);
    expect(responses(relaxed.w.sent.get(2)).map((r) => r.body)).toEqual(['x', 'x', 'x']);
  });

  it('the small-file cache serves hits without reading; a changed size, mtime or inode is read again', async () => {
    const { w, st, accept, data, settle } = setup();
    w.put('/www/f.txt', 'one');
    accept(2);
    data(2, GET('/f.txt'));
    await settle();
    data(2, GET('/f.txt'));
    await settle();
    expect(w.calls.filter((c) => c === 'vfs.read')).toHaveLength(1);
    expect(st.stats.cacheHits).toBe(1);
    w.put('/www/f.txt', 'two'); // same size, new mtime
    data(2, GET('/f.txt'));
    await settle();
    expect(responses(w.sent.get(2)).map((r) => r.body)).toEqual(['one', 'one', 'two']);
    expect(w.fds.size).toBe(0); // every fd closed
    expect(st.openFds).toBe(0);
    expect(httpd.check!(st)).toEqual([]);
  });

  it('a large file is streamed (head, then reads); the fd is closed', async () => {
    const { w, st, accept, data, settle } = setup({ cacheFileMax: 10 });
    const big = 'y'.repeat(600_000);
    w.put('/www/big', big);
    accept(2);
    data(2, GET('/big') + GET('/big'));
    await settle();
    const rs = responses(w.sent.get(2));
    expect(rs.map((r) => r.body.length)).toEqual([600_000, 600_000]);
    expect(rs[0]!.body).toBe(big);
    expect(w.fds.size).toBe(0);
    expect(st.cache.size).toBe(0);
  });

  it('a parse error: earlier requests answered, then the error, then close; Connection: close and end of stream likewise', async () => {
    const { w, st, accept, data, ev, settle } = setup();
    w.put('/www/f.txt', 'f');
    accept(2);
    data(2, GET('/f.txt') + 'BAD\r\n\r\n' + GET('/f.txt'));
    await settle();
    expect(responses(w.sent.get(2)).map((r) => [r.status, r.headers.connection])).toEqual([[200, undefined], [400, 'close']]);
    expect(w.closed.has(2)).toBe(true);
    expect(st.conns.has(2)).toBe(false);
    accept(3);
    data(3, GET('/f.txt', 'Connection: close\r\n') + GET('/f.txt'));
    await settle();
    expect(responses(w.sent.get(3)).map((r) => r.status)).toEqual([200]);
    expect(w.closed.has(3)).toBe(true);
    accept(4);
    data(4, GET('/f.txt'));
    ev({ sock: 4, kind: 'end' });
    expect(w.closed.has(4)).toBe(false); // not before its answer
    await settle();
    expect(responses(w.sent.get(4)).map((r) => r.status)).toEqual([200]);
    expect(w.closed.has(4)).toBe(true);
    expect(st.conns.size).toBe(0);
  });

  it('one pipelined burst costs one stat and one read; past MAX_QUEUE waiting requests: 503 and close', async () => {
    const { w, accept, data, settle } = setup();
    w.put('/www/f.txt', 'f');
    accept(2);
    data(2, GET('/f.txt').repeat(MAX_QUEUE + 10));
    await settle();
    const rs = responses(w.sent.get(2));
    expect(rs).toHaveLength(MAX_QUEUE + 1);
    expect(rs[MAX_QUEUE - 1]!.status).toBe(200);
    expect([rs[MAX_QUEUE]!.status, rs[MAX_QUEUE]!.headers.connection]).toEqual([503, 'close']);
    expect(w.closed.has(2)).toBe(true);
    expect(w.calls).toEqual(['stat /www/f.txt', 'vfs.open', 'vfs.read']);
  });

  it('a connection closed by the client while its request waits is dropped quietly', async () => {
    const { w, st, accept, data, ev, settle } = setup();
    w.put('/www/f.txt', 'f');
    accept(2);
    data(2, GET('/f.txt'));
    ev({ sock: 2, kind: 'close' });
    await settle();
    expect(w.sent.has(2)).toBe(false);
    expect(st.conns.size).toBe(0);
    expect(httpd.prepare!.protocolFree!(st)).toBe(true);
  });

  it('bytes for a connection httpd does not know are dropped while serving, taken over while starting (after a restart)', async () => {
    const { w, st, data, settle } = setup();
    w.put('/www/f.txt', 'f');
    data(44, GET('/f.txt'));
    await settle();
    expect(st.conns.has(44)).toBe(false);
    expect(w.sent.has(44)).toBe(false);
    st.phase = 'starting';
    data(45, GET('/f.txt'));
    await settle();
    expect(responses(w.sent.get(45)).map((r) => r.body)).toEqual(['f']);
  });

  it('quiescence (protocol-free) holds only when nothing is being answered', async () => {
    const { w, st, accept, data, settle } = setup();
    w.put('/www/f.txt', 'f');
    accept(2);
    data(2, GET('/f.txt'));
    await new Promise((r) => setImmediate(r));
    expect(httpd.prepare!.protocolFree!(st)).toBe(false);
    await settle();
    expect(httpd.prepare!.protocolFree!(st)).toBe(true);
    expect(httpd.prepare!.mode).toBe('protocol-free');
  });
});
