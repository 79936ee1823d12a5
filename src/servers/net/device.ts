/**
 * net: events from the kernel's TCP device (`kernel.tcp`) — a connection accepted on a
 * listener, bytes received, the peer's end of stream, a closed handle. Each becomes
 * either a `net.event` pushed to a watching owner, or queued data that answers blocked
 * callers (`wake`).
 *
 * Entry points: `doTcpEvent`, `admit`.
 */
import { err, ok, type Ctx, type Handler } from '../../sys/index.js';
import type { NetRequest, SockAddr } from './protocol.js';
import { acceptedId, emit, newSock, SOCK_RX_MAX, wake } from './sockets.js';
import type { Sock } from './state.js';
import type { NetState } from './state.js';

type Req<K extends NetRequest['type']> = Extract<NetRequest, { type: K }>;

export const doTcpEvent: Handler<NetState, Req<'kernel.tcp'>> = (state, msg, ctx) => {
  if (msg.from !== 0) return err('EPERM', 'only the kernel reports TCP events');
  switch (msg.event) {
    case 'accept': {
      const lid = msg.listener === undefined ? undefined : state.byHandle.get(msg.listener);
      const listener = lid === undefined ? undefined : state.socks.get(lid);
      if (!listener || listener.state !== 'listening' || listener.pending.length >= listener.backlog) {
        // Nobody listens any more (closed meanwhile), or the backlog is full: refuse it.
        ctx.kcast({ call: 'tcp-close', handle: msg.handle });
        return ok(null);
      }
      admit(state, listener, msg.handle, msg.local as SockAddr, msg.remote as SockAddr, ctx);
      return ok(null);
    }
    case 'data': {
      const s = sockOf(state, msg.handle);
      if (!s || !(msg.data instanceof Uint8Array)) return ok(null);
      s.rxBytes += msg.data.length;
      if (s.watched) {
        emit(s, { kind: 'data', data: msg.data }, ctx);
        return ok(null);
      }
      s.rx.push(msg.data);
      s.rxQueued += msg.data.length;
      if (!s.paused && s.rxQueued >= SOCK_RX_MAX) {
        s.paused = true;
        ctx.kcast({ call: 'tcp-pause', handle: msg.handle, paused: true });
      }
      wake(state, s, ctx);
      return ok(null);
    }
    case 'end': {
      const s = sockOf(state, msg.handle);
      if (!s) return ok(null);
      s.rxEnded = true;
      if (s.watched) emit(s, { kind: 'end' }, ctx);
      else wake(state, s, ctx);
      return ok(null);
    }
    case 'closed': {
      const s = sockOf(state, msg.handle);
      state.byHandle.delete(msg.handle);
      if (!s) return ok(null);
      s.handle = null;
      s.state = 'closed';
      if (msg.error) s.error = msg.error;
      // A delegated connection's owner heard of the close from the device itself.
      if (s.watched && !s.delegated) emit(s, { kind: 'close', ...(msg.error ? { error: msg.error } : {}) }, ctx);
      else wake(state, s, ctx);
      return ok(null);
    }
    default:
      return err('EINVAL', `unknown TCP event ${msg.event}`);
  }
};

/**
 * A connection accepted on `listener` becomes a socket of the listener's owner, numbered
 * after its device handle (`acceptedId`: a restarted net gives it the same number), then
 * goes to the owner: announced (a watched listener; a delegated one's data then goes
 * straight to the owner), or queued for `net.accept`.
 */
export function admit(state: NetState, listener: Sock, handle: number, local: SockAddr | null, remote: SockAddr | null, ctx: Ctx): Sock {
  const conn = newSock(state, listener.owner, listener.ownerLabel, acceptedId(handle));
  conn.state = 'connected';
  conn.handle = handle;
  conn.local = local;
  conn.remote = remote;
  state.byHandle.set(handle, conn.id);
  if (listener.watched) {
    conn.watched = true;
    if (listener.delegated) {
      // The device kept this connection's events: name its socket and they go straight
      // to the owner, after this accept (both go out in this order).
      conn.delegated = true;
      ctx.send(listener.owner, { type: 'net.event', sock: listener.id, kind: 'accept', conn: conn.id, remote: conn.remote, handle });
      ctx.kcast({ call: 'tcp-delegate', handle, to: listener.ownerLabel, sock: conn.id });
    } else emit(listener, { kind: 'accept', conn: conn.id, remote: conn.remote! }, ctx);
  } else {
    listener.pending.push(conn.id);
    wake(state, listener, ctx);
  }
  return conn;
}

function sockOf(state: NetState, handle: number) {
  const id = state.byHandle.get(handle);
  return id === undefined ? undefined : state.socks.get(id);
}
