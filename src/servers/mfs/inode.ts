/**
 * mfs: inodes and blocks — loading and storing inodes, allocating and freeing inodes
 * and blocks through the bitmaps, mapping a file's block index to a disk block (direct,
 * single and double indirect), and reading, writing and truncating file contents.
 * Everything here runs inside one atomic step and sees the disk through its `Volume`.
 *
 * Entry points: `loadInode`, `usedInode`, `storeInode`, `allocInode`, `releaseInode`,
 * `bmap`, `readData`, `writeData`, `truncateData`, `blocksToAllocate`, `attrsOf`.
 */
import type { InodeAttrs } from './protocol.js';
import {
  BITS_PER_BLOCK, BLOCK_SIZE, MAX_FILE_BLOCKS, NDIRECT, PTRS_PER_BLOCK,
  bitGet, bitSet, decodeInode, emptyInode, encodeInode, getPtr, inodeLocation, setPtr, type Inode,
} from './layout.js';
import { fail, type Volume } from './volume.js';
import type { FileKind } from './protocol.js';

const P = PTRS_PER_BLOCK;

// ───────────────────────────── inodes ─────────────────────────────

/** Any inode, free or not (EINVAL outside the inode table). */
export async function loadInode(vol: Volume, ino: number): Promise<Inode> {
  if (!Number.isSafeInteger(ino) || ino < 1 || ino >= vol.geo.inodes) fail('EINVAL', `no inode ${ino} (1..${vol.geo.inodes - 1})`);
  const { block, offset } = inodeLocation(vol.geo, ino);
  const { kindCode: _k, ...inode } = decodeInode(await vol.read(block), offset, ino);
  return inode;
}

/** An inode in use (ENOENT if it is free). */
export async function usedInode(vol: Volume, ino: number): Promise<Inode> {
  const n = await loadInode(vol, ino);
  if (n.kind === 'free') fail('ENOENT', `inode ${ino} is not in use`);
  return n;
}

export async function storeInode(vol: Volume, n: Inode): Promise<void> {
  const { block, offset } = inodeLocation(vol.geo, n.ino);
  encodeInode(await vol.modify(block), offset, n);
}

export function attrsOf(n: Inode): InodeAttrs {
  return { ino: n.ino, kind: n.kind as FileKind, mode: n.mode, uid: n.uid, size: n.size, nlink: n.nlink, mtime: n.mtime, ctime: n.ctime };
}

/** Find a free inode (next-fit), mark it used and initialize it (nlink 0: the caller links it). */
export async function allocInode(vol: Volume, kind: FileKind, mode: number, uid: number): Promise<Inode> {
  const g = vol.geo;
  if (vol.alloc.freeInodes <= 0) fail('ENOSPC', 'no free inodes');
  const bit = await findZeroBit(vol, g.inodeBitmapStart, g.inodes, vol.alloc.inodeHint, 1);
  if (bit < 0) fail('ENOSPC', 'no free inodes');
  bitSet(await vol.modify(g.inodeBitmapStart + Math.floor(bit / BITS_PER_BLOCK)), bit % BITS_PER_BLOCK, true);
  vol.alloc.freeInodes--;
  vol.alloc.inodeHint = bit + 1 < g.inodes ? bit + 1 : 1;
  const n = emptyInode(bit, kind, mode & 0o7777, uid, vol.now);
  await storeInode(vol, n);
  return n;
}

/** Free an inode whose last link is gone: its blocks, its table slot, its bitmap bit. */
export async function releaseInode(vol: Volume, n: Inode): Promise<void> {
  const g = vol.geo;
  await freeFrom(vol, n, 0);
  const bm = await vol.modify(g.inodeBitmapStart + Math.floor(n.ino / BITS_PER_BLOCK));
  if (!bitGet(bm, n.ino % BITS_PER_BLOCK)) fail('EIO', `inode ${n.ino} freed twice (the inode bitmap is damaged)`);
  bitSet(bm, n.ino % BITS_PER_BLOCK, false);
  vol.alloc.freeInodes++;
  await storeInode(vol, { ...n, kind: 'free', nlink: 0, size: 0, mode: 0, uid: 0 });
}

