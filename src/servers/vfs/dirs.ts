/**
 * vfs: path operations — stat, mkdir, rmdir, unlink, rename, readdir, truncate,
 * chdir/getcwd, statfs, mounts, sync.
 *
 * Entry points: `doStat`, `doMkdir`, `doRmdir`, `doUnlink`, `doRename`, `doReaddir`,
 * `doTruncate`, `doChdir`, `doGetcwd`, `doStatfs`, `doMounts`, `doSync`.
 */
import { err, ok, type Ctx, type Handler, type Header, type Result } from '../../sys/index.js';
import type { Mount } from './state.js';
import type { DirEntry, InodeAttrs, StatFs } from '../mfs/protocol.js';
import { isDevNull, toStat } from './fds.js';
import { fsCall, joinPath, mayChange, mountOf, normalize, procOf, resolveParent, resolvePath } from './paths.js';
import type { DirEntryOut, VfsRequest } from './protocol.js';
import type { VfsState } from './state.js';

type Req<K extends VfsRequest['type']> = Extract<VfsRequest, { type: K }>;

export const doStat: Handler<VfsState, Req<'vfs.stat'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  if (isDevNull(proc.cwd, msg.path)) {
    return ok({ dev: 'null', ino: 0, type: 'tty', mode: 0o666, uid: 0, size: 0, nlink: 1, mtime: 0, ctime: 0 });
  }
  const r = await resolvePath(state, ctx, proc.cwd, msg.path);
  return r.ok ? ok(toStat(r.value.mount.server, r.value.attrs)) : r;
};

type Parent = { mount: Mount; dir: number; name: string; path: string; uid: number };

/** The parent directory of a change, refusing read-only mounts. */
async function writableParent(state: VfsState, msg: Header, path: string, ctx: Ctx): Promise<Result<Parent>> {
  const { proc } = await procOf(state, msg, ctx);
  const p = await resolveParent(state, ctx, proc.cwd, path);
  if (!p.ok) return p;
  if (p.value.mount.readonly) return err('EPERM', `${p.value.path}: read-only file system`);
  if (!mayChange(proc.uid, p.value.dirAttrs)) return err('EACCES', `${p.value.path}: permission denied`);
  return ok({ ...p.value, uid: proc.uid });
}

export const doMkdir: Handler<VfsState, Req<'vfs.mkdir'>> = async (state, msg, ctx) => {
  const p = await writableParent(state, msg, msg.path, ctx);
  if (!p.ok) return p;
  const r = await fsCall<InodeAttrs>(ctx, p.value.mount.server, 'mfs.create', {
    dir: p.value.dir, name: p.value.name, kind: 'dir', mode: msg.mode ?? 0o755, uid: p.value.uid,
  });
  return r.ok ? ok(null) : r;
};

export const doRmdir: Handler<VfsState, Req<'vfs.rmdir'>> = async (state, msg, ctx) => {
  const p = await writableParent(state, msg, msg.path, ctx);
  if (!p.ok) return p;
  return fsCall(ctx, p.value.mount.server, 'mfs.rmdir', { dir: p.value.dir, name: p.value.name });
};

export const doUnlink: Handler<VfsState, Req<'vfs.unlink'>> = async (state, msg, ctx) => {
  const p = await writableParent(state, msg, msg.path, ctx);
  if (!p.ok) return p;
  return fsCall(ctx, p.value.mount.server, 'mfs.unlink', { dir: p.value.dir, name: p.value.name });
};

export const doRename: Handler<VfsState, Req<'vfs.rename'>> = async (state, msg, ctx) => {
  const a = await writableParent(state, msg, msg.oldPath, ctx);
  if (!a.ok) return a;
  const b = await writableParent(state, msg, msg.newPath, ctx);
  if (!b.ok) return b;
  if (a.value.mount !== b.value.mount) return err('EINVAL', 'rename across file systems (EXDEV)');
  return fsCall(ctx, a.value.mount.server, 'mfs.rename', { fromDir: a.value.dir, fromName: a.value.name, toDir: b.value.dir, toName: b.value.name });
};

export const doReaddir: Handler<VfsState, Req<'vfs.readdir'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const r = await resolvePath(state, ctx, proc.cwd, msg.path);
  if (!r.ok) return r;
  if (r.value.attrs.kind !== 'dir') return err('ENOTDIR', msg.path);
  const list = await fsCall<DirEntry[]>(ctx, r.value.mount.server, 'mfs.readdir', { ino: r.value.attrs.ino });
  if (!list.ok) return list;
  const out: DirEntryOut[] = list.value.map((e) => ({ name: e.name, type: e.kind }));
  // Mount points below this directory show as directories even if the entry is missing underneath.
  const here = normalize(proc.cwd, msg.path)!;
  for (const m of state.mounts) {
    const mp = m.path === '/' ? [] : m.path.slice(1).split('/');
    if (mp.length === here.length + 1 && here.every((c, i) => mp[i] === c) && !out.some((e) => e.name === mp[here.length])) {
      out.push({ name: mp[here.length]!, type: 'dir' });
    }
  }
  return ok(out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)));
};

export const doTruncate: Handler<VfsState, Req<'vfs.truncate'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const r = await resolvePath(state, ctx, proc.cwd, msg.path);
  if (!r.ok) return r;
  if (r.value.mount.readonly) return err('EPERM', 'read-only file system');
  if (r.value.attrs.kind !== 'file') return err('EISDIR', msg.path);
  if (msg.size < 0) return err('EINVAL', 'negative size');
  return fsCall(ctx, r.value.mount.server, 'mfs.truncate', { ino: r.value.attrs.ino, size: msg.size });
};

export const doChdir: Handler<VfsState, Req<'vfs.chdir'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const r = await resolvePath(state, ctx, proc.cwd, msg.path);
  if (!r.ok) return r;
  if (r.value.attrs.kind !== 'dir') return err('ENOTDIR', msg.path);
  proc.cwd = joinPath(normalize(proc.cwd, msg.path)!);
  return ok(null);
};

export const doGetcwd: Handler<VfsState, Req<'vfs.getcwd'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  return ok(proc.cwd);
};

export const doStatfs: Handler<VfsState, Req<'vfs.statfs'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const parts = normalize(proc.cwd, msg.path);
  if (!parts) return err('EINVAL', 'bad path');
  const { mount } = mountOf(state, parts);
  const r = await fsCall<StatFs>(ctx, mount.server, 'mfs.statfs', {});
  return r.ok ? ok({ ...r.value, server: mount.server, path: mount.path }) : r;
};

export const doMounts: Handler<VfsState, Req<'vfs.mounts'>> = (state) => ok(state.mounts.map((m) => ({ ...m })));

export const doSync: Handler<VfsState, Req<'vfs.sync'>> = async (state, _msg, ctx) => {
  for (const m of state.mounts) {
    const r = await fsCall(ctx, m.server, 'mfs.sync', {});
    if (!r.ok) return r;
  }
  return ok(null);
};
