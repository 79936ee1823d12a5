/**
 * httpd: the network side — listening through net, one `Conn` per connection, and the
 * data path. Bytes go through the connection's parser (parse.ts); every request it
 * completes joins the connection's queue, and `pump` answers the queue in order, one
 * request at a time (a file read is asynchronous; a later request never overtakes an
 * earlier one). Responses that are ready together go out as one `net.send`.
 *
 * A connection ends (`net.close`, which still sends what was written) after a response
 * that says `Connection: close` — a parse error's 400/414/431/505 among them, so a
 * malformed request ends only its own connection — or once the client has ended its
 * side and everything it asked for is answered.
 *
 * Quiescence (httpd's default is `protocol-free`): no connection busy (no pump running
 * or parked), no stat in flight, no fd open — so a live update never sees a response
 * half sent. A pump resumed after a shared stat runs outside any handler, which is why
 * `request-free` alone would not do.
 *
 * Entry points: `listen`, `unlisten`, `netEventHandler`, `statsHandler`, `pump`, `afterTransfer`, `idle`, `Hooks`.
 */
import type { Ctx, Handler } from '../../sys/index.js';
import { ok } from '../../sys/index.js';
import { NET_MAX_IO, type SockInfo } from '../../servers/net/protocol.js';
import { feed, type ParseItem } from './parse.js';
import type { HttpdRequest, HttpdStatsReply } from './protocol.js';
import { answer, closeFd, pathStat, readChunk, statRound } from './serve.js';
import { newConn, type Conn, type HttpdState } from './state.js';

type Req<K extends HttpdRequest['type']> = Extract<HttpdRequest, { type: K }>;

/** What a version of httpd may add to the data path (version 2 counts statuses). */
export interface Hooks<S extends HttpdState> {
  /** A response went out. */
  responded?: (st: S, status: number) => void;
  /** Extra fields of `httpd.stats`. */
  stats?: (st: S) => Partial<HttpdStatsReply>;
}

/** Responses ready together are joined up to this size before a send. */
const BATCH = 64 * 1024;
/** Requests one connection may have waiting (pipelined, unanswered): beyond, 503 and close. */
export const MAX_QUEUE = 4096;

/**
 * Claim the listening socket (in init, so a port in use fails `service up` with the
 * reason). After a restart the listening socket this label owned is still net's: it is
 * taken over instead (a new bind would find the port in use). Connections wait in its
 * backlog until `listen` watches it. → the port.
 */
export async function claimListener(st: HttpdState, ctx: Ctx): Promise<number> {
  const call = async <T>(msg: { type: string } & Record<string, unknown>): Promise<T> => {
    const r = await ctx.sendrec<T>('net', msg, { timeoutMs: 10_000 });
    if (!r.ok) throw new Error(`httpd: ${msg.type} ${st.config.host}:${st.config.port}: ${r.code} ${r.message ?? ''}`);
    return r.value;
  };
  const { host, port } = st.config;
  const rows = await call<SockInfo[]>({ type: 'net.list' });
  const mine = rows.find((r) => r.owner === ctx.self.label && r.state === 'listening' && (port === 0 || r.local?.port === port));
  if (mine) {
    st.listener = mine.sock;
    st.port = mine.local?.port ?? port;
    return st.port;
  }
  const sock = await call<number>({ type: 'net.socket' });
  try {
    await call({ type: 'net.bind', sock, host, port });
    st.port = await call<number>({ type: 'net.listen', sock, backlog: 511 });
  } catch (e) {
    ctx.send('net', { type: 'net.close', sock });
    throw e;
  }
  st.listener = sock;
  return st.port;
}

/**
 * Start serving (start hook): make the document root if there is none (with a welcome
 * page), then watch the listener claimed in init; after a restart, the connections it
 * accepted before are taken back too. → the port.
 */
