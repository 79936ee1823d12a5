/**
 * kvd: the network side — listening through net, one session per connection, and the
 * data path: every complete request of a chunk is parsed and run in order, and the
 * replies go back as ONE `net.send` (pipelining). A partial request waits in the
 * session (as received; joined only once the bytes it needs are there). A protocol
 * error answers `-ERR Protocol error: …` and closes that connection only; QUIT answers
 * +OK and closes.
 *
 * Also the periodic tick (active expiry, the AOF's everysec sync) and `kvd.stats`.
 *
 * Entry points: `listen`, `doNetEvent`, `releaseHeld`, `onData`, `doAlarm`, `doStats`, `armTick`.
 */
import type { Ctx, Handler } from '../../sys/index.js';
import { ok } from '../../sys/index.js';
import { NET_MAX_IO, type SockInfo } from '../../servers/net/protocol.js';
import { kick, pump, SYNC_MS } from './aof.js';
import { activeExpire, execute } from './engine.js';
import type { KvdRequest, KvdStatsReply } from './protocol.js';
import { error, latin1Bytes, parseRequests } from './resp.js';
import type { HeldEvent, KvdCore, Session } from './state.js';

type Req<K extends KvdRequest['type']> = Extract<KvdRequest, { type: K }>;

/** The periodic tick (ms): active expiry, sync when due, a flush if one is owed. */
export const TICK_MS = 100;
/** A client's unparsed input may not grow past this (bytes): protocol error. */
export const MAX_QUERY = 512 * 1024 * 1024 + 64 * 1024;

/**
 * The listening socket, claimed in init (so a port in use fails `service up` with the
 * reason): after a crash, the listener this label still owns in net (same endpoint) is
 * taken back — the port does not change and open connections keep working; else a new
 * one (net.socket, bind, listen). Connections wait in its backlog until `startKvd`
 * watches it. → the port listened on.
 */
export async function claimListener(st: KvdCore, ctx: Ctx): Promise<number> {
  const call = async <T>(msg: { type: string } & Record<string, unknown>): Promise<T> => {
    const r = await ctx.sendrec<T>('net', msg, { timeoutMs: 10_000 });
    if (!r.ok) throw new Error(`kvd: ${msg.type} ${st.host}:${st.port}: ${r.code} ${r.message ?? ''}`);
    return r.value;
  };
  const rows = await call<SockInfo[]>({ type: 'net.list' });
  const mine = rows.find((s) => s.owner === ctx.self.label && s.state === 'listening' && (st.port === 0 || s.local?.port === st.port));
  if (mine) {
    st.listener = mine.sock;
    st.boundPort = mine.local?.port ?? st.port;
    return st.boundPort;
  }
  const sock = await call<number>({ type: 'net.socket' });
  try {
    await call({ type: 'net.bind', sock, host: st.host, port: st.port });
    st.boundPort = await call<number>({ type: 'net.listen', sock, backlog: 511 });
  } catch (e) {
    ctx.send('net', { type: 'net.close', sock });
    throw e;
  }
  st.listener = sock;
  return st.boundPort;
}

