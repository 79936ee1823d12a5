/**
 * The host-TCP device: the kernel owns every host socket (DESIGN.md §1). A component
 * (net) holds only handle numbers; what happens on a socket comes back as events
 * addressed to the *label* that owns the handle, so the kernel holds them while that
 * label is being updated or restarted and delivers them to whichever incarnation is
 * bound next. Nothing here knows about Molt sockets, processes or buffers: that is net's
 * state.
 *
 * The data fast path: net may *delegate* a connection to the component that owns its
 * Molt socket (an event-driven daemon such as kvd). The device then sends that
 * connection's data, end of stream and close straight to the daemon's label as
 * `net.event` messages, and takes the daemon's writes — one hop each way instead of
 * three, without net's state changing hands: net still owns the handle, closes it and
 * hears when it closes. Connections accepted on a listener net marked for delegation
 * keep their events in the device until net names their socket, so nothing is reordered.
 *
 * **Acknowledged delivery** (a daemon that must not lose a request when it crashes, such
 * as kvd): a daemon opts in for the connections of a listener delegated to it by an
 * *empty* `tcp-write` on that listener's handle. Each such connection then has at most one
 * chunk of received bytes outstanding at the daemon; what arrives meanwhile is coalesced
 * and delivered when the daemon acknowledges with its next `tcp-write` on the connection
 * (an empty one if it has nothing to send). A non-empty write acknowledges *cleanly*: every
 * byte delivered so far is consumed (answered). An empty write asks for more but keeps
 * what was delivered (the daemon holds an incomplete request). Bytes delivered and not
 * cleanly acknowledged stay here; when net delegates the connection again (the daemon
 * restarted and re-watched it), they are delivered again, coalesced into one chunk, before
 * anything newer — a daemon that crashed loses no request. Each delivered chunk carries
 * its stream offset (`at`).
 *
 * For a restarted net, `list` tells each connection's listener, delegated socket number,
 * whether it awaits delegation, whether the peer ended and whether reading is paused.
 *
 * Entry points: `new TcpDevice(sink)`, `listen`, `connect`, `write`, `end`, `close`,
 * `pause`, `delegate`, `list`, `closeAll`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import type { ErrCode, TcpEvent, TcpHandleInfo } from '../abi.js';
import { concatBytes as concat } from '../../lib/bytes.js';

export interface TcpSink {
  /** Deliver an event to the label that owns the handle. */
  event(owner: string, ev: TcpEvent): void;
  /** Deliver a `net.event` for a delegated connection straight to the daemon's label. */
  direct(label: string, ev: DirectEvent): void;
}

/** What a delegated connection's daemon receives (the fields of a `net.event`; `handle` lets it write directly). */
export type DirectEvent =
  | { sock: number; handle: number; kind: 'data'; data: Uint8Array; at?: number }
  | { sock: number; handle: number; kind: 'end' }
  | { sock: number; handle: number; kind: 'close'; error?: string };

type Pending = { kind: 'data'; data: Uint8Array } | { kind: 'end' } | { kind: 'closed'; error?: string };

export class TcpError extends Error {
  constructor(
    readonly code: ErrCode,
    message: string,
  ) {
    super(message);
  }
}

interface Handle {
  owner: string;
  info: TcpHandleInfo;
  server?: Server;
  socket?: Socket;
  /** A listener: the label its new connections will be delegated to. */
  delegateAccepted?: string | null;
  /** A connection delegated to `label` as Molt socket `sock`. */
  delegate?: { label: string; sock: number } | null;
  /** A connection awaiting delegation: its events, kept in order until net names its socket. */
  pending?: Pending[] | null;
  /** A listener: its delegate acknowledges what it consumes (its connections get `ack`). */
  ackAccepted?: boolean;
  /** Acknowledged delivery (see the header). */
  ack?: AckState | null;
}

interface AckState {
  /** A chunk is at the daemon, not yet acknowledged. */
  outstanding: boolean;
  /** Delivered and not cleanly acknowledged, from stream offset `base`. */
  retained: Uint8Array[];
  base: number;
  /** Received while a chunk is outstanding: delivered (as one chunk) on the acknowledgement. */
  queued: Uint8Array[];
  queuedBytes: number;
  /** The stream offset after the last byte delivered. */
  next: number;
  /** The peer's end of stream: received (delivered after what is queued). */
  ended: boolean;
  endSent: boolean;
  /** Reading paused because `queued` is full. */
  paused: boolean;
}

/** Bytes queued behind an outstanding chunk before reading from the host pauses. */
const ACK_QUEUE_MAX = 1 << 20;