// ───────────────────────────── blocks ─────────────────────────────

/**
 * The first zero bit of a bitmap (starting at `bitmapStart`, `bits` bits), searching
 * from `hint` and wrapping around to `low`; -1 if none.
 */
async function findZeroBit(vol: Volume, bitmapStart: number, bits: number, hint: number, low: number): Promise<number> {
  const start = hint >= low && hint < bits ? hint : low;
  const scan = async (from: number, to: number): Promise<number> => {
    for (let bit = from; bit < to;) {
      const bi = Math.floor(bit / BITS_PER_BLOCK);
      const bm = await vol.read(bitmapStart + bi);
      const end = Math.min(to, (bi + 1) * BITS_PER_BLOCK);
      while (bit < end) {
        const local = bit % BITS_PER_BLOCK;
        if ((local & 7) === 0 && bit + 8 <= end && bm[local >>> 3] === 0xff) {
          bit += 8;
          continue;
        }
        if (!bitGet(bm, local)) return bit;
        bit++;
      }
    }
    return -1;
  };
  const a = await scan(start, bits);
  return a >= 0 ? a : scan(low, start);
}

export async function allocBlock(vol: Volume): Promise<number> {
  const g = vol.geo;
  if (vol.alloc.freeBlocks <= 0) fail('ENOSPC', 'no free blocks');
  const b = await findZeroBit(vol, g.blockBitmapStart, g.blocks, vol.alloc.blockHint, g.dataStart);
  if (b < 0) fail('ENOSPC', 'no free blocks');
  bitSet(await vol.modify(g.blockBitmapStart + Math.floor(b / BITS_PER_BLOCK)), b % BITS_PER_BLOCK, true);
  vol.alloc.freeBlocks--;
  vol.alloc.blockHint = b + 1 < g.blocks ? b + 1 : g.dataStart;
  return b;
}

export async function freeBlock(vol: Volume, b: number): Promise<void> {
  const g = vol.geo;
  if (b < g.dataStart || b >= g.blocks) fail('EIO', `block pointer ${b} is outside the data region (the file system is damaged)`);
  const bm = await vol.modify(g.blockBitmapStart + Math.floor(b / BITS_PER_BLOCK));
  if (!bitGet(bm, b % BITS_PER_BLOCK)) fail('EIO', `block ${b} freed twice (the block bitmap is damaged)`);
  bitSet(bm, b % BITS_PER_BLOCK, false);
  vol.alloc.freeBlocks++;
  vol.forget(b);
}

function checkPtr(vol: Volume, p: number): number {
  if (p !== 0 && (p < vol.geo.dataStart || p >= vol.geo.blocks)) fail('EIO', `block pointer ${p} is outside the data region (the file system is damaged)`);
  return p;
}

/** The disk block holding file block `fb` of `n`, or 0 for a hole. */
export async function bmap(vol: Volume, n: Inode, fb: number): Promise<number> {
  if (fb < NDIRECT) return checkPtr(vol, n.direct[fb]!);
  fb -= NDIRECT;
  if (fb < P) return n.indirect ? checkPtr(vol, getPtr(await vol.read(checkPtr(vol, n.indirect)), fb)) : 0;
  fb -= P;
  if (fb >= P * P || !n.dindirect) return 0;
  const l1 = checkPtr(vol, getPtr(await vol.read(checkPtr(vol, n.dindirect)), Math.floor(fb / P)));
  return l1 ? checkPtr(vol, getPtr(await vol.read(l1), fb % P)) : 0;
}