export async function listen(st: HttpdState, ctx: Ctx): Promise<number> {
  await ensureRoot(st, ctx);
  const w = await ctx.sendrec('net', { type: 'net.watch', sock: st.listener }, { timeoutMs: 10_000 });
  if (!w.ok) throw new Error(`httpd: net.watch: ${w.code} ${w.message ?? ''}`);
  const rows = await ctx.sendrec<SockInfo[]>('net', { type: 'net.list' }, { timeoutMs: 10_000 });
  for (const r of rows.ok ? rows.value : []) {
    if (r.owner === ctx.self.label && r.state === 'connected' && !st.conns.has(r.sock)) {
      st.conns.set(r.sock, newConn(r.sock, r.remote ? `${r.remote.host}:${r.remote.port}` : '?'));
    }
  }
  return listening(st, st.listener, st.port);
}

const WELCOME = `<!doctype html>
<html><head><meta charset="utf-8"><title>Molt httpd</title></head>
<body><h1>It works</h1><p>This page is served by <code>httpd</code>, a live-updatable Molt daemon,
from the Molt file system. Put your files in its document root.</p></body></html>
`;

/** A document root that does not exist yet is made (each level), with a welcome page. */
async function ensureRoot(st: HttpdState, ctx: Ctx): Promise<void> {
  const root = st.config.root;
  const there = await ctx.sendrec('vfs', { type: 'vfs.stat', path: root }, { timeoutMs: 10_000 });
  if (there.ok || there.code !== 'ENOENT') return;
  let path = '';
  for (const part of root.split('/').filter(Boolean)) {
    path += `/${part}`;
    await ctx.sendrec('vfs', { type: 'vfs.mkdir', path, mode: 0o755 }, { timeoutMs: 10_000 });
  }
  const fd = await ctx.sendrec<number>('vfs', { type: 'vfs.open', path: `${root.replace(/\/+$/, '')}/index.html`, flags: 'wx' }, { timeoutMs: 10_000 });
  if (!fd.ok) return;
  await ctx.sendrec('vfs', { type: 'vfs.write', fd: fd.value, data: new TextEncoder().encode(WELCOME) }, { timeoutMs: 10_000 });
  await ctx.sendrec('vfs', { type: 'vfs.close', fd: fd.value }, { timeoutMs: 10_000 });
}

function listening(st: HttpdState, sock: number, port: number): number {
  st.listener = sock;
  st.port = port;
  st.phase = 'serving';
  return port;
}

/** Stop (service down, shutdown): close the listening socket and every connection. */
export function unlisten(st: HttpdState, ctx: Ctx): void {
  for (const conn of [...st.conns.values()]) closeConn(st, ctx, conn);
  if (st.listener >= 0) ctx.send('net', { type: 'net.close', sock: st.listener });
  st.listener = -1;
  st.phase = 'stopped';
}

function remoteOf(v: unknown): string {
  const r = v as { host?: unknown; port?: unknown } | undefined;
  return r && typeof r.host === 'string' ? `${r.host}:${String(r.port)}` : '?';
}

function closeConn(st: HttpdState, ctx: Ctx, conn: Conn): void {
  if (st.conns.get(conn.sock) === conn) st.conns.delete(conn.sock);
  ctx.send('net', { type: 'net.close', sock: conn.sock });
}

const alive = (st: HttpdState, conn: Conn) => st.conns.get(conn.sock) === conn;

/** Bytes of one connection waiting to be sent together. */
class Outbox {
  parts: Uint8Array[] = [];
  bytes = 0;
  constructor(
    private readonly ctx: Ctx,
    private readonly sock: number,
  ) {}

  push(b: Uint8Array): void {
    this.parts.push(b);
    this.bytes += b.length;
    if (this.bytes >= BATCH) this.flush();
  }

