/**
 * kvd: the network side — listening through net, one session per connection, and the
 * data path: every complete request of a chunk is parsed and run in order, and the
 * replies go back as ONE reply (pipelining) — held until the AOF has the chunk's writes
 * (group commit, replies.ts). A partial request waits in the session (as received; joined
 * only once the bytes it needs are there). A protocol error answers `-ERR Protocol error:
 * …` and closes that connection only; QUIT answers +OK and closes.
 *
 * Across a crash of kvd (policy ssr-restart): delegated connections use the kernel TCP
 * device's acknowledged delivery (a reply is the acknowledgement; the device delivers
 * again what was not answered, with stream offsets, and kvd drops what it already has);
 * each session's database and name are kept in kvd's server state region (`remember`,
 * `commitRegion`, `resumeSession`); a batch whose writes reached the AOF but whose reply
 * did not go out is answered from the AOF's `KVD.ANSWERED` record, not run twice.
 *
 * Also the periodic tick (active expiry, the AOF's everysec sync) and `kvd.stats`.
 *
 * Entry points: `claimListener`, `doNetEvent`, `releaseHeld`, `onData`, `resumeSession`,
 * `commitRegion`, `doAlarm`, `doStats`, `armTick`.
 */
import type { Ctx, Handler } from '../../sys/index.js';
import { ok } from '../../sys/index.js';
import type { SockInfo } from '../../servers/net/protocol.js';
import { appendAnswered, kick, pump, SYNC_MS } from './aof.js';
import { activeExpire, execute } from './engine.js';
import type { KvdRequest, KvdStatsReply } from './protocol.js';
import { ackPartial, aofPos, closeConn, holdOrSend, sendReply } from './replies.js';
import { error, parseRequests } from './resp.js';
import { freshSession, type HeldEvent, type KvdCore, type KvdRegion, type Session, type SessionRegion } from './state.js';
import { concatBytes as join } from '../../lib/bytes.js';

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
  const s = freshSession(addr, now);
  st.sessions.set(sock, s);
  st.stats.connections++;
  return s;
}

/**
 * Input an acknowledging connection keeps unrun while its last request is incomplete
 * (the device keeps it too, for redelivery after a crash). Past this, the complete
 * requests run and the rest is kept only here (`risky`).
 */
export const DEFER_MAX = 4 << 20;

/**
 * Bytes from a client: run every complete request, answer them in one reply — held until
 * the AOF has what they changed (group commit, replies.ts).
 *
 * An acknowledging connection (`at`: the bytes' stream offset, acknowledged delivery)
 * drops bytes it already has (delivered again after a restart) and, when its input ends in
 * an incomplete request, runs nothing yet: it keeps the input and asks for more
 * (`ackPartial`) — the device keeps the same bytes until a reply acknowledges them, so a
 * crash of kvd meanwhile loses nothing and runs nothing twice.
 */
