/**
 * mfs version 2 (update corpus) — state. The layout changes from version 1:
 *  - the buffer cache keeps clean and dirty blocks in two maps (`clean`: LRU order;
 *    `dirty`: the running journal transaction) instead of one map of `{ data, dirty }`;
 *  - the counters are grouped by subsystem (`requests`, `cache`, `disk`, `journal`).
 * Version 1's state converts by the `transfer` callbacks in v2.ts.
 */
import type { Header } from '../../../src/kernel/abi.js';
import type { ReplyToken } from '../../../src/sys/index.js';
import type { Geometry } from '../../../src/servers/mfs/layout.js';
import type { AllocState } from '../../../src/servers/mfs/volume.js';

export interface BufferCache {
  /** Clean blocks, least recently used first. */
  clean: Map<number, Uint8Array>;
  /** The running journal transaction: changed blocks by number. */
  dirty: Map<number, Uint8Array>;
  /** Most blocks (clean + dirty) kept. */
  capacity: number;
}

export interface MountedFs {
  geo: Geometry;
  alloc: AllocState;
  seq: number;
  stepLimit: number;
}

export interface Job {
  msg: Header & Record<string, unknown>;
  reply: ReplyToken | null;
}

export interface MfsCounters {
  requests: { ops: number; errors: number };
  cache: { hits: number; misses: number };
  disk: { reads: number; writes: number };
  journal: { commits: number; blocks: number; checkpoints: number; replayedAtMount: number };
  formatted: boolean;
}

export interface MfsState {
  fs: MountedFs;
  cache: BufferCache;
  queue: Job[];
  busy: boolean;
  checkpoint: { tag: string; everyMs: number };
  stats: MfsCounters;
}
