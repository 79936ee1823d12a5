/**
 * bootfs: lookups, attributes, reads and listings of the boot image; everything else
 * is refused as a write to a read-only file system.
 *
 * Entry points: `doStat`, `doLookup`, `doRead`, `doReaddir`, `doStatfs`, `readOnly`, `relist`.
 */
import { err, ok, type Ctx, type Handler } from '../../sys/index.js';
import { ROOT_INO, bootfsProtocol, type DirEntry, type InodeAttrs } from './protocol.js';
import type { BootfsState } from './state.js';
import type { MessagesOf } from '../../sys/schema.js';

type Req<K extends keyof typeof bootfsProtocol> = Extract<MessagesOf<typeof bootfsProtocol>, { type: K }>;

export async function relist(state: BootfsState, ctx: Ctx): Promise<void> {
  const r = await ctx.kcall<BootfsState['files']>({ call: 'image-list' });
  if (r.ok) {
    state.files = r.value;
    state.listedAt = ctx.now();
  }
}

function attrs(state: BootfsState, ino: number): InodeAttrs | null {
  if (ino === ROOT_INO) {
    return { ino, kind: 'dir', mode: 0o555, uid: 0, size: state.files.length, nlink: 2, mtime: state.listedAt, ctime: state.listedAt };
  }
  const f = state.files[ino - 2];
  return f ? { ino, kind: 'file', mode: 0o555, uid: 0, size: f.size, nlink: 1, mtime: f.mtime, ctime: f.mtime } : null;
}

export const doStat: Handler<BootfsState, Req<'mfs.stat'>> = (state, msg) => {
  const a = attrs(state, msg.ino);
  return a ? ok(a) : err('ENOENT', `no inode ${msg.ino}`);
};

export const doLookup: Handler<BootfsState, Req<'mfs.lookup'>> = async (state, msg, ctx) => {
  if (msg.dir !== ROOT_INO) return err(attrs(state, msg.dir) ? 'ENOTDIR' : 'ENOENT');
  let i = state.files.findIndex((f) => f.name === msg.name);
  if (i < 0) {
    await relist(state, ctx); // a program added to the image since
    i = state.files.findIndex((f) => f.name === msg.name);
  }
  return i < 0 ? err('ENOENT', `no ${msg.name} in the boot image`) : ok(attrs(state, i + 2)!);
};

export const doRead: Handler<BootfsState, Req<'mfs.read'>> = async (state, msg, ctx) => {
  const f = state.files[msg.ino - 2];
  if (msg.ino === ROOT_INO) return err('EISDIR');
  if (!f) return err('ENOENT', `no inode ${msg.ino}`);
  if (msg.offset < 0 || msg.length < 0) return err('EINVAL');
  const r = await ctx.kcall<Uint8Array>({ call: 'image-read', name: f.name });
  if (!r.ok) return r;
  state.reads++;
  return ok(r.value.slice(msg.offset, msg.offset + msg.length));
};

export const doReaddir: Handler<BootfsState, Req<'mfs.readdir'>> = async (state, msg, ctx) => {
  if (msg.ino !== ROOT_INO) return err(attrs(state, msg.ino) ? 'ENOTDIR' : 'ENOENT');
  await relist(state, ctx);
  return ok(state.files.map((f, i): DirEntry => ({ name: f.name, ino: i + 2, kind: 'file' })));
};

export const doStatfs: Handler<BootfsState, Req<'mfs.statfs'>> = (state) =>
  ok({ blockSize: 4096, blocks: state.files.reduce((n, f) => n + Math.ceil(f.size / 4096), 0), freeBlocks: 0, inodes: state.files.length + 1, freeInodes: 0 });

export const readOnly: Handler<BootfsState, { type: string }> = () => err('EPERM', 'the boot image is read-only');

export const doSync: Handler<BootfsState, Req<'mfs.sync'>> = () => ok(null);