function newSession(st: KvdCore, sock: number, addr: string, now: number): Session {
  const s: Session = { db: 0, name: '', addr, pending: [], pendingBytes: 0, need: 0, quit: false, createdAt: now, handle: -1 };
  st.sessions.set(sock, s);
  st.stats.connections++;
  return s;
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Send a reply (latin1 text) in pieces net takes — straight to the kernel's TCP device when the connection is delegated. */
function sendReply(ctx: Ctx, sock: number, handle: number, reply: string): void {
  for (let at = 0; at < reply.length; at += NET_MAX_IO) {
    const piece = at === 0 && reply.length <= NET_MAX_IO ? reply : reply.slice(at, at + NET_MAX_IO);
    if (handle >= 0) ctx.kcast({ call: 'tcp-write', handle, data: latin1Bytes(piece) });
    else ctx.send('net', { type: 'net.send', sock, data: latin1Bytes(piece) });
  }
}

function close(st: KvdCore, ctx: Ctx, sock: number): void {
  st.sessions.delete(sock);
  ctx.send('net', { type: 'net.close', sock });
}

/** Bytes from a client: run every complete request, answer them in one send. */
export function onData(st: KvdCore, ctx: Ctx, sock: number, data: Uint8Array, handle?: number): void {
  const now = ctx.now();
  // A connection kvd does not know (e.g. accepted before a restart): a fresh session.
  const sess = st.sessions.get(sock) ?? newSession(st, sock, '?', now);
  if (handle !== undefined) sess.handle = handle;
  if (sess.quit) return;
  let buf = data;
  if (sess.pendingBytes > 0) {
    sess.pending.push(data);
    sess.pendingBytes += data.length;
    if (sess.pendingBytes < sess.need) return;
    buf = join(sess.pending, sess.pendingBytes);
    sess.pending = [];
    sess.pendingBytes = 0;
    sess.need = 0;
  }
  const reqs: string[][] = [];
  const r = parseRequests(buf, reqs);
  let reply = '';
  for (let i = 0; i < reqs.length; i++) {
    reply += execute(st, sess, reqs[i]!, now);
    if (sess.quit) break;
  }
  let protoError = sess.quit ? null : r.error;
  if (!protoError && !sess.quit && r.pos < buf.length) {
    if (buf.length - r.pos > MAX_QUERY) {
      protoError = 'Protocol error: query buffer too big';
    } else {
      const rest = buf.slice(r.pos);
      sess.pending = [rest];
      sess.pendingBytes = rest.length;
      sess.need = r.need;
    }
  }
  if (protoError) {
    reply += error(`ERR ${protoError}`);
    st.stats.protocolErrors++;
  }
  if (reply.length > 0) sendReply(ctx, sock, sess.handle, reply);
  if (protoError || sess.quit) close(st, ctx, sock);
  if (st.aof.buf.length > 0 || st.aof.rewriteQueued) kick(st, ctx);
}

export const doNetEvent: Handler<KvdCore, Req<'net.event'>> = (st, msg, ctx) => {
  const remote = msg.remote as { host: string; port: number } | undefined;
  const ev: HeldEvent = {
    sock: msg.sock,
    kind: msg.kind,
    ...(msg.conn !== undefined ? { conn: msg.conn } : {}),
    ...(remote ? { remote: { host: String(remote.host), port: Number(remote.port) } } : {}),
    ...(msg.data instanceof Uint8Array ? { data: msg.data } : {}),
    ...(msg.handle !== undefined ? { handle: msg.handle } : {}),
  };
  if (st.phase === 'loading') {
    st.held.push(ev); // the dataset is not there yet: run it once it is
    return;
  }
  if (st.phase === 'serving') netEvent(st, ctx, ev);
};

/** Run the events that came while loading, in order. */
export function releaseHeld(st: KvdCore, ctx: Ctx): void {
  for (const ev of st.held.splice(0)) netEvent(st, ctx, ev);
}

function netEvent(st: KvdCore, ctx: Ctx, ev: HeldEvent): void {
  switch (ev.kind) {
    case 'accept':
      if (ev.conn !== undefined) newSession(st, ev.conn, ev.remote ? `${ev.remote.host}:${ev.remote.port}` : '?', ctx.now()).handle = ev.handle ?? -1;
      return;
    case 'data':
      if (ev.data && ev.sock !== st.listener) onData(st, ctx, ev.sock, ev.data, ev.handle);
      return;
    case 'end':
      // The client is done sending: what it sent has been answered; close our side.
      if (st.sessions.has(ev.sock)) close(st, ctx, ev.sock);
      return;
    case 'close':
      st.sessions.delete(ev.sock);
      return;
  }
}

/** Start this run's periodic tick. */
export function armTick(st: KvdCore, ctx: Ctx): void {
  void ctx.kcall({ call: 'alarm', ms: TICK_MS, tag: `tick:${st.tickGen}` });
}

export const doAlarm: Handler<KvdCore, Req<'clock.alarm'>> = async (st, msg, ctx) => {
  if (msg.tag === 'flush') {
    st.aof.flushArmed = false;
    await pump(st, ctx);
    return;
  }
  if (msg.tag !== `tick:${st.tickGen}`) return; // a stale chain (from before a restart)
  armTick(st, ctx);
  if (st.phase !== 'serving') return;
  activeExpire(st, ctx.now());
  const aof = st.aof;
  if (aof.buf.length > 0 || aof.rewriteQueued) kick(st, ctx);
  else if (aof.unsynced && ctx.now() - aof.lastSync >= SYNC_MS) await pump(st, ctx);
};

export const doStats: Handler<KvdCore, Req<'kvd.stats'>> = (st) => {
  const value: KvdStatsReply = {
    phase: st.phase,
    port: st.boundPort,
    clients: st.sessions.size,
    commands: st.stats.commands,
    keys: st.dbs.map((d) => d.size),
    aof: {
      size: st.aof.size, baseSize: st.aof.baseSize, rewrites: st.aof.rewrites, pending: st.aof.buf.length,
      loadNote: st.aof.loadNote, lastError: st.aof.lastError,
    },
  };
  return ok(value);
};
