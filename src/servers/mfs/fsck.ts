/**
 * fsck: check a Molt file system on a block device, read-only — `molt fsck`, the
 * `mfs.fsck` request and the tests share it. Pure over `BlockDevice`.
 *
 * Checks, in order:
 *  1. the superblock (magic, version, checksum, geometry, fits the device);
 *  2. the journal: a committed transaction not yet written in place is what mount will
 *     replay, so the rest is checked as it will be after the replay (a note, not an error);
 *     an incomplete transaction is ignored (a note); a damaged journal is an error;
 *  3. every inode: known kind, sane size, block pointers inside the data region, no block
 *     used twice, no block past the size (size vs pointers), directories without holes;
 *  4. the tree from the root: `.` and `..` first in every directory, entry names valid and
 *     unique, every entry pointing at an inode in use, every directory reached once (no
 *     cycles, no hard links to directories);
 *  5. link counts against the entries found, and no orphan inodes;
 *  6. both bitmaps against the inodes and blocks actually in use.
 *
 * Entry points: `fsck(dev) → FsckReport`, `formatReport(report)`.
 */
import {
  BITS_PER_BLOCK, BLOCK_SIZE, DIRENTS_PER_BLOCK, INODES_PER_BLOCK, MAX_FILE_SIZE, NDIRECT, PTRS_PER_BLOCK,
  bitGet, decodeDirent, decodeInode, decodeSuperblock, getPtr, validName, type Inode,
} from './layout.js';
import { readJournal, type BlockDevice } from './journal.js';
import { ROOT_INO, type FsckReport } from './protocol.js';

/** Errors kept in the report (the rest are counted). */
const MAX_ERRORS = 200;

