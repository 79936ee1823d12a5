/**
 * disk, version 2 (update corpus): the same driver with a changed state layout — the
 * flat `counters` record of version 1 becomes `stats`, with requests counted per message
 * type and bytes instead of blocks. Version 1's state converts through the per-field
 * transfer callback below.
 */
import type { Result } from '../../../src/kernel/abi.js';
import { defineServer, err, ok, type Ctx, type Handler } from '../../../src/sys/index.js';
import { BLOCK_SIZE, MAX_REQUEST_BLOCKS, diskProtocol, type DiskInfoReply, type DiskRequest, type DiskStats } from '../../../src/servers/disk/protocol.js';

export interface IoStats {
  /** Requests answered, by message type. */
  byType: Record<string, number>;
  bytesRead: number;
  bytesWritten: number;
  flushes: number;
  errors: number;
}

export interface DiskState {
  info: DiskInfoReply | null;
  stats: IoStats;
}

type Req<K extends DiskRequest['type']> = Extract<DiskRequest, { type: K }>;

function count(state: DiskState, type: string): void {
  state.stats.byType[type] = (state.stats.byType[type] ?? 0) + 1;
}

function refuse(state: DiskState, block: number, blocks: number): Result | null {
  const info = state.info;
  if (!info) return err('ENOENT', 'this system has no disk device');
  if (block < 0 || blocks < 1 || blocks > MAX_REQUEST_BLOCKS || block + blocks > info.blocks) {
    return err('EINVAL', `blocks ${block}..${block + blocks - 1} are not 1..${MAX_REQUEST_BLOCKS} blocks inside the disk (0..${info.blocks - 1})`);
  }
  return null;
}

async function kernel<T>(state: DiskState, ctx: Ctx, k: Parameters<Ctx['kcall']>[0]): Promise<Result<T>> {
  const r = await ctx.kcall<T>(k);
  if (!r.ok) state.stats.errors++;
  return r;
}

const doInfo: Handler<DiskState, Req<'disk.info'>> = (state, msg) => {
  count(state, msg.type);
  return state.info ? ok(state.info) : err('ENOENT', 'this system has no disk device');
};

const doRead: Handler<DiskState, Req<'disk.read'>> = async (state, msg, ctx) => {
  count(state, msg.type);
  const refused = refuse(state, msg.block, msg.count);
  if (refused) return (state.stats.errors++, refused);
  const r = await kernel<Uint8Array>(state, ctx, { call: 'disk-read', block: msg.block, count: msg.count });
  if (r.ok) state.stats.bytesRead += msg.count * BLOCK_SIZE;
  return r;
};

const doWrite: Handler<DiskState, Req<'disk.write'>> = async (state, msg, ctx) => {
  count(state, msg.type);
  const data = msg.data;
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length % BLOCK_SIZE !== 0) {
    state.stats.errors++;
    return err('EINVAL', `data must be a Uint8Array of a positive multiple of ${BLOCK_SIZE} bytes`);
  }
  const refused = refuse(state, msg.block, data.length / BLOCK_SIZE);
  if (refused) return (state.stats.errors++, refused);
  const r = await kernel(state, ctx, { call: 'disk-write', block: msg.block, data });
  if (r.ok) state.stats.bytesWritten += data.length;
  return r;
};

const doFlush: Handler<DiskState, Req<'disk.flush'>> = async (state, msg, ctx) => {
  count(state, msg.type);
  if (!state.info) return err('ENOENT', 'this system has no disk device');
  const r = await kernel(state, ctx, { call: 'disk-flush' });
  if (r.ok) state.stats.flushes++;
  return r;
};

/** Answers in version 1's reply format (the protocol does not change). */
const doStats: Handler<DiskState, Req<'disk.stats'>> = (state) => {
  const s = state.stats;
  const n = (t: string) => s.byType[t] ?? 0;
  const value: DiskStats = {
    requests: Object.values(s.byType).reduce((a, b) => a + b, 0),
    reads: n('disk.read'),
    writes: n('disk.write'),
    flushes: s.flushes,
    blocksRead: s.bytesRead / BLOCK_SIZE,
    blocksWritten: s.bytesWritten / BLOCK_SIZE,
    errors: s.errors,
  };
  return ok(value);
};

interface V1Counters {
  requests: number; reads: number; writes: number; flushes: number; blocksRead: number; blocksWritten: number; errors: number;
}

export default defineServer<DiskState, typeof diskProtocol>({
  protocol: diskProtocol,
  init: async (ctx) => {
    const r = await ctx.kcall<DiskInfoReply>({ call: 'disk-info' });
    return {
      info: r.ok ? { blockSize: r.value.blockSize, blocks: r.value.blocks, created: r.value.created } : null,
      stats: { byType: {}, bytesRead: 0, bytesWritten: 0, flushes: 0, errors: 0 },
    };
  },
  handlers: {
    'disk.info': doInfo,
    'disk.read': doRead,
    'disk.write': doWrite,
    'disk.flush': doFlush,
    'disk.stats': doStats,
  },
  transfer: {
    fieldTransfer: {
      /** Version 1 kept `counters` (blocks, one total); version 2 keeps `stats` (bytes, per type). */
      'DiskState.stats': (old): IoStats => {
        const c = (old as { counters?: V1Counters; stats?: IoStats }).counters;
        if (!c) return (old as { stats: IoStats }).stats; // from version 2 itself
        const other = c.requests - c.reads - c.writes - c.flushes;
        return {
          byType: { 'disk.read': c.reads, 'disk.write': c.writes, 'disk.flush': c.flushes, ...(other > 0 ? { 'disk.info': other } : {}) },
          bytesRead: c.blocksRead * BLOCK_SIZE,
          bytesWritten: c.blocksWritten * BLOCK_SIZE,
          flushes: c.flushes,
          errors: c.errors,
        };
      },
    },
  },
});