  flush(): void {
    if (this.bytes === 0) return;
    let data: Uint8Array;
    if (this.parts.length === 1) data = this.parts[0]!;
    else {
      data = new Uint8Array(this.bytes);
      let at = 0;
      for (const p of this.parts) {
        data.set(p, at);
        at += p.length;
      }
    }
    for (let at = 0; at < data.length; at += NET_MAX_IO) {
      const piece = at === 0 && data.length <= NET_MAX_IO ? data : data.slice(at, at + NET_MAX_IO);
      this.ctx.send('net', { type: 'net.send', sock: this.sock, data: piece });
    }
    this.parts = [];
    this.bytes = 0;
  }
}

/**
 * Answer `conn`'s queue in order until it is empty (what arrives meanwhile is queued by
 * other handlers and answered here too), or until a request needs a fresh stat: then
 * the connection parks on that path and the stat is sent (if none is in flight); when it
 * answers, `statRound` resumes every connection parked there. Only one pump per
 * connection runs at a time (`busy`, which stays set while parked).
 */
export async function pump<S extends HttpdState>(st: S, ctx: Ctx, conn: Conn, hooks: Hooks<S>): Promise<void> {
  const parkedOn = await drive(st, ctx, conn, hooks);
  if (parkedOn === null) return;
  await statRound(st, ctx, parkedOn, (sock) => {
    const c = st.conns.get(sock);
    // Resumed ones run on their own (not awaited here: a chain of rounds would nest without end);
    // `prepare.protocolFree` waits for them through `busy`. A throw is a bug: it ends httpd.
    if (c && c.parked) void pump(st, ctx, c, hooks).catch((e: unknown) => process.nextTick(() => { throw e; }));
  });
}

/** The pump's loop. → the path it parked on, or null (done: queue empty, or the connection closed). */
async function drive<S extends HttpdState>(st: S, ctx: Ctx, conn: Conn, hooks: Hooks<S>): Promise<string | null> {
  if (conn.busy && !conn.parked) return null;
  conn.busy = true;
  conn.parked = false;
  const out = new Outbox(ctx, conn.sock);
  try {
    while (conn.queue.length > 0 && !conn.closing && alive(st, conn)) {
      const reply = await answer(st, ctx, conn.queue[0]!);
      if (!alive(st, conn)) {
        if (reply.kind === 'stream') closeFd(st, ctx, reply.fd);
        return null;
      }
      if (reply.kind === 'park') {
        conn.parked = true;
        const e = pathStat(st, reply.path);
        // A stat already in flight answers after this request arrived: it serves it too.
        if (e.inflight) {
          conn.queue[0]!.ride = reply.path;
          conn.queue[0]!.rideSeq = e.flightSeq;
        }
        e.waiters.push(conn.sock);
        return reply.path;
      }
      conn.queue.shift();
      st.stats.requests++;
      if (reply.status >= 400) st.stats.errors++;
      hooks.responded?.(st, reply.status);
      conn.served++;
      if (reply.close) conn.closing = true;
      if (reply.kind === 'bytes') {
        out.push(reply.data);
        st.stats.bytesOut += reply.data.length;
        continue;
      }
      // A large file: the head, then the file read by read, each sent as it comes.
      out.push(reply.head);
      out.flush();
      st.stats.bytesOut += reply.head.length;
      let left = reply.size;
      try {
        while (left > 0) {
          const chunk = await readChunk(ctx, reply.fd, left);
          if (!alive(st, conn)) return null;
          if (typeof chunk === 'string' || chunk.length === 0) {
            // Shorter than the Content-Length we sent: the client must see the connection end.
            conn.closing = true;
            break;
          }
          const piece = chunk.length > left ? chunk.subarray(0, left) : chunk;
          ctx.send('net', { type: 'net.send', sock: conn.sock, data: piece });
          st.stats.bytesOut += piece.length;
          left -= piece.length;
        }
      } finally {
        closeFd(st, ctx, reply.fd);
      }
    }
    return null;
  } finally {
    if (alive(st, conn)) out.flush();
    if (!conn.parked) {
      conn.busy = false;
      if (alive(st, conn) && (conn.closing || (conn.peerEnded && conn.queue.length === 0))) closeConn(st, ctx, conn);
    }
  }
}

