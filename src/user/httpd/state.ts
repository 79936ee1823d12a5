/**
 * httpd state: everything httpd knows hangs off one root (`HttpdState`) and is plain,
 * transferable data — the configuration, the listening socket, one `Conn` per open
 * connection (keyed by net's socket number: its parser state and the queue of requests
 * not yet answered), the stats shared between requests (`PathStat`), the small-file
 * cache and the counters.
 *
 * Entry points: `HttpdState`, `Conn`, `Queued`, `PathStat`, `CachedFile`, `HttpdConfig`,
 * `freshState`, `newConn`.
 */
import type { Stat } from '../../servers/vfs/protocol.js';
import type { ParseItem, ParserState } from './parse.js';
import { newParser } from './parse.js';

export interface HttpdConfig {
  host: string;
  port: number;
  /** The document root on the Molt file system. */
  root: string;
  /** Files up to this size are kept in the cache (bytes). */
  cacheFileMax: number;
  /** The cache's total size (bytes). */
  cacheMax: number;
  /**
   * A stat result also serves requests that arrive up to this long after it answered
   * (ms; like nginx's open_file_cache_valid). 0 (the default): every response reflects a
   * stat answered after its request arrived.
   */
  statValidMs: number;
}

/** One open connection. */
export interface Conn {
  sock: number;
  /** `host:port` of the client. */
  remote: string;
  parser: ParserState;
  /** Requests (and at most one parse error, last) parsed and not yet answered, in order. */
  queue: Queued[];
  /**
   * A pump is answering this connection's queue (owner: `pump`). Only one at a time, so
   * responses go out in request order even though file reads are asynchronous.
   */
  busy: boolean;
  /** The pump is waiting for a stat of a path (it is in that path's `waiters`; busy stays true). */
  parked: boolean;
  /** No further request is answered: the connection closes once the queue is done. */
  closing: boolean;
  /** The client ended its side: close once every request it sent is answered. */
  peerEnded: boolean;
  /** Responses sent on it. */
  served: number;
}

/** A request in a connection's queue, stamped with `HttpdState.seq` when it arrived. */
export interface Queued {
  seq: number;
  item: ParseItem;
  /** It parked on this path while a stat of it was in flight (sent at `rideSeq`): that stat's answer serves it ('' none). */
  ride: string;
  rideSeq: number;
}

/** What `vfs.stat` answered. */
export type StatResult = { ok: true; stat: Stat } | { ok: false; code: string };

/**
 * Stats of one path, shared by the requests that need it (at most one in flight). A
 * request is answered from a stat that answered after the request arrived: one sent
 * after it arrived, or the one in flight when it arrived (it waits for it) — so many
 * requests for one file cost one stat, and none is served from a stat result it
 * predates. (`HttpdConfig.statValidMs` relaxes this by time.)
 */
export interface PathStat {
  inflight: boolean;
  /** The `seq` at which the stat in flight was sent. */
  flightSeq: number;
  /** The last result, the `seq` at which its stat was sent, and when it answered (ms). */
  result: StatResult | null;
  resultSeq: number;
  resultAt: number;
  /** Connections parked on this path (socket numbers), resumed when the stat in flight answers. */
  waiters: number[];
}

/** A small file, validated against `vfs.stat` (inode, size, mtime) before each use. */
export interface CachedFile {
  dev: string;
  ino: number;
  size: number;
  mtime: number;
  data: Uint8Array;
}

export interface HttpdStats {
  accepted: number;
  requests: number;
  bytesOut: number;
  /** 4xx/5xx responses. */
  errors: number;
  cacheHits: number;
  cacheMisses: number;
  /** vfs.stat calls (shared by the requests that arrived before each was sent). */
  statCalls: number;
}

export interface HttpdState {
  phase: 'starting' | 'serving' | 'stopped';
  config: HttpdConfig;
  /** The listening socket (-1 until listening). */
  listener: number;
  /** The port listened on. */
  port: number;
  conns: Map<number, Conn>;
  /** vfs path → contents; Map order is the eviction order (least recently used first). */
  cache: Map<string, CachedFile>;
  cacheBytes: number;
  /** vfs file descriptors httpd holds open now (bounded: system callers share one fd table). */
  openFds: number;
  /** Stamps arrivals and stats (see PathStat). */
  seq: number;
  /** vfs path → its shared stats (bounded; idle entries are dropped first). */
  pathStats: Map<string, PathStat>;
  stats: HttpdStats;
}

export function freshState(args: Record<string, unknown>): HttpdState {
  const str = (v: unknown, d: string) => (typeof v === 'string' && v.length > 0 ? v : d);
  const int = (v: unknown, d: number) => {
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : d;
  };
  return {
    phase: 'starting',
    config: {
      host: str(args.host, '127.0.0.1'),
      port: int(args.port, 8080),
      root: str(args.root, '/var/www'),
      cacheFileMax: int(args.cacheFileMax, 256 * 1024),
      cacheMax: int(args.cacheMax, 16 * 1024 * 1024),
      statValidMs: int(args.statValidMs, 0),
    },
    listener: -1,
    port: 0,
    conns: new Map(),
    cache: new Map(),
    cacheBytes: 0,
    openFds: 0,
    seq: 0,
    pathStats: new Map(),
    stats: { accepted: 0, requests: 0, bytesOut: 0, errors: 0, cacheHits: 0, cacheMisses: 0, statCalls: 0 },
  };
}

export function newConn(sock: number, remote: string): Conn {
  return { sock, remote, parser: newParser(), queue: [], busy: false, parked: false, closing: false, peerEnded: false, served: 0 };
}
