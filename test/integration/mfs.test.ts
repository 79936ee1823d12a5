/**
 * Integration: mfs on disk, booted with the default image on a temporary disk image —
 * names (create, lookup, unlink, rmdir, rename, readdir), contents across the direct,
 * single- and double-indirect ranges (files of several MB), truncate, statfs
 * accounting, ENOSPC on a small disk (blocks and inodes), bad input, a restart of mfs and
 * a reboot on the same image, and the host-side `molt mkfs` / `molt fsck` through the
 * real CLI (a clean image, then deliberately corrupted ones).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outgoing, Result } from '../../src/kernel/abi.js';
import type { DirEntry, FsckReport, InodeAttrs, MfsStats, StatFs } from '../../src/servers/mfs/protocol.js';
import { ROOT_INO } from '../../src/servers/mfs/protocol.js';
import { BITS_PER_BLOCK, BLOCK_SIZE, INODE_SIZE, NDIRECT, PTRS_PER_BLOCK, decodeSuperblock, inodeLocation } from '../../src/servers/mfs/layout.js';
import { bootSystem, type TestSystem } from '../helpers/system.js';
import { firstDifference, pattern } from '../fixtures/fs-content.js';

const run = promisify(execFile);
const MOLT = fileURLToPath(new URL('../../bin/molt.js', import.meta.url));

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

/** A client of one system's mfs. */
function client(sys: () => TestSystem) {
  const call = (msg: Outgoing) => sys().kernel.call('mfs', msg, 20_000);
  const ok = async <T>(msg: Outgoing) => value<T>(await call(msg));
  return {
    call,
    ok,
    create: (dir: number, name: string, kind: 'file' | 'dir' = 'file', mode = 0o644) =>
      ok<InodeAttrs>({ type: 'mfs.create', dir, name, kind, mode, uid: 0 }),
    lookup: (dir: number, name: string) => call({ type: 'mfs.lookup', dir, name }),
    stat: (ino: number) => ok<InodeAttrs>({ type: 'mfs.stat', ino }),
    write: (ino: number, offset: number, data: Uint8Array) => ok<number>({ type: 'mfs.write', ino, offset, data }),
    read: (ino: number, offset: number, length: number) => ok<Uint8Array>({ type: 'mfs.read', ino, offset, length }),
    readdir: (ino: number) => ok<DirEntry[]>({ type: 'mfs.readdir', ino }),
    statfs: () => ok<StatFs>({ type: 'mfs.statfs' }),
    sync: () => ok<null>({ type: 'mfs.sync' }),
    fsck: () => ok<FsckReport>({ type: 'mfs.fsck' }),
    stats: () => ok<MfsStats>({ type: 'mfs.stats' }),
  };
}

const MB = 1024 * 1024;
const SINGLE_START = NDIRECT * BLOCK_SIZE;
const DOUBLE_START = (NDIRECT + PTRS_PER_BLOCK) * BLOCK_SIZE;

async function tempImage(name: string): Promise<{ dir: string; image: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'molt-mfs-'));
  return { dir, image: join(dir, name) };
}