function onData<S extends HttpdState>(st: S, ctx: Ctx, sock: number, data: Uint8Array, hooks: Hooks<S>): Promise<void> | void {
  let conn = st.conns.get(sock);
  if (!conn) {
    // Serving: bytes that were on their way when httpd closed the connection — dropped.
    // Starting (after a restart): a connection accepted before it — taken over.
    if (st.phase !== 'starting') return;
    conn = newConn(sock, '?');
    st.conns.set(sock, conn);
  }
  if (conn.closing || conn.parser.failed) return;
  const items: ParseItem[] = [];
  feed(conn.parser, data, items);
  if (items.length === 0) return;
  for (const item of items) {
    if (conn.queue.length >= MAX_QUEUE) {
      conn.queue.push({ seq: st.seq, item: { kind: 'error', status: 503, reason: 'too many pipelined requests' }, ride: '', rideSeq: 0 });
      conn.parser.failed = true;
      break;
    }
    conn.queue.push({ seq: st.seq, item, ride: '', rideSeq: 0 });
  }
  if (!conn.busy) return pump(st, ctx, conn, hooks);
}

export function netEventHandler<S extends HttpdState>(hooks: Hooks<S>): Handler<S, Req<'net.event'>> {
  return (st, msg, ctx) => {
    switch (msg.kind) {
      case 'accept': {
        if (msg.sock !== st.listener || msg.conn === undefined) return;
        st.conns.set(msg.conn, newConn(msg.conn, remoteOf(msg.remote)));
        st.stats.accepted++;
        return;
      }
      case 'data':
        if (msg.sock === st.listener || !(msg.data instanceof Uint8Array)) return;
        return onData(st, ctx, msg.sock, msg.data, hooks);
      case 'end': {
        // The client is done sending: answer what it asked for, then close.
        const conn = st.conns.get(msg.sock);
        if (!conn) return;
        conn.peerEnded = true;
        if (!conn.busy && conn.queue.length === 0) closeConn(st, ctx, conn);
        return;
      }
      case 'close': {
        const conn = st.conns.get(msg.sock);
        if (conn) st.conns.delete(msg.sock);
        if (msg.sock === st.listener) st.listener = -1;
        return;
      }
    }
  };
}

export function statsHandler<S extends HttpdState>(hooks: Hooks<S>): Handler<S, Req<'httpd.stats'>> {
  return (st) => {
    const value: HttpdStatsReply = {
      phase: st.phase,
      port: st.port,
      root: st.config.root,
      connections: st.conns.size,
      accepted: st.stats.accepted,
      requests: st.stats.requests,
      bytesOut: st.stats.bytesOut,
      errors: st.stats.errors,
      statCalls: st.stats.statCalls,
      cache: { files: st.cache.size, bytes: st.cacheBytes, hits: st.stats.cacheHits, misses: st.stats.cacheMisses },
      ...hooks.stats?.(st),
    };
    return ok(value);
  };
}

/**
 * After a live update: a connection whose pump was running when the state was taken
 * (only possible under a quiescence weaker than httpd's protocol-free) may have had a
 * response half sent — it is closed; stats in flight and fds the old version held are
 * forgotten.
 */
export function afterTransfer(st: HttpdState, ctx: Ctx): void {
  st.openFds = 0;
  for (const e of st.pathStats.values()) {
    e.inflight = false;
    e.waiters = [];
  }
  for (const conn of [...st.conns.values()]) {
    if (conn.busy) closeConn(st, ctx, conn);
  }
}

/** Quiescent: no pump running or parked, no stat in flight, no fd open. */
export function idle(st: HttpdState): boolean {
  if (st.openFds > 0) return false;
  for (const c of st.conns.values()) if (c.busy) return false;
  for (const e of st.pathStats.values()) if (e.inflight) return false;
  return true;
}
