/**
 * mfs: the interfaces between the file-system operations and what carries them out.
 * The operations (inode.ts, directory.ts, files.ts, names.ts) see blocks only through a
 * `Volume` — one atomic step's view of the disk — and the mounted file system only
 * through `Fs`. cache.ts implements both over the buffer cache and the journal; a second
 * version of the server (with another cache layout) reuses every operation unchanged.
 *
 * Entry points: `Volume`, `Fs`, `AllocState`, `Op`, `FsError`, `fail`.
 */
import type { ErrCode, Result } from '../../kernel/abi.js';
import type { Geometry } from './layout.js';
import type { FsckReport } from './protocol.js';

/** Allocation counters of the mounted file system (plain data in the server's state). */
export interface AllocState {
  freeBlocks: number;
  freeInodes: number;
  /** Where the next block / inode search starts (next-fit keeps files contiguous). */
  blockHint: number;
  inodeHint: number;
}

/**
 * One atomic step's view of the disk. Changes go to the step's own copies and reach the
 * buffer cache (and so the journal) only if the step completes; a step that throws
 * leaves no trace.
 */
export interface Volume {
  readonly geo: Geometry;
  readonly alloc: AllocState;
  /** Time of this step (ms since epoch). */
  readonly now: number;
  /** A block's contents. Read-only: use `modify` to change it. */
  read(block: number): Promise<Uint8Array>;
  /** A block's contents to change in place; the change is part of this step. */
  modify(block: number): Promise<Uint8Array>;
  /** A block that this step fills from scratch (a newly allocated block): zeros, no read. */
  fresh(block: number): Uint8Array;
  /** Several blocks' contents (0 = a hole: zeros), reading the missing ones in as few disk requests as possible. */
  readMany(blocks: readonly number[]): Promise<Uint8Array[]>;
  /** This step freed the block: its contents no longer matter (they need not reach the journal). */
  forget(block: number): void;
}

/** The mounted file system as an operation sees it. */
export interface Fs {
  readonly geo: Geometry;
  readonly alloc: AllocState;
  /** Most blocks one step may change (the journal's transaction capacity). */
  readonly stepLimit: number;
  /**
   * Run `fn` as one atomic step that changes at most `reserve` blocks: its changes
   * reach the journal together (or, if it throws, not at all).
   */
  atomic<T>(reserve: number, fn: (vol: Volume) => Promise<T>): Promise<T>;
  /** Commit and checkpoint: everything done so far is durable when this returns. */
  sync(): Promise<void>;
  /** Sync, then check the file system on disk (fsck.ts). */
  check(): Promise<FsckReport>;
}

/** A protocol operation: runs alone (operations are serialized), answers a Result. */
export type Op<M> = (fs: Fs, msg: M) => Promise<Result>;

/** An expected failure inside an operation: becomes `{ ok: false, code }` (and undoes the step). */
export class FsError extends Error {
  override name = 'FsError';
  constructor(readonly code: ErrCode, message: string) {
    super(message);
  }
}

export function fail(code: ErrCode, message: string): never {
  throw new FsError(code, message);
}
