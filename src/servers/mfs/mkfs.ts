/**
 * mkfs: lay a fresh Molt file system on a block device — the server's first-boot format
 * and `molt mkfs` share it. Pure over `BlockDevice`.
 *
 * Order matters for a crash during format: 1. the old superblock is wiped first (a
 * half-formatted disk holds no file system, and is formatted again next boot); 2. the
 * bitmaps, inode table, empty journal and the standard directories are written; 3. flush;
 * 4. the new superblock is written last; 5. flush.
 *
 * Entry points: `format(dev, options)`, `probe(dev)`, `STANDARD_DIRS`.
 */
import {
  BITS_PER_BLOCK, BLOCK_SIZE, FS_VERSION, bitSet, computeGeometry, decodeSuperblock, emptyInode, encodeDirent, encodeInode,
  encodeSuperblock, inodeLocation, type DecodedSuperblock, type Geometry, type Superblock,
} from './layout.js';
import { encodeEmptyJournal, type BlockDevice } from './journal.js';
import { ROOT_INO } from './protocol.js';

/** The directories every new file system has under `/`. */
export const STANDARD_DIRS: ReadonlyArray<{ name: string; mode: number }> = [
  { name: 'tmp', mode: 0o1777 },
  { name: 'etc', mode: 0o755 },
  { name: 'bin', mode: 0o755 },
  { name: 'home', mode: 0o755 },
];

export interface FormatOptions {
  /** Creation time (ms since epoch) of the superblock and the first inodes. */
  now: number;
  dirs?: ReadonlyArray<{ name: string; mode: number }>;
  /**
   * The device reads as zeros everywhere mkfs has not written (a disk image the kernel
   * has just created): the inode table need not be zeroed.
   */
  zeroed?: boolean;
}

/** What is on the device now: a file system, nothing, or a damaged superblock. */
export async function probe(dev: BlockDevice): Promise<DecodedSuperblock> {
  return decodeSuperblock(await dev.read(0, 1));
}

/** Largest run of blocks written in one request. */
const RUN = 256;

async function writeZeros(dev: BlockDevice, start: number, count: number): Promise<void> {
  const zeros = new Uint8Array(Math.min(count, RUN) * BLOCK_SIZE);
  for (let b = start; b < start + count; b += RUN) {
    const n = Math.min(RUN, start + count - b);
    await dev.write(b, n === RUN ? zeros : zeros.subarray(0, n * BLOCK_SIZE));
  }
}

/** A bitmap region with bits [0, used) set and the bits past `bits` set (they do not exist). */
function bitmap(blocks: number, used: number, bits: number): Uint8Array {
  const b = new Uint8Array(blocks * BLOCK_SIZE);
  for (let i = 0; i < used; i++) bitSet(b, i, true);
  for (let i = bits; i < blocks * BITS_PER_BLOCK; i++) bitSet(b, i, true);
  return b;
}

export async function format(dev: BlockDevice, options: FormatOptions): Promise<Superblock> {
  const g: Geometry = computeGeometry(dev.blocks);
  const dirs = options.dirs ?? STANDARD_DIRS;
  const now = options.now;
  // 1. No file system while we work.
  await dev.write(0, new Uint8Array(BLOCK_SIZE));
  await dev.flush();
  // 2. Inode table (zeros = free inodes), empty journal.
  if (!options.zeroed) await writeZeros(dev, g.inodeTableStart, g.inodeTableBlocks);
  await dev.write(g.journalStart, encodeEmptyJournal(0));
  // 3. The root (inode 1, block dataStart) and the standard directories (inodes 2…, blocks dataStart+1…).
  const inodeBlocks = new Map<number, Uint8Array>();
  const putInode = (ino: number, kind: 'dir', mode: number, nlink: number, block: number) => {
    const n = emptyInode(ino, kind, mode, 0, now);
    n.nlink = nlink;
    n.size = BLOCK_SIZE;
    n.direct[0] = block;
    const loc = inodeLocation(g, ino);
    let b = inodeBlocks.get(loc.block);
    if (!b) inodeBlocks.set(loc.block, (b = new Uint8Array(BLOCK_SIZE)));
    encodeInode(b, loc.offset, n);
  };
  const root = new Uint8Array(BLOCK_SIZE);
  encodeDirent(root, 0, { ino: ROOT_INO, name: '.' });
  encodeDirent(root, 1, { ino: ROOT_INO, name: '..' });
  putInode(ROOT_INO, 'dir', 0o755, 2 + dirs.length, g.dataStart);
  for (const [i, d] of dirs.entries()) {
    const ino = ROOT_INO + 1 + i;
    const block = g.dataStart + 1 + i;
    encodeDirent(root, 2 + i, { ino, name: d.name });
    const own = new Uint8Array(BLOCK_SIZE);
    encodeDirent(own, 0, { ino, name: '.' });
    encodeDirent(own, 1, { ino: ROOT_INO, name: '..' });
    await dev.write(block, own);
    putInode(ino, 'dir', d.mode, 2, block);
  }
  await dev.write(g.dataStart, root);
  for (const [block, data] of inodeBlocks) await dev.write(block, data);
  // 4. Bitmaps: inode 0 (reserved), the root and the directories; the metadata region and their blocks.
  await dev.write(g.inodeBitmapStart, bitmap(g.inodeBitmapBlocks, ROOT_INO + 1 + dirs.length, g.inodes));
  await dev.write(g.blockBitmapStart, bitmap(g.blockBitmapBlocks, g.dataStart + 1 + dirs.length, g.blocks));
  await dev.flush();
  // 5. Now it is a file system.
  const sb: Superblock = { ...g, version: FS_VERSION, createdAt: now };
  await dev.write(0, encodeSuperblock(sb));
  await dev.flush();
  return sb;
}
