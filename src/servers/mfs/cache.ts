/**
 * mfs buffer cache and journal commit: the `Fs` and `Volume` the operations run on.
 *
 * - A step (`Fs.atomic`) reads through the cache and writes to copies of its own; when it
 *   completes, its copies enter the cache as dirty blocks (they join the running journal
 *   transaction); when it throws, they are dropped and the allocation counters restored.
 * - Dirty blocks stay in memory (write-back) until a commit: when the next step might
 *   not fit in one transaction, on `mfs.sync`, and at the periodic checkpoint.
 * - A commit (journal.ts): 1. descriptor + blocks + commit record to the journal, one write;
 *   2. flush; 3. the blocks in place, contiguous runs in one write each; 4. flush;
 *   5. the blocks are clean.
 * - Clean blocks are evicted least recently used first beyond the cache's capacity.
 *
 * Entry points: `openFs(state, ctx)`, `commit(state, ctx)`, `diskDevice(ctx, blocks, counters)`.
 */
import type { Ctx } from '../../sys/index.js';
import { BLOCK_SIZE } from './layout.js';
import { encodeTransaction, type BlockDevice } from './journal.js';
import { fsck } from './fsck.js';
import type { MfsCounters, MfsState } from './state.js';
import { FsError, type Fs, type Volume } from './volume.js';

/** Most blocks in one disk request. */
const MAX_RUN = 256;
/** A read of more missing blocks than this bypasses the cache (a big sequential read would flush it). */
const CACHE_READS_UP_TO = 64;

/** The `disk` driver as a block device (errors become EIO). */
export function diskDevice(ctx: Ctx, blocks: number, counters: Pick<MfsCounters, 'diskReads' | 'diskWrites'> | null): BlockDevice {
  const io = async <T>(msg: Record<string, unknown> & { type: string }): Promise<T> => {
    const r = await ctx.sendrec<T>('disk', msg);
    if (!r.ok) throw new FsError('EIO', `disk: ${msg.type} failed: ${r.code}${r.message ? ` (${r.message})` : ''}`);
    return r.value;
  };
  return {
    blocks,
    read: async (block, count) => {
      if (counters) counters.diskReads++;
      return io<Uint8Array>({ type: 'disk.read', block, count });
    },
    write: async (block, data) => {
      if (counters) counters.diskWrites++;
      await io({ type: 'disk.write', block, data });
    },
    flush: async () => {
      await io({ type: 'disk.flush' });
    },
  };
}

/** A cached block, marked most recently used. */
function cached(state: MfsState, block: number): Uint8Array | undefined {
  const e = state.cache.blocks.get(block);
  if (!e) return undefined;
  state.cache.blocks.delete(block);
  state.cache.blocks.set(block, e);
  state.stats.cacheHits++;
  return e.data;
}

function insertClean(state: MfsState, block: number, data: Uint8Array): void {
  if (!state.cache.blocks.has(block)) state.cache.blocks.set(block, { data, dirty: false });
}

/** Drop clean blocks, least recently used first, down to the capacity. */
function evict(state: MfsState): void {
  const c = state.cache;
  if (c.blocks.size <= c.capacity) return;
  for (const [block, e] of c.blocks) {
    if (c.blocks.size <= c.capacity) break;
    if (!e.dirty) c.blocks.delete(block);
  }
}

/**
 * Commit the running transaction (every dirty block) and write it in place. With
 * `flush` (checkpoint, sync, stop) each step is made durable on the host's disk; without,
 * the writes reach the kernel's disk device (they survive a crash of mfs, not of the host).
 */
export async function commit(state: MfsState, ctx: Ctx, flush = true): Promise<number> {
  const c = state.cache;
  if (c.dirty === 0) return 0;
  const g = state.fs.geo;
  const dirty: Array<[number, Uint8Array]> = [];
  for (const [block, e] of c.blocks) if (e.dirty) dirty.push([block, e.data]);
  dirty.sort((a, b) => a[0] - b[0]);
  const dev = diskDevice(ctx, g.blocks, state.stats);
  // 1–2. The transaction, durable in the journal.
  await dev.write(g.journalStart, encodeTransaction(state.fs.seq, dirty));
  if (flush) await dev.flush();
  // 3–4. In place, a run of contiguous blocks per write.
  for (let i = 0; i < dirty.length;) {
    let j = i + 1;
    while (j < dirty.length && j - i < MAX_RUN && dirty[j]![0] === dirty[j - 1]![0] + 1) j++;
    const run = new Uint8Array((j - i) * BLOCK_SIZE);
    for (let k = i; k < j; k++) run.set(dirty[k]![1], (k - i) * BLOCK_SIZE);
    await dev.write(dirty[i]![0], run);
    i = j;
  }
  if (flush) await dev.flush();
  // 5. Clean.
  for (const [block] of dirty) c.blocks.get(block)!.dirty = false;
  c.dirty = 0;
  state.fs.seq = (state.fs.seq + 1) >>> 0 || 1;
  state.stats.commits++;
  state.stats.journaledBlocks += dirty.length;
  evict(state);
  return dirty.length;
}