export async function fsck(dev: BlockDevice): Promise<FsckReport> {
  const errors: string[] = [];
  const notes: string[] = [];
  let dropped = 0;
  const error = (m: string) => (errors.length < MAX_ERRORS ? errors.push(m) : dropped++);
  const summary: FsckReport['summary'] = { blocks: dev.blocks, dataBlocks: 0, usedDataBlocks: 0, inodes: 0, usedInodes: 0, files: 0, dirs: 0, journal: 'unknown' };
  const finish = (): FsckReport => {
    if (dropped > 0) errors.push(`… and ${dropped} more errors`);
    return { clean: errors.length === 0, errors, notes, summary };
  };

  // 1. Superblock.
  const decoded = decodeSuperblock(await dev.read(0, 1));
  if (!decoded.ok) {
    error(`superblock: ${decoded.message}`);
    return finish();
  }
  const g = decoded.sb;
  summary.blocks = g.blocks;
  summary.dataBlocks = g.blocks - g.dataStart;
  summary.inodes = g.inodes - 1;
  if (g.blocks > dev.blocks) {
    error(`superblock: the file system has ${g.blocks} blocks but the device only ${dev.blocks}`);
    return finish();
  }

  // 2. Journal: an overlay of what mount would replay.
  const overlay = new Map<number, Uint8Array>();
  const j = await readJournal(dev, g);
  switch (j.state) {
    case 'empty':
      summary.journal = 'empty';
      break;
    case 'incomplete':
      summary.journal = 'incomplete';
      notes.push(`journal: transaction ${j.seq} was never committed (${j.reason}); it is ignored, as mount will ignore it`);
      break;
    case 'garbage':
      summary.journal = 'damaged';
      error(`journal: ${j.reason}`);
      break;
    case 'committed': {
      let pending = 0;
      for (const [target, data] of j.blocks) {
        const cur = await dev.read(target, 1);
        if (!equal(cur, data)) pending++;
        overlay.set(target, data);
      }
      summary.journal = pending > 0 ? 'committed' : 'applied';
      notes.push(pending > 0
        ? `journal: committed transaction ${j.seq} (${j.blocks.length} blocks, ${pending} not yet in place) will be replayed at mount; checked as replayed`
        : `journal: transaction ${j.seq} (${j.blocks.length} blocks) is already in place`);
      break;
    }
  }
  const read = async (block: number, count: number): Promise<Uint8Array> => {
    const data = await dev.read(block, count);
    for (let i = 0; i < count; i++) {
      const o = overlay.get(block + i);
      if (o) data.set(o, i * BLOCK_SIZE);
    }
    return data;
  };

  // 3. Inodes and the blocks they use.
  const inodeBitmap = await read(g.inodeBitmapStart, g.inodeBitmapBlocks);
  const blockBitmap = await read(g.blockBitmapStart, g.blockBitmapBlocks);
  /** Block → owner: 0 free, -1 metadata, else the inode. */
  const owner = new Int32Array(g.blocks);
  owner.fill(-1, 0, g.dataStart);
  const used = new Map<number, Inode>();
  /** A directory's data blocks, in file order. */
  const dirBlocks = new Map<number, number[]>();
  for (let tb = 0; tb < g.inodeTableBlocks; tb += 256) {
    const count = Math.min(256, g.inodeTableBlocks - tb);
    const table = await read(g.inodeTableStart + tb, count);
    for (let k = 0; k < count * INODES_PER_BLOCK; k++) {
      const ino = tb * INODES_PER_BLOCK + k;
      if (ino === 0) continue;
      const blockBytes = table.subarray(Math.floor(k / INODES_PER_BLOCK) * BLOCK_SIZE, (Math.floor(k / INODES_PER_BLOCK) + 1) * BLOCK_SIZE);
      const n = decodeInode(blockBytes, (k % INODES_PER_BLOCK) * 128, ino);
      if (n.kindCode > 2) {
        error(`inode ${ino}: unknown kind ${n.kindCode}`);
        continue;
      }
      if (n.kind === 'free') continue;
      used.set(ino, n);
    }
  }
  summary.usedInodes = used.size;
  for (const n of used.values()) {
    if (n.kind === 'dir') summary.dirs++;
    else summary.files++;
    if (!Number.isSafeInteger(n.size) || n.size < 0 || n.size > MAX_FILE_SIZE) {
      error(`inode ${n.ino}: impossible size ${n.size}`);
      continue;
    }
    const sizeBlocks = Math.ceil(n.size / BLOCK_SIZE);
    const blocks: number[] = [];
    let bad = 0;
    const claim = (p: number, what: string): boolean => {
      if (p < g.dataStart || p >= g.blocks) {
        if (bad++ < 5) error(`inode ${n.ino}: ${what} points at block ${p}, outside the data region`);
        return false;
      }
      if (owner[p] !== 0) {
        if (bad++ < 5) error(`block ${p} is used twice: by ${owner[p] === -1 ? 'metadata' : `inode ${owner[p]}`} and by inode ${n.ino} (${what})`);
        return false;
      }
      owner[p] = n.ino;
      return true;
    };
    const data = (fb: number, p: number) => {
      if (!p || !claim(p, `file block ${fb}`)) return;
      if (fb >= sizeBlocks && bad++ < 5) error(`inode ${n.ino}: file block ${fb} is allocated past its size ${n.size}`);
      blocks[fb] = p;
    };
    n.direct.forEach((p, i) => data(i, p));
    if (n.indirect && claim(n.indirect, 'single indirect block')) {
      const t = await read(n.indirect, 1);
      for (let i = 0; i < PTRS_PER_BLOCK; i++) data(NDIRECT + i, getPtr(t, i));
    }
    if (n.dindirect && claim(n.dindirect, 'double indirect block')) {
      const top = await read(n.dindirect, 1);
      for (let i = 0; i < PTRS_PER_BLOCK; i++) {
        const l1 = getPtr(top, i);
        if (!l1 || !claim(l1, `double indirect block ${i}`)) continue;
        const t = await read(l1, 1);
        for (let k = 0; k < PTRS_PER_BLOCK; k++) data(NDIRECT + PTRS_PER_BLOCK + i * PTRS_PER_BLOCK + k, getPtr(t, k));
      }
    }
    if (n.kind === 'dir') {
      if (n.size % BLOCK_SIZE !== 0 || n.size === 0) error(`directory ${n.ino}: size ${n.size} is not a positive multiple of ${BLOCK_SIZE}`);
      const list: number[] = [];
      for (let fb = 0; fb < sizeBlocks; fb++) {
        if (!blocks[fb]) error(`directory ${n.ino}: hole at block ${fb}`);
        else list.push(blocks[fb]!);
      }
      dirBlocks.set(n.ino, list);
    }
  }

  // 4. The tree.
  const refs = new Map<number, number>();
  const ref = (ino: number) => refs.set(ino, (refs.get(ino) ?? 0) + 1);
  const root = used.get(ROOT_INO);
  if (!root || root.kind !== 'dir') {
    error(`root inode ${ROOT_INO} is ${root ? 'not a directory' : 'not in use'}`);
  } else {
    const seen = new Set<number>([ROOT_INO]);
    const queue: Array<{ ino: number; parent: number; path: string }> = [{ ino: ROOT_INO, parent: ROOT_INO, path: '/' }];
    while (queue.length > 0) {
      const { ino, parent, path } = queue.shift()!;
      const names = new Set<string>();
      const list = dirBlocks.get(ino) ?? [];
      for (const [fb, block] of list.entries()) {
        const b = await read(block, 1);
        for (let slot = 0; slot < DIRENTS_PER_BLOCK; slot++) {
          const e = decodeDirent(b, slot);
          const first = fb === 0 && slot < 2;
          if (first) {
            const want = slot === 0 ? { name: '.', ino } : { name: '..', ino: parent };
            if (!e || e.name !== want.name || e.ino !== want.ino) {
              error(`directory ${path} (inode ${ino}): entry ${slot} should be ${want.name} → ${want.ino}, is ${e ? `${JSON.stringify(e.name)} → ${e.ino}` : 'empty'}`);
            }
            if (e) ref(e.ino);
            continue;
          }
          if (!e) continue;
          const where = `${path === '/' ? '' : path}/${e.name}`;
          if (validName(e.name) !== null) error(`directory ${path} (inode ${ino}): bad entry name ${JSON.stringify(e.name)}`);
          if (names.has(e.name)) error(`directory ${path} (inode ${ino}): name ${JSON.stringify(e.name)} appears twice`);
          names.add(e.name);
          const target = used.get(e.ino);
          if (!target) {
            error(`${where}: entry points at inode ${e.ino}, which is ${e.ino > 0 && e.ino < g.inodes ? 'free' : 'outside the inode table'}`);
            continue;
          }
          ref(e.ino);
          if (target.kind === 'dir') {
            if (seen.has(e.ino)) {
              error(`${where}: directory inode ${e.ino} is reached a second time (a cycle or a hard link to a directory)`);
              continue;
            }
            seen.add(e.ino);
            queue.push({ ino: e.ino, parent: ino, path: where });
          }
        }
      }
    }
  }

  // 5. Link counts, orphans.
  for (const n of used.values()) {
    const r = refs.get(n.ino) ?? 0;
    if (r === 0) error(`inode ${n.ino} (${n.kind}, ${n.size} bytes) is in use but no directory links to it (orphan)`);
    else if (r !== n.nlink) error(`inode ${n.ino} (${n.kind}): link count is ${n.nlink}, should be ${r}`);
  }

  // 6. Bitmaps.
  if (!bitGet(inodeBitmap, 0)) error('inode bitmap: reserved inode 0 is marked free');
  for (let ino = 1; ino < g.inodes; ino++) {
    const marked = bitGet(inodeBitmap, ino);
    const inUse = used.has(ino);
    if (inUse && !marked) error(`inode ${ino} is in use but free in the inode bitmap`);
    else if (!inUse && marked) error(`inode ${ino} is free but marked in use in the inode bitmap`);
  }
  for (let ino = g.inodes; ino < g.inodeBitmapBlocks * BITS_PER_BLOCK; ino++) {
    if (!bitGet(inodeBitmap, ino)) {
      error(`inode bitmap: bit ${ino} (past the inode table) is clear`);
      break;
    }
  }
  let usedData = 0;
  for (let b = 0; b < g.blocks; b++) {
    const marked = bitGet(blockBitmap, b);
    const o = owner[b]!;
    if (o > 0) usedData++;
    if (o !== 0 && !marked) error(`block ${b} is used (by ${o === -1 ? 'metadata' : `inode ${o}`}) but free in the block bitmap`);
    else if (o === 0 && marked) error(`block ${b} is marked in use in the block bitmap but nothing uses it`);
  }
  for (let b = g.blocks; b < g.blockBitmapBlocks * BITS_PER_BLOCK; b++) {
    if (!bitGet(blockBitmap, b)) {
      error(`block bitmap: bit ${b} (past the end of the disk) is clear`);
      break;
    }
  }
  summary.usedDataBlocks = usedData;
  return finish();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The report as `molt fsck` prints it. */
export function formatReport(r: FsckReport, name: string): string {
  const s = r.summary;
  const lines = [
    `${name}: ${r.clean ? 'clean' : `NOT CLEAN, ${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}`}`,
    `  ${s.usedInodes}/${s.inodes} inodes (${s.files} files, ${s.dirs} directories), ${s.usedDataBlocks}/${s.dataBlocks} data blocks, ${s.blocks} blocks in all; journal ${s.journal}`,
    ...r.notes.map((n) => `  note: ${n}`),
    ...r.errors.map((e) => `  error: ${e}`),
  ];
  return lines.join('\n') + '\n';
}
