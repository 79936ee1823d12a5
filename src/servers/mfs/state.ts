/**
 * mfs state: everything mfs holds, plain data reachable from `MfsState` (so a live update
 * carries it and a restart rebuilds it by mounting again).
 *
 * Who owns what: `fs` is set at mount and changed by allocation (inode.ts); `cache` by
 * cache.ts (the only code that knows its layout); `queue` / `busy` by serve.ts;
 * `checkpoint` by mount.ts; `stats` by cache.ts and serve.ts.
 */
import type { Header } from '../../kernel/abi.js';
import type { ReplyToken } from '../../sys/index.js';
import type { Geometry } from './layout.js';
import type { AllocState } from './volume.js';

/** One block in the buffer cache. */
export interface CachedBlock {
  data: Uint8Array;
  /** Changed since the last commit: it belongs to the running journal transaction. */
  dirty: boolean;
}

/**
 * The buffer cache: block → contents, write-back. Map order is recency (least recently
 * used first). Clean blocks are evicted beyond `capacity`; dirty ones are bounded by the
 * journal's transaction size (a commit makes them clean).
 */
export interface BufferCache {
  blocks: Map<number, CachedBlock>;
  capacity: number;
  dirty: number;
}

/** The mounted file system. */
export interface MountedFs {
  geo: Geometry;
  alloc: AllocState;
  /** Sequence number of the next journal transaction. */
  seq: number;
  /** Most blocks one transaction may hold. */
  stepLimit: number;
}

/** A request waiting its turn (operations run one at a time); `reply` is null for the checkpoint alarm. */
export interface Job {
  msg: Header & Record<string, unknown>;
  reply: ReplyToken | null;
}

export interface MfsCounters {
  ops: number;
  errors: number;
  cacheHits: number;
  cacheMisses: number;
  diskReads: number;
  diskWrites: number;
  commits: number;
  journaledBlocks: number;
  checkpoints: number;
  replayedAtMount: number;
  formatted: boolean;
}

export interface MfsState {
  fs: MountedFs;
  cache: BufferCache;
  queue: Job[];
  /** An operation is running (the handler that runs it drains the queue). */
  busy: boolean;
  /** The periodic checkpoint: the alarm tag this state answers to, and its period. */
  checkpoint: { tag: string; everyMs: number };
  stats: MfsCounters;
}
