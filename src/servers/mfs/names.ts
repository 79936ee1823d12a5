/**
 * mfs handlers: names — lookup, create, unlink, rmdir, rename, readdir. Each is one
 * atomic step: the directory entries, inodes and bitmaps it changes reach the journal
 * together.
 *
 * Link counts: a file has one link per entry; a directory has 2 + its subdirectories
 * (its entry in the parent, its own `.`, and each child's `..`; the root's `..` is itself).
 *
 * Entry points: `doLookup`, `doCreate`, `doUnlink`, `doRmdir`, `doRename`, `doReaddir`.
 */
import { ok } from '../../sys/index.js';
import { NAME_MAX, ROOT_INO, type DirEntry, type FileKind, type MfsRequest } from './protocol.js';
import { validName, type Inode } from './layout.js';
import { addEntry, clearEntry, dirOf, findEntry, isEmptyDir, listEntries, makeDirBlock, scanDir, setEntryIno } from './directory.js';
import { allocInode, attrsOf, loadInode, releaseInode, storeInode, usedInode } from './inode.js';
import { metaReserve } from './files.js';
import { fail, type Op, type Volume } from './volume.js';

type Req<K extends MfsRequest['type']> = Extract<MfsRequest, { type: K }>;

/** A name that may be created / removed (not `.` or `..`). */
function checkName(name: string): void {
  const bad = validName(name);
  if (bad === 'ENAMETOOLONG') fail(bad, `name longer than ${NAME_MAX} bytes`);
  if (bad) fail(bad, `bad name ${JSON.stringify(name)}`);
}

export const doLookup: Op<Req<'mfs.lookup'>> = (fs, msg) =>
  fs.atomic(0, async (vol) => {
    // `.` and `..` may be looked up (they are entries); nothing else that is not a valid name.
    if (msg.name !== '.' && msg.name !== '..') checkName(msg.name);
    const dir = await dirOf(vol, msg.dir);
    const e = await findEntry(vol, dir, msg.name);
    if (!e) fail('ENOENT', `no ${msg.name} in directory ${msg.dir}`);
    return ok(attrsOf(await usedInode(vol, e.ino)));
  });

export const doCreate: Op<Req<'mfs.create'>> = (fs, msg) =>
  fs.atomic(metaReserve(fs.geo), async (vol) => {
    checkName(msg.name);
    if (msg.mode < 0 || msg.mode > 0o7777) fail('EINVAL', `bad mode ${msg.mode}`);
    if (msg.uid < 0 || msg.uid > 0xffff_ffff) fail('EINVAL', `bad uid ${msg.uid}`);
    const dir = await dirOf(vol, msg.dir);
    if (dir.nlink === 0) fail('ENOENT', `directory ${msg.dir} has been removed`);
    const scan = await scanDir(vol, dir, msg.name);
    if (scan.found) fail('EEXIST', `${msg.name} exists`);
    const kind: FileKind = msg.kind;
    const n = await allocInode(vol, kind, msg.mode, msg.uid);
    if (kind === 'dir') {
      await makeDirBlock(vol, n, dir.ino);
      n.nlink = 2;
      dir.nlink++;
    } else {
      n.nlink = 1;
    }
    await addEntry(vol, dir, msg.name, n.ino, scan.free);
    await storeInode(vol, n);
    await storeInode(vol, dir);
    return ok(attrsOf(n));
  });

/** Drop one link to `n` (freeing it at zero). */
async function unlinkInode(vol: Volume, n: Inode): Promise<void> {
  n.nlink = n.kind === 'dir' ? 0 : n.nlink - 1;
  if (n.nlink <= 0) return releaseInode(vol, n);
  n.ctime = vol.now;
  await storeInode(vol, n);
}

export const doUnlink: Op<Req<'mfs.unlink'>> = (fs, msg) =>
  fs.atomic(metaReserve(fs.geo), async (vol) => {
    checkName(msg.name);
    const dir = await dirOf(vol, msg.dir);
    const e = await findEntry(vol, dir, msg.name);
    if (!e) fail('ENOENT', `no ${msg.name} in directory ${msg.dir}`);
    const n = await usedInode(vol, e.ino);
    if (n.kind === 'dir') fail('EISDIR', `${msg.name} is a directory (use rmdir)`);
    await clearEntry(vol, dir, e);
    await unlinkInode(vol, n);
    await storeInode(vol, dir);
    return ok(null);
  });

