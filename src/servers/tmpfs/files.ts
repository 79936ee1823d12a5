/**
 * tmpfs: every operation of the file-system protocol, on inodes in memory.
 *
 * Entry points: one `doX` per `mfs.*` message.
 */
import { err, ok, type Handler, type Result } from '../../sys/index.js';
import type { MessagesOf } from '../../sys/schema.js';
import { NAME_MAX, ROOT_INO, tmpfsProtocol, type DirEntry, type InodeAttrs } from './protocol.js';
import type { TmpfsState, TmpInode } from './state.js';

type Req<K extends keyof typeof tmpfsProtocol> = Extract<MessagesOf<typeof tmpfsProtocol>, { type: K }>;

export function attrs(i: TmpInode): InodeAttrs {
  return { ino: i.ino, kind: i.kind, mode: i.mode, uid: i.uid, size: i.kind === 'dir' ? i.entries.size : i.size, nlink: i.nlink, mtime: i.mtime, ctime: i.ctime };
}

export function newInode(state: TmpfsState, kind: 'file' | 'dir', mode: number, uid: number, parent: number, now: number): TmpInode {
  const i: TmpInode = { ino: state.nextIno++, kind, mode, uid, nlink: kind === 'dir' ? 2 : 1, mtime: now, ctime: now, data: new Uint8Array(0), size: 0, entries: new Map(), parent };
  state.inodes.set(i.ino, i);
  return i;
}

function dirOf(state: TmpfsState, ino: number): Result<TmpInode> {
  const d = state.inodes.get(ino);
  if (!d) return err('ENOENT', `no inode ${ino}`);
  if (d.kind !== 'dir') return err('ENOTDIR', `inode ${ino} is not a directory`);
  return ok(d);
}

