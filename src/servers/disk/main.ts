/**
 * disk — the block driver: whole-block reads and writes over the kernel's disk device
 * (a disk-image file the kernel owns), `disk.flush` for durability. It keeps no cache
 * (mfs has the buffer cache), only the geometry and request counters.
 */
import { defineServer, type Ctx } from '../../sys/index.js';
import { diskProtocol, type DiskInfoReply } from './protocol.js';
import { doFlush, doInfo, doRead, doStats, doWrite } from './io.js';
import type { DiskState } from './state.js';

async function init(ctx: Ctx): Promise<DiskState> {
  const r = await ctx.kcall<DiskInfoReply & { path?: string }>({ call: 'disk-info' });
  return {
    info: r.ok ? { blockSize: r.value.blockSize, blocks: r.value.blocks, created: r.value.created } : null,
    counters: { requests: 0, reads: 0, writes: 0, flushes: 0, blocksRead: 0, blocksWritten: 0, errors: 0 },
  };
}

export default defineServer<DiskState, typeof diskProtocol>({
  protocol: diskProtocol,
  init,
  handlers: {
    'disk.info': doInfo,
    'disk.read': doRead,
    'disk.write': doWrite,
    'disk.flush': doFlush,
    'disk.stats': doStats,
  },
});
