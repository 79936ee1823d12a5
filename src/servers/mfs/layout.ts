/**
 * mfs on-disk layout: the format of a Molt file system on a block device, as pure
 * encode/decode functions (shared by the server, `molt mkfs` and `molt fsck`).
 *
 *   block 0                 superblock (magic, version, geometry, crc32)
 *   inodeBitmapStart …      inode bitmap   (bit i = inode i in use; inode 0 is reserved)
 *   blockBitmapStart …      block bitmap   (bit b = block b in use; metadata blocks are in use)
 *   inodeTableStart …       inode table    (INODE_SIZE-byte inodes, INODES_PER_BLOCK a block)
 *   journalStart …          write-ahead journal (see journal.ts)
 *   dataStart … blocks-1    data: file blocks, directory blocks, indirect blocks
 *
 * An inode has NDIRECT direct block pointers, one single-indirect and one double-indirect
 * pointer (PTRS_PER_BLOCK 32-bit pointers an indirect block). Pointer 0 is a hole (block 0
 * is the superblock, never data). A directory is a file of DIRENT_SIZE-byte entries
 * (ino 0 = empty slot); slot 0 is `.`, slot 1 is `..`. Bitmap bits past the end of the
 * disk / inode table are set, so the allocator never hands them out.
 *
 * Entry points: `computeGeometry`, `encodeSuperblock` / `decodeSuperblock`,
 * `inodeLocation`, `decodeInode` / `encodeInode`, `decodeDirent` / `encodeDirent`,
 * `validName`, bitmap helpers, `crc32`.
 */
import { NAME_MAX, type FileKind } from './protocol.js';

export const BLOCK_SIZE = 4096;
/** "MOLT" */
export const MAGIC = 0x4d4f4c54;
export const FS_VERSION = 1;

export const INODE_SIZE = 128;
export const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
export const DIRENT_SIZE = 64;
export const DIRENTS_PER_BLOCK = BLOCK_SIZE / DIRENT_SIZE;
export const NDIRECT = 12;
export const PTRS_PER_BLOCK = BLOCK_SIZE / 4;
export const BITS_PER_BLOCK = BLOCK_SIZE * 8;
/** File blocks reachable through direct + single + double indirect pointers. */
export const MAX_FILE_BLOCKS = NDIRECT + PTRS_PER_BLOCK + PTRS_PER_BLOCK * PTRS_PER_BLOCK;
export const MAX_FILE_SIZE = MAX_FILE_BLOCKS * BLOCK_SIZE;
/** Smallest disk mkfs accepts (1 MiB). */
export const MIN_BLOCKS = 256;
/** Largest: block numbers are 32-bit. */
export const MAX_BLOCKS = 0xffff_fff0;

/** Where each region is: fixed at mkfs, recorded in the superblock. */
export interface Geometry {
  blocks: number;
  inodes: number;
  inodeBitmapStart: number;
  inodeBitmapBlocks: number;
  blockBitmapStart: number;
  blockBitmapBlocks: number;
  inodeTableStart: number;
  inodeTableBlocks: number;
  journalStart: number;
  journalBlocks: number;
  dataStart: number;
}

export interface Superblock extends Geometry {
  version: number;
  /** When mkfs ran (ms since epoch). */
  createdAt: number;
}

/** The geometry mkfs gives a disk of `blocks` blocks: one inode per 16 KiB, a journal of 1/16 (64..4096 blocks: up to 16 MiB per commit). */
export function computeGeometry(blocks: number): Geometry {
  if (!Number.isSafeInteger(blocks) || blocks < MIN_BLOCKS || blocks > MAX_BLOCKS) {
    throw new RangeError(`a file system needs ${MIN_BLOCKS}..${MAX_BLOCKS} blocks (got ${blocks})`);
  }
  const inodes = Math.min(Math.max(Math.ceil(blocks / 4 / INODES_PER_BLOCK) * INODES_PER_BLOCK, 64), 1 << 22);
  const inodeBitmapBlocks = Math.ceil(inodes / BITS_PER_BLOCK);
  const blockBitmapBlocks = Math.ceil(blocks / BITS_PER_BLOCK);
  const inodeTableBlocks = inodes / INODES_PER_BLOCK;
  const journalBlocks = Math.min(Math.max(Math.floor(blocks / 16), 64), 4096);
  const inodeBitmapStart = 1;
  const blockBitmapStart = inodeBitmapStart + inodeBitmapBlocks;
  const inodeTableStart = blockBitmapStart + blockBitmapBlocks;
  const journalStart = inodeTableStart + inodeTableBlocks;
  const dataStart = journalStart + journalBlocks;
  if (dataStart + 16 > blocks) throw new RangeError(`${blocks} blocks leave no room for data`);
  return {
    blocks, inodes, inodeBitmapStart, inodeBitmapBlocks, blockBitmapStart, blockBitmapBlocks,
    inodeTableStart, inodeTableBlocks, journalStart, journalBlocks, dataStart,
  };
}

// ───────────────────────────── superblock ─────────────────────────────