/** Host error codes → Molt's. */
function codeOf(e: NodeJS.ErrnoException): ErrCode {
  switch (e.code) {
    case 'EADDRINUSE':
      return 'EADDRINUSE';
    case 'EACCES':
    case 'EPERM':
      return 'EACCES';
    case 'ECONNREFUSED':
      return 'ECONNREFUSED';
    case 'ECONNRESET':
      return 'ECONNRESET';
    case 'ETIMEDOUT':
      return 'ETIMEDOUT';
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ERR_SOCKET_BAD_PORT':
    case 'ERR_INVALID_ARG_TYPE':
      return 'EINVAL';
    default:
      return 'EIO';
  }
}

const addr = (host: string | undefined, port: number | undefined) => ({ host: host ?? '', port: port ?? 0 });

export class TcpDevice {
  private readonly handles = new Map<number, Handle>();
  private next = 1;
  /** Names this boot's connections (`key`): handle numbers restart at every boot. */
  private readonly epoch = randomBytes(6).toString('hex');

  constructor(private readonly sink: TcpSink) {}

  /** Listen on host:port; connections are accepted at once and reported as `accept` events. */
  listen(owner: string, host: string, port: number, backlog = 511): Promise<TcpHandleInfo> {
    validPort(port);
    return new Promise((resolve, reject) => {
      // Half-open allowed: the peer's end of stream does not end ours — the Molt socket's owner decides.
      const server = createServer({ noDelay: true, pauseOnConnect: false, allowHalfOpen: true });
      const handle = this.next++;
      const onError = (e: NodeJS.ErrnoException) => reject(new TcpError(codeOf(e), `listen ${host}:${port}: ${e.message}`));
      server.once('error', onError);
      server.listen({ host, port, backlog, exclusive: true }, () => {
        server.off('error', onError);
        const a = server.address() as AddressInfo;
        const info: TcpHandleInfo = { handle, kind: 'listener', local: addr(a.address, a.port), remote: null, rxBytes: 0, txBytes: 0, delegate: null };
        this.handles.set(handle, { owner, info, server });
        server.on('connection', (socket) => this.adopt(owner, socket, handle));
        // A listener's own errors after it started (rare: e.g. EMFILE on accept) are reported, not thrown.
        server.on('error', (e) => this.closed(handle, (e as Error).message));
        resolve(info);
      });
    });
  }

  /** Connect to host:port; resolves once connected. */
  connect(owner: string, host: string, port: number): Promise<TcpHandleInfo> {
    validPort(port);
    return new Promise((resolve, reject) => {
      const socket = new Socket({ allowHalfOpen: true });
      socket.setNoDelay(true);
      const onError = (e: NodeJS.ErrnoException) => {
        socket.destroy();
        reject(new TcpError(codeOf(e), `connect ${host}:${port}: ${e.message}`));
      };
      socket.once('error', onError);
      socket.connect({ host, port }, () => {
        socket.off('error', onError);
        const handle = this.adopt(owner, socket, null);
        resolve(this.handles.get(handle)!.info);
      });
    });
  }

  /**
   * Queue bytes on a connection (its owner or the label it is delegated to; the host
   * buffers them, order is kept). From the delegate of an acknowledging connection, also
   * its acknowledgement; an empty write by a listener's delegate opts its connections in.
   */
  write(caller: string, handle: number, data: Uint8Array): void {
    const h = this.handles.get(handle);
    if (h?.server && data.length === 0 && h.delegateAccepted === caller) {
      h.ackAccepted = true;
      return;
    }
    if (!h || !h.socket || (h.owner !== caller && h.delegate?.label !== caller)) throw new TcpError('EBADF', `no TCP connection ${handle}`);
    if (h.ack && h.delegate?.label === caller) this.acknowledge(handle, h, data.length > 0);
    if (data.length === 0) return;
    if (h.socket.destroyed || h.socket.writableEnded) throw new TcpError('EPIPE', `connection ${handle} is closed for writing`);
    h.info.txBytes += data.length;
    h.socket.write(data);
  }

  /** Delegate a connection's data path to `to` (or mark a listener's future connections). */
  delegate(owner: string, handle: number, to: string | null, sock: number | undefined): void {
    const h = this.owned(owner, handle);
    if (h.server) {
      h.delegateAccepted = to;
      return;
    }
    if (to === null || sock === undefined || !Number.isInteger(sock)) throw new TcpError('EINVAL', 'delegating a connection needs a label and a socket number');
    const again = h.delegate !== null && h.delegate !== undefined;
    h.delegate = { label: to, sock };
    h.info.delegate = to;
    h.info.sock = sock;
    h.info.awaiting = false;
    if (again) {
      // Delegated again (its daemon restarted): what it had not cleanly acknowledged comes again.
      if (h.ack) this.redeliver(handle, h);
      return;
    }
    const kept = h.pending ?? [];
    h.pending = null;
    for (const ev of kept) {
      if (ev.kind === 'closed') this.handles.delete(handle);
      this.emit(handle, h, ev);
    }
  }

