/**
 * net's server state regions (DESIGN.md §5, CuriOS): what each owner (a process, a
 * daemon) must get back if net crashes — its sockets — kept by the kernel per owner,
 * outside net's heap; and `recoverNet`, which rebuilds net from them and from the kernel's
 * TCP device.
 *
 * - **Regions.** Every handler that serves an owner ends by committing a snapshot of *its*
 *   sockets (number, state, handle, addresses, backlog, accepted-and-not-taken, watched,
 *   delegated, flags, counters) and net's next socket number (the runtime commits it only
 *   if the handler completes). Not after `net.send` (nothing it changes is kept) or
 *   `net.list`; not for the kernel's events or pm's `net.exit` (they serve no owner).
 * - **The device is the ground truth for connections.** What happens while net serves the
 *   kernel — a connection accepted, data, end of stream, a close — cannot be written to an
 *   owner's region; `recoverNet` takes it from the device (`tcp-list`): a socket whose handle
 *   the device no longer has is closed; a peer that ended is ended; a connection no region
 *   knows is the listener's (accepted sockets are numbered after their handle, so it gets
 *   the number its owner was told): delegated already (the device names its socket), held
 *   for delegation (net never handled its accept: announced now, and delegated), or queued
 *   for `net.accept` / announced again to a watching owner (it may have been announced
 *   already: a daemon takes an accept of a socket it knows as a no-op). A handle no region
 *   or listener accounts for (a listen or connect a crash interrupted) is closed.
 * - **Lost, honestly:** bytes received for a non-delegated socket and not yet read — they
 *   are net's buffers (kept per owner they would be copied on every request), so a crash
 *   drops them along with the device's events still queued to net; a blocked caller's
 *   `net.recv` / `net.accept` / `net.select` is given again by the kernel (ssr-restart) and
 *   waits afresh. A delegated connection's data never passes through net: a crash of net
 *   costs it nothing.
 *
 * Entry points: `withSsr(handlers)`, `recoverNet`.
 */
import type { TcpHandleInfo } from '../../kernel/abi.js';
import type { Ctx, Endpoint, Handler, HandlerResult, Header } from '../../sys/index.js';
import { admit } from './device.js';
import type { SockAddr, SockState } from './protocol.js';
import { ACCEPTED_BASE, acceptedId, emit } from './sockets.js';
import { emptyNetState, type NetState, type Sock } from './state.js';

/** One socket as its owner's region keeps it (no queued bytes, no waiters). */
export type SockSnap = Pick<
  Sock,
  'id' | 'ownerLabel' | 'state' | 'handle' | 'local' | 'remote' | 'backlog' | 'pending' | 'rxEnded' | 'error' | 'watched' | 'delegated' | 'paused' | 'rxBytes' | 'txBytes'
>;

export interface NetRegion {
  /** net's next socket number when committed (numbers are not reused across a crash). */
  next: number;
  socks: SockSnap[];
}

/** Requests after which the caller's region is not committed (they change nothing it keeps). */
const NO_COMMIT = new Set(['net.send', 'net.list', 'net.exit', 'kernel.tcp', 'clock.alarm']);
/** The kernel's endpoint (its events and alarms serve no owner). */
const KERNEL = 0;

function snap(s: Sock): SockSnap {
  return {
    id: s.id, ownerLabel: s.ownerLabel, state: s.state, handle: s.handle, local: s.local, remote: s.remote, backlog: s.backlog,
    pending: [...s.pending], rxEnded: s.rxEnded, error: s.error, watched: s.watched, delegated: s.delegated, paused: s.paused,
    rxBytes: s.rxBytes, txBytes: s.txBytes,
  };
}

function commit(state: NetState, msg: Header & { type: string }, ctx: Ctx): void {
  if (!ctx.ssr || msg.from === KERNEL || NO_COMMIT.has(msg.type)) return;
  const socks: SockSnap[] = [];
  for (const s of state.socks.values()) if (s.owner === msg.from) socks.push(snap(s));
  if (socks.length === 0) {
    ctx.dropSsr?.();
    return;
  }
  const region = ctx.ssr<NetRegion>(() => ({ next: state.nextSock, socks }));
  region.next = state.nextSock;
  region.socks = socks;
}

