/**
 * bootfs protocol: the boot image's programs as a read-only file system. bootfs speaks
 * the file-system protocol of mfs (so vfs mounts either the same way); writes answer
 * EPERM (read-only).
 */
export { fsProtocol as bootfsProtocol, ROOT_INO } from '../mfs/protocol.js';
export type { DirEntry, InodeAttrs, StatFs } from '../mfs/protocol.js';