  end(owner: string, handle: number): void {
    this.connection(owner, handle).socket!.end();
  }

  close(owner: string, handle: number): void {
    const h = this.owned(owner, handle);
    this.handles.delete(handle);
    if (h.server) h.server.close();
    // A graceful close: what was written still goes out, then FIN (destroy would drop it).
    else h.socket!.end(() => h.socket!.destroy());
  }

  pause(owner: string, handle: number, paused: boolean): void {
    const h = this.connection(owner, handle);
    h.info.paused = paused;
    if (paused) h.socket!.pause();
    else if (!h.ack?.paused) h.socket!.resume();
  }

  list(owner: string): TcpHandleInfo[] {
    return [...this.handles.values()]
      .filter((h) => h.owner === owner)
      .map((h) => {
        const a = h.ack;
        return { ...h.info, ...(a ? { acked: a.base, unacked: a.next - a.base } : {}) };
      });
  }

  /** System shutdown: every host socket goes. */
  closeAll(): void {
    for (const h of this.handles.values()) {
      if (h.server) h.server.close();
      else h.socket!.destroy();
    }
    this.handles.clear();
  }

  get size(): number {
    return this.handles.size;
  }

  private adopt(owner: string, socket: Socket, listener: number | null): number {
    const handle = this.next++;
    socket.setNoDelay(true);
    const from = listener === null ? undefined : this.handles.get(listener);
    const acking = from?.ackAccepted === true && !!from.delegateAccepted;
    const info: TcpHandleInfo = {
      handle,
      kind: 'connection',
      local: addr(socket.localAddress, socket.localPort),
      remote: addr(socket.remoteAddress, socket.remotePort),
      rxBytes: 0,
      txBytes: 0,
      delegate: null,
      listener,
      sock: null,
      awaiting: false,
      ended: false,
      paused: false,
      acking,
      key: `${this.epoch}.${handle}`,
    };
    const h: Handle = { owner, info, socket };
    if (acking) {
      h.ack = { outstanding: false, retained: [], base: 0, queued: [], queuedBytes: 0, next: 0, ended: false, endSent: false, paused: false };
    }
    // Accepted on a listener net delegates: keep its events until net names its socket.
    if (from?.delegateAccepted) {
      h.pending = [];
      info.awaiting = true;
    }
    this.handles.set(handle, h);
    if (listener !== null) this.sink.event(owner, { event: 'accept', listener, handle, remote: info.remote!, local: info.local });
    // An exact copy of each chunk: a Buffer may be a view of a larger pooled allocation.
    socket.on('data', (chunk: Buffer) => {
      info.rxBytes += chunk.length;
      this.emit(handle, h, { kind: 'data', data: new Uint8Array(chunk) });
    });
    socket.on('end', () => {
      info.ended = true;
      if (this.handles.has(handle)) this.emit(handle, h, { kind: 'end' });
    });
    let error: string | undefined;
    socket.on('error', (e) => (error = e.message));
    socket.on('close', () => this.closed(handle, error));
    return handle;
  }

  /** One event of a connection: kept (awaiting delegation), straight to its daemon, or to its owner. */
  private emit(handle: number, h: Handle, ev: Pending): void {
    if (h.pending) {
      h.pending.push(ev);
      return;
    }
    const d = h.delegate;
    if (d && h.ack) return this.emitAcked(handle, h, d, ev);
    if (d) {
      if (ev.kind === 'closed') {
        this.sink.direct(d.label, { sock: d.sock, handle, kind: 'close', ...(ev.error ? { error: ev.error } : {}) });
        this.sink.event(h.owner, { event: 'closed', handle, ...(ev.error ? { error: ev.error } : {}) });
      } else this.sink.direct(d.label, { sock: d.sock, handle, ...ev });
      return;
    }
    if (ev.kind === 'closed') this.sink.event(h.owner, { event: 'closed', handle, ...(ev.error ? { error: ev.error } : {}) });
    else this.sink.event(h.owner, { event: ev.kind, handle, ...(ev.kind === 'data' ? { data: ev.data } : {}) } as TcpEvent);
  }

