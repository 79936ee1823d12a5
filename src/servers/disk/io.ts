/**
 * disk handlers: whole-block reads and writes, flush, geometry and counters — each a
 * thin, checked pass-through to the kernel's disk device (kernel calls `disk-*`).
 *
 * Entry points: `doInfo`, `doRead`, `doWrite`, `doFlush`, `doStats`.
 */
import type { Result } from '../../kernel/abi.js';
import { err, ok, type Ctx, type Handler } from '../../sys/index.js';
import { BLOCK_SIZE, MAX_REQUEST_BLOCKS, type DiskRequest, type DiskStats } from './protocol.js';
import type { DiskState } from './state.js';

type Req<K extends DiskRequest['type']> = Extract<DiskRequest, { type: K }>;

/** Count the request; refuse it when there is no device or the blocks are outside it. */
function admit(state: DiskState, block: number, count: number): Result | null {
  state.counters.requests++;
  const info = state.info;
  if (!info) return err('ENOENT', 'this system has no disk device');
  if (block < 0 || count < 1 || count > MAX_REQUEST_BLOCKS || block + count > info.blocks) {
    return err('EINVAL', `blocks ${block}..${block + count - 1} are not 1..${MAX_REQUEST_BLOCKS} blocks inside the disk (0..${info.blocks - 1})`);
  }
  return null;
}

/** A kernel call's outcome, counted when it failed. */
async function kernel<T>(state: DiskState, ctx: Ctx, k: Parameters<Ctx['kcall']>[0]): Promise<Result<T>> {
  const r = await ctx.kcall<T>(k);
  if (!r.ok) state.counters.errors++;
  return r;
}

export const doInfo: Handler<DiskState, Req<'disk.info'>> = (state) => {
  state.counters.requests++;
  return state.info ? ok(state.info) : err('ENOENT', 'this system has no disk device');
};

export const doRead: Handler<DiskState, Req<'disk.read'>> = async (state, msg, ctx) => {
  const refused = admit(state, msg.block, msg.count);
  if (refused) return (state.counters.errors++, refused);
  const r = await kernel<Uint8Array>(state, ctx, { call: 'disk-read', block: msg.block, count: msg.count });
  if (r.ok) {
    state.counters.reads++;
    state.counters.blocksRead += msg.count;
  }
  return r;
};

export const doWrite: Handler<DiskState, Req<'disk.write'>> = async (state, msg, ctx) => {
  const data = msg.data;
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length % BLOCK_SIZE !== 0) {
    state.counters.requests++;
    state.counters.errors++;
    return err('EINVAL', `data must be a Uint8Array of a positive multiple of ${BLOCK_SIZE} bytes`);
  }
  const count = data.length / BLOCK_SIZE;
  const refused = admit(state, msg.block, count);
  if (refused) return (state.counters.errors++, refused);
  const r = await kernel(state, ctx, { call: 'disk-write', block: msg.block, data });
  if (r.ok) {
    state.counters.writes++;
    state.counters.blocksWritten += count;
  }
  return r;
};

export const doFlush: Handler<DiskState, Req<'disk.flush'>> = async (state, _msg, ctx) => {
  state.counters.requests++;
  if (!state.info) return err('ENOENT', 'this system has no disk device');
  const r = await kernel(state, ctx, { call: 'disk-flush' });
  if (r.ok) state.counters.flushes++;
  return r;
};

export const doStats: Handler<DiskState, Req<'disk.stats'>> = (state) => {
  const value: DiskStats = { ...state.counters };
  return ok(value);
};
