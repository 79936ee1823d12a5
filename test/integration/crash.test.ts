/**
 * Integration: crash consistency. A child process (node + tsx) boots a kernel with disk,
 * mfs and the fs-writer fixture, which writes files with known contents into /crash and
 * prints a line after each `mfs.sync`. The test SIGKILLs the whole host process at many
 * different points (after a varying number of synced files, plus a varying delay, so the
 * kill lands in the middle of writes, journal commits and in-place checkpoints), then:
 *   1. fsck on the image (the pure checker, as `molt fsck` runs it) finds it clean;
 *   2. booting again on the image (which replays the journal), every file reported synced
 *      before the kill is there with its exact contents, and every directory reported
 *      deleted is gone;
 *   3. after that boot the image is clean as it stands (the journal was replayed and cleared).
 * The same image is used for every round, as a machine that keeps crashing would.
 * Finally `molt fsck` (the real CLI) agrees.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/kernel/abi.js';
import { DiskDevice } from '../../src/kernel/devices/disk.js';
import { fsck } from '../../src/servers/mfs/fsck.js';
import { ROOT_INO, type FsckReport, type InodeAttrs } from '../../src/servers/mfs/protocol.js';
import { bootSystem, CACHE_DIR } from '../helpers/system.js';
import { firstDifference, pattern } from '../fixtures/fs-content.js';

const HOST = fileURLToPath(new URL('../fixtures/fs-crash-host.ts', import.meta.url));
const MOLT = fileURLToPath(new URL('../../bin/molt.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BLOCKS = 16_384;

/** Kill points: after this many synced files (-1: as soon as it starts deleting an earlier round), plus this many ms. */
const KILLS: Array<[number, number]> = [
  [0, 0], [1, 5], [2, 40], [-1, 0], [3, 0], [4, 120], [5, 17], [-1, 8], [6, 260], [7, 3], [9, 75], [11, 0], [13, 190], [16, 33], [20, 90],
];

type Expect = { seed: number; size: number; state: 'present' | 'maybe' | 'gone' };

async function checkImage(image: string): Promise<FsckReport> {
  const dev = await DiskDevice.open(image);
  try {
    return await fsck({ blocks: dev.info.blocks, read: (b, c) => dev.read(b, c), write: async () => {}, flush: async () => {} });
  } finally {
    await dev.close();
  }
}

/** Run one round: start the child, wait for `after` synced files (or the end), wait `delayMs`, SIGKILL. */
async function crashRound(image: string, round: number, after: number, delayMs: number, home: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', HOST, image, CACHE_DIR, String(round), home, String(BLOCKS)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const reached = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`round ${round}: no ${after} synced files within 30 s; stderr: ${stderr.slice(-2000)}; lines: ${lines.slice(-5).join(' | ')}`)), 30_000);
    const check = () => {
      const synced = lines.filter((l) => l.startsWith('synced ')).length;
      const ended = lines.some((l) => l === 'done' || l === 'full' || l.startsWith('error'));
      const deleting = after < 0 && lines.some((l) => l.startsWith('deleting ') || l.startsWith('ready '));
      if ((synced >= after && lines.some((l) => l.startsWith('ready '))) || deleting || ended) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      check();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`round ${round}: the child exited by itself (${code ?? signal}); stderr: ${stderr.slice(-2000)}`));
    });
  });
  try {
    await reached;
    await new Promise((r) => setTimeout(r, delayMs));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  // What reached the pipe before the kill is what was reported.
  if (buf) lines.push(buf);
  const bad = lines.find((l) => l.startsWith('error'));
  if (bad) throw new Error(`round ${round}: the writer failed: ${bad}`);
  return lines;
}

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

describe('crash consistency (SIGKILL of the host process)', () => {
  let dir: string;
  let image: string;
  const model = new Map<string, Expect>();
  let syncedTotal = 0;
  /** The journal as each kill left it (committed = the kill fell between the journal flush and the end of the checkpoint). */
  const journals: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'molt-crash-'));
    image = join(dir, 'disk.img');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`survives ${KILLS.length} kills: fsck clean after each, every synced file intact`, async () => {
    for (const [round, [after, delayMs]] of KILLS.entries()) {
      const lines = await crashRound(image, round, after, delayMs, join(dir, `home-${round}`));
      // The model: what the writer reported before it died.
      for (const line of lines) {
        const [what, arg, seed, size] = line.split(' ');
        if (what === 'synced') {
          model.set(arg!, { seed: Number(seed), size: Number(size), state: 'present' });
          syncedTotal++;
        } else if (what === 'deleting' || what === 'deleted') {
          for (const [path, e] of model) if (path.startsWith(`${arg}/`)) e.state = what === 'deleted' ? 'gone' : 'maybe';
        }
      }

      // 1. fsck: clean (a committed transaction to replay is fine: mount replays it).
      const report = await checkImage(image);
      expect(report.errors, `round ${round}: fsck after the kill`).toEqual([]);
      expect(report.clean).toBe(true);

      // 2. Boot again: every synced file is intact; deleted directories are gone.
      const sys = await bootSystem({ config: (c) => ({ ...c, services: c.services.filter((s) => s.label !== 'tty') }), kernel: { disk: image } });
      try {
        const call = (msg: Record<string, unknown> & { type: string }) => sys.kernel.call('mfs', msg, 20_000);
        const top = await call({ type: 'mfs.lookup', dir: ROOT_INO, name: 'crash' });
        for (const [path, e] of model) {
          const [d, name] = path.split('/') as [string, string];
          const dirIno = top.ok ? await call({ type: 'mfs.lookup', dir: (top.value as InodeAttrs).ino, name: d }) : top;
          const file = dirIno.ok ? await call({ type: 'mfs.lookup', dir: (dirIno.value as InodeAttrs).ino, name }) : dirIno;
          if (e.state === 'gone') {
            expect(file.ok, `round ${round}: ${path} was deleted`).toBe(false);
            continue;
          }
          if (e.state === 'maybe' && !file.ok) continue;
          expect(file.ok, `round ${round}: ${path} (synced) is missing: ${file.ok ? '' : file.code}`).toBe(true);
          const attrs = value<InodeAttrs>(file);
          expect(attrs.size, `round ${round}: size of ${path}`).toBe(e.size);
          const data = value<Uint8Array>(await call({ type: 'mfs.read', ino: attrs.ino, offset: 0, length: e.size + 1 }));
          expect(firstDifference(data, pattern(e.seed, e.size)), `round ${round}: contents of ${path}`).toBe(-1);
        }
        for (const [path, e] of model) if (e.state === 'gone') model.delete(path);
      } finally {
        await sys.stop();
      }
      // 3. Mounting replayed the journal: the image is clean as it stands, nothing left to replay.
      const mounted = await checkImage(image);
      expect(mounted.errors, `round ${round}: fsck after the reboot`).toEqual([]);
      expect(['empty', 'applied']).toContain(mounted.summary.journal);
      journals.push(report.summary.journal);
    }
    // Enough happened for the test to mean something.
    expect(syncedTotal).toBeGreaterThan(40);
    process.stdout.write(`crash test: ${syncedTotal} files synced; journal states at the kills: ${journals.join(' ')}\n`);
    // The real CLI agrees.
    const { stdout } = await promisify(execFile)(process.execPath, [MOLT, 'fsck', image], { timeout: 30_000 });
    expect(stdout).toMatch(/clean/);
  }, 240_000);
});
