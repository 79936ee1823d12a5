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
 * Entry points: `new TcpDevice(sink)`, `listen`, `connect`, `write`, `end`, `close`,
 * `pause`, `delegate`, `list`, `closeAll`.
 */
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import type { ErrCode, TcpEvent, TcpHandleInfo } from '../abi.js';

export interface TcpSink {
  /** Deliver an event to the label that owns the handle. */
  event(owner: string, ev: TcpEvent): void;
  /** Deliver a `net.event` for a delegated connection straight to the daemon's label. */
  direct(label: string, ev: DirectEvent): void;
}

/** What a delegated connection's daemon receives (the fields of a `net.event`; `handle` lets it write directly). */
export type DirectEvent =
  | { sock: number; handle: number; kind: 'data'; data: Uint8Array }
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
}

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

  /** Queue bytes on a connection (the host buffers them; order is kept). */
  /** Queue bytes on a connection (its owner or the label it is delegated to). */
  write(caller: string, handle: number, data: Uint8Array): void {
    const h = this.handles.get(handle);
    if (!h || !h.socket || (h.owner !== caller && h.delegate?.label !== caller)) throw new TcpError('EBADF', `no TCP connection ${handle}`);
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
    h.delegate = { label: to, sock };
    h.info.delegate = to;
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
    if (paused) h.socket!.pause();
    else h.socket!.resume();
  }

  list(owner: string): TcpHandleInfo[] {
    return [...this.handles.values()].filter((h) => h.owner === owner).map((h) => h.info);
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
    const info: TcpHandleInfo = {
      handle,
      kind: 'connection',
      local: addr(socket.localAddress, socket.localPort),
      remote: addr(socket.remoteAddress, socket.remotePort),
      rxBytes: 0,
      txBytes: 0,
      delegate: null,
    };
    const h: Handle = { owner, info, socket };
    // Accepted on a listener net delegates: keep its events until net names its socket.
    if (listener !== null && this.handles.get(listener)?.delegateAccepted) h.pending = [];
    this.handles.set(handle, h);
    if (listener !== null) this.sink.event(owner, { event: 'accept', listener, handle, remote: info.remote!, local: info.local });
    // An exact copy of each chunk: a Buffer may be a view of a larger pooled allocation.
    socket.on('data', (chunk: Buffer) => {
      info.rxBytes += chunk.length;
      this.emit(handle, h, { kind: 'data', data: new Uint8Array(chunk) });
    });
    socket.on('end', () => {
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
