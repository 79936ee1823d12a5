/**
 * kvd protocol: kvd serves Redis clients over TCP, not Molt messages — what reaches it as
 * messages is net's events for its sockets and the kernel's alarms (the AOF flush timer
 * and the periodic tick), plus `kvd.stats` for tests and tools.
 */
import { t, type MessagesOf } from '../../sys/schema.js';
import { netEventSchema } from '../../servers/net/protocol.js';

export const kvdProtocol = {
  /** From net (or, for a delegated connection, the kernel's TCP device), one-way: a connection accepted on the listener, bytes, end of stream, close (NetEvent). */
  'net.event': netEventSchema,
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