function validName(name: string): Result<null> {
  if (name.length === 0 || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return err('EINVAL', `bad name ${JSON.stringify(name)}`);
  if (new TextEncoder().encode(name).length > NAME_MAX) return err('ENAMETOOLONG', name);
  return ok(null);
}

function drop(state: TmpfsState, i: TmpInode): void {
  if (--i.nlink > 0 && i.kind === 'file') return;
  state.used -= i.data.length;
  state.inodes.delete(i.ino);
}

export const doStatfs: Handler<TmpfsState, Req<'mfs.statfs'>> = (state) =>
  ok({ blockSize: 4096, blocks: Math.floor(state.capacity / 4096), freeBlocks: Math.floor((state.capacity - state.used) / 4096), inodes: state.inodes.size, freeInodes: 1 << 20 });

export const doStat: Handler<TmpfsState, Req<'mfs.stat'>> = (state, msg) => {
  const i = state.inodes.get(msg.ino);
  return i ? ok(attrs(i)) : err('ENOENT', `no inode ${msg.ino}`);
};

export const doLookup: Handler<TmpfsState, Req<'mfs.lookup'>> = (state, msg) => {
  const d = dirOf(state, msg.dir);
  if (!d.ok) return d;
  const ino = d.value.entries.get(msg.name);
  return ino === undefined ? err('ENOENT', msg.name) : ok(attrs(state.inodes.get(ino)!));
};

export const doCreate: Handler<TmpfsState, Req<'mfs.create'>> = (state, msg, ctx) => {
  const d = dirOf(state, msg.dir);
  if (!d.ok) return d;
  const v = validName(msg.name);
  if (!v.ok) return v;
  if (d.value.entries.has(msg.name)) return err('EEXIST', msg.name);
  const i = newInode(state, msg.kind, msg.mode & 0o7777, msg.uid, d.value.ino, ctx.now());
  d.value.entries.set(msg.name, i.ino);
  if (msg.kind === 'dir') d.value.nlink++;
  d.value.mtime = ctx.now();
  return ok(attrs(i));
};

export const doRead: Handler<TmpfsState, Req<'mfs.read'>> = (state, msg) => {
  const i = state.inodes.get(msg.ino);
  if (!i) return err('ENOENT', `no inode ${msg.ino}`);
  if (i.kind === 'dir') return err('EISDIR');
  if (msg.offset < 0 || msg.length < 0) return err('EINVAL');
  return ok(i.data.slice(Math.min(msg.offset, i.size), Math.min(i.size, msg.offset + msg.length)));
};

function ensure(state: TmpfsState, i: TmpInode, size: number): Result<null> {
  if (size <= i.data.length) return ok(null);
  const cap = Math.max(size, i.data.length * 2, 256);
  if (state.used - i.data.length + cap > state.capacity) {
    if (state.used - i.data.length + size > state.capacity) return err('ENOSPC', 'tmpfs is full');
  }
  const grown = new Uint8Array(state.used - i.data.length + cap > state.capacity ? size : cap);
  grown.set(i.data.subarray(0, i.size));
  state.used += grown.length - i.data.length;
  i.data = grown;
  return ok(null);
}

export const doWrite: Handler<TmpfsState, Req<'mfs.write'>> = (state, msg, ctx) => {
  const i = state.inodes.get(msg.ino);
  if (!i) return err('ENOENT', `no inode ${msg.ino}`);
  if (i.kind === 'dir') return err('EISDIR');
  if (!(msg.data instanceof Uint8Array) || msg.offset < 0) return err('EINVAL');
  const end = msg.offset + msg.data.length;
  const room = ensure(state, i, end);
  if (!room.ok) return room;
  if (msg.offset > i.size) i.data.fill(0, i.size, msg.offset);
  i.data.set(msg.data, msg.offset);
  i.size = Math.max(i.size, end);
  i.mtime = ctx.now();
  return ok(i.size);
};

export const doTruncate: Handler<TmpfsState, Req<'mfs.truncate'>> = (state, msg, ctx) => {
  const i = state.inodes.get(msg.ino);
  if (!i) return err('ENOENT', `no inode ${msg.ino}`);
  if (i.kind === 'dir') return err('EISDIR');
  if (msg.size < 0) return err('EINVAL');
  const room = ensure(state, i, msg.size);
  if (!room.ok) return room;
  if (msg.size > i.size) i.data.fill(0, i.size, msg.size);
  i.size = msg.size;
  i.mtime = ctx.now();
  return ok(null);
};

export const doUnlink: Handler<TmpfsState, Req<'mfs.unlink'>> = (state, msg, ctx) => {
  const d = dirOf(state, msg.dir);
  if (!d.ok) return d;
  const ino = d.value.entries.get(msg.name);
  if (ino === undefined) return err('ENOENT', msg.name);
  const i = state.inodes.get(ino)!;
  if (i.kind === 'dir') return err('EISDIR', `${msg.name} is a directory (rmdir)`);
  d.value.entries.delete(msg.name);
  d.value.mtime = ctx.now();
  drop(state, i);
  return ok(null);
};

export const doRmdir: Handler<TmpfsState, Req<'mfs.rmdir'>> = (state, msg, ctx) => {
  const d = dirOf(state, msg.dir);
  if (!d.ok) return d;
  const ino = d.value.entries.get(msg.name);
  if (ino === undefined) return err('ENOENT', msg.name);
  const i = state.inodes.get(ino)!;
  if (i.kind !== 'dir') return err('ENOTDIR', msg.name);
  if (i.entries.size > 0) return err('ENOTEMPTY', msg.name);
  d.value.entries.delete(msg.name);
  d.value.nlink--;
  d.value.mtime = ctx.now();
  state.inodes.delete(i.ino);
  return ok(null);
};

export const doRename: Handler<TmpfsState, Req<'mfs.rename'>> = (state, msg, ctx) => {
  const from = dirOf(state, msg.fromDir);
  if (!from.ok) return from;
  const to = dirOf(state, msg.toDir);
  if (!to.ok) return to;
  const v = validName(msg.toName);
  if (!v.ok) return v;
  const ino = from.value.entries.get(msg.fromName);
  if (ino === undefined) return err('ENOENT', msg.fromName);
  const moving = state.inodes.get(ino)!;
  // A directory may not move into itself or below itself.
  for (let p = to.value; moving.kind === 'dir'; p = state.inodes.get(p.parent)!) {
    if (p.ino === moving.ino) return err('EINVAL', 'cannot move a directory into itself');
    if (p.ino === ROOT_INO) break;
  }
  const existing = to.value.entries.get(msg.toName);
  if (existing !== undefined && existing !== ino) {
    const e = state.inodes.get(existing)!;
    if (e.kind === 'dir') {
      if (moving.kind !== 'dir') return err('EISDIR', msg.toName);
      if (e.entries.size > 0) return err('ENOTEMPTY', msg.toName);
      state.inodes.delete(e.ino);
      to.value.nlink--;
    } else {
      if (moving.kind === 'dir') return err('ENOTDIR', msg.toName);
      drop(state, e);
    }
  }
  from.value.entries.delete(msg.fromName);
  to.value.entries.set(msg.toName, ino);
  if (moving.kind === 'dir' && from.value !== to.value) {
    from.value.nlink--;
    to.value.nlink++;
    moving.parent = to.value.ino;
  }
  from.value.mtime = to.value.mtime = ctx.now();
  return ok(null);
};

export const doReaddir: Handler<TmpfsState, Req<'mfs.readdir'>> = (state, msg) => {
  const d = dirOf(state, msg.ino);
  if (!d.ok) return d;
  const out: DirEntry[] = [...d.value.entries].map(([name, ino]) => ({ name, ino, kind: state.inodes.get(ino)!.kind }));
  return ok(out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
};

export const doSync: Handler<TmpfsState, Req<'mfs.sync'>> = () => ok(null);