export const doRmdir: Op<Req<'mfs.rmdir'>> = (fs, msg) =>
  fs.atomic(metaReserve(fs.geo), async (vol) => {
    checkName(msg.name);
    const dir = await dirOf(vol, msg.dir);
    const e = await findEntry(vol, dir, msg.name);
    if (!e) fail('ENOENT', `no ${msg.name} in directory ${msg.dir}`);
    const n = await usedInode(vol, e.ino);
    if (n.kind !== 'dir') fail('ENOTDIR', `${msg.name} is not a directory`);
    if (!(await isEmptyDir(vol, n))) fail('ENOTEMPTY', `${msg.name} is not empty`);
    await clearEntry(vol, dir, e);
    dir.nlink--;
    await unlinkInode(vol, n);
    await storeInode(vol, dir);
    return ok(null);
  });

/** Is `ino` the directory `dir` or one of its ancestors? (Walks `..` up to the root.) */
async function isAncestor(vol: Volume, ino: number, dir: Inode): Promise<boolean> {
  let cur = dir;
  for (let hops = 0; hops < vol.geo.inodes; hops++) {
    if (cur.ino === ino) return true;
    if (cur.ino === ROOT_INO) return false;
    const up = await findEntry(vol, cur, '..');
    if (!up) fail('EIO', `directory ${cur.ino} has no .. entry`);
    cur = await loadInode(vol, up.ino);
    if (cur.kind !== 'dir') fail('EIO', `.. of a directory is not a directory`);
  }
  fail('EIO', 'directory tree has a cycle');
}

export const doRename: Op<Req<'mfs.rename'>> = (fs, msg) =>
  fs.atomic(metaReserve(fs.geo), async (vol) => {
    checkName(msg.fromName);
    checkName(msg.toName);
    const fromDir = await dirOf(vol, msg.fromDir);
    const toDir = msg.toDir === msg.fromDir ? fromDir : await dirOf(vol, msg.toDir);
    const src = await findEntry(vol, fromDir, msg.fromName);
    if (!src) fail('ENOENT', `no ${msg.fromName} in directory ${msg.fromDir}`);
    if (fromDir === toDir && msg.fromName === msg.toName) return ok(null);
    if (toDir.nlink === 0) fail('ENOENT', `directory ${msg.toDir} has been removed`);
    const moved = await usedInode(vol, src.ino);
    // 1. A directory may not move into itself or below itself.
    if (moved.kind === 'dir' && fromDir !== toDir && (await isAncestor(vol, moved.ino, toDir))) {
      fail('EINVAL', `cannot move directory ${msg.fromName} into itself`);
    }
    // 2. Replace the destination (POSIX rename) or add a new entry.
    const { found: dst, free } = await scanDir(vol, toDir, msg.toName);
    if (dst) {
      if (dst.ino === moved.ino) return ok(null);
      const target = await usedInode(vol, dst.ino);
      if (moved.kind === 'dir' && target.kind !== 'dir') fail('ENOTDIR', `${msg.toName} is not a directory`);
      if (moved.kind !== 'dir' && target.kind === 'dir') fail('EISDIR', `${msg.toName} is a directory`);
      if (target.kind === 'dir' && !(await isEmptyDir(vol, target))) fail('ENOTEMPTY', `${msg.toName} is not empty`);
      await setEntryIno(vol, toDir, dst, moved.ino);
      if (target.kind === 'dir') toDir.nlink--;
      await unlinkInode(vol, target);
    } else {
      await addEntry(vol, toDir, msg.toName, moved.ino, free);
    }
    // 3. Remove the old entry; a moved directory's `..` follows it.
    await clearEntry(vol, fromDir, src);
    if (moved.kind === 'dir' && fromDir !== toDir) {
      const dotdot = await findEntry(vol, moved, '..');
      if (!dotdot) fail('EIO', `directory ${moved.ino} has no .. entry`);
      await setEntryIno(vol, moved, dotdot, toDir.ino);
      fromDir.nlink--;
      toDir.nlink++;
    }
    moved.ctime = vol.now;
    await storeInode(vol, moved);
    await storeInode(vol, fromDir);
    if (toDir !== fromDir) await storeInode(vol, toDir);
    return ok(null);
  });

export const doReaddir: Op<Req<'mfs.readdir'>> = (fs, msg) =>
  fs.atomic(0, async (vol) => {
    const dir = await dirOf(vol, msg.ino);
    const out: DirEntry[] = [];
    for (const e of await listEntries(vol, dir)) {
      if (e.name === '.' || e.name === '..') continue;
      const n = await loadInode(vol, e.ino);
      if (n.kind === 'free') fail('EIO', `entry ${e.name} of directory ${msg.ino} points at free inode ${e.ino}`);
      out.push({ name: e.name, ino: e.ino, kind: n.kind });
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return ok(out);
  });