const SB_FIELDS = [
  'blocks', 'inodes', 'inodeBitmapStart', 'inodeBitmapBlocks', 'blockBitmapStart', 'blockBitmapBlocks',
  'inodeTableStart', 'inodeTableBlocks', 'journalStart', 'journalBlocks', 'dataStart',
] as const satisfies ReadonlyArray<keyof Geometry>;

/** magic u32 · version u32 · createdAt f64 · geometry u32 × 11 · … · crc32 of bytes 0..SB_CRC_AT. */
const SB_CRC_AT = 128;

export function encodeSuperblock(sb: Superblock): Uint8Array {
  const b = new Uint8Array(BLOCK_SIZE);
  const v = view(b);
  v.setUint32(0, MAGIC);
  v.setUint32(4, sb.version);
  v.setFloat64(8, sb.createdAt);
  SB_FIELDS.forEach((f, i) => v.setUint32(16 + 4 * i, sb[f]));
  v.setUint32(SB_CRC_AT, crc32(b.subarray(0, SB_CRC_AT)));
  return b;
}

export type DecodedSuperblock =
  | { ok: true; sb: Superblock }
  /** `none`: no Molt file system here (no magic); `damaged`: the magic is there but the rest is not right. */
  | { ok: false; why: 'none' | 'damaged'; message: string };

export function decodeSuperblock(b: Uint8Array): DecodedSuperblock {
  const v = view(b);
  if (b.length < BLOCK_SIZE || v.getUint32(0) !== MAGIC) return { ok: false, why: 'none', message: 'no Molt file system (bad magic)' };
  if (v.getUint32(SB_CRC_AT) !== crc32(b.subarray(0, SB_CRC_AT))) return { ok: false, why: 'damaged', message: 'superblock checksum mismatch' };
  const version = v.getUint32(4);
  if (version !== FS_VERSION) return { ok: false, why: 'damaged', message: `unsupported file system version ${version} (this is ${FS_VERSION})` };
  const geo = {} as Geometry;
  SB_FIELDS.forEach((f, i) => (geo[f] = v.getUint32(16 + 4 * i)));
  const bad = checkGeometry(geo);
  if (bad) return { ok: false, why: 'damaged', message: `superblock geometry: ${bad}` };
  return { ok: true, sb: { ...geo, version, createdAt: v.getFloat64(8) } };
}

/** Regions in order, without overlap, sized for what they cover; null when sound. */
export function checkGeometry(g: Geometry): string | null {
  if (g.blocks < MIN_BLOCKS) return `${g.blocks} blocks is too small`;
  if (g.inodes < INODES_PER_BLOCK || g.inodes % INODES_PER_BLOCK !== 0) return `inode count ${g.inodes} is not a positive multiple of ${INODES_PER_BLOCK}`;
  if (g.inodeBitmapStart !== 1) return 'inode bitmap does not follow the superblock';
  if (g.inodeBitmapBlocks !== Math.ceil(g.inodes / BITS_PER_BLOCK)) return 'inode bitmap size does not match the inode count';
  if (g.blockBitmapStart !== g.inodeBitmapStart + g.inodeBitmapBlocks) return 'block bitmap is misplaced';
  if (g.blockBitmapBlocks !== Math.ceil(g.blocks / BITS_PER_BLOCK)) return 'block bitmap size does not match the block count';
  if (g.inodeTableStart !== g.blockBitmapStart + g.blockBitmapBlocks) return 'inode table is misplaced';
  if (g.inodeTableBlocks !== g.inodes / INODES_PER_BLOCK) return 'inode table size does not match the inode count';
  if (g.journalStart !== g.inodeTableStart + g.inodeTableBlocks) return 'journal is misplaced';
  if (g.journalBlocks < 8) return 'journal is too small';
  if (g.dataStart !== g.journalStart + g.journalBlocks) return 'data region is misplaced';
  if (g.dataStart >= g.blocks) return 'no data region';
  return null;
}

// ───────────────────────────── inodes ─────────────────────────────

export type InodeKind = 'free' | FileKind;
const KIND_CODE: Record<InodeKind, number> = { free: 0, file: 1, dir: 2 };
const CODE_KIND: Record<number, InodeKind> = { 0: 'free', 1: 'file', 2: 'dir' };

/** An inode as the server and fsck see it (plain data; encoded to INODE_SIZE bytes). */
export interface Inode {
  ino: number;
  kind: InodeKind;
  /** Permission bits. */
  mode: number;
  uid: number;
  nlink: number;
  size: number;
  mtime: number;
  ctime: number;
  /** NDIRECT block pointers (0 = hole). */
  direct: number[];
  indirect: number;
  dindirect: number;
}

/**
 * Byte layout: kind u8 · pad u8 · mode u16 · uid u32 · nlink u32 · pad u32 · size f64 ·
 * mtime f64 · ctime f64 · direct u32 × 12 · indirect u32 · dindirect u32 (= 96 bytes).
 */
export function inodeLocation(g: Geometry, ino: number): { block: number; offset: number } {
  return { block: g.inodeTableStart + Math.floor(ino / INODES_PER_BLOCK), offset: (ino % INODES_PER_BLOCK) * INODE_SIZE };
}

