/**
 * vfs protocol: the POSIX-like file API user processes call (through libc), plus the
 * process-lifecycle messages pm sends. vfs owns per-process fd tables, the open-file
 * table (offsets, flags), path resolution, the mount table and pipes, and forwards
 * inode work to the file-system server mounted there (mfs, bootfs).
 *
 * A process is identified by its endpoint (vfs asks the kernel which process label it
 * belongs to); paths are absolute or relative to the process's working directory.
 * Errors: ENOENT EEXIST ENOTDIR EISDIR ENOTEMPTY EBADF EINVAL EACCES EPERM ENOSPC
 * EMFILE ESPIPE EPIPE ENAMETOOLONG EIO EBUSY EROFS(→EPERM).
 */
import { t, type MessagesOf } from '../../sys/schema.js';

/** open flags, as in fopen: r, r+, w, w+, a, a+; `x` added means fail if it exists. */
export type OpenFlags = 'r' | 'r+' | 'w' | 'w+' | 'a' | 'a+' | 'wx' | 'w+x';
export type Whence = 'set' | 'cur' | 'end';
export type FileType = 'file' | 'dir' | 'pipe' | 'tty';

export interface Stat {
  /** Which mount (e.g. 'mfs', 'bootfs') and inode. */
  dev: string;
  ino: number;
  type: FileType;
  mode: number;
  uid: number;
  size: number;
  nlink: number;
  mtime: number;
  ctime: number;
}

export interface DirEntryOut {
  name: string;
  type: FileType;
}

export interface MountInfo {
  path: string;
  server: string;
  readonly: boolean;
}

export const MAX_FDS = 64;

/** What `vfs.readfile` answers: the bytes, the canonical path, and where it lives. */
export interface ProgramFile {
  data: Uint8Array;
  path: string;
  server: string;
  readonly: boolean;
}

export const vfsProtocol = {
  'vfs.open': t.object({ path: t.string, flags: t.string, mode: t.optional(t.int) }),
  'vfs.close': t.object({ fd: t.int }),
  /** → Uint8Array (empty at end of file; a pipe or tty read waits for data). */
  'vfs.read': t.object({ fd: t.int, length: t.int }),
  /** `data`: Uint8Array → bytes written. */
  'vfs.write': t.object({ fd: t.int, data: t.any }),
  'vfs.lseek': t.object({ fd: t.int, offset: t.int, whence: t.oneOf('set', 'cur', 'end') }),
  'vfs.stat': t.object({ path: t.string }),
  'vfs.fstat': t.object({ fd: t.int }),
  'vfs.mkdir': t.object({ path: t.string, mode: t.optional(t.int) }),
  'vfs.rmdir': t.object({ path: t.string }),
  'vfs.unlink': t.object({ path: t.string }),
  'vfs.rename': t.object({ oldPath: t.string, newPath: t.string }),
  /** → DirEntryOut[] sorted by name. */
  'vfs.readdir': t.object({ path: t.string }),
  'vfs.dup': t.object({ fd: t.int }),
  'vfs.dup2': t.object({ fd: t.int, to: t.int }),
  /** → [readFd, writeFd]. */
  'vfs.pipe': t.object({}),
  'vfs.chdir': t.object({ path: t.string }),
  'vfs.getcwd': t.object({}),
  'vfs.truncate': t.object({ path: t.string, size: t.int }),
  'vfs.statfs': t.object({ path: t.string }),
  'vfs.mounts': t.object({}),
  'vfs.isatty': t.object({ fd: t.int }),
  /** Make every file system durable. */
  'vfs.sync': t.object({}),

  // ── from tty only ──
  /** The answer to a console read vfs forwarded (`tty.read` with this ticket): bytes, empty at end of input. */
  'vfs.ttydata': t.object({ ticket: t.int, data: t.any }),

  /** tty restarted without the reads it held: vfs asks for each again. */
  'vfs.ttyreset': t.object({}),

  // ── from pm only ──
  /** A new process: its fd table is `fds` (child fd → parent fd, dup'ed) and its cwd. */
  'vfs.fork': t.object({ parent: t.int, child: t.int, fds: t.array(t.array(t.int)), cwd: t.optional(t.string), uid: t.int }),
  /** A process ended: close its fds. */
  'vfs.exit': t.object({ pid: t.int }),
  /** Read a whole file for pm (a program to exec), with `pid`'s cwd and rights → ProgramFile. */
  'vfs.readfile': t.object({ pid: t.int, path: t.string }),
} as const;

export type VfsRequest = MessagesOf<typeof vfsProtocol>;
