/**
 * mfs handlers: file contents and attributes — stat, read, write, truncate — and the
 * whole-file-system requests statfs, sync and fsck.
 *
 * A write larger than one journal transaction is done in steps of at most `chunkBlocks`
 * blocks (each step atomic); it is refused with ENOSPC before anything is written if the
 * blocks it needs are not free.
 *
 * Entry points: `doStat`, `doRead`, `doWrite`, `doTruncate`, `doStatfs`, `doSync`,
 * `doFsck`, `metaReserve`, `MAX_IO`.
 */
import { err, ok } from '../../sys/index.js';
import type { MfsRequest, StatFs } from './protocol.js';
import { BLOCK_SIZE, MAX_FILE_SIZE, type Geometry } from './layout.js';
import { attrsOf, blocksToAllocate, readData, storeInode, truncateData, usedInode, writeData } from './inode.js';
import { fail, type Fs, type Op } from './volume.js';

type Req<K extends MfsRequest['type']> = Extract<MfsRequest, { type: K }>;

/** Largest read answered in one reply (longer reads are shortened, as POSIX allows). */
export const MAX_IO = 64 * 1024 * 1024;

/** Blocks a metadata operation may change at most (directory, inodes, bitmaps, indirect blocks). */
export function metaReserve(g: Geometry): number {
  return 24 + g.blockBitmapBlocks + g.inodeBitmapBlocks;
}

/** Data blocks one step of a write may fill. */
function chunkBlocks(fs: Fs): number {
  return Math.max(1, Math.min(256, fs.stepLimit - metaReserve(fs.geo)));
}

function nonNegative(v: number, what: string): void {
  if (v < 0) fail('EINVAL', `${what} must not be negative`);
}

export const doStat: Op<Req<'mfs.stat'>> = (fs, msg) =>
  fs.atomic(0, async (vol) => ok(attrsOf(await usedInode(vol, msg.ino))));

export const doRead: Op<Req<'mfs.read'>> = (fs, msg) =>
  fs.atomic(0, async (vol) => {
    nonNegative(msg.offset, 'offset');
    nonNegative(msg.length, 'length');
    const n = await usedInode(vol, msg.ino);
    if (n.kind === 'dir') fail('EISDIR', `inode ${msg.ino} is a directory`);
    return ok(await readData(vol, n, msg.offset, Math.min(msg.length, MAX_IO)));
  });

export const doWrite: Op<Req<'mfs.write'>> = async (fs, msg) => {
  const data = msg.data;
  if (!(data instanceof Uint8Array)) return err('EINVAL', 'data must be a Uint8Array');
  nonNegative(msg.offset, 'offset');
  if (msg.offset + data.length > MAX_FILE_SIZE) return err('EINVAL', `file too large (at most ${MAX_FILE_SIZE} bytes)`);
  // 1. Check, and count the blocks the whole write needs (nothing is written on ENOSPC).
  const size = await fs.atomic(0, async (vol) => {
    const n = await usedInode(vol, msg.ino);
    if (n.kind === 'dir') fail('EISDIR', `inode ${msg.ino} is a directory`);
    if (data.length === 0) return n.size;
    const need = await blocksToAllocate(vol, n, Math.floor(msg.offset / BLOCK_SIZE), Math.floor((msg.offset + data.length - 1) / BLOCK_SIZE));
    if (need > vol.alloc.freeBlocks) fail('ENOSPC', `the write needs ${need} blocks, ${vol.alloc.freeBlocks} are free`);
    return -1;
  });
  if (size >= 0) return ok(size);
  // 2. Write in steps of whole blocks (operations are serialized: the count above stays true).
  const step = chunkBlocks(fs) * BLOCK_SIZE;
  let newSize = 0;
  const end = msg.offset + data.length;
  for (let pos = msg.offset; pos < end;) {
    const next = Math.min(end, (Math.floor(pos / BLOCK_SIZE) * BLOCK_SIZE) + step);
    const from = pos;
    newSize = await fs.atomic(chunkBlocks(fs) + metaReserve(fs.geo), async (vol) => {
      const n = await usedInode(vol, msg.ino);
      await writeData(vol, n, from, data.subarray(from - msg.offset, next - msg.offset));
      await storeInode(vol, n);
      return n.size;
    });
    pos = next;
  }
  return ok(newSize);
};

export const doTruncate: Op<Req<'mfs.truncate'>> = (fs, msg) =>
  fs.atomic(metaReserve(fs.geo), async (vol) => {
    nonNegative(msg.size, 'size');
    if (msg.size > MAX_FILE_SIZE) fail('EINVAL', `file too large (at most ${MAX_FILE_SIZE} bytes)`);
    const n = await usedInode(vol, msg.ino);
    if (n.kind === 'dir') fail('EISDIR', `inode ${msg.ino} is a directory`);
    await truncateData(vol, n, msg.size);
    await storeInode(vol, n);
    return ok(attrsOf(n));
  });

export const doStatfs: Op<Req<'mfs.statfs'>> = async (fs) => {
  const g = fs.geo;
  const value: StatFs = {
    blockSize: BLOCK_SIZE,
    blocks: g.blocks - g.dataStart,
    freeBlocks: fs.alloc.freeBlocks,
    inodes: g.inodes - 1,
    freeInodes: fs.alloc.freeInodes,
  };
  return ok(value);
};

export const doSync: Op<Req<'mfs.sync'>> = async (fs) => {
  await fs.sync();
  return ok(null);
};

export const doFsck: Op<Req<'mfs.fsck'>> = async (fs) => ok(await fs.check());
