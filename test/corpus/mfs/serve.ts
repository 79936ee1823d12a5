/**
 * mfs version 2 (update corpus) — one operation at a time (as version 1's serve.ts),
 * counting into version 2's grouped counters.
 *
 * Entry point: `serialized(ops)`.
 */
import { DEFERRED, err, ok, type Ctx, type Handler, type HandlerResult } from '../../../src/sys/index.js';
import type { Result } from '../../../src/kernel/abi.js';
import type { MfsServerRequest } from '../../../src/servers/mfs/protocol.js';
import { MAX_QUEUE, type OpTable } from '../../../src/servers/mfs/serve.js';
import { FsError, type Op } from '../../../src/servers/mfs/volume.js';
import { openFs } from './cache.js';
import { onCheckpoint } from './mount.js';
import type { Job, MfsState } from './state.js';

async function run(state: MfsState, ctx: Ctx, ops: OpTable, job: Job): Promise<Result> {
  const msg = job.msg;
  try {
    if (msg.type === 'clock.alarm') {
      await onCheckpoint(state, ctx, String(msg.tag));
      return ok(null);
    }
    const op = ops[msg.type as keyof OpTable] as Op<unknown>;
    const r = await op(openFs(state, ctx), msg);
    state.stats.requests.ops++;
    if (!r.ok) state.stats.requests.errors++;
    return r;
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    state.stats.requests.ops++;
    state.stats.requests.errors++;
    return err(e.code, e.message);
  }
}

export function serialized(ops: OpTable): Handler<MfsState, MfsServerRequest> {
  return async (state, msg, ctx): Promise<HandlerResult> => {
    if (msg.type !== 'clock.alarm' && state.queue.length >= MAX_QUEUE) return err('EAGAIN', `mfs has ${state.queue.length} requests waiting`);
    state.queue.push({ msg: msg as Job['msg'], reply: msg.id ? ctx.defer(msg) : null });
    if (state.busy) return DEFERRED;
    state.busy = true;
    try {
      while (state.queue.length > 0) {
        const job = state.queue.shift()!;
        const result = await run(state, ctx, ops, job);
        if (job.reply) ctx.reply(job.reply, result);
      }
    } finally {
      state.busy = false;
    }
    return DEFERRED;
  };
}