/** The disk blocks of file blocks fb0..fb1 (0 for holes), reading each pointer table once. */
export async function mapRange(vol: Volume, n: Inode, fb0: number, fb1: number): Promise<number[]> {
  const out: number[] = [];
  let table: Uint8Array | null = null;
  let tableBlock = -1;
  for (let fb = fb0; fb <= fb1; fb++) {
    if (fb < NDIRECT) {
      out.push(checkPtr(vol, n.direct[fb]!));
      continue;
    }
    let i = fb - NDIRECT;
    let t: number;
    if (i < P) t = n.indirect;
    else {
      i -= P;
      if (i >= P * P || !n.dindirect) {
        out.push(0);
        continue;
      }
      t = checkPtr(vol, getPtr(await vol.read(checkPtr(vol, n.dindirect)), Math.floor(i / P)));
      i %= P;
    }
    if (!t) {
      out.push(0);
      continue;
    }
    if (t !== tableBlock) {
      table = await vol.read(checkPtr(vol, t));
      tableBlock = t;
    }
    out.push(checkPtr(vol, getPtr(table!, i)));
  }
  return out;
}

/** A zeroed new block (for an indirect block). */
async function newZeroBlock(vol: Volume): Promise<number> {
  const b = await allocBlock(vol);
  vol.fresh(b);
  return b;
}

/**
 * Like `bmap`, allocating what is missing (indirect blocks are zeroed; a new data block
 * is left for the caller to fill with `fresh`). Changes `n`'s pointers: store it after.
 */
async function bmapAlloc(vol: Volume, n: Inode, fb: number): Promise<{ block: number; isNew: boolean }> {
  if (fb >= MAX_FILE_BLOCKS) fail('EINVAL', 'file too large');
  if (fb < NDIRECT) {
    const cur = checkPtr(vol, n.direct[fb]!);
    if (cur) return { block: cur, isNew: false };
    const b = await allocBlock(vol);
    n.direct[fb] = b;
    return { block: b, isNew: true };
  }
  let i = fb - NDIRECT;
  let table: number;
  if (i < P) {
    if (!n.indirect) n.indirect = await newZeroBlock(vol);
    table = n.indirect;
  } else {
    i -= P;
    if (!n.dindirect) n.dindirect = await newZeroBlock(vol);
    const top = checkPtr(vol, n.dindirect);
    let l1 = checkPtr(vol, getPtr(await vol.read(top), Math.floor(i / P)));
    if (!l1) {
      l1 = await newZeroBlock(vol);
      setPtr(await vol.modify(top), Math.floor(i / P), l1);
    }
    table = l1;
    i %= P;
  }
  const cur = checkPtr(vol, getPtr(await vol.read(table), i));
  if (cur) return { block: cur, isNew: false };
  const b = await allocBlock(vol);
  setPtr(await vol.modify(table), i, b);
  return { block: b, isNew: true };
}

/** How many blocks (data and indirect) writing file blocks fb0..fb1 of `n` would allocate. */
export async function blocksToAllocate(vol: Volume, n: Inode, fb0: number, fb1: number): Promise<number> {
  let need = 0;
  for (const b of await mapRange(vol, n, fb0, fb1)) if (b === 0) need++;
  if (fb1 >= NDIRECT && fb0 < NDIRECT + P && !n.indirect) need++;
  if (fb1 >= NDIRECT + P) {
    const j0 = Math.floor((Math.max(fb0, NDIRECT + P) - NDIRECT - P) / P);
    const j1 = Math.floor((fb1 - NDIRECT - P) / P);
    if (!n.dindirect) need += 1 + (j1 - j0 + 1);
    else {
      const top = await vol.read(n.dindirect);
      for (let j = j0; j <= j1; j++) if (!getPtr(top, j)) need++;
    }
  }
  return need;
}

// ───────────────────────────── contents ─────────────────────────────

/** Up to `length` bytes at `offset` (shorter at the end of the file). */
export async function readData(vol: Volume, n: Inode, offset: number, length: number): Promise<Uint8Array> {
  const end = Math.min(n.size, offset + length);
  if (offset >= end) return new Uint8Array(0);
  const out = new Uint8Array(end - offset);
  const fb0 = Math.floor(offset / BLOCK_SIZE);
  const fb1 = Math.floor((end - 1) / BLOCK_SIZE);
  const blocks = await vol.readMany(await mapRange(vol, n, fb0, fb1));
  for (let fb = fb0; fb <= fb1; fb++) {
    const blockStart = fb * BLOCK_SIZE;
    const from = Math.max(offset, blockStart);
    const to = Math.min(end, blockStart + BLOCK_SIZE);
    out.set(blocks[fb - fb0]!.subarray(from - blockStart, to - blockStart), from - offset);
  }
  return out;
}