export function decodeInode(block: Uint8Array, offset: number, ino: number): Inode & { kindCode: number } {
  const v = view(block);
  const kindCode = block[offset]!;
  const direct: number[] = [];
  for (let i = 0; i < NDIRECT; i++) direct.push(v.getUint32(offset + 40 + 4 * i));
  return {
    ino,
    kind: CODE_KIND[kindCode] ?? 'free',
    kindCode,
    mode: v.getUint16(offset + 2),
    uid: v.getUint32(offset + 4),
    nlink: v.getUint32(offset + 8),
    size: v.getFloat64(offset + 16),
    mtime: v.getFloat64(offset + 24),
    ctime: v.getFloat64(offset + 32),
    direct,
    indirect: v.getUint32(offset + 40 + 4 * NDIRECT),
    dindirect: v.getUint32(offset + 44 + 4 * NDIRECT),
  };
}

export function encodeInode(block: Uint8Array, offset: number, n: Inode): void {
  block.fill(0, offset, offset + INODE_SIZE);
  const v = view(block);
  block[offset] = KIND_CODE[n.kind];
  v.setUint16(offset + 2, n.mode & 0xffff);
  v.setUint32(offset + 4, n.uid >>> 0);
  v.setUint32(offset + 8, n.nlink >>> 0);
  v.setFloat64(offset + 16, n.size);
  v.setFloat64(offset + 24, n.mtime);
  v.setFloat64(offset + 32, n.ctime);
  for (let i = 0; i < NDIRECT; i++) v.setUint32(offset + 40 + 4 * i, n.direct[i] ?? 0);
  v.setUint32(offset + 40 + 4 * NDIRECT, n.indirect);
  v.setUint32(offset + 44 + 4 * NDIRECT, n.dindirect);
}

export function emptyInode(ino: number, kind: FileKind, mode: number, uid: number, now: number): Inode {
  return { ino, kind, mode, uid, nlink: 0, size: 0, mtime: now, ctime: now, direct: new Array<number>(NDIRECT).fill(0), indirect: 0, dindirect: 0 };
}

// ───────────────────────────── directory entries ─────────────────────────────

/** ino u32 · name length u8 · name (UTF-8, up to NAME_MAX bytes). */
export interface Dirent {
  ino: number;
  name: string;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function decodeDirent(block: Uint8Array, slot: number): Dirent | null {
  const off = slot * DIRENT_SIZE;
  const ino = view(block).getUint32(off);
  if (ino === 0) return null;
  const len = Math.min(block[off + 4]!, NAME_MAX);
  return { ino, name: fromUtf8.decode(block.subarray(off + 5, off + 5 + len)) };
}

/** The inode number of a slot (0: free), read without decoding the entry. */
export function direntIno(block: Uint8Array, slot: number): number {
  const o = slot * DIRENT_SIZE;
  return ((block[o]! << 24) | (block[o + 1]! << 16) | (block[o + 2]! << 8) | block[o + 3]!) >>> 0;
}

/** Does the slot hold exactly these name bytes? (Compared without decoding.) */
export function direntNameIs(block: Uint8Array, slot: number, name: Uint8Array): boolean {
  const off = slot * DIRENT_SIZE;
  if (block[off + 4] !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (block[off + 5 + i] !== name[i]) return false;
  return true;
}

export function encodeDirent(block: Uint8Array, slot: number, e: Dirent | null): void {
  const off = slot * DIRENT_SIZE;
  block.fill(0, off, off + DIRENT_SIZE);
  if (!e) return;
  const name = utf8.encode(e.name);
  if (name.length > NAME_MAX) throw new RangeError(`name longer than ${NAME_MAX} bytes`);
  view(block).setUint32(off, e.ino);
  block[off + 4] = name.length;
  block.set(name, off + 5);
}

export function nameBytes(name: string): Uint8Array {
  return utf8.encode(name);
}

/** Whether `name` may be a directory entry: null when fine, else the error code. */
export function validName(name: string): null | 'EINVAL' | 'ENAMETOOLONG' {
  if (name.length === 0 || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return 'EINVAL';
  if (utf8.encode(name).length > NAME_MAX) return 'ENAMETOOLONG';
  return null;
}

// ───────────────────────────── bitmaps, pointers ─────────────────────────────

export function bitGet(b: Uint8Array, bit: number): boolean {
  return (b[bit >>> 3]! & (1 << (bit & 7))) !== 0;
}

export function bitSet(b: Uint8Array, bit: number, on: boolean): void {
  if (on) b[bit >>> 3]! |= 1 << (bit & 7);
  else b[bit >>> 3]! &= ~(1 << (bit & 7));
}

export function getPtr(b: Uint8Array, i: number): number {
  return view(b).getUint32(i * 4);
}

export function setPtr(b: Uint8Array, i: number, v: number): void {
  view(b).setUint32(i * 4, v);
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// ───────────────────────────── crc32 ─────────────────────────────

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE), continuing from `crc` (pass the previous result to checksum in pieces). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
