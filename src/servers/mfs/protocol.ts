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

/**
 * The file-system protocol every file-system server speaks (mfs, tmpfs, bootfs): what
 * vfs needs. mfs adds its own messages below.
 */
export const fsProtocol = {
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

export const mfsProtocol = {
  ...fsProtocol,
  // ── mfs's own (not used by vfs's basic path) ──
  /** Sync, then check the whole file system on disk → FsckReport (what `molt fsck` checks). */
  'mfs.fsck': t.object({}),
  /** Buffer cache and journal counters → MfsStats. */
  'mfs.stats': t.object({}),
} as const;

export type MfsRequest = MessagesOf<typeof mfsProtocol>;

/** What mfs itself answers: the protocol, plus the kernel's alarm (the periodic checkpoint). */
export const mfsServerProtocol = {
  ...mfsProtocol,
  /** From the kernel only: a timer mfs set (`checkpoint:…` tags). */
  'clock.alarm': t.object({ tag: t.string }),
} as const;

export type MfsServerRequest = MessagesOf<typeof mfsServerProtocol>;

/** What `mfs.fsck` answers (and `molt fsck` prints). */
export interface FsckReport {
  clean: boolean;
  /** Inconsistencies, one sentence each (empty when clean). */
  errors: string[];
  /** Facts that are not inconsistencies (e.g. a committed journal transaction that mount will replay). */
  notes: string[];
  summary: {
    blocks: number;
    dataBlocks: number;
    usedDataBlocks: number;
    inodes: number;
    usedInodes: number;
    files: number;
    dirs: number;
    /** empty | committed (to replay) | applied | incomplete (ignored) | damaged */
    journal: string;
  };
}

/** What `mfs.stats` answers. */
export interface MfsStats {
  /** Requests answered since this incarnation's state began (it carries over a live update). */
  ops: number;
  errors: number;
  cacheHits: number;
  cacheMisses: number;
  cachedBlocks: number;
  dirtyBlocks: number;
  cacheCapacity: number;
  diskReads: number;
  diskWrites: number;
  /** Journal transactions committed, and the blocks they carried. */
  commits: number;
  journaledBlocks: number;
  /** Commits made by the periodic checkpoint (not by sync or a full transaction). */
  checkpoints: number;
  /** Blocks written back from the journal when this file system was mounted. */
  replayedAtMount: number;
  /** This mount formatted the disk (it held no file system). */
  formatted: boolean;
  queued: number;
}