/** Write `data` at `offset`, allocating blocks; grows `size`. Changes `n`: store it after. */
export async function writeData(vol: Volume, n: Inode, offset: number, data: Uint8Array): Promise<void> {
  const end = offset + data.length;
  for (let pos = offset; pos < end;) {
    const fb = Math.floor(pos / BLOCK_SIZE);
    const within = pos - fb * BLOCK_SIZE;
    const take = Math.min(BLOCK_SIZE - within, end - pos);
    const { block, isNew } = await bmapAlloc(vol, n, fb);
    const buf = isNew || take === BLOCK_SIZE ? vol.fresh(block) : await vol.modify(block);
    buf.set(data.subarray(pos - offset, pos - offset + take), within);
    pos += take;
  }
  if (end > n.size) n.size = end;
  n.mtime = n.ctime = vol.now;
}

/**
 * Set the size: shrinking frees the blocks past the new end and zeroes the rest of the
 * last block (so bytes past the end always read as zeros); growing leaves a hole.
 * Changes `n`: store it after.
 */
export async function truncateData(vol: Volume, n: Inode, size: number): Promise<void> {
  if (size < n.size) {
    const keep = Math.ceil(size / BLOCK_SIZE);
    await freeFrom(vol, n, keep);
    const tail = size % BLOCK_SIZE;
    if (tail !== 0) {
      const last = await bmap(vol, n, keep - 1);
      if (last) (await vol.modify(last)).fill(0, tail);
    }
  }
  n.size = size;
  n.mtime = n.ctime = vol.now;
}

/** Free file blocks keep.. and the indirect blocks no longer needed. Changes `n`. */
async function freeFrom(vol: Volume, n: Inode, keep: number): Promise<void> {
  for (let i = keep; i < NDIRECT; i++) {
    if (n.direct[i]) {
      await freeBlock(vol, n.direct[i]!);
      n.direct[i] = 0;
    }
  }
  if (n.indirect) {
    const from = Math.max(0, keep - NDIRECT);
    if (await freeTable(vol, n.indirect, from, 1)) {
      await freeBlock(vol, n.indirect);
      n.indirect = 0;
    }
  }
  if (n.dindirect) {
    const from = Math.max(0, keep - NDIRECT - P);
    if (await freeTable(vol, n.dindirect, from, 2)) {
      await freeBlock(vol, n.dindirect);
      n.dindirect = 0;
    }
  }
}

/**
 * Free what the pointer table `table` (of depth 1 or 2) maps from entry `from` (in data
 * blocks) on. True when the whole table is now unused (the caller frees it); else the
 * freed pointers are zeroed in it.
 */
async function freeTable(vol: Volume, table: number, from: number, depth: 1 | 2): Promise<boolean> {
  const span = depth === 1 ? 1 : P;
  const first = Math.floor(from / span);
  const t = await vol.read(checkPtr(vol, table));
  const cleared: number[] = [];
  for (let i = first; i < P; i++) {
    const p = checkPtr(vol, getPtr(t, i));
    if (!p) continue;
    if (depth === 1) {
      await freeBlock(vol, p);
      cleared.push(i);
    } else {
      const sub = i === first ? from - i * P : 0;
      if (await freeTable(vol, p, sub, 1)) {
        await freeBlock(vol, p);
        cleared.push(i);
      }
    }
  }
  if (from === 0) return true;
  if (cleared.length > 0) {
    const m = await vol.modify(table);
    for (const i of cleared) setPtr(m, i, 0);
  }
  return false;
}

/** Append one zeroed block to a directory (its size is always whole blocks). Changes `n`. */
export async function appendBlock(vol: Volume, n: Inode): Promise<Uint8Array> {
  const { block } = await bmapAlloc(vol, n, n.size / BLOCK_SIZE);
  n.size += BLOCK_SIZE;
  return vol.fresh(block);
}
