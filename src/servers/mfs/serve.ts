/**
 * mfs: one operation at a time. Every request joins `state.queue` (plain data: the
 * message and its reply token) and is answered by a deferred reply; the handler that
 * finds mfs idle runs the queue until it is empty. So operations never interleave at an
 * `await` (each sees the file system as the previous one left it), and a live update
 * that waits for `request-free` finds the queue empty.
 *
 * Entry points: `serialized(ops)`, `OpTable`, `MAX_QUEUE`.
 */
import { DEFERRED, err, ok, type Ctx, type Handler, type HandlerResult } from '../../sys/index.js';
import type { Result } from '../../kernel/abi.js';
import type { MfsRequest, MfsServerRequest } from './protocol.js';
import { commit, openFs } from './cache.js';
import { onCheckpoint } from './mount.js';
import type { Job, MfsState } from './state.js';
import { FsError, type Op } from './volume.js';

/** The operations, by message type (the compiler checks that none is missing). */
export type OpTable = { [K in Exclude<MfsRequest['type'], 'mfs.stats'>]: Op<Extract<MfsRequest, { type: K }>> };

/** The operations that change the file system. */
const MUTATING = new Set(['mfs.create', 'mfs.write', 'mfs.truncate', 'mfs.unlink', 'mfs.rmdir', 'mfs.rename']);

/** Requests waiting beyond this are refused with EAGAIN (a bound on memory). */
export const MAX_QUEUE = 4096;

async function run(state: MfsState, ctx: Ctx, ops: OpTable, job: Job): Promise<Result> {
  const msg = job.msg;
  try {
    if (msg.type === 'clock.alarm') {
      await onCheckpoint(state, ctx, String(msg.tag));
      return ok(null);
    }
    const op = ops[msg.type as keyof OpTable] as Op<unknown>;
    const r = await op(openFs(state, ctx), msg);
    state.stats.ops++;
    if (!r.ok) state.stats.errors++;
    // Crash transparency: what an operation changed is on the disk device (journal, then
    // in place) before its reply — not yet flushed to the host's disk, which the
    // checkpoint and sync do, but out of this incarnation: a crash of mfs loses nothing
    // it has answered, and the request it was running is given again to the next one.
    if (MUTATING.has(msg.type) && state.cache.dirty > 0) await commit(state, ctx, false);
    return r;
  } catch (e) {
    if (!(e instanceof FsError)) throw e; // a bug: this incarnation's crash, nothing else
    state.stats.ops++;
    state.stats.errors++;
    return err(e.code, e.message);
  }
}

/** The handler for every queued request type. */
export function serialized(ops: OpTable): Handler<MfsState, MfsServerRequest> {
  return async (state, msg, ctx): Promise<HandlerResult> => {
    const fromKernel = msg.type === 'clock.alarm';
    if (!fromKernel && state.queue.length >= MAX_QUEUE) return err('EAGAIN', `mfs has ${state.queue.length} requests waiting`);
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
