/**
 * The `fs` experiment: the file system stack (vfs → mfs → disk → the kernel's disk
 * device) against the host's file system in the same run.
 *
 *  1. Sequential write then read of a 64 MiB file through vfs, made durable (vfs.sync /
 *     fsync), vs the same on the host file system — MB/s each way, target ≥ 50 MB/s.
 *  2. Create, stat and delete 10,000 small files — operations/s.
 *  3. Boot to the shell prompt on an existing disk — target ≤ 1 s.
 *
 * The client is the host's own kernel client (pid 0 to vfs), one request at a time;
 * a program in the sandbox adds its bridge on top (not measured here).
 *
 * Entry point: `fs` (an Experiment).
 */
import { open as hostOpen, rm, mkdir as hostMkdir, stat as hostStat, unlink as hostUnlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { defaultBootConfig } from '../src/boot/image.js';
import { Kernel } from '../src/kernel/kernel.js';
import type { Result } from '../src/kernel/abi.js';
import { BenchScratch } from './lib/system.js';
import { median } from './lib/stats.js';
import type { Experiment, ExperimentOptions, ExperimentResult, Figure } from './lib/types.js';

const FULL = { fileMiB: 64, chunk: 1 << 20, files: 10_000, boots: 5 };
const QUICK = { fileMiB: 8, chunk: 1 << 20, files: 500, boots: 2 };

function must<T>(r: Result, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.code} ${r.message ?? ''}`);
  return r.value as T;
}

const mbps = (bytes: number, ms: number) => bytes / (1024 * 1024) / (ms / 1000);

export const fs: Experiment = {
  name: 'fs',
  description: 'file system: 64 MiB sequential write/read through vfs/mfs/disk vs the host; 10k small files; boot to shell prompt',
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const p = opts.quick ? QUICK : FULL;
    const scratch = await BenchScratch.create();
    const figures: Figure[] = [];
    try {
      const sys = await scratch.boot({ kernel: { diskBlocks: Math.max(65_536, p.fileMiB * 256 * 2 + 16_384) } });
      const k = sys.kernel;
      const vfs = async <T>(type: string, fields: Record<string, unknown>) => must<T>(await k.call('vfs', { type: `vfs.${type}`, ...fields }, 120_000), type);
      const chunk = new Uint8Array(p.chunk);
      for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31 + 7) & 255;
      const total = p.fileMiB * 1024 * 1024;

      // 1. Sequential write + sync, then read, through Molt.
      opts.log(`fs: sequential write of ${p.fileMiB} MiB through vfs/mfs/disk`);
      let t0 = performance.now();
      let fd = await vfs<number>('open', { path: '/big', flags: 'w' });
      for (let at = 0; at < total; at += p.chunk) await vfs('write', { fd, data: chunk });
      await vfs('close', { fd });
      await vfs('sync', {});
      const moltWrite = performance.now() - t0;
      opts.log('fs: sequential read');
      t0 = performance.now();
      fd = await vfs<number>('open', { path: '/big', flags: 'r' });
      let read = 0;
      for (;;) {
        const c = await vfs<Uint8Array>('read', { fd, length: p.chunk });
        if (c.length === 0) break;
        read += c.length;
      }
      await vfs('close', { fd });
      const moltRead = performance.now() - t0;
      if (read !== total) throw new Error(`read back ${read} bytes, wrote ${total}`);

      // The same on the host file system, in the same run.
      const hostFile = join(scratch.root, 'host-big');
      t0 = performance.now();
      let fh = await hostOpen(hostFile, 'w');
      for (let at = 0; at < total; at += p.chunk) await fh.write(chunk);
      await fh.sync();
      await fh.close();
      const hostWrite = performance.now() - t0;
      t0 = performance.now();
      fh = await hostOpen(hostFile, 'r');
      const buf = new Uint8Array(p.chunk);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length);
        if (bytesRead === 0) break;
      }
      await fh.close();
      const hostRead = performance.now() - t0;
      await rm(hostFile);
      const w = mbps(total, moltWrite);
      const r = mbps(total, moltRead);
      figures.push(
        { name: `sequential write ${p.fileMiB} MiB + sync`, value: w, unit: 'MB/s', target: 50, better: 'higher', pass: w >= 50, baseline: mbps(total, hostWrite), baselineName: 'host fs write + fsync', ratio: w / mbps(total, hostWrite) },
        { name: `sequential read ${p.fileMiB} MiB`, value: r, unit: 'MB/s', target: 50, better: 'higher', pass: r >= 50, baseline: mbps(total, hostRead), baselineName: 'host fs read (page cache)', ratio: r / mbps(total, hostRead) },
      );

      // 2. Small files.
      opts.log(`fs: create, stat, delete ${p.files} small files`);
      await vfs('mkdir', { path: '/many' });
      const small = new TextEncoder().encode('x'.repeat(100));
      t0 = performance.now();
      for (let i = 0; i < p.files; i++) {
        const f = await vfs<number>('open', { path: `/many/f${i}`, flags: 'w' });
        await vfs('write', { fd: f, data: small });
        await vfs('close', { fd: f });
      }
      const create = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < p.files; i++) await vfs('stat', { path: `/many/f${i}` });
      const statMs = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < p.files; i++) await vfs('unlink', { path: `/many/f${i}` });
      const del = performance.now() - t0;
      // Host, same operations.
      const hostDir = join(scratch.root, 'host-many');
      await hostMkdir(hostDir);
      t0 = performance.now();
      for (let i = 0; i < p.files; i++) {
        const h = await hostOpen(join(hostDir, `f${i}`), 'w');
        await h.write(small);
        await h.close();
      }
      const hCreate = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < p.files; i++) await hostStat(join(hostDir, `f${i}`));
      const hStat = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < p.files; i++) await hostUnlink(join(hostDir, `f${i}`));
      const hDel = performance.now() - t0;
      const ops = (n: number, ms: number) => n / (ms / 1000);
      for (const [name, ms, hms] of [['create + write 100 B + close', create, hCreate], ['stat', statMs, hStat], ['unlink', del, hDel]] as const) {
        const v = ops(p.files, ms);
        figures.push({ name: `${p.files} small files: ${name}`, value: v, unit: 'ops/s', baseline: ops(p.files, hms), baselineName: 'host fs', ratio: v / ops(p.files, hms) });
      }
      await sys.stop();

      // 3. Boot to the shell prompt on an existing disk.
      opts.log(`fs: boot to shell prompt on an existing disk (1 untimed first boot + ${p.boots})`);
      const home = join(scratch.root, 'boot-home');
      const times: number[] = [];
      for (let i = 0; i <= p.boots; i++) times.push(await bootToPrompt(home, scratch.cacheDir));
      const warm = median(times.slice(1));
      figures.push({ name: 'boot to shell prompt, existing disk, median', value: warm, unit: 'ms', target: 1000, better: 'lower', pass: warm <= 1000, note: `${p.boots} boots: ${times.slice(1).map((t) => t.toFixed(0)).join(', ')} ms; first boot (mkfs): ${times[0]!.toFixed(0)} ms` });
      return { figures, params: { ...p } };
    } finally {
      await scratch.cleanup();
    }
  },
};

/** Boot the default image with a console that looks like a terminal; resolve when the shell's prompt appears. */
async function bootToPrompt(home: string, cacheDir: string): Promise<number> {
  const input = new PassThrough();
  const output = new PassThrough();
  let seen = '';
  const t0 = performance.now();
  const prompt = new Promise<number>((resolve) => {
    output.on('data', (b: Buffer) => {
      seen += b.toString();
      if (/[#$] $/.test(seen)) resolve(performance.now() - t0);
    });
  });
  const kernel = new Kernel({ home, config: defaultBootConfig(), cacheDir, control: false, console: { input, output, error: output, isTTY: true } });
  await kernel.boot();
  const ms = await Promise.race([prompt, new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`no shell prompt within 20 s; console: ${seen}`)), 20_000))]);
  input.end();
  await kernel.shutdown(0);
  return ms;
}
