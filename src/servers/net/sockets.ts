/**
 * net: the socket calls. Each checks that the caller owns the socket, then either
 * answers at once, or parks the caller as a waiter on the socket (accept, recv,
 * connect) or in the select table; `wake` (device.ts) answers them as events arrive.
 *
 * Entry points: the `do*` handlers, `readiness`, `wake`, `closeSock`, `SOCK_RX_MAX`.
 */
import type { TcpHandleInfo } from '../../kernel/abi.js';
import { DEFERRED, err, ok, type Ctx, type Handler, type HandlerResult, type Header, type Result } from '../../sys/index.js';
import { NET_MAX_IO, NET_MAX_SOCKETS, type NetEvent, type NetRequest, type Readiness, type SockInfo } from './protocol.js';
import type { NetState, Sock } from './state.js';

type Req<K extends NetRequest['type']> = Extract<NetRequest, { type: K }>;

/** Received bytes net queues for a reader before it pauses the host socket. */
export const SOCK_RX_MAX = 1 << 20;
const DEFAULT_BACKLOG = 128;

function own(state: NetState, msg: Header, sock: number): Sock | Result<never> {
  const s = state.socks.get(sock);
  if (!s || s.owner !== msg.from) return err('EBADF', `no socket ${sock}`);
  return s;
}
const isErr = (v: Sock | Result<never>): v is Result<never> => 'ok' in v;

function validAddr(host: string, port: number): Result<never> | null {
  if (host.length === 0 || host.length > 255) return err('EINVAL', `bad host ${JSON.stringify(host)}`);
  if (port < 0 || port > 65535) return err('EINVAL', `bad port ${port}`);
  return null;
}

type EventBody = NetEvent extends infer E ? (E extends NetEvent ? Omit<E, 'type' | 'sock'> : never) : never;

/** Push an event to a watched socket's owner. */
export function emit(s: Sock, ev: EventBody, ctx: Ctx): void {
  ctx.send(s.owner, { type: 'net.event', sock: s.id, ...ev });
}

/** Take up to `max` queued bytes (one copy only when chunks must be joined or split). */
function take(s: Sock, max: number, ctx: Ctx): Uint8Array {
  const first = s.rx[0]!;
  let out: Uint8Array;
  if (first.length <= max && (s.rx.length === 1 || first.length + s.rx[1]!.length > max)) {
    out = first;
    s.rx.shift();
  } else {
    const n = Math.min(max, s.rxQueued);
    out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = s.rx[0]!;
      const k = Math.min(c.length, n - at);
      out.set(c.subarray(0, k), at);
      at += k;
      if (k === c.length) s.rx.shift();
      else s.rx[0] = c.subarray(k);
    }
  }
  s.rxQueued -= out.length;
  if (s.paused && s.rxQueued < SOCK_RX_MAX / 2 && s.handle !== null) {
    s.paused = false;
    ctx.kcast({ call: 'tcp-pause', handle: s.handle, paused: false });
  }
  return out;
}

/** Whether a socket has something for a reader: data, end of stream, an error, or a connection to accept. */
function readable(s: Sock): boolean {
  return s.rxQueued > 0 || s.rxEnded || s.error !== null || s.pending.length > 0 || s.state === 'closed';
}

export function readiness(s: Sock): Readiness {
  return { sock: s.id, readable: readable(s), writable: s.state === 'connected' };
}

/** Answer whatever waits on `s` that can be answered now, then the selects that watch it. */
export function wake(state: NetState, s: Sock, ctx: Ctx): void {
  while (s.waiters.length > 0) {
    const w = s.waiters[0]!;
    if (w.kind === 'accept') {
      if (s.pending.length === 0) {
        if (s.state !== 'closed') break;
        ctx.reply(w.token, err('EBADF', 'the listening socket was closed'));
      } else ctx.reply(w.token, ok(acceptOne(state, s)));
    } else if (w.kind === 'recv') {
      if (s.rxQueued > 0) ctx.reply(w.token, ok(take(s, w.max, ctx)));
      else if (s.error !== null) ctx.reply(w.token, err('ECONNRESET', s.error));
      else if (s.rxEnded || s.state === 'closed') ctx.reply(w.token, ok(new Uint8Array(0)));
      else break;
    } else {
      if (s.state === 'connecting') break;
      ctx.reply(w.token, s.state === 'connected' ? ok({ local: s.local, remote: s.remote }) : err('ECONNREFUSED', s.error ?? 'connection refused'));
    }
    s.waiters.shift();
  }
  if (state.selects.size === 0) return;
  for (const [id, sel] of state.selects) {
    if (!sel.socks.includes(s.id)) continue;
    const ready = readyOf(state, sel.socks);
    if (ready.length === 0) continue;
    state.selects.delete(id);
    ctx.reply(sel.token, ok(ready));
  }
}