export function onData(st: KvdCore, ctx: Ctx, sock: number, data: Uint8Array, handle?: number, at?: number): void {
  const now = ctx.now();
  // A connection kvd does not know (e.g. accepted before a restart): a fresh session.
  const sess = st.sessions.get(sock) ?? newSession(st, sock, '?', now);
  if (handle !== undefined) sess.handle = handle;
  if (sess.quit || sess.closeAfter) return;
  if (at !== undefined && sess.handle >= 0) {
    if (sess.next < 0) sess.next = at;
    const end = at + data.length;
    // Already here (delivered again), or ahead of what is here (the device delivers it again from an earlier offset).
    if (end <= sess.next || at > sess.next) return;
    if (at < sess.next) data = data.subarray(sess.next - at);
    if (sess.pendingBytes === 0) sess.bufAt = sess.next;
    sess.next = end;
  }
  const acking = sess.next >= 0 && sess.handle >= 0;
  // After a restart: the AOF has the writes of a batch this chunk ends with, not its reply's sending — answer, run nothing twice.
  let owed = '';
  const ans = sess.answered;
  if (ans && at !== undefined) {
    sess.answered = null;
    if (ans.end > sess.next - data.length && ans.end <= sess.next) {
      owed = ans.reply;
      const skip = data.length - (sess.next - ans.end);
      data = data.subarray(skip);
      sess.pending = [];
      sess.pendingBytes = 0;
      sess.need = 0;
      sess.bufAt = ans.end;
      if (data.length === 0) {
        sendReply(ctx, sock, sess.handle, owed);
        return;
      }
    }
  }
  let buf = data;
  if (sess.pendingBytes > 0) {
    sess.pending.push(data);
    sess.pendingBytes += data.length;
    if (sess.pendingBytes < sess.need) {
      ackPartial(ctx, sess);
      return;
    }
    buf = join(sess.pending, sess.pendingBytes);
    sess.pending = [];
    sess.pendingBytes = 0;
    sess.need = 0;
  }
  const reqs: string[][] = [];
  const r = parseRequests(buf, reqs);
  if (acking && !r.error && r.pos < buf.length && buf.length <= DEFER_MAX) {
    // Ends in an incomplete request: keep it all, run nothing yet.
    sess.pending = [buf];
    sess.pendingBytes = buf.length;
    sess.need = r.need > 0 ? r.pos + r.need : 0;
    ackPartial(ctx, sess);
    return;
  }
  const db0 = sess.db;
  const name0 = sess.name;
  const before = aofPos(st);
  let reply = owed;
  for (let i = 0; i < reqs.length; i++) {
    reply += execute(st, sess, reqs[i]!, now);
    if (sess.quit) break;
  }
  let protoError = sess.quit ? null : r.error;
  const wasRisky = sess.risky;
  sess.risky = false;
  if (!protoError && !sess.quit && r.pos < buf.length) {
    if (buf.length - r.pos > MAX_QUERY) {
      protoError = 'Protocol error: query buffer too big';
    } else {
      const rest = buf.slice(r.pos);
      sess.pending = [rest];
      sess.pendingBytes = rest.length;
      sess.need = r.need;
      sess.risky = acking;
    }
  }
  if (protoError) {
    reply += error(`ERR ${protoError}`);
    st.stats.protocolErrors++;
  }
  if (sess.db !== db0 || sess.name !== name0 || sess.risky !== wasRisky) remember(st, sock, sess, db0, name0);
  const mutated = aofPos(st) !== before;
  if (mutated && acking) appendAnswered(st, sess.handle, sess.next, reply);
  if (reply.length > 0) holdOrSend(st, ctx, sock, sess, reply, mutated);
  else ackPartial(ctx, sess);
  if (protoError || sess.quit) {
    if (sess.held > 0) sess.closeAfter = true;
    else closeConn(st, ctx, sock);
  }
  if (st.aof.buf.length > 0 || st.aof.rewriteQueued) kick(st, ctx);
}

/** A session's state changed in the chunk from `bufAt`: its region entry is due (before and after the chunk). */
function remember(st: KvdCore, sock: number, sess: Session, db0: number, name0: string): void {
  const prev = st.regionEntries.get(sock);
  const sameChunk = prev !== undefined && sess.next >= 0 && prev.at === sess.bufAt;
  st.regionEntries.set(sock, {
    db: sameChunk ? prev.db : db0,
    name: sameChunk ? prev.name : name0,
    at: sess.next >= 0 ? sess.bufAt : -1,
    db1: sess.db,
    name1: sess.name,
    risky: sess.risky,
    stamp: ++st.regionStamp,
  });
  st.regionDirty.push(sock);
}

/**
 * After a restart: the session of an open connection, from its region entry — the state
 * after the chunk the entry was made in, or before it if the device is to deliver that
 * chunk again (its acknowledged offset is not past the chunk's start). A connection that
 * had an incomplete request kept only in kvd (`risky`) is closed (false): its bytes are gone.
 */
