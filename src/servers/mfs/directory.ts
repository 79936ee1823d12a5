/**
 * mfs: directories — files of fixed-size entries (layout.ts). Slot 0 of the first block
 * is `.`, slot 1 is `..`; a free slot has inode 0; a directory grows a block at a time
 * and never shrinks. Everything here runs inside one atomic step.
 *
 * Entry points: `scanDir`, `findEntry`, `listEntries`, `addEntry`, `clearEntry`, `setEntryIno`,
 * `makeDirBlock`, `isEmptyDir`, `dirOf`.
 */
import {
  BLOCK_SIZE, DIRENTS_PER_BLOCK, decodeDirent, direntIno, direntNameIs, encodeDirent, nameBytes, type Inode,
} from './layout.js';
import { appendBlock, bmap, mapRange, usedInode } from './inode.js';
import { fail, type Volume } from './volume.js';

/** Where an entry lives: file block index and slot in it. */
export interface EntryAt {
  ino: number;
  name: string;
  fb: number;
  slot: number;
}

/** A directory inode (ENOTDIR if it is not one). */
export async function dirOf(vol: Volume, ino: number): Promise<Inode> {
  const d = await usedInode(vol, ino);
  if (d.kind !== 'dir') fail('ENOTDIR', `inode ${ino} is not a directory`);
  return d;
}

/** A free slot. */
export interface FreeSlot {
  fb: number;
  slot: number;
}

/** Visit every block of a directory; stop early when `visit` returns true. */
async function eachBlock(vol: Volume, dir: Inode, visit: (block: Uint8Array, fb: number) => boolean): Promise<boolean> {
  const n = Math.floor(dir.size / BLOCK_SIZE);
  if (n === 0) return false;
  const disks = await mapRange(vol, dir, 0, n - 1);
  for (let fb = 0; fb < n; fb++) {
    if (!disks[fb]) continue;
    if (visit(await vol.read(disks[fb]!), fb)) return true;
  }
  return false;
}

/** One pass over a directory: where `name` is, and the first free slot (for adding it). */
export async function scanDir(vol: Volume, dir: Inode, name: string): Promise<{ found: EntryAt | null; free: FreeSlot | null }> {
  const want = nameBytes(name);
  let found: EntryAt | null = null;
  let free: FreeSlot | null = null;
  await eachBlock(vol, dir, (b, fb) => {
    for (let slot = 0; slot < DIRENTS_PER_BLOCK; slot++) {
      const ino = direntIno(b, slot);
      if (ino === 0) {
        free ??= { fb, slot };
      } else if (direntNameIs(b, slot, want)) {
        found = { ino, name, fb, slot };
        return true;
      }
    }
    return false;
  });
  return { found, free };
}

export async function findEntry(vol: Volume, dir: Inode, name: string): Promise<EntryAt | null> {
  return (await scanDir(vol, dir, name)).found;
}

/** Every entry, `.` and `..` included, in slot order. */
export async function listEntries(vol: Volume, dir: Inode): Promise<EntryAt[]> {
  const out: EntryAt[] = [];
  await eachBlock(vol, dir, (b, fb) => {
    for (let slot = 0; slot < DIRENTS_PER_BLOCK; slot++) {
      const e = decodeDirent(b, slot);
      if (e) out.push({ ...e, fb, slot });
    }
    return false;
  });
  return out;
}

/** True if the directory holds nothing but `.` and `..`. */
export async function isEmptyDir(vol: Volume, dir: Inode): Promise<boolean> {
  const nonEmpty = await eachBlock(vol, dir, (b, fb) => {
    for (let slot = fb === 0 ? 2 : 0; slot < DIRENTS_PER_BLOCK; slot++) if (direntIno(b, slot) !== 0) return true;
    return false;
  });
  return !nonEmpty;
}

/**
 * Put `name → ino` in a free slot — `free` from a `scanDir` of this step (null: there is
 * none), or found here — growing the directory if it is full. Changes `dir` (store it after).
 */
export async function addEntry(vol: Volume, dir: Inode, name: string, ino: number, free?: FreeSlot | null): Promise<void> {
  const at = free === undefined ? (await scanDir(vol, dir, '')).free : free;
  if (at) encodeDirent(await entryBlock(vol, dir, at.fb), at.slot, { ino, name });
  else encodeDirent(await appendBlock(vol, dir), 0, { ino, name });
  dir.mtime = dir.ctime = vol.now;
}

async function entryBlock(vol: Volume, dir: Inode, fb: number): Promise<Uint8Array> {
  const disk = await bmap(vol, dir, fb);
  if (!disk) fail('EIO', `directory ${dir.ino} has a hole at block ${fb}`);
  return vol.modify(disk);
}

export async function clearEntry(vol: Volume, dir: Inode, at: EntryAt): Promise<void> {
  encodeDirent(await entryBlock(vol, dir, at.fb), at.slot, null);
  dir.mtime = dir.ctime = vol.now;
}

export async function setEntryIno(vol: Volume, dir: Inode, at: EntryAt, ino: number): Promise<void> {
  encodeDirent(await entryBlock(vol, dir, at.fb), at.slot, { ino, name: at.name });
  dir.mtime = dir.ctime = vol.now;
}

/** Give a new directory its first block: `.` → itself, `..` → parent. Changes `dir`. */
export async function makeDirBlock(vol: Volume, dir: Inode, parent: number): Promise<void> {
  const b = await appendBlock(vol, dir);
  encodeDirent(b, 0, { ino: dir.ino, name: '.' });
  encodeDirent(b, 1, { ino: parent, name: '..' });
}
