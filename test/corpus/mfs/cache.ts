/**
 * mfs version 2 (update corpus) — buffer cache and journal commit over the split cache
 * (state.ts). Same behaviour as version 1's cache.ts: steps write to their own copies,
 * completed steps join the running transaction, commits go journal → flush → in place →
 * flush, clean blocks are evicted least recently used first.
 *
 * Entry points: `openFs(state, ctx)`, `commit(state, ctx)`, `diskDevice(ctx, blocks, counters)`.
 */
import type { Ctx } from '../../../src/sys/index.js';
import { BLOCK_SIZE } from '../../../src/servers/mfs/layout.js';
import { encodeTransaction, type BlockDevice } from '../../../src/servers/mfs/journal.js';
import { fsck } from '../../../src/servers/mfs/fsck.js';
import { FsError, type Fs, type Volume } from '../../../src/servers/mfs/volume.js';
import type { MfsState } from './state.js';

const MAX_RUN = 256;
const CACHE_READS_UP_TO = 64;

export function diskDevice(ctx: Ctx, blocks: number, counters: { reads: number; writes: number } | null): BlockDevice {
  const io = async <T>(msg: Record<string, unknown> & { type: string }): Promise<T> => {
    const r = await ctx.sendrec<T>('disk', msg);
    if (!r.ok) throw new FsError('EIO', `disk: ${msg.type} failed: ${r.code}${r.message ? ` (${r.message})` : ''}`);
    return r.value;
  };
  return {
    blocks,
    read: async (block, count) => {
      if (counters) counters.reads++;
      return io<Uint8Array>({ type: 'disk.read', block, count });
    },
    write: async (block, data) => {
      if (counters) counters.writes++;
      await io({ type: 'disk.write', block, data });
    },
    flush: async () => {
      await io({ type: 'disk.flush' });
    },
  };
}

function cached(state: MfsState, block: number): Uint8Array | undefined {
  const c = state.cache;
  const d = c.dirty.get(block);
  if (d) {
    state.stats.cache.hits++;
    return d;
  }
  const e = c.clean.get(block);
  if (!e) return undefined;
  c.clean.delete(block);
  c.clean.set(block, e);
  state.stats.cache.hits++;
  return e;
}

function insertClean(state: MfsState, block: number, data: Uint8Array): void {
  if (!state.cache.dirty.has(block) && !state.cache.clean.has(block)) state.cache.clean.set(block, data);
}

function evict(state: MfsState): void {
  const c = state.cache;
  for (const block of c.clean.keys()) {
    if (c.clean.size + c.dirty.size <= c.capacity) break;
    c.clean.delete(block);
  }
}

export async function commit(state: MfsState, ctx: Ctx): Promise<number> {
  const c = state.cache;
  if (c.dirty.size === 0) return 0;
  const g = state.fs.geo;
  const dirty = [...c.dirty].sort((a, b) => a[0] - b[0]);
  const dev = diskDevice(ctx, g.blocks, state.stats.disk);
  await dev.write(g.journalStart, encodeTransaction(state.fs.seq, dirty));
  await dev.flush();
  for (let i = 0; i < dirty.length;) {
    let j = i + 1;
    while (j < dirty.length && j - i < MAX_RUN && dirty[j]![0] === dirty[j - 1]![0] + 1) j++;
    const run = new Uint8Array((j - i) * BLOCK_SIZE);
    for (let k = i; k < j; k++) run.set(dirty[k]![1], (k - i) * BLOCK_SIZE);
    await dev.write(dirty[i]![0], run);
    i = j;
  }
  await dev.flush();
  for (const [block, data] of dirty) c.clean.set(block, data);
  c.dirty.clear();
  state.fs.seq = (state.fs.seq + 1) >>> 0 || 1;
  state.stats.journal.commits++;
  state.stats.journal.blocks += dirty.length;
  evict(state);
  return dirty.length;
}

export function openFs(state: MfsState, ctx: Ctx): Fs {
  const g = state.fs.geo;
  const dev = diskDevice(ctx, g.blocks, state.stats.disk);
  const readIn = async (block: number): Promise<Uint8Array> => {
    state.stats.cache.misses++;
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
      if (reserve > 0 && state.cache.dirty.size + reserve > state.fs.stepLimit) await commit(state, ctx);
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
            else {
              const list = missing.get(b);
              if (list) list.push(i);
              else missing.set(b, [i]);
            }
          });
          const want = [...missing.keys()].sort((a, b) => a - b);
          const keep = want.length <= CACHE_READS_UP_TO;
          state.stats.cache.misses += want.length;
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
      if (mine.size > Math.max(reserve, 0) && mine.size + state.cache.dirty.size > state.fs.stepLimit) {
        throw new Error(`a step changed ${mine.size} blocks but reserved ${reserve}`);
      }
      for (const block of forgotten) {
        state.cache.clean.delete(block);
        state.cache.dirty.delete(block);
      }
      for (const [block, data] of mine) {
        state.cache.clean.delete(block);
        state.cache.dirty.set(block, data);
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
