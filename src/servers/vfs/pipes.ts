/**
 * vfs: pipes. A pipe is a byte queue in vfs's state with a bounded capacity; a read
 * on an empty pipe and a write to a full one are *deferred* (their reply tokens wait in
 * the state), so waiting readers and writers survive a live update or restart of vfs.
 * The last writer closing gives readers end of file; the last reader closing gives
 * writers EPIPE.
 *
 * Entry points: `doPipe`, `pipeRead`, `pipeWrite`, `endClosed`.
 */
import { DEFERRED, err, ok, type Ctx, type Handler, type Header, type HandlerResult } from '../../sys/index.js';
import { allocFd } from './fds.js';
import { procOf } from './paths.js';
import type { VfsRequest } from './protocol.js';
import type { Pipe, VfsState } from './state.js';

export const PIPE_CAPACITY = 64 * 1024;

export const doPipe: Handler<VfsState, Extract<VfsRequest, { type: 'vfs.pipe' }>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const pipe = state.nextPipe++;
  state.pipes.set(pipe, { chunks: [], size: 0, readers: 1, writers: 1, waitingReads: [], waitingWrites: [] });
  const r = state.nextFile++;
  const w = state.nextFile++;
  state.files.set(r, { kind: 'pipe', pipe, end: 'read', refs: 1 });
  state.files.set(w, { kind: 'pipe', pipe, end: 'write', refs: 1 });
  const rfd = allocFd(proc, r);
  const wfd = rfd === null ? null : allocFd(proc, w);
  if (rfd === null || wfd === null) {
    if (rfd !== null) proc.fds[rfd] = null;
    state.files.delete(r);
    state.files.delete(w);
    state.pipes.delete(pipe);
    return err('EMFILE');
  }
  return ok([rfd, wfd]);
};

function take(p: Pipe, length: number): Uint8Array {
  const n = Math.min(length, p.size);
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const c = p.chunks[0]!;
    const k = Math.min(c.length, n - at);
    out.set(c.subarray(0, k), at);
    at += k;
    if (k === c.length) p.chunks.shift();
    else p.chunks[0] = c.subarray(k);
  }
  p.size -= n;
  return out;
}

/** Let waiting readers and writers make progress, in order. */
function pump(state: VfsState, pipeId: number, ctx: Ctx): void {
  const p = state.pipes.get(pipeId);
  if (!p) return;
  for (;;) {
    let progressed = false;
    while (p.waitingReads.length > 0 && (p.size > 0 || p.writers === 0)) {
      const r = p.waitingReads.shift()!;
      ctx.reply(r.token, ok(take(p, r.length)));
      progressed = true;
    }
    while (p.waitingWrites.length > 0) {
      const w = p.waitingWrites[0]!;
      if (p.readers === 0) {
        p.waitingWrites.shift();
        ctx.reply(w.token, err('EPIPE', 'no one reads this pipe'));
        progressed = true;
        continue;
      }
      if (p.size > 0 && p.size + w.data.length > PIPE_CAPACITY) break;
      p.waitingWrites.shift();
      p.chunks.push(w.data);
      p.size += w.data.length;
      ctx.reply(w.token, ok(w.data.length));
      progressed = true;
    }
    if (!progressed) break;
  }
  if (p.readers === 0 && p.writers === 0) state.pipes.delete(pipeId);
}

export function pipeRead(state: VfsState, pipeId: number, length: number, msg: Header, ctx: Ctx): HandlerResult {
  const p = state.pipes.get(pipeId);
  if (!p) return ok(new Uint8Array(0));
  if (length === 0) return ok(new Uint8Array(0));
  if (p.size > 0 && p.waitingReads.length === 0) {
    const out = take(p, length);
    pump(state, pipeId, ctx);
    return ok(out);
  }
  if (p.writers === 0) return ok(new Uint8Array(0));
  p.waitingReads.push({ token: ctx.defer(msg), length });
  return DEFERRED;
}

export function pipeWrite(state: VfsState, pipeId: number, data: Uint8Array, msg: Header, ctx: Ctx): HandlerResult {
  const p = state.pipes.get(pipeId);
  if (!p || p.readers === 0) return err('EPIPE', 'no one reads this pipe');
  if (data.length === 0) return ok(0);
  if (p.waitingWrites.length === 0 && (p.size === 0 || p.size + data.length <= PIPE_CAPACITY)) {
    p.chunks.push(data);
    p.size += data.length;
    pump(state, pipeId, ctx);
    return ok(data.length);
  }
  p.waitingWrites.push({ token: ctx.defer(msg), data });
  return DEFERRED;
}

/** One end's last reference went away. */
export function endClosed(state: VfsState, pipeId: number, end: 'read' | 'write', ctx: Ctx): void {
  const p = state.pipes.get(pipeId);
  if (!p) return;
  if (end === 'read') p.readers--;
  else p.writers--;
  pump(state, pipeId, ctx);
}
