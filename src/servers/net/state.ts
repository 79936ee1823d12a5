/**
 * net state: every Molt socket as plain data — owner, host handle number, addresses,
 * receive queue, accepted connections not yet taken, and the callers waiting on it
 * (deferred reply tokens). No host object lives here: the host sockets are the kernel
 * TCP device's, so this whole state transfers on a live update and net's clients keep
 * their connections.
 */
import type { ReplyToken } from '../../sys/index.js';
import type { SockAddr, SockState } from './protocol.js';

/** A caller blocked on a socket. */
export type Waiter =
  | { kind: 'accept'; token: ReplyToken }
  | { kind: 'recv'; token: ReplyToken; max: number }
  | { kind: 'connect'; token: ReplyToken };

export interface Sock {
  id: number;
  /** The endpoint that created it: the only one that may use it. */
  owner: number;
  /** Its label (a process is `p<pid>`), for `net.exit` and netstat. */
  ownerLabel: string | null;
  state: SockState;
  /** The kernel TCP device's handle, once listening or connected. */
  handle: number | null;
  local: SockAddr | null;
  remote: SockAddr | null;
  backlog: number;
  /** Accepted connections (socket ids) not yet taken by `net.accept`. */
  pending: number[];
  /** Received bytes not yet read, in order. */
  rx: Uint8Array[];
  rxQueued: number;
  /** The peer ended its stream (after `rx` is read, reads return end of stream). */
  rxEnded: boolean;
  /** The host closed the connection with this error. */
  error: string | null;
  /** Events go to the owner as `net.event` messages. */
  watched: boolean;
  /**
   * The data fast path: the kernel's TCP device sends this connection's events straight
   * to the owner and takes its writes (net still owns the handle and closes it). A
   * listener with this set has its new connections delegated.
   */
  delegated: boolean;
  /** Reading from the host is paused (the receive queue is full). */
  paused: boolean;
  waiters: Waiter[];
  rxBytes: number;
  txBytes: number;
}

/** A `net.select` waiting for readiness. */
export interface Select {
  token: ReplyToken;
  socks: number[];
  /** The alarm tag of its timeout, or null (no limit). */
  alarm: string | null;
}

export interface NetState {
  socks: Map<number, Sock>;
  /** Kernel handle → socket id. */
  byHandle: Map<number, number>;
  nextSock: number;
  selects: Map<number, Select>;
  nextSelect: number;
}

export function emptyNetState(): NetState {
  return { socks: new Map(), byHandle: new Map(), nextSock: 1, selects: new Map(), nextSelect: 1 };
}
