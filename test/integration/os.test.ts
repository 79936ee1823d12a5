/**
 * The OS servers together: vfs (fds, paths, mounts, pipes) over tmpfs and bootfs, pm
 * (spawn, exit, wait, kill, ps) running programs stored on the Molt file system.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTY_USER, osServices } from '../../src/boot/os.js';
import { bootSystem, fixture, type TestSystem } from '../helpers/system.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

describe('vfs + pm + tmpfs + bootfs', () => {
  let sys: TestSystem;
  const vfs = async <T = unknown>(type: string, fields: Record<string, unknown> = {}) => sys.kernel.call('vfs', { type: `vfs.${type}`, ...fields }) as Promise<{ ok: true; value: T } | { ok: false; code: string; message?: string }>;
  const must = async <T = unknown>(p: Promise<{ ok: true; value: T } | { ok: false; code: string; message?: string }>) => {
    const r = await p;
    if (!r.ok) throw new Error(`${r.code}: ${r.message ?? ''}`);
    return r.value;
  };
  const put = async (path: string, text: string) => {
    const fd = await must(vfs<number>('open', { path, flags: 'w' }));
    await must(vfs('write', { fd, data: enc(text) }));
    await must(vfs('close', { fd }));
  };
  const get = async (path: string) => {
    const fd = await must(vfs<number>('open', { path, flags: 'r' }));
    let out = '';
    for (;;) {
      const chunk = await must(vfs<Uint8Array>('read', { fd, length: 7 }));
      if (chunk.length === 0) break;
      out += dec(chunk);
    }
    await must(vfs('close', { fd }));
    return out;
  };
  const install = async (name: string) => put(`/progs/${name}`, await readFile(fixture(`programs/${name}`), 'utf8'));
  const pm = (type: string, fields: Record<string, unknown> = {}) => sys.kernel.call('pm', { type: `pm.${type}`, ...fields });

  beforeAll(async () => {
    sys = await bootSystem({
      config: (c) => ({
        ...c,
        services: [
          ...c.services.map((s) => (s.label === 'tty' ? { ...s, ...TTY_USER } : s)),
          ...osServices({ root: 'tmpfs', init: null }),
        ],
      }),
    });
    await must(vfs('mkdir', { path: '/progs' }));
    for (const p of ['writer.ts', 'upper.ts', 'sleeper.ts', 'trywrite.ts']) await install(p);
  });
  afterAll(() => sys.stop());

  it('files: create, write, read back in pieces, stat, rename, unlink; errors as errno codes', async () => {
    await must(vfs('mkdir', { path: '/a' }));
    await put('/a/f', 'hello, molt');
    expect(await get('/a/f')).toBe('hello, molt');
    expect(await must(vfs('stat', { path: '/a/f' }))).toMatchObject({ type: 'file', size: 11 });
    await must(vfs('rename', { oldPath: '/a/f', newPath: '/a/g' }));
    expect(await vfs('stat', { path: '/a/f' })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect((await must(vfs<Array<{ name: string }>>('readdir', { path: '/a' }))).map((e) => e.name)).toEqual(['g']);
    expect(await vfs('rmdir', { path: '/a' })).toMatchObject({ ok: false, code: 'ENOTEMPTY' });
    await must(vfs('unlink', { path: '/a/g' }));
    await must(vfs('rmdir', { path: '/a' }));
    expect(await vfs('open', { path: '/nope/x', flags: 'r' })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await vfs('open', { path: '/progs', flags: 'w' })).toMatchObject({ ok: false, code: 'EISDIR' });
    expect(await vfs('read', { fd: 55, length: 1 })).toMatchObject({ ok: false, code: 'EBADF' });
    expect(await vfs('open', { path: '/x', flags: 'bogus' })).toMatchObject({ ok: false, code: 'EINVAL' });
  });

  it('offsets, append, lseek, dup share one open file', async () => {
    await put('/o', 'abcdef');
    const fd = await must(vfs<number>('open', { path: '/o', flags: 'r' }));
    const fd2 = await must(vfs<number>('dup', { fd }));
    expect(dec(await must(vfs('read', { fd, length: 2 })))).toBe('ab');
    expect(dec(await must(vfs('read', { fd: fd2, length: 2 })))).toBe('cd'); // shared offset
    expect(await must(vfs('lseek', { fd, offset: -1, whence: 'end' }))).toBe(5);
    expect(dec(await must(vfs('read', { fd, length: 9 })))).toBe('f');
    await must(vfs('close', { fd }));
    await must(vfs('close', { fd: fd2 }));
    const a = await must(vfs<number>('open', { path: '/o', flags: 'a' }));
    await must(vfs('write', { fd: a, data: enc('gh') }));
    await must(vfs('close', { fd: a }));
    expect(await get('/o')).toBe('abcdefgh');
  });

  it('/bin is the read-only boot image', async () => {
    expect((await must(vfs<Array<{ path: string; server: string }>>('mounts'))).map((m) => `${m.path}=${m.server}`)).toEqual(['/=tmpfs', '/bin=bootfs']);
    expect(await vfs('open', { path: '/bin/new.ts', flags: 'w' })).toMatchObject({ ok: false, code: 'EPERM' });
  });

  it('pipes: data in order, end of file when the last writer closes, EPIPE when no one reads', async () => {
    const [r, w] = await must(vfs<[number, number]>('pipe'));
    await must(vfs('write', { fd: w, data: enc('one ') }));
    await must(vfs('write', { fd: w, data: enc('two') }));
    expect(dec(await must(vfs('read', { fd: r, length: 100 })))).toBe('one two');
    const pending = vfs<Uint8Array>('read', { fd: r, length: 100 }); // waits for data
    await must(vfs('write', { fd: w, data: enc('three') }));
    expect(dec(await must(pending))).toBe('three');
    await must(vfs('close', { fd: w }));
    expect((await must(vfs<Uint8Array>('read', { fd: r, length: 100 }))).length).toBe(0);
    await must(vfs('close', { fd: r }));
    const [r2, w2] = await must(vfs<[number, number]>('pipe'));
    await must(vfs('close', { fd: r2 }));
    expect(await vfs('write', { fd: w2, data: enc('x') })).toMatchObject({ ok: false, code: 'EPIPE' });
    await must(vfs('close', { fd: w2 }));
  });

  it('runs a program from the Molt file system; wait returns its exit status; its output goes where its fd 1 points', async () => {
    const out = await must(vfs<number>('open', { path: '/out.txt', flags: 'w' }));
    const pid = await must(pm('spawn', { path: '/progs/writer.ts', argv: ['writer', 'payload', '/written.txt', '3'], fds: [[0, 0], [1, out], [2, 2]] }) as never) as number;
    await must(vfs('close', { fd: out }));
    expect(await must(pm('wait', { pid }) as never)).toEqual({ pid, status: 3 });
    expect(await get('/written.txt')).toBe('payload');
    expect(await get('/out.txt')).toBe('wrote\n');
    expect(await pm('wait', { pid })).toMatchObject({ ok: false, code: 'ECHILD' });
  });

  it('a pipeline: writer | upper, through a pipe between two processes', async () => {
    const [r, w] = await must(vfs<[number, number]>('pipe'));
    const out = await must(vfs<number>('open', { path: '/up.txt', flags: 'w' }));
    await put('/in.txt', 'quiet words\n');
    const inFd = await must(vfs<number>('open', { path: '/in.txt', flags: 'r' }));
    const a = (await must(pm('spawn', { path: '/progs/upper.ts', argv: ['upper'], fds: [[0, inFd], [1, w], [2, 2]] }) as never)) as number;
    const b = (await must(pm('spawn', { path: '/progs/upper.ts', argv: ['upper'], fds: [[0, r], [1, out], [2, 2]] }) as never)) as number;
    for (const fd of [r, w, out, inFd]) await must(vfs('close', { fd }));
    const statuses = [await must(pm('wait', { pid: -1 }) as never), await must(pm('wait', { pid: -1 }) as never)] as Array<{ pid: number; status: number }>;
    expect(statuses.map((s) => s.pid).sort()).toEqual([a, b].sort());
    expect(statuses.every((s) => s.status === 0)).toBe(true);
    expect(await get('/up.txt')).toBe('QUIET WORDS\n');
  });

  it('signals: TERM handled by the program, INT by default ends it with 130, KILL with 137; ps lists processes', async () => {
    const t = (await must(pm('spawn', { path: '/progs/sleeper.ts', argv: ['sleeper', 'trap'] }) as never)) as number;
    const i = (await must(pm('spawn', { path: '/progs/sleeper.ts', argv: ['sleeper'] }) as never)) as number;
    const k = (await must(pm('spawn', { path: '/progs/sleeper.ts', argv: ['sleeper'] }) as never)) as number;
    const ps = (await must(pm('ps') as never)) as Array<{ pid: number; state: string }>;
    expect(ps.filter((p) => [t, i, k].includes(p.pid)).every((p) => p.state === 'running')).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // let them install their handlers
    await must(pm('kill', { pid: t, signal: 'TERM' }) as never);
    await must(pm('kill', { pid: i, signal: 'INT' }) as never);
    await must(pm('kill', { pid: k, signal: 'KILL' }) as never);
    expect(await must(pm('wait', { pid: t }) as never)).toEqual({ pid: t, status: 42 });
    expect(await must(pm('wait', { pid: i }) as never)).toEqual({ pid: i, status: 130 });
    expect(await must(pm('wait', { pid: k }) as never)).toEqual({ pid: k, status: 137 });
    expect(await pm('kill', { pid: k, signal: 'TERM' })).toMatchObject({ ok: false, code: 'ESRCH' });
  });

  it('uids: root may run a program as another user, who may not write where it does not own', async () => {
    await must(vfs('mkdir', { path: '/rootonly', mode: 0o755 }));
    await must(vfs('mkdir', { path: '/shared', mode: 0o777 }));
    const pid = (await must(pm('spawn', { path: '/progs/trywrite.ts', argv: ['trywrite', '/shared/report', '/rootonly/x', '/shared/mine'], uid: 1000 }) as never)) as number;
    expect(await must(pm('wait', { pid }) as never)).toEqual({ pid, status: 0 });
    expect((await get('/shared/report')).split('\n')).toEqual(['uid:1000', '/rootonly/x:EACCES', '/shared/mine:ok']);
    expect(await must(vfs('stat', { path: '/shared/mine' }))).toMatchObject({ uid: 1000 });
    // Root's own files are root's: a user's program cannot overwrite them.
    await put('/shared/roots', 'r');
    const pid2 = (await must(pm('spawn', { path: '/progs/trywrite.ts', argv: ['trywrite', '/shared/report2', '/shared/roots'], uid: 1000 }) as never)) as number;
    await must(pm('wait', { pid: pid2 }) as never);
    expect((await get('/shared/report2')).split('\n')).toEqual(['uid:1000', '/shared/roots:EACCES']);
  });

  it('a program that does not exist or does not build is an error for the caller, not a crash', async () => {
    expect(await pm('spawn', { path: '/progs/none.ts', argv: ['none'] })).toMatchObject({ ok: false, code: 'ENOENT' });
    await put('/progs/bad.ts', 'export default async function main( { syntax error');
    expect(await pm('spawn', { path: '/progs/bad.ts', argv: ['bad'] })).toMatchObject({ ok: false, code: 'ENOEXEC' });
    const list = await sys.kernel.call('rs', { type: 'rs.list' });
    expect((list as { value: Array<{ status: string }> }).value.every((r) => r.status === 'running')).toBe(true);
  });
});
