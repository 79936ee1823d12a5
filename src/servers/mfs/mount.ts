/**
 * mfs: mounting, the periodic checkpoint, and statistics.
 *
 * Mount (every init kind: a fresh boot, or a restart after a crash): 1. ask `disk` for
 * its geometry; 2. read the superblock — no file system (a new image) is formatted
 * (mkfs.ts); a damaged superblock is refused rather than overwritten; 3. replay the
 * journal (journal.ts); 4. count free inodes and blocks from the bitmaps; 5. arm the
 * checkpoint alarm.
 *
 * A live update's new incarnation does not mount: its state (cache, dirty blocks, journal
 * sequence, allocation counters) arrives from the old one, and `checkState` refuses a
 * state exported in the middle of an operation (the update then rolls back).
 *
 * Entry points: `mount(ctx)`, `onCheckpoint(state, ctx, tag)`, `doStats`, `checkState`.
 */
import { ok, type Ctx, type Handler } from '../../sys/index.js';
import type { DiskInfoReply } from '../disk/protocol.js';
import type { MfsStats, MfsServerRequest } from './protocol.js';
import { BLOCK_SIZE, bitGet, type Geometry } from './layout.js';
import { journalCapacity, replayJournal, type BlockDevice } from './journal.js';
import { format, probe } from './mkfs.js';
import { commit, diskDevice } from './cache.js';
import type { MfsState } from './state.js';

type Req<K extends MfsServerRequest['type']> = Extract<MfsServerRequest, { type: K }>;

/** Boot-configuration arguments mfs understands. */
export interface MfsArgs {
  /** Buffer cache size in blocks (default 4096 = 16 MiB). */
  cacheBlocks?: number;
  /** Period of the checkpoint that commits what is dirty (ms, default 1000; 0 = none). */
  checkpointMs?: number;
}

const DEFAULT_CACHE_BLOCKS = 4096;
const DEFAULT_CHECKPOINT_MS = 1000;

async function countFree(dev: BlockDevice, start: number, blocks: number, from: number, to: number): Promise<number> {
  const bm = await dev.read(start, blocks);
  let free = 0;
  for (let bit = from; bit < to; bit++) {
    if ((bit & 7) === 0 && bit + 8 <= to && bm[bit >>> 3] === 0xff) {
      bit += 7;
      continue;
    }
    if (!bitGet(bm, bit)) free++;
  }
  return free;
}

/**
 * The state a live update's new incarnation starts from before the old state arrives: it
 * must not touch the disk (the old incarnation is still serving, and may be committing).
 */
function awaitingTransfer(ctx: Ctx): MfsState {
  const args = ctx.self.args as MfsArgs;
  const geo: Geometry = {
    blocks: 0, inodes: 0, inodeBitmapStart: 0, inodeBitmapBlocks: 0, blockBitmapStart: 0, blockBitmapBlocks: 0,
    inodeTableStart: 0, inodeTableBlocks: 0, journalStart: 0, journalBlocks: 0, dataStart: 0,
  };
  return {
    fs: { geo, alloc: { freeBlocks: 0, freeInodes: 0, blockHint: 0, inodeHint: 0 }, seq: 1, stepLimit: 0 },
    cache: { blocks: new Map(), capacity: Number(args.cacheBlocks) || DEFAULT_CACHE_BLOCKS, dirty: 0 },
    queue: [],
    busy: false,
    checkpoint: { tag: '', everyMs: args.checkpointMs ?? DEFAULT_CHECKPOINT_MS },
    stats: {
      ops: 0, errors: 0, cacheHits: 0, cacheMisses: 0, diskReads: 0, diskWrites: 0, commits: 0, journaledBlocks: 0, checkpoints: 0,
      replayedAtMount: 0, formatted: false,
    },
  };
}