/** Every handler, followed by the commit of its caller's region. */
export function withSsr<T extends Record<string, Handler<NetState, never>>>(handlers: T): T {
  const out: Record<string, unknown> = {};
  for (const [type, h] of Object.entries(handlers)) {
    const handler = h as unknown as (s: NetState, m: Header & { type: string }, c: Ctx) => HandlerResult | Promise<HandlerResult>;
    out[type] = (state: NetState, msg: Header & { type: string }, ctx: Ctx) => {
      const r = handler(state, msg, ctx);
      if (r instanceof Promise) {
        return r.then((v) => {
          commit(state, msg, ctx);
          return v;
        });
      }
      commit(state, msg, ctx);
      return r;
    };
  }
  return out as T;
}

/** Rebuild net from its owners' regions and the device's handles (the rules in the header). */
export async function recoverNet(regions: Array<{ client: Endpoint; value: unknown }>, ctx: Ctx): Promise<NetState> {
  const state = emptyNetState();
  const dev = await ctx.kcall<TcpHandleInfo[]>({ call: 'tcp-list' });
  if (!dev.ok) throw new Error(`net: tcp-list: ${dev.code} ${dev.message ?? ''}`);
  const handles = new Map(dev.value.map((h) => [h.handle, h]));
  let next = 1;
  // 1. The owners' sockets, as their last completed requests left them.
  for (const { client, value } of regions) {
    const r = value as NetRegion | null;
    if (!r || !Array.isArray(r.socks)) continue;
    next = Math.max(next, r.next);
    for (const x of r.socks) {
      if (x.id < ACCEPTED_BASE) next = Math.max(next, x.id + 1);
      state.socks.set(x.id, { ...x, owner: client, pending: [...x.pending], rx: [], rxQueued: 0, waiters: [] });
    }
  }
  state.nextSock = next;
  // 2. Checked against the device: closed meanwhile, ended meanwhile; flow control reset (the queue is empty now).
  for (const s of state.socks.values()) {
    if (s.handle === null) continue;
    const h = handles.get(s.handle);
    if (!h || (h.kind === 'listener') !== (s.state === 'listening')) {
      s.handle = null;
      if (s.state === 'connected' || s.state === 'listening' || s.state === 'connecting') {
        s.state = 'closed';
        if (s.watched && !s.delegated) emit(s, { kind: 'close' }, ctx);
      }
      continue;
    }
    state.byHandle.set(s.handle, s.id);
    if (h.ended && !s.rxEnded) {
      s.rxEnded = true;
      if (s.watched && !s.delegated) emit(s, { kind: 'end' }, ctx);
    }
    if (s.paused || h.paused) {
      s.paused = false;
      ctx.kcast({ call: 'tcp-pause', handle: s.handle, paused: false });
    }
  }
  for (const s of state.socks.values()) s.pending = s.pending.filter((id) => state.socks.get(id)?.state === 'connected');
  // 3. What the device holds that no region accounts for.
  for (const h of dev.value) {
    if (state.byHandle.has(h.handle)) continue;
    const lid = h.kind === 'connection' && typeof h.listener === 'number' ? state.byHandle.get(h.listener) : undefined;
    const listener = lid === undefined ? undefined : state.socks.get(lid);
    if (!listener || listener.state !== 'listening') {
      // A listen or connect a crash interrupted (the caller's request is given again), or a
      // connection whose listener is gone: nobody will ever use it.
      ctx.kcast({ call: 'tcp-close', handle: h.handle });
      continue;
    }
    if (h.delegate && typeof h.sock === 'number') {
      // Delegated already: its data goes to the owner directly; only the socket is net's.
      const conn: Sock = {
        id: h.sock, owner: listener.owner, ownerLabel: listener.ownerLabel, state: 'connected', handle: h.handle, local: h.local, remote: h.remote,
        backlog: 0, pending: [], rx: [], rxQueued: 0, rxEnded: h.ended === true, error: null, watched: true, delegated: true, paused: false,
        waiters: [], rxBytes: 0, txBytes: 0,
      };
      state.socks.set(conn.id, conn);
      state.byHandle.set(h.handle, conn.id);
      continue;
    }
    if (!h.awaiting && !listener.watched && listener.pending.length >= listener.backlog) {
      ctx.kcast({ call: 'tcp-close', handle: h.handle });
      continue;
    }
    const conn = admit(state, listener, h.handle, h.local, h.remote, ctx);
    if (conn.id !== acceptedId(h.handle)) throw new Error('net: accepted socket numbering');
    conn.rxEnded = h.ended === true;
  }
  return state;
}