function readyOf(state: NetState, socks: number[]): Readiness[] {
  const out: Readiness[] = [];
  for (const id of socks) {
    const s = state.socks.get(id);
    if (!s) out.push({ sock: id, readable: true, writable: false }); // closed under the caller: a read says EBADF
    else {
      const r = readiness(s);
      if (r.readable) out.push(r);
    }
  }
  return out;
}

function acceptOne(state: NetState, listener: Sock): { sock: number; remote: unknown } {
  const id = listener.pending.shift()!;
  const conn = state.socks.get(id)!;
  return { sock: conn.id, remote: conn.remote };
}

/** Close a socket: its host handle, waiters, and the connections it accepted that nobody took. */
export function closeSock(state: NetState, s: Sock, ctx: Ctx): void {
  state.socks.delete(s.id);
  if (s.handle !== null) {
    state.byHandle.delete(s.handle);
    ctx.kcast({ call: 'tcp-close', handle: s.handle });
  }
  s.state = 'closed';
  for (const w of s.waiters) ctx.reply(w.token, err('EBADF', `socket ${s.id} was closed`));
  s.waiters = [];
  for (const id of s.pending) {
    const c = state.socks.get(id);
    if (c) closeSock(state, c, ctx);
  }
  s.pending = [];
  for (const [sid, sel] of state.selects) {
    if (!sel.socks.includes(s.id)) continue;
    state.selects.delete(sid);
    ctx.reply(sel.token, ok(readyOf(state, sel.socks)));
  }
}

/**
 * Sockets of accepted connections are numbered after their device handle (unique for the
 * kernel's life), above every number `net.socket` hands out: a restarted net that finds a
 * connection in the device gives it the number its owner was told.
 */
export const ACCEPTED_BASE = 1_000_000;
export const acceptedId = (handle: number) => ACCEPTED_BASE + handle;

export function newSock(state: NetState, owner: number, ownerLabel: string | null, id?: number): Sock {
  const s: Sock = {
    id: id ?? state.nextSock++, owner, ownerLabel, state: 'fresh', handle: null, local: null, remote: null, backlog: DEFAULT_BACKLOG,
    pending: [], rx: [], rxQueued: 0, rxEnded: false, error: null, watched: false, delegated: false, paused: false, waiters: [], rxBytes: 0, txBytes: 0,
  };
  state.socks.set(s.id, s);
  return s;
}

export const doSocket: Handler<NetState, Req<'net.socket'>> = async (state, msg, ctx) => {
  let count = 0;
  for (const s of state.socks.values()) if (s.owner === msg.from) count++;
  if (count >= NET_MAX_SOCKETS) return err('EMFILE', `at most ${NET_MAX_SOCKETS} sockets per process`);
  const label = await ctx.whois(msg.from);
  return ok(newSock(state, msg.from, label).id);
};

export const doBind: Handler<NetState, Req<'net.bind'>> = (state, msg) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  const bad = validAddr(msg.host, msg.port);
  if (bad) return bad;
  if (s.state !== 'fresh') return err('EINVAL', `socket ${s.id} is already ${s.state}`);
  s.local = { host: msg.host, port: msg.port };
  s.state = 'bound';
  return ok(null);
};

export const doListen: Handler<NetState, Req<'net.listen'>> = async (state, msg, ctx) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  if (s.state === 'fresh') s.local = { host: '127.0.0.1', port: 0 };
  else if (s.state !== 'bound') return err('EINVAL', `socket ${s.id} is ${s.state}`);
  const backlog = Math.max(1, Math.min(msg.backlog ?? DEFAULT_BACKLOG, 4096));
  s.state = 'listening'; // claimed while the kernel works: a second listen is refused
  const r = await ctx.kcall<{ handle: number; local: { host: string; port: number } }>({ call: 'tcp-listen', host: s.local!.host, port: s.local!.port, backlog });
  if (!r.ok) {
    s.state = 'bound';
    return r;
  }
  if (!state.socks.has(s.id)) {
    // Closed while the kernel was listening for it.
    ctx.kcast({ call: 'tcp-close', handle: r.value.handle });
    return err('EBADF', `socket ${s.id} was closed`);
  }
  s.handle = r.value.handle;
  s.backlog = backlog;
  s.local = r.value.local;
  state.byHandle.set(s.handle, s.id);
  return ok(s.local.port);
};

