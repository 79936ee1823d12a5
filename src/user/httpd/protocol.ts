/**
 * httpd protocol: httpd serves HTTP clients over TCP, not Molt messages — what reaches it
 * as messages is net's events for its sockets, plus `httpd.stats` for tests and tools.
 */
import { t, type MessagesOf } from '../../sys/schema.js';
import { netEventSchema } from '../../servers/net/protocol.js';

export const httpdProtocol = {
  /** From net, one-way: a connection accepted on the listener, bytes, end of stream, close (NetEvent). */
  'net.event': netEventSchema,
  /** → HttpdStatsReply. */
  'httpd.stats': t.object({}),
} as const;

export type HttpdRequest = MessagesOf<typeof httpdProtocol>;

/** What `httpd.stats` answers. */
export interface HttpdStatsReply {
  phase: string;
  port: number;
  root: string;
  connections: number;
  accepted: number;
  requests: number;
  bytesOut: number;
  errors: number;
  /** vfs.stat calls made (several requests share one). */
  statCalls: number;
  cache: { files: number; bytes: number; hits: number; misses: number };
  /** Responses by status code (test/corpus/httpd/v2.ts: a later state layout; absent before). */
  byStatus?: Record<string, number>;
  /** The state layout's version, where a version records it. */
  layout?: number;
}
