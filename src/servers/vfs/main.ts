/**
 * vfs — file descriptors, open files, paths, mounts and pipes, over the file-system
 * servers (mfs at /, bootfs at /bin by default). Each process's fds and open files are
 * also kept in its server state region (ssr.ts), so after a crash vfs comes back with
 * every process's fds and offsets (`recover`).
 */
import { defineServer } from '../../sys/index.js';
import { doChdir, doGetcwd, doMkdir, doMounts, doReaddir, doRename, doRmdir, doStat, doStatfs, doSync, doTruncate, doUnlink } from './dirs.js';
import { doClose, doDup, doDup2, doFstat, doIsatty, doLseek, doOpen, doRead, doWrite } from './fds.js';
import { doPipe } from './pipes.js';
import { doExit, doFork, doReadfile, doTtyReset, doTtydata } from './procs.js';
import { vfsProtocol } from './protocol.js';
import type { Mount, VfsState } from './state.js';
import { recoverVfs, withSsr } from './ssr.js';

const DEFAULT_MOUNTS: Mount[] = [
  { path: '/', server: 'mfs', readonly: false },
  { path: '/bin', server: 'bootfs', readonly: true },
];

const mountsOf = (args: Record<string, unknown>): Mount[] => ((args.mounts as Mount[] | undefined) ?? DEFAULT_MOUNTS).map((m) => ({ ...m }));

export default defineServer<VfsState, typeof vfsProtocol>({
  protocol: vfsProtocol,
  recover: (ssrs, ctx) => recoverVfs(ssrs, mountsOf(ctx.self.args)),
  init: (ctx) => ({
    procs: new Map(),
    files: new Map(),
    nextFile: 1,
    pipes: new Map(),
    nextPipe: 1,
    mounts: mountsOf(ctx.self.args),
    ttyReads: new Map(),
    nextTicket: 1,
    stamp: 0,
  }),
  handlers: withSsr({
    'vfs.open': doOpen,
    'vfs.close': doClose,
    'vfs.read': doRead,
    'vfs.write': doWrite,
    'vfs.lseek': doLseek,
    'vfs.stat': doStat,
    'vfs.fstat': doFstat,
    'vfs.mkdir': doMkdir,
    'vfs.rmdir': doRmdir,
    'vfs.unlink': doUnlink,
    'vfs.rename': doRename,
    'vfs.readdir': doReaddir,
    'vfs.dup': doDup,
    'vfs.dup2': doDup2,
    'vfs.pipe': doPipe,
    'vfs.chdir': doChdir,
    'vfs.getcwd': doGetcwd,
    'vfs.truncate': doTruncate,
    'vfs.statfs': doStatfs,
    'vfs.mounts': doMounts,
    'vfs.isatty': doIsatty,
    'vfs.sync': doSync,
    'vfs.ttydata': doTtydata,
    'vfs.ttyreset': doTtyReset,
    'vfs.fork': doFork,
    'vfs.exit': doExit,
    'vfs.readfile': doReadfile,
  }),
});