export const doAccept: Handler<NetState, Req<'net.accept'>> = (state, msg, ctx) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  if (s.state !== 'listening') return err('EINVAL', `socket ${s.id} is not listening`);
  if (s.pending.length > 0 && s.waiters.length === 0) return ok(acceptOne(state, s));
  if (msg.nonblock) return err('EAGAIN', 'no connection waiting');
  s.waiters.push({ kind: 'accept', token: ctx.defer(msg) });
  return DEFERRED;
};

export const doConnect: Handler<NetState, Req<'net.connect'>> = async (state, msg, ctx) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  const bad = validAddr(msg.host, msg.port);
  if (bad) return bad;
  if (s.state !== 'fresh' && s.state !== 'bound') return err('EINVAL', `socket ${s.id} is ${s.state}`);
  s.state = 'connecting';
  s.remote = { host: msg.host, port: msg.port };
  s.waiters.push({ kind: 'connect', token: ctx.defer(msg) });
  const r = await ctx.kcall<{ handle: number; local: { host: string; port: number }; remote: { host: string; port: number } }>({ call: 'tcp-connect', host: msg.host, port: msg.port });
  if (!state.socks.has(s.id)) {
    if (r.ok) ctx.kcast({ call: 'tcp-close', handle: r.value.handle });
    return DEFERRED;
  }
  if (r.ok) {
    s.state = 'connected';
    s.handle = r.value.handle;
    s.local = r.value.local;
    s.remote = r.value.remote;
    state.byHandle.set(s.handle, s.id);
  } else {
    s.state = 'fresh';
    s.error = r.message ?? r.code;
    const w = s.waiters.findIndex((x) => x.kind === 'connect');
    if (w >= 0) {
      const [waiter] = s.waiters.splice(w, 1);
      ctx.reply(waiter!.token, r);
    }
    s.error = null;
    return DEFERRED;
  }
  wake(state, s, ctx);
  return DEFERRED;
};

export const doSend: Handler<NetState, Req<'net.send'>> = (state, msg, ctx): HandlerResult => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  if (!(msg.data instanceof Uint8Array)) return err('EINVAL', 'net.send: data must be bytes');
  if (msg.data.length > NET_MAX_IO) return err('EINVAL', `net.send: at most ${NET_MAX_IO} bytes at once`);
  if (s.state !== 'connected' || s.handle === null) return err(s.state === 'closed' ? 'EPIPE' : 'ENOTCONN', `socket ${s.id} is ${s.state}`);
  s.txBytes += msg.data.length;
  // The host keeps the order of writes; the reply does not wait for the kernel.
  ctx.kcast({ call: 'tcp-write', handle: s.handle, data: msg.data });
  return ok(msg.data.length);
};

export const doRecv: Handler<NetState, Req<'net.recv'>> = (state, msg, ctx) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  if (s.state === 'listening' || s.state === 'fresh' || s.state === 'bound') return err('ENOTCONN', `socket ${s.id} is ${s.state}`);
  const max = Math.max(1, Math.min(msg.max ?? 65536, NET_MAX_IO));
  if (s.waiters.length === 0) {
    if (s.rxQueued > 0) return ok(take(s, max, ctx));
    if (s.error !== null) return err('ECONNRESET', s.error);
    if (s.rxEnded || s.state === 'closed') return ok(new Uint8Array(0));
  }
  if (msg.nonblock) return err('EAGAIN', 'no data');
  s.waiters.push({ kind: 'recv', token: ctx.defer(msg), max });
  return DEFERRED;
};

export const doShutdown: Handler<NetState, Req<'net.shutdown'>> = (state, msg, ctx) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  if (s.state !== 'connected' || s.handle === null) return err('ENOTCONN', `socket ${s.id} is ${s.state}`);
  ctx.kcast({ call: 'tcp-end', handle: s.handle });
  return ok(null);
};

export const doClose: Handler<NetState, Req<'net.close'>> = (state, msg, ctx) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  closeSock(state, s, ctx);
  return ok(null);
};

export const doSelect: Handler<NetState, Req<'net.select'>> = async (state, msg, ctx) => {
  if (msg.socks.length === 0 || msg.socks.length > NET_MAX_SOCKETS) return err('EINVAL', `select needs 1 to ${NET_MAX_SOCKETS} sockets`);
  for (const id of msg.socks) {
    const s = own(state, msg, id);
    if (isErr(s)) return s;
  }
  const ready = readyOf(state, msg.socks);
  if (ready.length > 0 || msg.timeoutMs === 0) return ok(ready);
  const id = state.nextSelect++;
  const alarm = msg.timeoutMs > 0 ? `select:${id}` : null;
  state.selects.set(id, { token: ctx.defer(msg), socks: [...msg.socks], alarm });
  if (alarm) await ctx.kcall({ call: 'alarm', ms: msg.timeoutMs, tag: alarm });
  return DEFERRED;
};

