/**
 * tmpfs protocol: a file system in memory (its state), mounted at /tmp by default. It
 * speaks the file-system protocol of mfs, so vfs mounts it the same way.
 */
export { fsProtocol as tmpfsProtocol, ROOT_INO, NAME_MAX } from '../mfs/protocol.js';
export type { DirEntry, InodeAttrs, StatFs } from '../mfs/protocol.js';
