/**
 * mfs protocol: an inode file system (MINIX-FS-like) on the `disk` driver, spoken by vfs
 * (MINIX's VFS ↔ FS split: vfs owns paths, fds and offsets; mfs owns inodes and blocks).
 * Every operation names inodes by number; the root directory is `ROOT_INO`.
 * Errors are errno codes: ENOENT, EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, ENOSPC,
 * ENAMETOOLONG, EINVAL, EIO.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const ROOT_INO = 1;
/** Longest name in a directory entry. */
export const NAME_MAX = 59;

export type FileKind = 'file' | 'dir';

/** What `mfs.stat` (and every call that returns an inode) answers. */
export interface InodeAttrs {
  ino: number;
  kind: FileKind;
  /** Permission bits (e.g. 0o644). */
  mode: number;
  uid: number;
  size: number;
  nlink: number;
  /** ms since epoch. */
  mtime: number;
  ctime: number;
}

export interface DirEntry {
  name: string;
  ino: number;
  kind: FileKind;
}

export interface StatFs {
  blockSize: number;
  blocks: number;
  freeBlocks: number;
  inodes: number;
  freeInodes: number;
}

export const mfsProtocol = {
  'mfs.statfs': t.object({}),
  /** Attributes of an inode. */
  'mfs.stat': t.object({ ino: t.int }),
  /** Find `name` in directory `dir` → InodeAttrs. */
  'mfs.lookup': t.object({ dir: t.int, name: t.string }),
  /** Create a file or directory `name` in `dir` → InodeAttrs (EEXIST if present). */
  'mfs.create': t.object({ dir: t.int, name: t.string, kind: t.oneOf('file', 'dir'), mode: t.int, uid: t.int }),
  /** Read up to `length` bytes at `offset` → Uint8Array (shorter at end of file). */
  'mfs.read': t.object({ ino: t.int, offset: t.int, length: t.int }),
  /** Write `data` (Uint8Array) at `offset`, growing the file → new size. */
  'mfs.write': t.object({ ino: t.int, offset: t.int, data: t.any }),
  /** Set the size (shrink frees blocks; grow reads back as zeros). */
  'mfs.truncate': t.object({ ino: t.int, size: t.int }),
  /** Remove a file's directory entry (the inode is freed when nlink reaches 0). */
  'mfs.unlink': t.object({ dir: t.int, name: t.string }),
  /** Remove an empty directory. */
  'mfs.rmdir': t.object({ dir: t.int, name: t.string }),
  /** Move/rename an entry (replacing a file at the destination, as POSIX rename). */
  'mfs.rename': t.object({ fromDir: t.int, fromName: t.string, toDir: t.int, toName: t.string }),
  /** Entries of a directory (without . and ..), sorted by name → DirEntry[]. */
  'mfs.readdir': t.object({ ino: t.int }),
  /** Make everything written so far durable. */
  'mfs.sync': t.object({}),
} as const;

export type MfsRequest = MessagesOf<typeof mfsProtocol>;
