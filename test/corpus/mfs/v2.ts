/**
 * mfs, version 2 (update corpus): the same file system and protocol with a changed state
 * layout — a split buffer cache (`clean` / `dirty` maps instead of one map of
 * `{ data, dirty }` entries) and counters grouped by subsystem (state.ts). The operations
 * (files.ts, names.ts, …) are version 1's; the modules that know the state layout are
 * this folder's. Version 1's state converts through the `transfer` callbacks below.
 */
import { defineServer } from '../../../src/sys/index.js';
import { mfsServerProtocol } from '../../../src/servers/mfs/protocol.js';
import { doFsck, doRead, doStat, doStatfs, doSync, doTruncate, doWrite } from '../../../src/servers/mfs/files.js';
import { doCreate, doLookup, doReaddir, doRename, doRmdir, doUnlink } from '../../../src/servers/mfs/names.js';
import type { OpTable } from '../../../src/servers/mfs/serve.js';
import { checkState, doStats, mount } from './mount.js';
import { serialized } from './serve.js';
import type { BufferCache, MfsCounters, MfsState } from './state.js';

/** Version 1's layouts, as they arrive. */
interface V1Cache {
  blocks: Map<number, { data: Uint8Array; dirty: boolean }>;
  capacity: number;
}
interface V1Counters {
  ops: number; errors: number; cacheHits: number; cacheMisses: number; diskReads: number; diskWrites: number;
  commits: number; journaledBlocks: number; checkpoints: number; replayedAtMount: number; formatted: boolean;
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
  prepare: { protocolFree: (s) => !s.busy && s.queue.length === 0 },
  check: checkState,
  transfer: {
    typeTransfer: {
      /** One map of `{ data, dirty }` → a clean map (in the same recency order) and a dirty map. */
      BufferCache: (old): BufferCache => {
        if ('clean' in (old as object)) return old as BufferCache; // from version 2 itself
        const o = old as V1Cache;
        const cache: BufferCache = { clean: new Map(), dirty: new Map(), capacity: o.capacity };
        for (const [block, e] of o.blocks) (e.dirty ? cache.dirty : cache.clean).set(block, e.data);
        return cache;
      },
      MfsCounters: (old): MfsCounters => {
        if ('requests' in (old as object) && typeof (old as MfsCounters).requests === 'object') return old as MfsCounters;
        const o = old as V1Counters;
        return {
          requests: { ops: o.ops, errors: o.errors },
          cache: { hits: o.cacheHits, misses: o.cacheMisses },
          disk: { reads: o.diskReads, writes: o.diskWrites },
          journal: { commits: o.commits, blocks: o.journaledBlocks, checkpoints: o.checkpoints, replayedAtMount: o.replayedAtMount },
          formatted: o.formatted,
        };
      },
    },
  },
});