export function openFs(state: MfsState, ctx: Ctx): Fs {
  const g = state.fs.geo;
  const dev = diskDevice(ctx, g.blocks, state.stats);

  const readIn = async (block: number): Promise<Uint8Array> => {
    state.stats.cacheMisses++;
    const data = await dev.read(block, 1);
    insertClean(state, block, data);
    return data;
  };

  const fs: Fs = {
    geo: g,
    alloc: state.fs.alloc,
    stepLimit: state.fs.stepLimit,

    async atomic<T>(reserve: number, fn: (vol: Volume) => Promise<T>): Promise<T> {
      if (reserve > state.fs.stepLimit) throw new Error(`a step reserving ${reserve} blocks cannot fit a transaction of ${state.fs.stepLimit}`);
      if (reserve > 0 && state.cache.dirty + reserve > state.fs.stepLimit) await commit(state, ctx);
      const mine = new Map<number, Uint8Array>();
      /** Blocks this step freed (and did not reuse): dropped from the cache when it completes. */
      const forgotten = new Set<number>();
      const before = { ...state.fs.alloc };
      const vol: Volume = {
        geo: g,
        alloc: state.fs.alloc,
        now: ctx.now(),
        read: async (block) => mine.get(block) ?? cached(state, block) ?? readIn(block),
        modify: async (block) => {
          forgotten.delete(block);
          let b = mine.get(block);
          if (!b) mine.set(block, (b = (await vol.read(block)).slice()));
          return b;
        },
        fresh: (block) => {
          forgotten.delete(block);
          const b = new Uint8Array(BLOCK_SIZE);
          mine.set(block, b);
          return b;
        },
        readMany: async (blocks) => {
          const out: Uint8Array[] = new Array(blocks.length);
          const missing = new Map<number, number[]>();
          blocks.forEach((b, i) => {
            const have = b === 0 ? new Uint8Array(BLOCK_SIZE) : mine.get(b) ?? cached(state, b);
            if (have) out[i] = have;
            else missing.set(b, [...(missing.get(b) ?? []), i]);
          });
          const want = [...missing.keys()].sort((a, b) => a - b);
          const keep = want.length <= CACHE_READS_UP_TO;
          state.stats.cacheMisses += want.length;
          for (let i = 0; i < want.length;) {
            let j = i + 1;
            while (j < want.length && j - i < MAX_RUN && want[j] === want[j - 1]! + 1) j++;
            const data = await dev.read(want[i]!, j - i);
            for (let k = i; k < j; k++) {
              const piece = data.subarray((k - i) * BLOCK_SIZE, (k - i + 1) * BLOCK_SIZE);
              const block = keep ? piece.slice() : piece;
              if (keep) insertClean(state, want[k]!, block);
              for (const idx of missing.get(want[k]!)!) out[idx] = block;
            }
            i = j;
          }
          return out;
        },
        forget: (block) => {
          mine.delete(block);
          forgotten.add(block);
        },
      };
      let result: T;
      try {
        result = await fn(vol);
      } catch (e) {
        Object.assign(state.fs.alloc, before);
        throw e;
      }
      if (mine.size > Math.max(reserve, 0) && mine.size + state.cache.dirty > state.fs.stepLimit) {
        // The step changed more than it reserved and more than a transaction holds: a bug.
        throw new Error(`a step changed ${mine.size} blocks but reserved ${reserve}`);
      }
      // The step is complete: its blocks join the running transaction; what it freed leaves the cache.
      const c = state.cache;
      for (const block of forgotten) {
        const e = c.blocks.get(block);
        if (e?.dirty) c.dirty--;
        c.blocks.delete(block);
      }
      for (const [block, data] of mine) {
        const e = c.blocks.get(block);
        if (e) {
          c.blocks.delete(block);
          if (!e.dirty) c.dirty++;
          c.blocks.set(block, { data, dirty: true });
        } else {
          c.blocks.set(block, { data, dirty: true });
          c.dirty++;
        }
      }
      evict(state);
      return result;
    },

    sync: async () => {
      await commit(state, ctx);
    },

    check: async () => {
      await commit(state, ctx);
      return fsck(diskDevice(ctx, g.blocks, null));
    },
  };
  return fs;
}
