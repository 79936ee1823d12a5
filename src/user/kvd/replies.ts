/**
 * kvd: replies going out — straight to the kernel's TCP device for a delegated
 * connection, through net otherwise — and the group commit: a reply whose requests
 * changed data waits until the AOF bytes they appended are handed to vfs (`releaseReplies`
 * after each completed write), so no client is told OK about a write a crash of kvd loses.
 * Replies of one connection keep their order (a connection with a held reply holds the
 * next ones too).
 *
 * For an acknowledging connection (acknowledged delivery, see the TCP device), the write
 * of a reply is also kvd's clean acknowledgement of the bytes it answers; `ackPartial` is
 * the empty write that asks for more while an incomplete request is kept.
 *
 * Entry points: `sendReply`, `ackPartial`, `holdOrSend`, `releaseReplies`, `closeConn`, `aofPos`.
 */
import type { Ctx } from '../../sys/index.js';
import { NET_MAX_IO } from '../../servers/net/protocol.js';
import { latin1Bytes } from './resp.js';
import type { KvdCore, Session } from './state.js';

const EMPTY = new Uint8Array(0);

/** The AOF stream position after everything appended so far. */
export const aofPos = (st: KvdCore): number => st.aof.taken + st.aof.buf.length;

/** Send a reply (latin1 text): in one write to the device for a delegated connection (one acknowledgement), else in pieces net takes. */
export function sendReply(ctx: Ctx, sock: number, handle: number, reply: string): void {
  if (handle >= 0) {
    ctx.kcast({ call: 'tcp-write', handle, data: latin1Bytes(reply) });
    return;
  }
  for (let at = 0; at < reply.length; at += NET_MAX_IO) {
    const piece = at === 0 && reply.length <= NET_MAX_IO ? reply : reply.slice(at, at + NET_MAX_IO);
    ctx.send('net', { type: 'net.send', sock, data: latin1Bytes(piece) });
  }
}

/** Acknowledging connection: consumed, nothing to answer yet (an incomplete request is kept) — send more. */
export function ackPartial(ctx: Ctx, sess: Session): void {
  if (sess.handle >= 0 && sess.next >= 0) ctx.kcast({ call: 'tcp-write', handle: sess.handle, data: EMPTY });
}

/**
 * A reply of `sess`: out now, or held until the AOF is written up to where it is now
 * (`mutated`: its requests appended to the AOF), or behind a held reply of the same
 * connection.
 */
export function holdOrSend(st: KvdCore, ctx: Ctx, sock: number, sess: Session, reply: string, mutated: boolean): void {
  const aof = st.aof;
  if ((mutated || sess.held > 0) && aof.on && aof.fd >= 0) {
    st.waiting.push({ sock, reply, pos: aofPos(st) });
    sess.held++;
    return;
  }
  sendReply(ctx, sock, sess.handle, reply);
}

/** Send the replies whose AOF bytes are written (position ≤ `taken`), in order; everything if `all`. */
export function releaseReplies(st: KvdCore, ctx: Ctx, all = false): void {
  const done = st.aof.taken;
  let n = 0;
  while (n < st.waiting.length && (all || st.waiting[n]!.pos <= done)) n++;
  if (n === 0) return;
  for (const w of st.waiting.splice(0, n)) {
    const sess = st.sessions.get(w.sock);
    if (!sess) continue;
    sess.held--;
    sendReply(ctx, w.sock, sess.handle, w.reply);
    if (sess.held === 0 && sess.closeAfter) closeConn(st, ctx, w.sock);
  }
}

/** Close a connection: its session goes (and its region entry); net closes the socket (a call: given again if net crashes). */
export function closeConn(st: KvdCore, ctx: Ctx, sock: number): void {
  st.sessions.delete(sock);
  st.regionDirty.push(sock);
  void ctx.sendrec('net', { type: 'net.close', sock }, { timeoutMs: 30_000 });
}