export async function mount(ctx: Ctx): Promise<MfsState> {
  if (ctx.self.kind === 'update') return awaitingTransfer(ctx);
  const args = ctx.self.args as MfsArgs;
  // 1. The disk.
  const info = await ctx.sendrec<DiskInfoReply>('disk', { type: 'disk.info' });
  if (!info.ok) throw new Error(`mfs: no disk: ${info.code}${info.message ? ` (${info.message})` : ''}`);
  const counters = { diskReads: 0, diskWrites: 0 };
  let dev = diskDevice(ctx, info.value.blocks, counters);
  // 2. The superblock; format a disk that holds no file system.
  let sb = await probe(dev);
  let formatted = false;
  if (!sb.ok && sb.why === 'none') {
    await format(dev, { now: ctx.now(), zeroed: info.value.created });
    formatted = true;
    sb = await probe(dev);
  }
  if (!sb.ok) throw new Error(`mfs: cannot mount the disk: ${sb.message} (run molt fsck; molt mkfs --force reformats)`);
  const g: Geometry = sb.sb;
  if (g.blocks > info.value.blocks) throw new Error(`mfs: the file system has ${g.blocks} blocks, the disk only ${info.value.blocks}`);
  dev = diskDevice(ctx, g.blocks, counters);
  // 3. Recovery.
  const { replayed, nextSeq } = await replayJournal(dev, g);
  // 4. Free counts (the bitmaps are the truth; the counters live in memory only).
  const freeInodes = await countFree(dev, g.inodeBitmapStart, g.inodeBitmapBlocks, 1, g.inodes);
  const freeBlocks = await countFree(dev, g.blockBitmapStart, g.blockBitmapBlocks, g.dataStart, g.blocks);
  const state: MfsState = {
    fs: {
      geo: { ...g },
      alloc: { freeBlocks, freeInodes, blockHint: g.dataStart, inodeHint: 1 },
      seq: nextSeq,
      stepLimit: journalCapacity(g),
    },
    cache: { blocks: new Map(), capacity: Math.max(Number(args.cacheBlocks) || DEFAULT_CACHE_BLOCKS, 2 * journalCapacity(g)), dirty: 0 },
    queue: [],
    busy: false,
    checkpoint: { tag: `checkpoint:${ctx.self.incarnation}`, everyMs: args.checkpointMs ?? DEFAULT_CHECKPOINT_MS },
    stats: {
      ops: 0, errors: 0, cacheHits: 0, cacheMisses: 0, ...counters, commits: 0, journaledBlocks: 0, checkpoints: 0,
      replayedAtMount: replayed, formatted,
    },
  };
  // 5. The checkpoint.
  arm(state, ctx);
  return state;
}

function arm(state: MfsState, ctx: Ctx): void {
  if (state.checkpoint.everyMs > 0) void ctx.kcall({ call: 'alarm', ms: state.checkpoint.everyMs, tag: state.checkpoint.tag });
}

/**
 * The checkpoint alarm (run in its turn, like a request): commit what is dirty, and set
 * the next alarm. An alarm for another tag (set by an incarnation that crashed) is
 * dropped, so restarts do not multiply the alarms.
 */
export async function onCheckpoint(state: MfsState, ctx: Ctx, tag: string): Promise<void> {
  if (tag !== state.checkpoint.tag) return;
  try {
    if ((await commit(state, ctx)) > 0) state.stats.checkpoints++;
  } finally {
    arm(state, ctx);
  }
}

export const doStats: Handler<MfsState, Req<'mfs.stats'>> = (state) => {
  const s = state.stats;
  const value: MfsStats = {
    ops: s.ops,
    errors: s.errors,
    cacheHits: s.cacheHits,
    cacheMisses: s.cacheMisses,
    cachedBlocks: state.cache.blocks.size,
    dirtyBlocks: state.cache.dirty,
    cacheCapacity: state.cache.capacity,
    diskReads: s.diskReads,
    diskWrites: s.diskWrites,
    commits: s.commits,
    journaledBlocks: s.journaledBlocks,
    checkpoints: s.checkpoints,
    replayedAtMount: s.replayedAtMount,
    formatted: s.formatted,
    queued: state.queue.length,
  };
  return ok(value);
};

/** Invariants of a transferred (or any) state: the violations, empty when sound. */
export function checkState(s: MfsState): string[] {
  const out: string[] = [];
  if (s.busy || s.queue.length > 0) {
    out.push(`mfs was in the middle of an operation (${s.queue.length} waiting): update it with prepare request-free or protocol-free`);
  }
  let dirty = 0;
  for (const e of s.cache.blocks.values()) {
    if (e.dirty) dirty++;
    if (!(e.data instanceof Uint8Array) || e.data.length !== BLOCK_SIZE) out.push('a cached block is not a whole block of bytes');
  }
  if (dirty !== s.cache.dirty) out.push(`cache counts ${s.cache.dirty} dirty blocks, holds ${dirty}`);
  if (dirty > s.fs.stepLimit) out.push(`${dirty} dirty blocks do not fit one journal transaction (${s.fs.stepLimit})`);
  if (s.fs.geo.blocks === 0) out.push('no file system is mounted');
  return out;
}