/** A select's time ran out: it answers with nothing ready. */
export const doAlarm: Handler<NetState, Req<'clock.alarm'>> = (state, msg, ctx) => {
  const m = /^select:(\d+)$/.exec(msg.tag);
  if (!m) return ok(null);
  const sel = state.selects.get(Number(m[1]));
  if (sel) {
    state.selects.delete(Number(m[1]));
    ctx.reply(sel.token, ok([]));
  }
  return ok(null);
};

export const doWatch: Handler<NetState, Req<'net.watch'>> = async (state, msg, ctx) => {
  const s = own(state, msg, msg.sock);
  if (isErr(s)) return s;
  if (s.waiters.length > 0) return err('EBUSY', `socket ${s.id} has blocked callers`);
  if (s.delegated && s.state === 'connected' && s.handle !== null && s.ownerLabel !== null) {
    // Watched again (its owner restarted): delegate it again — the device delivers what
    // the owner had not acknowledged again (acknowledged delivery), then goes on.
    const r = await ctx.kcall({ call: 'tcp-delegate', handle: s.handle, to: s.ownerLabel, sock: s.id });
    return r.ok ? ok(null) : r;
  }
  s.watched = true;
  // A watched listener's new connections take the fast path: their data goes from the
  // kernel straight to the owner (see the TCP device), not through net.
  if (s.state === 'listening' && s.handle !== null && s.ownerLabel !== null && !s.delegated) {
    const r = await ctx.kcall({ call: 'tcp-delegate', handle: s.handle, to: s.ownerLabel });
    if (r.ok && state.socks.has(s.id)) s.delegated = true;
  }
  // What queued before the watch goes out first, in order.
  for (const id of s.pending.splice(0)) {
    const c = state.socks.get(id);
    if (!c) continue;
    c.watched = true;
    emit(s, { kind: 'accept', conn: c.id, remote: c.remote! }, ctx);
    flushWatched(c, ctx);
  }
  flushWatched(s, ctx);
  return ok(null);
};

/** A socket just became watched: hand its queue to the owner as events. */
function flushWatched(s: Sock, ctx: Ctx): void {
  while (s.rx.length > 0) emit(s, { kind: 'data', data: s.rx.shift()! }, ctx);
  s.rxQueued = 0;
  if (s.paused && s.handle !== null) {
    s.paused = false;
    ctx.kcast({ call: 'tcp-pause', handle: s.handle, paused: false });
  }
  if (s.rxEnded) emit(s, { kind: 'end' }, ctx);
  if (s.state === 'closed') emit(s, { kind: 'close', ...(s.error ? { error: s.error } : {}) }, ctx);
}

export const doList: Handler<NetState, Req<'net.list'>> = async (state, _msg, ctx) => {
  // A delegated connection's bytes bypass net: the device counts them.
  const dev = await ctx.kcall<TcpHandleInfo[]>({ call: 'tcp-list' });
  const byHandle = new Map((dev.ok ? dev.value : []).map((h) => [h.handle, h]));
  const rows: SockInfo[] = [...state.socks.values()].map((s) => {
    const dev = s.handle !== null ? byHandle.get(s.handle) : undefined;
    const h = s.delegated ? dev : undefined;
    return {
      sock: s.id, owner: s.ownerLabel, state: s.state, local: s.local, remote: s.remote, rxQueued: s.rxQueued,
      backlog: s.pending.length, watched: s.watched, rxBytes: h ? h.rxBytes : s.rxBytes, txBytes: h ? h.txBytes : s.txBytes,
      handle: s.handle, delegated: s.delegated,
      ...(dev?.acking && dev.acked !== undefined ? { acked: dev.acked } : {}),
      ...(dev?.key ? { key: dev.key } : {}),
    };
  });
  return ok(rows);
};

export const doExit: Handler<NetState, Req<'net.exit'>> = async (state, msg, ctx) => {
  if ((await ctx.whois(msg.from)) !== 'pm') return err('EPERM', 'only pm ends processes');
  for (const s of [...state.socks.values()]) if (s.ownerLabel === msg.label && state.socks.has(s.id)) closeSock(state, s, ctx);
  return ok(null);
};
