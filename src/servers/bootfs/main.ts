/**
 * bootfs — the boot image's programs (`src/user/bin`), read-only, mounted at /bin.
 */
import { defineServer } from '../../sys/index.js';
import { doLookup, doRead, doReaddir, doStat, doStatfs, doSync, readOnly, relist } from './files.js';
import { bootfsProtocol } from './protocol.js';
import type { BootfsState } from './state.js';

export default defineServer<BootfsState, typeof bootfsProtocol>({
  protocol: bootfsProtocol,
  init: async (ctx) => {
    const state: BootfsState = { files: [], listedAt: 0, reads: 0 };
    await relist(state, ctx);
    return state;
  },
  handlers: {
    'mfs.statfs': doStatfs,
    'mfs.stat': doStat,
    'mfs.lookup': doLookup,
    'mfs.read': doRead,
    'mfs.readdir': doReaddir,
    'mfs.sync': doSync,
    'mfs.create': readOnly,
    'mfs.write': readOnly,
    'mfs.truncate': readOnly,
    'mfs.unlink': readOnly,
    'mfs.rmdir': readOnly,
    'mfs.rename': readOnly,
  },
});
