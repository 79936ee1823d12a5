/**
 * tmpfs state: inodes in memory. A directory's entries map names to inode numbers; a
 * file's bytes live in `data` (grown by doubling). Plain data: transferable.
 */
export interface TmpInode {
  ino: number;
  kind: 'file' | 'dir';
  mode: number;
  uid: number;
  nlink: number;
  mtime: number;
  ctime: number;
  /** Files: the bytes (capacity ≥ size). */
  data: Uint8Array;
  size: number;
  /** Directories: name → ino. */
  entries: Map<string, number>;
  parent: number;
}

export interface TmpfsState {
  inodes: Map<number, TmpInode>;
  nextIno: number;
  /** Total bytes allowed (ENOSPC beyond). */
  capacity: number;
  used: number;
}