describe('mfs', () => {
  let sys: TestSystem;
  let dir: string;
  let image: string;
  const fs = client(() => sys);

  beforeAll(async () => {
    ({ dir, image } = await tempImage('disk.img'));
    sys = await bootSystem({ kernel: { disk: image, diskBlocks: 16_384 } });
  });
  afterAll(async () => {
    await sys?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('formats a new image: / holds tmp etc bin home, and statfs counts them', async () => {
    expect((await fs.readdir(ROOT_INO)).map((e) => [e.name, e.kind])).toEqual([['bin', 'dir'], ['etc', 'dir'], ['home', 'dir'], ['tmp', 'dir']]);
    const root = await fs.stat(ROOT_INO);
    expect(root).toMatchObject({ ino: ROOT_INO, kind: 'dir', nlink: 6, size: BLOCK_SIZE });
    expect(value<InodeAttrs>(await fs.lookup(ROOT_INO, 'tmp')).mode).toBe(0o1777);
    expect(value<InodeAttrs>(await fs.lookup(ROOT_INO, '..')).ino).toBe(ROOT_INO);
    const st = await fs.statfs();
    expect(st.blockSize).toBe(BLOCK_SIZE);
    expect(st.blocks - st.freeBlocks).toBe(5);
    expect(st.inodes - st.freeInodes).toBe(5);
    expect((await fs.stats()).formatted).toBe(true);
  });

  it('create, lookup, stat; EEXIST, ENOENT, ENOTDIR', async () => {
    const home = value<InodeAttrs>(await fs.lookup(ROOT_INO, 'home'));
    const f = await fs.create(home.ino, 'notes.txt', 'file', 0o600);
    expect(f).toMatchObject({ kind: 'file', mode: 0o600, uid: 0, size: 0, nlink: 1 });
    expect(value<InodeAttrs>(await fs.lookup(home.ino, 'notes.txt'))).toEqual(f);
    expect(await fs.stat(f.ino)).toEqual(f);
    expect(await fs.call({ type: 'mfs.create', dir: home.ino, name: 'notes.txt', kind: 'file', mode: 0o644, uid: 0 })).toMatchObject({ ok: false, code: 'EEXIST' });
    expect(await fs.lookup(home.ino, 'nonesuch')).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await fs.call({ type: 'mfs.create', dir: f.ino, name: 'x', kind: 'file', mode: 0o644, uid: 0 })).toMatchObject({ ok: false, code: 'ENOTDIR' });
    expect(await fs.lookup(f.ino, 'x')).toMatchObject({ ok: false, code: 'ENOTDIR' });
    const d = await fs.create(home.ino, 'sub', 'dir', 0o755);
    expect(d).toMatchObject({ kind: 'dir', nlink: 2, size: BLOCK_SIZE });
    expect((await fs.stat(home.ino)).nlink).toBe(3);
    expect(value<InodeAttrs>(await fs.lookup(d.ino, '..')).ino).toBe(home.ino);
    expect(value<InodeAttrs>(await fs.lookup(d.ino, '.')).ino).toBe(d.ino);
  });

  it('contents across the direct, single- and double-indirect ranges (a 6 MB file)', async () => {
    const f = await fs.create(ROOT_INO, 'big');
    const size = 6 * MB + 123;
    const data = pattern(1, size);
    // Written in unaligned pieces of varying size.
    let pos = 0;
    for (const piece of [1000, 50_000, 4096 * 3 + 7, 2 * MB, 1, 3 * MB]) {
      const n = Math.min(piece, size - pos);
      await fs.write(f.ino, pos, data.subarray(pos, pos + n));
      pos += n;
    }
    expect(await fs.write(f.ino, pos, data.subarray(pos))).toBe(size);
    expect((await fs.stat(f.ino)).size).toBe(size);
    expect(firstDifference(await fs.read(f.ino, 0, size + 100), data)).toBe(-1);
    // Reads straddling each range boundary, and the end.
    for (const at of [SINGLE_START - 10, DOUBLE_START - 10, DOUBLE_START + PTRS_PER_BLOCK * BLOCK_SIZE - 10, size - 5]) {
      expect(firstDifference(await fs.read(f.ino, at, 20), data.subarray(at, at + 20))).toBe(-1);
    }
    expect((await fs.read(f.ino, size, 10)).length).toBe(0);
    expect((await fs.read(f.ino, size + 1000, 10)).length).toBe(0);
    // Overwrite in the middle of each range; the rest is unchanged.
    const patch = pattern(2, 9000);
    for (const at of [100, SINGLE_START + 5000, DOUBLE_START + 777_777]) {
      await fs.write(f.ino, at, patch);
      data.set(patch, at);
    }
    expect(firstDifference(await fs.read(f.ino, 0, size), data)).toBe(-1);
    expect((await fs.stat(f.ino)).size).toBe(size);
  });

  it('statfs accounts for data and indirect blocks, and unlink gives them back', async () => {
    const before = await fs.statfs();
    const f = await fs.create(ROOT_INO, 'counted');
    const blocks = NDIRECT + PTRS_PER_BLOCK + 500; // 12 direct, a full single-indirect table, 500 through the double
    await fs.write(f.ino, 0, pattern(3, blocks * BLOCK_SIZE));
    const after = await fs.statfs();
    expect(before.freeBlocks - after.freeBlocks).toBe(blocks + 3); // + single, double, one second-level table
    expect(before.freeInodes - after.freeInodes).toBe(1);
    await fs.ok({ type: 'mfs.unlink', dir: ROOT_INO, name: 'counted' });
    expect(await fs.statfs()).toEqual(before);
    expect(await fs.lookup(ROOT_INO, 'counted')).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await fs.call({ type: 'mfs.stat', ino: f.ino })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('sparse files: holes read as zeros and use no blocks', async () => {
    const before = await fs.statfs();
    const f = await fs.create(ROOT_INO, 'sparse');
    const at = 5 * MB + 3;
    await fs.write(f.ino, at, pattern(4, 10));
    expect((await fs.stat(f.ino)).size).toBe(at + 10);
    expect(before.freeBlocks - (await fs.statfs()).freeBlocks).toBe(3); // data + double + second-level
    expect((await fs.read(f.ino, 0, 8192)).every((b) => b === 0)).toBe(true);
    const tail = await fs.read(f.ino, at - 3, 13);
    expect([...tail.subarray(0, 3)]).toEqual([0, 0, 0]);
    expect(firstDifference(tail.subarray(3), pattern(4, 10))).toBe(-1);
  });

  it('truncate shrinks (freeing blocks, zeroing the cut tail) and grows (zeros)', async () => {
    const before = await fs.statfs();
    const f = await fs.create(ROOT_INO, 'trunc');
    const size = DOUBLE_START + 3 * MB;
    const data = pattern(5, size);
    await fs.write(f.ino, 0, data);
    // Into the single-indirect range, mid-block.
    const cut = SINGLE_START + 10 * BLOCK_SIZE + 100;
    expect(await fs.ok<InodeAttrs>({ type: 'mfs.truncate', ino: f.ino, size: cut })).toMatchObject({ size: cut });
    expect(firstDifference(await fs.read(f.ino, 0, size), data.subarray(0, cut))).toBe(-1);
    expect(before.freeBlocks - (await fs.statfs()).freeBlocks).toBe(Math.ceil(cut / BLOCK_SIZE) + 1);
    // Growing again: what was past the cut reads as zeros.
    await fs.ok({ type: 'mfs.truncate', ino: f.ino, size: cut + 5000 });
    const grown = await fs.read(f.ino, cut - 10, 5010);
    expect(firstDifference(grown.subarray(0, 10), data.subarray(cut - 10, cut))).toBe(-1);
    expect(grown.subarray(10).every((b) => b === 0)).toBe(true);
    // Into the direct range, then to zero: every block back.
    await fs.ok({ type: 'mfs.truncate', ino: f.ino, size: 5 });
    expect(firstDifference(await fs.read(f.ino, 0, 100), data.subarray(0, 5))).toBe(-1);
    expect(before.freeBlocks - (await fs.statfs()).freeBlocks).toBe(1);
    await fs.ok({ type: 'mfs.truncate', ino: f.ino, size: 0 });
    expect((await fs.statfs()).freeBlocks).toBe(before.freeBlocks);
    expect(await fs.call({ type: 'mfs.truncate', ino: ROOT_INO, size: 0 })).toMatchObject({ ok: false, code: 'EISDIR' });
    expect(await fs.call({ type: 'mfs.truncate', ino: f.ino, size: -1 })).toMatchObject({ ok: false, code: 'EINVAL' });
  });

  it('unlink and rmdir: EISDIR, ENOTDIR, ENOTEMPTY; link counts follow', async () => {
    const d = await fs.create(ROOT_INO, 'rmme', 'dir');
    const inner = await fs.create(d.ino, 'inner', 'dir');
    await fs.create(inner.ino, 'file');
    expect((await fs.stat(d.ino)).nlink).toBe(3);
    expect(await fs.call({ type: 'mfs.unlink', dir: ROOT_INO, name: 'rmme' })).toMatchObject({ ok: false, code: 'EISDIR' });
    expect(await fs.call({ type: 'mfs.rmdir', dir: inner.ino, name: 'file' })).toMatchObject({ ok: false, code: 'ENOTDIR' });
    expect(await fs.call({ type: 'mfs.rmdir', dir: ROOT_INO, name: 'rmme' })).toMatchObject({ ok: false, code: 'ENOTEMPTY' });
    expect(await fs.call({ type: 'mfs.rmdir', dir: d.ino, name: 'inner' })).toMatchObject({ ok: false, code: 'ENOTEMPTY' });
    await fs.ok({ type: 'mfs.unlink', dir: inner.ino, name: 'file' });
    await fs.ok({ type: 'mfs.rmdir', dir: d.ino, name: 'inner' });
    expect((await fs.stat(d.ino)).nlink).toBe(2);
    const rootLinks = (await fs.stat(ROOT_INO)).nlink;
    await fs.ok({ type: 'mfs.rmdir', dir: ROOT_INO, name: 'rmme' });
    expect((await fs.stat(ROOT_INO)).nlink).toBe(rootLinks - 1);
    expect(await fs.lookup(ROOT_INO, 'rmme')).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await fs.call({ type: 'mfs.rmdir', dir: ROOT_INO, name: 'rmme' })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await fs.call({ type: 'mfs.unlink', dir: ROOT_INO, name: 'rmme' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('rename: in place, across directories, replacing a file, moving a directory', async () => {
    const a = await fs.create(ROOT_INO, 'ra', 'dir');
    const b = await fs.create(ROOT_INO, 'rb', 'dir');
    const f = await fs.create(a.ino, 'one');
    await fs.write(f.ino, 0, pattern(6, 10_000));
    await fs.ok({ type: 'mfs.rename', fromDir: a.ino, fromName: 'one', toDir: a.ino, toName: 'two' });
    expect((await fs.readdir(a.ino)).map((e) => e.name)).toEqual(['two']);
    await fs.ok({ type: 'mfs.rename', fromDir: a.ino, fromName: 'two', toDir: b.ino, toName: 'three' });
    expect(await fs.readdir(a.ino)).toEqual([]);
    expect(value<InodeAttrs>(await fs.lookup(b.ino, 'three')).ino).toBe(f.ino);
    // Replacing: the old target's blocks and inode are freed.
    const g = await fs.create(b.ino, 'victim');
    await fs.write(g.ino, 0, pattern(7, 50_000));
    const before = await fs.statfs();
    await fs.ok({ type: 'mfs.rename', fromDir: b.ino, fromName: 'three', toDir: b.ino, toName: 'victim' });
    const after = await fs.statfs();
    expect(after.freeBlocks - before.freeBlocks).toBe(Math.ceil(50_000 / BLOCK_SIZE) + 1);
    expect(after.freeInodes - before.freeInodes).toBe(1);
    expect(firstDifference(await fs.read(value<InodeAttrs>(await fs.lookup(b.ino, 'victim')).ino, 0, 20_000), pattern(6, 10_000))).toBe(-1);
    // A directory moves with its `..`; link counts follow.
    const sub = await fs.create(a.ino, 'sub', 'dir');
    await fs.create(sub.ino, 'leaf', 'dir');
    await fs.ok({ type: 'mfs.rename', fromDir: a.ino, fromName: 'sub', toDir: b.ino, toName: 'moved' });
    expect(value<InodeAttrs>(await fs.lookup(sub.ino, '..')).ino).toBe(b.ino);
    expect((await fs.stat(a.ino)).nlink).toBe(2);
    expect((await fs.stat(b.ino)).nlink).toBe(3);
    // Not into itself or below itself.
    const leaf = value<InodeAttrs>(await fs.lookup(sub.ino, 'leaf'));
    expect(await fs.call({ type: 'mfs.rename', fromDir: b.ino, fromName: 'moved', toDir: leaf.ino, toName: 'x' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await fs.call({ type: 'mfs.rename', fromDir: b.ino, fromName: 'moved', toDir: sub.ino, toName: 'x' })).toMatchObject({ ok: false, code: 'EINVAL' });
    // Kinds must match; a directory replaced must be empty.
    expect(await fs.call({ type: 'mfs.rename', fromDir: b.ino, fromName: 'victim', toDir: ROOT_INO, toName: 'ra' })).toMatchObject({ ok: false, code: 'EISDIR' });
    expect(await fs.call({ type: 'mfs.rename', fromDir: ROOT_INO, fromName: 'ra', toDir: b.ino, toName: 'victim' })).toMatchObject({ ok: false, code: 'ENOTDIR' });
    expect(await fs.call({ type: 'mfs.rename', fromDir: ROOT_INO, fromName: 'ra', toDir: ROOT_INO, toName: 'rb' })).toMatchObject({ ok: false, code: 'ENOTEMPTY' });
    await fs.ok({ type: 'mfs.rename', fromDir: ROOT_INO, fromName: 'rb', toDir: ROOT_INO, toName: 'ra' }); // ra is empty: replaced
    expect(await fs.call({ type: 'mfs.stat', ino: a.ino })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(value<InodeAttrs>(await fs.lookup(ROOT_INO, 'ra')).ino).toBe(b.ino);
    expect(await fs.call({ type: 'mfs.rename', fromDir: ROOT_INO, fromName: 'nonesuch', toDir: ROOT_INO, toName: 'x' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('readdir lists every entry, sorted, as a directory grows past one block', async () => {
    const d = await fs.create(ROOT_INO, 'many', 'dir');
    const names = Array.from({ length: 150 }, (_, i) => `entry-${String(i).padStart(3, '0')}`);
    for (const name of [...names].reverse()) await fs.create(d.ino, name, name.endsWith('7') ? 'dir' : 'file');
    const list = await fs.readdir(d.ino);
    expect(list.map((e) => e.name)).toEqual(names);
    expect(list.filter((e) => e.kind === 'dir')).toHaveLength(15);
    expect((await fs.stat(d.ino)).size).toBe(3 * BLOCK_SIZE);
    // Freed slots are reused.
    await fs.ok({ type: 'mfs.unlink', dir: d.ino, name: 'entry-000' });
    await fs.create(d.ino, 'zzz');
    expect((await fs.stat(d.ino)).size).toBe(3 * BLOCK_SIZE);
    expect(await fs.call({ type: 'mfs.readdir', ino: value<InodeAttrs>(await fs.lookup(d.ino, 'zzz')).ino })).toMatchObject({ ok: false, code: 'ENOTDIR' });
  });

  it('bad input is EINVAL / ENAMETOOLONG / ENOSYS, and mfs keeps serving', async () => {
    const bad = async (msg: Outgoing, code: string) => expect(await fs.call(msg)).toMatchObject({ ok: false, code });
    await bad({ type: 'mfs.create', dir: ROOT_INO, name: 'x'.repeat(60), kind: 'file', mode: 0o644, uid: 0 }, 'ENAMETOOLONG');
    await bad({ type: 'mfs.create', dir: ROOT_INO, name: 'é'.repeat(30), kind: 'file', mode: 0o644, uid: 0 }, 'ENAMETOOLONG'); // 60 bytes of UTF-8
    for (const name of ['', '.', '..', 'a/b', 'nul\0']) await bad({ type: 'mfs.create', dir: ROOT_INO, name, kind: 'file', mode: 0o644, uid: 0 }, 'EINVAL');
    await bad({ type: 'mfs.create', dir: ROOT_INO, name: 'k', kind: 'fifo', mode: 0o644, uid: 0 }, 'EINVAL');
    await bad({ type: 'mfs.create', dir: ROOT_INO, name: 'k', kind: 'file', mode: 0o644 }, 'EINVAL');
    await bad({ type: 'mfs.stat', ino: 0 }, 'EINVAL');
    await bad({ type: 'mfs.stat', ino: 1e9 }, 'EINVAL');
    await bad({ type: 'mfs.stat', ino: 'one' }, 'EINVAL');
    const f = await fs.create(ROOT_INO, 'input');
    await bad({ type: 'mfs.write', ino: f.ino, offset: 0, data: 'not bytes' }, 'EINVAL');
    await bad({ type: 'mfs.write', ino: f.ino, offset: -1, data: new Uint8Array(1) }, 'EINVAL');
    await bad({ type: 'mfs.write', ino: f.ino, offset: 2 ** 40, data: new Uint8Array(1) }, 'EINVAL');
    await bad({ type: 'mfs.write', ino: ROOT_INO, offset: 0, data: new Uint8Array(1) }, 'EISDIR');
    await bad({ type: 'mfs.read', ino: f.ino, offset: 0, length: -5 }, 'EINVAL');
    await bad({ type: 'mfs.read', ino: ROOT_INO, offset: 0, length: 5 }, 'EISDIR');
    await bad({ type: 'mfs.readdir', ino: 99_999 }, 'EINVAL');
    await bad({ type: 'mfs.nonesuch' }, 'ENOSYS');
    // Nothing half-done: the refused write left the file as it was, and mfs is still here.
    expect((await fs.stat(f.ino)).size).toBe(0);
    expect(await fs.write(f.ino, 0, new Uint8Array([1, 2, 3]))).toBe(3);
    expect(sys.trace.some((e) => e.ev === 'incarnation.crashed')).toBe(false);
    expect((await fs.stats()).errors).toBeGreaterThan(10);
  });

  it('concurrent requests are served one at a time, each answered', async () => {
    const d = await fs.create(ROOT_INO, 'par', 'dir');
    const results = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const f = await fs.create(d.ino, `f${i}`);
      await fs.write(f.ino, 0, pattern(100 + i, 20_000 + i));
      return f.ino;
    }));
    await Promise.all(results.map(async (ino, i) => expect(firstDifference(await fs.read(ino, 0, 1e6), pattern(100 + i, 20_000 + i))).toBe(-1)));
    expect(await fs.readdir(d.ino)).toHaveLength(40);
  });

  it('the file system on disk is consistent (mfs.fsck), and the journal has been used', async () => {
    const report = await fs.fsck();
    expect(report.errors).toEqual([]);
    expect(report.clean).toBe(true);
    const st = await fs.stats();
    expect(st.commits).toBeGreaterThan(0);
    expect(st.dirtyBlocks).toBe(0);
  });

  it('a restart of mfs keeps what was synced (it mounts the image again)', async () => {
    const f = await fs.create(ROOT_INO, 'survivor');
    await fs.write(f.ino, 0, pattern(8, 300_000));
    await fs.sync();
    value(await sys.kernel.call('rs', { type: 'rs.restart', label: 'mfs' }));
    expect(firstDifference(await fs.read(value<InodeAttrs>(await fs.lookup(ROOT_INO, 'survivor')).ino, 0, 1e6), pattern(8, 300_000))).toBe(-1);
    expect((await fs.stats()).formatted).toBe(false);
  });

  it('live update under load: mfs\'s default prepare (protocol-free) always commits; work-free commits or is rolled back by the state check; no write lost', async () => {
    const f = await fs.create(ROOT_INO, 'under-load');
    const REGION = 3_000_000;
    /** The seed of the last acknowledged write of each of 4 regions (each written by one loop). */
    const last = [0, 0, 0, 0];
    const outcomes: string[] = [];
    const workFree: string[] = [];
    for (let round = 0; round < 6; round++) {
      const prepare = round % 2 === 1 ? 'work-free' : undefined;
      let stop = false;
      const loops = last.map(async (_, k) => {
        for (let i = 1; !stop; i++) {
          const seed = 1000 * (round + 1) + 10 * i + k;
          await fs.write(f.ino, k * REGION, pattern(seed, REGION));
          last[k] = seed;
        }
      });
      await new Promise((r) => setTimeout(r, 30));
      const r = value<{ outcome: string; reason: string | null }>(
        await sys.kernel.call('rs', { type: 'rs.update', items: [{ label: 'mfs', source: 'src/servers/mfs/main.ts' }], ...(prepare ? { prepare } : {}) }, 120_000),
      );
      stop = true;
      await Promise.all(loops);
      (prepare ? workFree : outcomes).push(r.outcome);
      if (r.outcome === 'rolled-back') expect(r.reason).toMatch(/middle of an operation/);
      const got = await fs.read(f.ino, 0, 4 * REGION);
      for (const [k, seed] of last.entries()) expect(firstDifference(got.subarray(k * REGION, (k + 1) * REGION), pattern(seed, REGION)), `region ${k}`).toBe(-1);
    }
    expect(outcomes).toEqual(['committed', 'committed', 'committed']);
    expect(workFree.every((o) => o === 'committed' || o === 'rolled-back')).toBe(true);
    await fs.sync();
    expect((await fs.fsck()).errors).toEqual([]);
    expect(sys.trace.some((e) => e.ev === 'incarnation.crashed')).toBe(false);
  });

  it('live update of mfs and disk to their version 2 (changed state layouts) keeps unsynced data', async () => {
    const corpus = (label: string) => fileURLToPath(new URL(`../corpus/${label}/v2.ts`, import.meta.url));
    const f = await fs.create(ROOT_INO, 'updated');
    const data = pattern(12, 3 * MB + 17);
    await fs.write(f.ino, 0, data);
    const before = await fs.stats();
    const update = async (label: string, prepare?: string) =>
      value<{ outcome: string; reason: string | null }>(await sys.kernel.call('rs', { type: 'rs.update', items: [{ label, source: corpus(label) }], ...(prepare ? { prepare } : {}) }, 120_000));
    expect(await update('mfs', 'request-free')).toMatchObject({ outcome: 'committed' });
    // The counters and the cache came across into v2's layout (v2 reports them the same way).
    const after = await fs.stats();
    expect(after.ops).toBeGreaterThanOrEqual(before.ops);
    expect(after.commits).toBeGreaterThanOrEqual(before.commits);
    expect(after.cachedBlocks).toBeGreaterThan(0);
    expect(firstDifference(await fs.read(f.ino, 0, 4 * MB), data)).toBe(-1);
    expect(await update('disk', 'request-free')).toMatchObject({ outcome: 'committed' });
    const disk = value<{ requests: number; writes: number }>(await sys.kernel.call('disk', { type: 'disk.stats' }));
    // v1's counters, carried into v2's per-type layout and reported the old way.
    expect(disk.requests).toBeGreaterThan(20);
    expect(disk.writes).toBeGreaterThan(5);
    expect(disk.requests).toBeGreaterThanOrEqual(disk.writes);
    // Version 2 serves, commits and checks like version 1.
    const patch = pattern(14, 500_000);
    await fs.write(f.ino, 1_000_000, patch);
    data.set(patch, 1_000_000);
    await fs.sync();
    expect(firstDifference(await fs.read(f.ino, 0, 4 * MB), data)).toBe(-1);
    expect((await fs.fsck()).errors).toEqual([]);
    expect((await fs.stats()).dirtyBlocks).toBe(0);
    expect(sys.trace.some((e) => e.ev === 'incarnation.crashed')).toBe(false);
  });

  it('after a reboot on the same image, every file is there (the checkpoint made the last writes durable)', async () => {
    const f = await fs.create(ROOT_INO, 'late');
    await fs.write(f.ino, 0, pattern(9, 12_345));
    // No sync: the periodic checkpoint (1 s) commits it.
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await fs.stats()).dirtyBlocks).toBe(0);
    const before = await fs.readdir(ROOT_INO);
    const bigIno = value<InodeAttrs>(await fs.lookup(ROOT_INO, 'big')).ino;
    const big = await fs.read(bigIno, 0, 7 * MB);
    await sys.stop();
    sys = await bootSystem({ kernel: { disk: image, diskBlocks: 16_384 } });
    expect((await fs.stats()).formatted).toBe(false);
    expect(await fs.readdir(ROOT_INO)).toEqual(before);
    expect(firstDifference(await fs.read(bigIno, 0, 7 * MB), big)).toBe(-1);
    expect(firstDifference(await fs.read(value<InodeAttrs>(await fs.lookup(ROOT_INO, 'late')).ino, 0, 1e6), pattern(9, 12_345))).toBe(-1);
    expect((await fs.fsck()).clean).toBe(true);
  });
});

describe('mfs on a small disk', () => {
  let sys: TestSystem;
  let dir: string;
  const fs = client(() => sys);

  beforeAll(async () => {
    let image: string;
    ({ dir, image } = await tempImage('small.img'));
    sys = await bootSystem({ kernel: { disk: image, diskBlocks: 512 } });
  });
  afterAll(async () => {
    await sys?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('ENOSPC for blocks: a write that does not fit changes nothing; space comes back', async () => {
    const st = await fs.statfs();
    const f = await fs.create(ROOT_INO, 'fill');
    const tooBig = pattern(10, (st.freeBlocks + 1) * BLOCK_SIZE);
    expect(await fs.call({ type: 'mfs.write', ino: f.ino, offset: 0, data: tooBig })).toMatchObject({ ok: false, code: 'ENOSPC' });
    expect((await fs.stat(f.ino)).size).toBe(0);
    expect((await fs.statfs()).freeBlocks).toBe(st.freeBlocks);
    // Fill it up in pieces until it is full.
    let size = 0;
    for (;;) {
      const r = await fs.call({ type: 'mfs.write', ino: f.ino, offset: size, data: pattern(11, 64 * 1024, size) });
      if (!r.ok) {
        expect(r.code).toBe('ENOSPC');
        break;
      }
      size = r.value as number;
    }
    expect((await fs.statfs()).freeBlocks).toBeLessThan(16);
    expect(firstDifference(await fs.read(f.ino, 0, size), pattern(11, size))).toBe(-1);
    expect((await fs.fsck()).clean).toBe(true);
    await fs.ok({ type: 'mfs.unlink', dir: ROOT_INO, name: 'fill' });
    expect((await fs.statfs()).freeBlocks).toBe(st.freeBlocks);
  });

  it('ENOSPC for inodes; the file system stays consistent', async () => {
    const st = await fs.statfs();
    let made = 0;
    for (;;) {
      const r = await fs.call({ type: 'mfs.create', dir: ROOT_INO, name: `i${made}`, kind: 'file', mode: 0o644, uid: 0 });
      if (!r.ok) {
        expect(r.code).toBe('ENOSPC');
        break;
      }
      made++;
    }
    expect(made).toBe(st.freeInodes);
    expect((await fs.statfs()).freeInodes).toBe(0);
    const report = await fs.fsck();
    expect(report.errors).toEqual([]);
    for (let i = 0; i < made; i++) await fs.ok({ type: 'mfs.unlink', dir: ROOT_INO, name: `i${i}` });
    const after = await fs.statfs();
    expect(after.freeInodes).toBe(st.freeInodes);
    expect(st.freeBlocks - after.freeBlocks).toBe(1); // the root directory grew a block (directories never shrink)
  });
});

describe('molt mkfs / molt fsck (the real CLI)', () => {
  let dir: string;
  let image: string;
  const molt = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [MOLT, ...args], { timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const x = e as { code: number; stdout: string; stderr: string };
      return { code: x.code, stdout: x.stdout, stderr: x.stderr };
    }
  };
  /** Read-modify-write bytes of the image file. */
  const patch = async (offset: number, length: number, change: (b: Buffer) => void) => {
    const fh = await open(image, 'r+');
    const b = Buffer.alloc(length);
    await fh.read(b, 0, length, offset);
    change(b);
    await fh.write(b, 0, length, offset);
    await fh.close();
  };
  const geometry = async () => {
    const fh = await open(image, 'r');
    const b = new Uint8Array(BLOCK_SIZE);
    await fh.read(b, 0, BLOCK_SIZE, 0);
    await fh.close();
    const d = decodeSuperblock(b);
    if (!d.ok) throw new Error(d.message);
    return d.sb;
  };

  beforeAll(async () => {
    ({ dir, image } = await tempImage('cli.img'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('mkfs makes a clean file system; fsck says so (exit 0); mkfs will not overwrite it without --force', async () => {
    const made = await molt('mkfs', image, '--size', '8');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/8 MiB \(2048 blocks/);
    const checked = await molt('fsck', image);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/clean/);
    const again = await molt('mkfs', image);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a Molt file system.*--force/);
    expect((await molt('mkfs', image, '--size', '8', '--force')).code).toBe(0);
    const missing = await molt('fsck', join(dir, 'nonesuch.img'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no such disk image/);
  });

  it('a flipped block-bitmap bit is found (exit 1, naming the block)', async () => {
    expect((await molt('mkfs', image, '--size', '8', '--force')).code).toBe(0);
    const g = await geometry();
    const victim = g.dataStart + 100; // a free data block, marked in use
    await patch(g.blockBitmapStart * BLOCK_SIZE + (victim >>> 3), 1, (b) => (b[0]! |= 1 << (victim & 7)));
    const r = await molt('fsck', image);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/NOT CLEAN/);
    expect(r.stdout).toContain(`block ${victim} is marked in use in the block bitmap but nothing uses it`);
    expect(victim).toBeLessThan(BITS_PER_BLOCK);
  });

  it('a wrong link count and a cleared inode-bitmap bit are found', async () => {
    expect((await molt('mkfs', image, '--size', '8', '--force')).code).toBe(0);
    const g = await geometry();
    const tmpIno = ROOT_INO + 1;
    const loc = inodeLocation(g, tmpIno);
    await patch(loc.block * BLOCK_SIZE + loc.offset + 8, 4, (b) => b.writeUInt32BE(7, 0)); // nlink 2 → 7
    let r = await molt('fsck', image);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`inode ${tmpIno} (dir): link count is 7, should be 2`);
    await patch(g.inodeBitmapStart * BLOCK_SIZE, 1, (b) => (b[0]! &= ~(1 << ROOT_INO)));
    r = await molt('fsck', image, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as FsckReport;
    expect(report.clean).toBe(false);
    expect(report.errors).toContain(`inode ${ROOT_INO} is in use but free in the inode bitmap`);
    expect(INODE_SIZE).toBe(128);
  });

  it('a damaged superblock is reported, and mkfs needs --force for it too', async () => {
    expect((await molt('mkfs', image, '--size', '8', '--force')).code).toBe(0);
    await patch(20, 1, (b) => (b[0]! ^= 0xff));
    const r = await molt('fsck', image);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/superblock: superblock checksum mismatch/);
    expect((await molt('mkfs', image)).code).toBe(1);
  });
});
