/**
 * df: space on each mounted file system (from statfs of its mount point): size, used,
 * available in 1 KiB blocks (`-h`: human-readable, `-i`: inodes instead), use %.
 *
 * Usage: `df [-hi] [PATH…]` (with paths: only the file systems holding them).
 * Exit status 1 if one could not be asked.
 *
 * Entry points: default `main(argv)`; `formatDf`, `humanSize`.
 */
import { eprint, mounts, print, statfs, SysError } from 'libc';
import { formatTable } from 'libc/format';

export interface FsRow {
  mount: string;
  server: string;
  blockSize: number;
  blocks: number;
  freeBlocks: number;
  inodes: number;
  freeInodes: number;
}

/** 1536 → `1.5K`, 1048576 → `1.0M` (powers of 1024; below 1 KiB: bytes). */
export function humanSize(bytes: number): string {
  const units = ['K', 'M', 'G', 'T', 'P'];
  if (bytes < 1024) return `${bytes}B`;
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

const percent = (used: number, total: number) => (total > 0 ? `${Math.ceil((used / total) * 100)}%` : '-');

export function formatDf(rows: readonly FsRow[], opts: { human?: boolean; inodes?: boolean } = {}): string {
  if (opts.inodes) {
    return formatTable(
      ['FILESYSTEM', 'INODES', 'IUSED', 'IFREE', 'IUSE%', 'MOUNTED ON'],
      rows.map((r) => [r.server, String(r.inodes), String(r.inodes - r.freeInodes), String(r.freeInodes), percent(r.inodes - r.freeInodes, r.inodes), r.mount]),
    );
  }
  const size = (blocks: number, bs: number) => (opts.human ? humanSize(blocks * bs) : String(Math.ceil((blocks * bs) / 1024)));
  return formatTable(
    ['FILESYSTEM', opts.human ? 'SIZE' : '1K-BLOCKS', 'USED', 'AVAIL', 'USE%', 'MOUNTED ON'],
    rows.map((r) => [
      r.server,
      size(r.blocks, r.blockSize),
      size(r.blocks - r.freeBlocks, r.blockSize),
      size(r.freeBlocks, r.blockSize),
      percent(r.blocks - r.freeBlocks, r.blocks),
      r.mount,
    ]),
  );
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export default async function main(argv: readonly string[]): Promise<number> {
  const opts = { human: false, inodes: false };
  const paths: string[] = [];
  for (const a of argv.slice(1)) {
    if (/^-[hik]+$/.test(a)) {
      opts.human ||= a.includes('h');
      opts.inodes ||= a.includes('i');
    } else if (a.startsWith('-') && a.length > 1) {
      await eprint(`df: unknown option ${a}\nusage: df [-hi] [PATH…]\n`).catch(() => undefined);
      return 2;
    } else paths.push(a);
  }
  let status = 0;
  let targets: string[];
  try {
    targets = (await mounts()).map((m) => m.path);
  } catch (e) {
    await eprint(`df: ${codeOf(e)}\n`).catch(() => undefined);
    return 1;
  }
  if (paths.length > 0) targets = paths;
  const rows: FsRow[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    try {
      const s = (await statfs(t)) as Awaited<ReturnType<typeof statfs>> & { path?: string };
      const mount = s.path ?? t;
      if (seen.has(mount)) continue;
      seen.add(mount);
      rows.push({ mount, server: s.server, blockSize: s.blockSize, blocks: s.blocks, freeBlocks: s.freeBlocks, inodes: s.inodes, freeInodes: s.freeInodes });
    } catch (e) {
      status = 1;
      await eprint(`df: ${t}: ${codeOf(e)}\n`).catch(() => undefined);
    }
  }
  try {
    if (rows.length > 0) await print(formatDf(rows, opts));
  } catch {
    return 1;
  }
  return status;
}
