/**
 * mfs — the Molt file system: an inode file system on the `disk` driver, with a buffer
 * cache and a write-ahead journal (crash consistency). vfs speaks to it by inode number
 * (protocol.ts). On a disk without a file system it formats one (with / /tmp /etc /bin
 * /home); otherwise it mounts, replaying the journal.
 *
 * Files: layout.ts (on-disk format) · journal.ts · mkfs.ts · fsck.ts (pure, shared with
 * the `molt` command) · volume.ts (what operations see) · inode.ts · directory.ts ·
 * files.ts + names.ts (the operations) · cache.ts (buffer cache, commit) · mount.ts ·
 * serve.ts (one operation at a time) · state.ts.
 */
import { defineServer } from '../../sys/index.js';
import { mfsServerProtocol } from './protocol.js';
import { doFsck, doRead, doStat, doStatfs, doSync, doTruncate, doWrite } from './files.js';
import { doCreate, doLookup, doReaddir, doRename, doRmdir, doUnlink } from './names.js';
import { checkState, doStats, mount } from './mount.js';
import { serialized, type OpTable } from './serve.js';
import { commit } from './cache.js';
import type { BufferCache, CachedBlock, MfsCounters, MfsState } from './state.js';

/**
 * Another version's layouts, as they arrive in a rollback (test/corpus/mfs/v2.ts keeps a
 * split cache — clean and dirty maps — and counters grouped by subsystem).
 */
interface SplitCache {
  clean: Map<number, Uint8Array>;
  dirty: Map<number, Uint8Array>;
  capacity: number;
}
interface GroupedCounters {
  requests: { ops: number; errors: number };
  cache: { hits: number; misses: number };
  disk: { reads: number; writes: number };
  journal: { commits: number; blocks: number; checkpoints: number; replayedAtMount: number };
  formatted: boolean;
}

const ops = {
  'mfs.statfs': doStatfs,
  'mfs.stat': doStat,
  'mfs.lookup': doLookup,
  'mfs.create': doCreate,
  'mfs.read': doRead,
  'mfs.write': doWrite,
  'mfs.truncate': doTruncate,
  'mfs.unlink': doUnlink,
  'mfs.rmdir': doRmdir,
  'mfs.rename': doRename,
  'mfs.readdir': doReaddir,
  'mfs.sync': doSync,
  'mfs.fsck': doFsck,
} satisfies OpTable;

const queued = serialized(ops);

const idle = (s: MfsState) => !s.busy && s.queue.length === 0;

export default defineServer<MfsState, typeof mfsServerProtocol>({
  protocol: mfsServerProtocol,
  init: mount,
  handlers: {
    'mfs.statfs': queued,
    'mfs.stat': queued,
    'mfs.lookup': queued,
    'mfs.create': queued,
    'mfs.read': queued,
    'mfs.write': queued,
    'mfs.truncate': queued,
    'mfs.unlink': queued,
    'mfs.rmdir': queued,
    'mfs.rename': queued,
    'mfs.readdir': queued,
    'mfs.sync': queued,
    'mfs.fsck': queued,
    'mfs.stats': doStats,
    'clock.alarm': queued,
  },
  // Live update: quiescent when no operation runs or waits (an operation's half-done step
  // lives in its async frame, not in the state) — the default for an update of mfs; a
  // state exported mid-operation fails `check` and the update rolls back.
  prepare: { mode: 'protocol-free', protocolFree: idle },
  check: checkState,
  // A state from a version with another cache and counter layout (a rollback from
  // test/corpus/mfs/v2.ts) is read back into this one; this version's own passes as it is.
  transfer: {
    typeTransfer: {
      BufferCache: (old): BufferCache => {
        if ((old as Partial<BufferCache>).blocks instanceof Map) return old as BufferCache; // this layout already
        const s = old as SplitCache;
        const blocks = new Map<number, CachedBlock>();
        for (const [b, data] of s.clean) blocks.set(b, { data, dirty: false });
        for (const [b, data] of s.dirty) blocks.set(b, { data, dirty: true });
        return { blocks, capacity: s.capacity, dirty: s.dirty.size };
      },
      MfsCounters: (old): MfsCounters => {
        const o = old as Partial<MfsCounters & GroupedCounters>;
        if (typeof o.ops === 'number') return old as MfsCounters;
        const g = old as GroupedCounters;
        return {
          ops: g.requests.ops, errors: g.requests.errors, cacheHits: g.cache.hits, cacheMisses: g.cache.misses,
          diskReads: g.disk.reads, diskWrites: g.disk.writes, commits: g.journal.commits, journaledBlocks: g.journal.blocks,
          checkpoints: g.journal.checkpoints, replayedAtMount: g.journal.replayedAtMount, formatted: g.formatted,
        };
      },
    },
  },
  // Shutdown: once the operations in hand are done, commit what the cache holds.
  stop: async (state, ctx) => {
    const until = ctx.now() + 2_000;
    while (!idle(state) && ctx.now() < until) await new Promise((r) => setTimeout(r, 5));
    if (idle(state)) await commit(state, ctx);
  },
});
