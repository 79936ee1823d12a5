/**
 * net protocol: TCP sockets over the kernel's host-TCP device (DESIGN.md §1: host
 * sockets stay in the kernel; net holds handle numbers and all connection state as plain
 * data, so it can be live-updated or restarted without dropping a connection).
 *
 * A socket is a number net hands out (`net.socket`), owned by the endpoint that asked
 * for it; only the owner may use it (EBADF otherwise). Two ways to use a socket:
 *
 * - **Blocking calls** (user programs through libc): `net.accept`, `net.recv` and
 *   `net.connect` answer when they can (a deferred reply), `net.select` waits for
 *   readiness of several sockets with a timeout.
 * - **Events** (event-driven daemons such as kvd and httpd): `net.watch` on a socket
 *   makes net push `net.event` messages to the owner — connections accepted (already
 *   watched), data, end of stream, close. A daemon's live update or restart holds them
 *   in the kernel; none is lost.
 *
 * Addresses: IPv4/IPv6 loopback or any host address the host lets us bind (`127.0.0.1`,
 * `::1`, `0.0.0.0`). Port 0 binds an ephemeral port (`net.listen` answers the port).
 * Errors: EBADF EINVAL EADDRINUSE ECONNREFUSED ECONNRESET ENOTCONN EPIPE EAGAIN EMFILE
 * EACCES.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export interface SockAddr {
  host: string;
  port: number;
}

export type SockState = 'fresh' | 'bound' | 'listening' | 'connecting' | 'connected' | 'closed';

/** One row of `net.list` (netstat). */
export interface SockInfo {
  sock: number;
  owner: string | null;
  state: SockState;
  local: SockAddr | null;
  remote: SockAddr | null;
  /** Bytes received and not yet read by the owner. */
  rxQueued: number;
  /** Connections accepted and not yet taken by `net.accept`. */
  backlog: number;
  watched: boolean;
  rxBytes: number;
  txBytes: number;
  /** The kernel TCP device's handle (null before listening or connecting, and once closed). */
  handle?: number | null;
  /** Its data goes between the device and the owner directly (the fast path). */
  delegated?: boolean;
  /** Acknowledged delivery (see the TCP device): the stream offset the owner acknowledged cleanly. */
  acked?: number;
  /** The connection's name, unique across boots. */
  key?: string;
}

/** What `net.select` answers: the sockets ready now (readable: data, end, a connection to accept or an error). */
export interface Readiness {
  sock: number;
  readable: boolean;
  writable: boolean;
}

/** Pushed to the owner of a watched socket (a one-way message). */
export type NetEvent =
  | { type: 'net.event'; sock: number; kind: 'accept'; conn: number; remote: SockAddr }
  | { type: 'net.event'; sock: number; kind: 'data'; data: Uint8Array }
  | { type: 'net.event'; sock: number; kind: 'end' }
  | { type: 'net.event'; sock: number; kind: 'close'; error?: string };

/** The largest single `net.send` / `net.recv` (bytes). */
export const NET_MAX_IO = 1 << 20;
/** Sockets one owner may hold. */
export const NET_MAX_SOCKETS = 1024;

/**
 * What an event-driven owner's protocol declares for `net.event` (from net, or for a
 * delegated connection from the kernel's TCP device): the fields of `NetEvent`, plus a
 * delegated connection's `handle` (its owner may write to it directly) and `at`, the
 * stream offset of `data` under acknowledged delivery (see the TCP device).
 */
export const netEventSchema = t.object({
  sock: t.int,
  kind: t.oneOf('accept', 'data', 'end', 'close'),
  conn: t.optional(t.int),
  remote: t.optional(t.any),
  data: t.optional(t.any),
  error: t.optional(t.string),
  handle: t.optional(t.int),
  at: t.optional(t.int),
});

export const netProtocol = {
  /** → sock. */
  'net.socket': t.object({}),
  'net.bind': t.object({ sock: t.int, host: t.string, port: t.int }),
  /** → the port listened on (the ephemeral one for port 0). */
  'net.listen': t.object({ sock: t.int, backlog: t.optional(t.int) }),
  /** → { sock, remote }; waits for a connection unless `nonblock` (then EAGAIN). */
  'net.accept': t.object({ sock: t.int, nonblock: t.optional(t.boolean) }),
  /** → { local, remote } once connected; ECONNREFUSED. */
  'net.connect': t.object({ sock: t.int, host: t.string, port: t.int }),
  /** `data`: Uint8Array → bytes accepted (all of them). As a one-way `send`, errors are dropped. */
  'net.send': t.object({ sock: t.int, data: t.any }),
  /** → Uint8Array, up to `max` bytes; empty at end of stream; waits unless `nonblock` (EAGAIN). */
  'net.recv': t.object({ sock: t.int, max: t.optional(t.int), nonblock: t.optional(t.boolean) }),
  /** Half-close: no more sending (the peer sees end of stream). */
  'net.shutdown': t.object({ sock: t.int }),
  'net.close': t.object({ sock: t.int }),
  /** → Readiness[] of the sockets ready, waiting up to `timeoutMs` (-1: no limit) for one. */
  'net.select': t.object({ socks: t.array(t.int), timeoutMs: t.int }),
  /** Push this socket's events to its owner as `net.event` messages (what is already queued comes at once). */
  'net.watch': t.object({ sock: t.int }),
  /** → SockInfo[] (every socket; netstat). */
  'net.list': t.object({}),
  /** From pm: process `label` ended; close its sockets. */
  'net.exit': t.object({ label: t.string }),

  /** A select's timeout (an alarm net set). */
  'clock.alarm': t.object({ tag: t.string }),

  // ── from the kernel's TCP device ──
  'kernel.tcp': t.object({ event: t.string, handle: t.int, listener: t.optional(t.int), data: t.optional(t.any), remote: t.optional(t.any), local: t.optional(t.any), error: t.optional(t.string) }),
} as const;

export type NetRequest = MessagesOf<typeof netProtocol>;