export function resumeSession(st: KvdCore, ctx: Ctx, row: SockInfo, e: SessionRegion | undefined): boolean {
  const addr = row.remote ? `${row.remote.host}:${row.remote.port}` : '?';
  const sess = st.sessions.get(row.sock) ?? newSession(st, row.sock, addr, ctx.now());
  sess.addr = addr;
  if (row.delegated && typeof row.handle === 'number') sess.handle = row.handle;
  if (typeof row.acked === 'number') sess.next = row.acked;
  const ans = sess.handle >= 0 ? st.answered.get(sess.handle) : undefined;
  const answered = ans !== undefined && typeof row.acked === 'number' && ans.end > row.acked;
  if (answered) sess.answered = ans;
  if (e) {
    // Before the chunk the entry was made in if the device delivers it again — unless the AOF says it ran.
    const before = typeof row.acked === 'number' && e.at >= 0 && row.acked <= e.at && !(answered && ans.end > e.at);
    if (e.risky && !before) {
      closeConn(st, ctx, row.sock);
      return false;
    }
    sess.db = before ? e.db : e.db1;
    sess.name = before ? e.name : e.name1;
    st.regionEntries.set(row.sock, { ...e, db: sess.db, name: sess.name, db1: sess.db, name1: sess.name, at: -1, risky: false });
  }
  return true;
}

/** Commit the region entries changed since the last commit (from a handler that serves a client). */
export function commitRegion(st: KvdCore, ctx: Ctx): void {
  if (st.regionDirty.length === 0 || !ctx.ssr) return;
  const region = ctx.ssr<KvdRegion>(() => ({ sessions: {} }));
  for (const sock of st.regionDirty.splice(0)) {
    const e = st.sessions.has(sock) ? st.regionEntries.get(sock) : undefined;
    if (e && (e.db1 !== 0 || e.name1 !== '' || e.risky || e.db !== 0 || e.name !== '')) region.sessions[sock] = { ...e };
    else {
      delete region.sessions[sock];
      if (!st.sessions.has(sock)) st.regionEntries.delete(sock);
    }
  }
}

export const doNetEvent: Handler<KvdCore, Req<'net.event'>> = (st, msg, ctx) => {
  handleNetEvent(st, msg, ctx);
  commitRegion(st, ctx);
};

function handleNetEvent(st: KvdCore, msg: Req<'net.event'>, ctx: Ctx): void {
  const remote = msg.remote as { host: string; port: number } | undefined;
  const ev: HeldEvent = {
    sock: msg.sock,
    kind: msg.kind,
    ...(msg.conn !== undefined ? { conn: msg.conn } : {}),
    ...(remote ? { remote: { host: String(remote.host), port: Number(remote.port) } } : {}),
    ...(msg.data instanceof Uint8Array ? { data: msg.data } : {}),
    ...(msg.handle !== undefined ? { handle: msg.handle } : {}),
    ...(typeof msg.at === 'number' ? { at: msg.at } : {}),
  };
  if (st.phase === 'loading') {
    st.held.push(ev); // the dataset is not there yet: run it once it is
    return;
  }
  if (st.phase === 'serving') netEvent(st, ctx, ev);
}

/** Run the events that came while loading, in order. */
export function releaseHeld(st: KvdCore, ctx: Ctx): void {
  for (const ev of st.held.splice(0)) netEvent(st, ctx, ev);
}

function netEvent(st: KvdCore, ctx: Ctx, ev: HeldEvent): void {
  switch (ev.kind) {
    case 'accept': {
      if (ev.conn === undefined) return;
      // Announced again by a restarted net: the session stays as it is.
      const sess = st.sessions.get(ev.conn) ?? newSession(st, ev.conn, ev.remote ? `${ev.remote.host}:${ev.remote.port}` : '?', ctx.now());
      if (ev.handle !== undefined) sess.handle = ev.handle;
      return;
    }
    case 'data':
      if (ev.data && ev.sock !== st.listener) onData(st, ctx, ev.sock, ev.data, ev.handle, ev.at);
      return;
    case 'end': {
      // The client is done sending: what it sent is answered (once held replies are out); close our side.
      const sess = st.sessions.get(ev.sock);
      if (!sess) return;
      if (sess.held > 0) sess.closeAfter = true;
      else closeConn(st, ctx, ev.sock);
      return;
    }
    case 'close':
      if (st.sessions.delete(ev.sock)) st.regionDirty.push(ev.sock);
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
