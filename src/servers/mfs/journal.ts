/**
 * mfs write-ahead journal: its on-disk format, and reading / replaying it over a plain
 * block device (shared by the server's mount, `molt fsck` and `molt mkfs`).
 *
 * The journal region holds at most one transaction, at its start:
 *
 *   journalStart            descriptor: magic "JDES" · seq · count · target block × count
 *   journalStart+1 …        the `count` new block contents, in descriptor order
 *   journalStart+1+count    commit: magic "JCMT" · seq · count · crc32(descriptor + blocks)
 *
 * A transaction is every block (metadata and data) that whole operations changed. The
 * server commits one as: 1. write descriptor + blocks + commit in one write; 2. flush
 * (the transaction is now durable: it will be replayed); 3. write the blocks in place;
 * 4. flush (the journal may now be overwritten by the next transaction). A crash before
 * 2 completes leaves a commit record that is missing or whose checksum does not match:
 * the transaction is ignored and the blocks in place are the previous, consistent state.
 * A crash after 2 is repaired at mount by writing the blocks in place again (idempotent).
 * A descriptor with count 0 is an empty journal (it keeps the last sequence number).
 *
 * Entry points: `BlockDevice`, `journalCapacity`, `encodeTransaction`, `readJournal`,
 * `replayJournal`, `encodeEmptyJournal`.
 */
import { BLOCK_SIZE, crc32, view, type Geometry } from './layout.js';

/** What the pure file-system functions need of a disk: whole blocks, and a flush that makes writes durable. */
export interface BlockDevice {
  readonly blocks: number;
  read(block: number, count: number): Promise<Uint8Array>;
  write(block: number, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
}

/** "JDES", "JCMT" */
export const JDESC_MAGIC = 0x4a444553;
export const JCOMMIT_MAGIC = 0x4a434d54;
/** Targets one descriptor block holds. */
const DESC_ENTRIES = (BLOCK_SIZE - 12) / 4;

/** Most blocks one transaction may hold on this geometry. */
export function journalCapacity(g: Geometry): number {
  return Math.min(DESC_ENTRIES, g.journalBlocks - 2);
}

/** The bytes to write at `journalStart`: descriptor, block contents, commit. */
export function encodeTransaction(seq: number, blocks: ReadonlyArray<readonly [number, Uint8Array]>): Uint8Array {
  const n = blocks.length;
  if (n === 0 || n > DESC_ENTRIES) throw new RangeError(`a transaction holds 1..${DESC_ENTRIES} blocks (got ${n})`);
  const out = new Uint8Array((n + 2) * BLOCK_SIZE);
  const d = view(out);
  d.setUint32(0, JDESC_MAGIC);
  d.setUint32(4, seq >>> 0);
  d.setUint32(8, n);
  blocks.forEach(([target, data], i) => {
    d.setUint32(12 + 4 * i, target);
    out.set(data, (i + 1) * BLOCK_SIZE);
  });
  const commitAt = (n + 1) * BLOCK_SIZE;
  d.setUint32(commitAt, JCOMMIT_MAGIC);
  d.setUint32(commitAt + 4, seq >>> 0);
  d.setUint32(commitAt + 8, n);
  d.setUint32(commitAt + 12, crc32(out.subarray(0, commitAt)));
  return out;
}

/** An empty journal (count 0) remembering the last sequence number. */
export function encodeEmptyJournal(seq: number): Uint8Array {
  const out = new Uint8Array(BLOCK_SIZE);
  const d = view(out);
  d.setUint32(0, JDESC_MAGIC);
  d.setUint32(4, seq >>> 0);
  d.setUint32(8, 0);
  return out;
}

export type JournalState =
  /** Nothing to replay; `seq` is the last sequence number used (0 if unknown). */
  | { state: 'empty'; seq: number }
  /** A committed transaction: durable, to be written in place (again) at mount. */
  | { state: 'committed'; seq: number; blocks: Array<[number, Uint8Array]> }
  /** A transaction whose commit record never made it (a crash while writing it): ignored. */
  | { state: 'incomplete'; seq: number; reason: string }
  /** The journal holds something that is not a journal (a damaged journal header). */
  | { state: 'garbage'; reason: string };

export async function readJournal(dev: BlockDevice, g: Geometry): Promise<JournalState> {
  const desc = await dev.read(g.journalStart, 1);
  const d = view(desc);
  if (d.getUint32(0) !== JDESC_MAGIC) {
    return desc.every((x) => x === 0) ? { state: 'empty', seq: 0 } : { state: 'garbage', reason: 'no descriptor magic at the start of the journal' };
  }
  const seq = d.getUint32(4);
  const n = d.getUint32(8);
  if (n === 0) return { state: 'empty', seq };
  if (n > journalCapacity(g)) return { state: 'incomplete', seq, reason: `descriptor claims ${n} blocks (capacity ${journalCapacity(g)})` };
  const rest = await dev.read(g.journalStart + 1, n + 1);
  const commitAt = n * BLOCK_SIZE;
  const c = view(rest);
  if (c.getUint32(commitAt) !== JCOMMIT_MAGIC || c.getUint32(commitAt + 4) !== seq || c.getUint32(commitAt + 8) !== n) {
    return { state: 'incomplete', seq, reason: 'no commit record' };
  }
  const crc = crc32(rest.subarray(0, commitAt), crc32(desc));
  if (crc !== c.getUint32(commitAt + 12)) return { state: 'incomplete', seq, reason: 'checksum mismatch (torn write)' };
  const blocks: Array<[number, Uint8Array]> = [];
  for (let i = 0; i < n; i++) {
    const target = d.getUint32(12 + 4 * i);
    if (target === 0 || target >= g.blocks || (target >= g.journalStart && target < g.dataStart)) {
      return { state: 'garbage', reason: `committed transaction ${seq} targets block ${target}, outside the file system` };
    }
    blocks.push([target, rest.slice(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)]);
  }
  return { state: 'committed', seq, blocks };
}

/**
 * Mount-time recovery: 1. read the journal; 2. write a committed transaction's blocks in
 * place; 3. flush; 4. mark the journal empty (keeping its sequence number); 5. flush.
 * Returns what was found and the next sequence number to use.
 */
export async function replayJournal(dev: BlockDevice, g: Geometry): Promise<{ found: JournalState; replayed: number; nextSeq: number }> {
  const found = await readJournal(dev, g);
  if (found.state === 'garbage') throw new Error(`journal is damaged: ${found.reason}`);
  let replayed = 0;
  if (found.state === 'committed') {
    for (const [target, data] of found.blocks) await dev.write(target, data);
    replayed = found.blocks.length;
    await dev.flush();
  }
  if (found.state !== 'empty') {
    await dev.write(g.journalStart, encodeEmptyJournal(found.seq));
    await dev.flush();
  }
  return { found, replayed, nextSeq: (found.seq + 1) >>> 0 || 1 };
}
