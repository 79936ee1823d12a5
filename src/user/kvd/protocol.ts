/**
 * kvd protocol: kvd serves Redis clients over TCP, not Molt messages — what reaches it as
 * messages is net's events for its sockets and the kernel's alarms (the AOF flush timer
 * and the periodic tick), plus `kvd.stats` for tests and tools.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const kvdProtocol = {
  /** From net (or, for a delegated connection, the kernel's TCP device), one-way: a connection accepted on the listener, bytes, end of stream, close (NetEvent). */
  'net.event': t.object({
    sock: t.int,
    kind: t.oneOf('accept', 'data', 'end', 'close'),
    conn: t.optional(t.int),
    remote: t.optional(t.any),
    data: t.optional(t.any),
    error: t.optional(t.string),
    /** A delegated connection's kernel TCP handle (the fast path: kvd writes to it directly). */
    handle: t.optional(t.int),
    /** Acknowledged delivery: the stream offset of `data` (see the kernel's TCP device). */
    at: t.optional(t.int),
  }),
  /** From the kernel, one-way: an alarm kvd set (`flush`, or `tick:<gen>`). */
  'clock.alarm': t.object({ tag: t.string }),
  /** → KvdStatsReply: counters, keys per database, the AOF's sizes. */
  'kvd.stats': t.object({}),
} as const;

export type KvdRequest = MessagesOf<typeof kvdProtocol>;

/** What `kvd.stats` answers. */
export interface KvdStatsReply {
  phase: string;
  port: number;
  clients: number;
  commands: number;
  keys: number[];
  aof: { size: number; baseSize: number; rewrites: number; pending: number; loadNote: string; lastError: string };
}
