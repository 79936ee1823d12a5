/**
 * tmpfs — a file system in memory (mounted at /tmp). Its contents live in its state:
 * they survive a live update, not a reboot.
 */
import { defineServer } from '../../sys/index.js';
import { doCreate, doLookup, doRead, doReaddir, doRename, doRmdir, doStat, doStatfs, doSync, doTruncate, doUnlink, doWrite, newInode } from './files.js';
import { tmpfsProtocol } from './protocol.js';
import type { TmpfsState } from './state.js';

export default defineServer<TmpfsState, typeof tmpfsProtocol>({
  protocol: tmpfsProtocol,
  init: (ctx) => {
    const state: TmpfsState = { inodes: new Map(), nextIno: 1, capacity: Number(ctx.self.args.capacityMb ?? 64) * 1024 * 1024, used: 0 };
    newInode(state, 'dir', 0o1777, 0, 1, ctx.now()); // the root, ino 1
    return state;
  },
  handlers: {
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
  },
});
