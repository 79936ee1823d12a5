/**
 * mfs version 2 (update corpus) — mounting, the periodic checkpoint, statistics and the
 * state check, over version 2's state layout (same behaviour as version 1's mount.ts).
 *
 * Entry points: `mount(ctx)`, `onCheckpoint(state, ctx, tag)`, `doStats`, `checkState`.
 */
import { ok, type Ctx, type Handler } from '../../../src/sys/index.js';
import type { DiskInfoReply } from '../../../src/servers/disk/protocol.js';
import type { MfsStats, MfsServerRequest } from '../../../src/servers/mfs/protocol.js';
import { BLOCK_SIZE, bitGet, type Geometry } from '../../../src/servers/mfs/layout.js';
import { journalCapacity, replayJournal, type BlockDevice } from '../../../src/servers/mfs/journal.js';
import { format, probe } from '../../../src/servers/mfs/mkfs.js';
import type { MfsArgs } from '../../../src/servers/mfs/mount.js';
import { commit, diskDevice } from './cache.js';
import type { MfsCounters, MfsState } from './state.js';

type Req<K extends MfsServerRequest['type']> = Extract<MfsServerRequest, { type: K }>;

const DEFAULT_CACHE_BLOCKS = 4096;
const DEFAULT_CHECKPOINT_MS = 1000;

async function countFree(dev: BlockDevice, start: number, blocks: number, from: number, to: number): Promise<number> {
  const bm = await dev.read(start, blocks);
  let free = 0;
  for (let bit = from; bit < to; bit++) if (!bitGet(bm, bit)) free++;
  return free;
}

const zeroCounters = (): MfsCounters => ({
  requests: { ops: 0, errors: 0 },
  cache: { hits: 0, misses: 0 },
  disk: { reads: 0, writes: 0 },
  journal: { commits: 0, blocks: 0, checkpoints: 0, replayedAtMount: 0 },
  formatted: false,
});

function awaitingTransfer(ctx: Ctx): MfsState {
  const args = ctx.self.args as MfsArgs;
  const geo: Geometry = {
    blocks: 0, inodes: 0, inodeBitmapStart: 0, inodeBitmapBlocks: 0, blockBitmapStart: 0, blockBitmapBlocks: 0,
    inodeTableStart: 0, inodeTableBlocks: 0, journalStart: 0, journalBlocks: 0, dataStart: 0,
  };
  return {
    fs: { geo, alloc: { freeBlocks: 0, freeInodes: 0, blockHint: 0, inodeHint: 0 }, seq: 1, stepLimit: 0 },
    cache: { clean: new Map(), dirty: new Map(), capacity: Number(args.cacheBlocks) || DEFAULT_CACHE_BLOCKS },
    queue: [],
    busy: false,
    checkpoint: { tag: '', everyMs: args.checkpointMs ?? DEFAULT_CHECKPOINT_MS },
    stats: zeroCounters(),
  };
}

export async function mount(ctx: Ctx): Promise<MfsState> {
  if (ctx.self.kind === 'update') return awaitingTransfer(ctx);
  const args = ctx.self.args as MfsArgs;
  const info = await ctx.sendrec<DiskInfoReply>('disk', { type: 'disk.info' });
  if (!info.ok) throw new Error(`mfs: no disk: ${info.code}${info.message ? ` (${info.message})` : ''}`);
  const stats = zeroCounters();
  let dev = diskDevice(ctx, info.value.blocks, stats.disk);
  let sb = await probe(dev);
  if (!sb.ok && sb.why === 'none') {
    await format(dev, { now: ctx.now(), zeroed: info.value.created });
    stats.formatted = true;
    sb = await probe(dev);
  }
  if (!sb.ok) throw new Error(`mfs: cannot mount the disk: ${sb.message} (run molt fsck; molt mkfs --force reformats)`);
  const g: Geometry = sb.sb;
  if (g.blocks > info.value.blocks) throw new Error(`mfs: the file system has ${g.blocks} blocks, the disk only ${info.value.blocks}`);
  dev = diskDevice(ctx, g.blocks, stats.disk);
  const { replayed, nextSeq } = await replayJournal(dev, g);
  stats.journal.replayedAtMount = replayed;
  const state: MfsState = {
    fs: {
      geo: { ...g },
      alloc: {
        freeBlocks: await countFree(dev, g.blockBitmapStart, g.blockBitmapBlocks, g.dataStart, g.blocks),
        freeInodes: await countFree(dev, g.inodeBitmapStart, g.inodeBitmapBlocks, 1, g.inodes),
        blockHint: g.dataStart,
        inodeHint: 1,
      },
      seq: nextSeq,
      stepLimit: journalCapacity(g),
    },
    cache: { clean: new Map(), dirty: new Map(), capacity: Math.max(Number(args.cacheBlocks) || DEFAULT_CACHE_BLOCKS, 2 * journalCapacity(g)) },
    queue: [],
    busy: false,
    checkpoint: { tag: `checkpoint:${ctx.self.incarnation}`, everyMs: args.checkpointMs ?? DEFAULT_CHECKPOINT_MS },
    stats,
  };
  arm(state, ctx);
  return state;
}

function arm(state: MfsState, ctx: Ctx): void {
  if (state.checkpoint.everyMs > 0) void ctx.kcall({ call: 'alarm', ms: state.checkpoint.everyMs, tag: state.checkpoint.tag });
}

export async function onCheckpoint(state: MfsState, ctx: Ctx, tag: string): Promise<void> {
  if (tag !== state.checkpoint.tag) return;
  try {
    if ((await commit(state, ctx)) > 0) state.stats.journal.checkpoints++;
  } finally {
    arm(state, ctx);
  }
}

export const doStats: Handler<MfsState, Req<'mfs.stats'>> = (state) => {
  const s = state.stats;
  const value: MfsStats = {
    ops: s.requests.ops,
    errors: s.requests.errors,
    cacheHits: s.cache.hits,
    cacheMisses: s.cache.misses,
    cachedBlocks: state.cache.clean.size + state.cache.dirty.size,
    dirtyBlocks: state.cache.dirty.size,
    cacheCapacity: state.cache.capacity,
    diskReads: s.disk.reads,
    diskWrites: s.disk.writes,
    commits: s.journal.commits,
    journaledBlocks: s.journal.blocks,
    checkpoints: s.journal.checkpoints,
    replayedAtMount: s.journal.replayedAtMount,
    formatted: s.formatted,
    queued: state.queue.length,
  };
  return ok(value);
};

export function checkState(s: MfsState): string[] {
  const out: string[] = [];
  if (s.busy || s.queue.length > 0) {
    out.push(`mfs was in the middle of an operation (${s.queue.length} waiting): update it with prepare request-free or protocol-free`);
  }
  for (const [block, data] of [...s.cache.clean, ...s.cache.dirty]) {
    if (!(data instanceof Uint8Array) || data.length !== BLOCK_SIZE) out.push(`cached block ${block} is not a whole block of bytes`);
  }
  for (const block of s.cache.dirty.keys()) if (s.cache.clean.has(block)) out.push(`block ${block} is both clean and dirty`);
  if (s.cache.dirty.size > s.fs.stepLimit) out.push(`${s.cache.dirty.size} dirty blocks do not fit one journal transaction (${s.fs.stepLimit})`);
  if (s.fs.geo.blocks === 0) out.push('no file system is mounted');
  return out;
}