  /** An event of an acknowledging delegated connection: one chunk outstanding at a time (see the header). */
  private emitAcked(handle: number, h: Handle, d: { label: string; sock: number }, ev: Pending): void {
    const a = h.ack!;
    if (ev.kind === 'data') {
      if (a.outstanding || a.queuedBytes > 0) {
        a.queued.push(ev.data);
        a.queuedBytes += ev.data.length;
        if (a.queuedBytes >= ACK_QUEUE_MAX && !a.paused) {
          a.paused = true;
          h.socket?.pause();
        }
        return;
      }
      this.deliver(handle, h, d, ev.data);
      return;
    }
    if (ev.kind === 'end') {
      a.ended = true;
      if (!a.outstanding && a.queuedBytes === 0) this.sendEnd(handle, h, d);
      return;
    }
    // Closed by the host: nothing more will be acknowledged usefully; what is queued goes now, then the close.
    if (a.queuedBytes > 0) this.deliver(handle, h, d, this.takeQueued(a));
    if (a.ended && !a.endSent) this.sendEnd(handle, h, d);
    this.sink.direct(d.label, { sock: d.sock, handle, kind: 'close', ...(ev.error ? { error: ev.error } : {}) });
    this.sink.event(h.owner, { event: 'closed', handle, ...(ev.error ? { error: ev.error } : {}) });
  }

  private deliver(handle: number, h: Handle, d: { label: string; sock: number }, data: Uint8Array): void {
    const a = h.ack!;
    if (a.retained.length === 0) a.base = a.next;
    a.retained.push(data);
    a.outstanding = true;
    const at = a.next;
    a.next += data.length;
    this.sink.direct(d.label, { sock: d.sock, handle, kind: 'data', data, at });
  }

  private sendEnd(handle: number, h: Handle, d: { label: string; sock: number }): void {
    h.ack!.endSent = true;
    this.sink.direct(d.label, { sock: d.sock, handle, kind: 'end' });
  }

  private takeQueued(a: AckState): Uint8Array {
    const out = a.queued.length === 1 ? a.queued[0]! : concat(a.queued, a.queuedBytes);
    a.queued = [];
    a.queuedBytes = 0;
    return out;
  }

  /** The delegate wrote on an acknowledging connection: the outstanding chunk is consumed (all of it, if `clean`); the next goes. */
  private acknowledge(handle: number, h: Handle, clean: boolean): void {
    const a = h.ack!;
    if (!a.outstanding) return;
    a.outstanding = false;
    if (clean) {
      a.retained = [];
      a.base = a.next;
    }
    const d = h.delegate!;
    if (a.queuedBytes > 0) {
      this.deliver(handle, h, d, this.takeQueued(a));
      if (a.paused) {
        a.paused = false;
        if (!h.info.paused) h.socket?.resume();
      }
    } else if (a.ended && !a.endSent && this.handles.has(handle)) this.sendEnd(handle, h, d);
  }

  /** Delegated again: what was delivered and not cleanly acknowledged, as one chunk from its offset; the end of stream if it came. */
  private redeliver(handle: number, h: Handle): void {
    const a = h.ack!;
    const d = h.delegate!;
    if (a.retained.length > 0) {
      const total = a.next - a.base;
      const data = a.retained.length === 1 ? a.retained[0]! : concat(a.retained, total);
      a.retained = [data];
      a.outstanding = true;
      this.sink.direct(d.label, { sock: d.sock, handle, kind: 'data', data, at: a.base });
      return;
    }
    if (!a.outstanding && a.queuedBytes > 0) {
      this.deliver(handle, h, d, this.takeQueued(a));
      return;
    }
    if (a.ended && !a.outstanding) this.sendEnd(handle, h, d);
  }

  private closed(handle: number, error?: string): void {
    const h = this.handles.get(handle);
    if (!h) return; // closed by its owner: nothing to report
    if (!h.pending) this.handles.delete(handle); // else kept until net names it, so the close reaches its daemon
    this.emit(handle, h, { kind: 'closed', ...(error ? { error } : {}) });
  }

  private owned(owner: string, handle: number): Handle {
    const h = this.handles.get(handle);
    if (!h || h.owner !== owner) throw new TcpError('EBADF', `no TCP handle ${handle}`);
    return h;
  }

  private connection(owner: string, handle: number): Handle {
    const h = this.owned(owner, handle);
    if (!h.socket) throw new TcpError('EINVAL', `TCP handle ${handle} is a listener`);
    return h;
  }
}

function validPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TcpError('EINVAL', `bad port ${port}`);
}
