/**
 * vfs: file descriptors and open files — open, close, read, write, lseek, fstat, dup,
 * dup2, isatty, and the reference counting that pipes' ends depend on.
 *
 * Entry points: `doOpen`, `doClose`, `doRead`, `doWrite`, `doLseek`, `doFstat`, `doDup`,
 * `doDup2`, `doIsatty`, `allocFd`, `retain`, `release`.
 */
import { DEFERRED, err, ok, type Ctx, type Handler, type Result } from '../../sys/index.js';
import type { InodeAttrs } from '../mfs/protocol.js';
import { fsCall, mayChange, normalize, procOf, resolveParent, resolvePath } from './paths.js';
import { pipeRead, pipeWrite, endClosed } from './pipes.js';
import { MAX_FDS, type Stat, type VfsRequest } from './protocol.js';
import type { OpenFile, Proc, VfsState } from './state.js';

type Req<K extends VfsRequest['type']> = Extract<VfsRequest, { type: K }>;

export const MAX_IO = 1 << 20;

/** The null device, at /dev/null (vfs's own: no file system holds it). */
export const DEV_NULL = '/dev/null';
export const isDevNull = (cwd: string, path: string) => {
  const parts = normalize(cwd, path);
  return parts !== null && `/${parts.join('/')}` === DEV_NULL;
};

export function allocFd(proc: Proc, id: number, from = 0): number | null {
  for (let fd = from; fd < MAX_FDS; fd++) {
    if (proc.fds[fd] === undefined || proc.fds[fd] === null) {
      proc.fds[fd] = id;
      return fd;
    }
  }
  return null;
}

export function retain(state: VfsState, id: number): void {
  const f = state.files.get(id);
  if (f) f.refs++;
}

/** Drop one reference; the last one closes the open file (and a pipe end). */
export function release(state: VfsState, id: number, ctx: Ctx): void {
  const f = state.files.get(id);
  if (!f) return;
  if (--f.refs > 0) return;
  state.files.delete(id);
  if (f.kind === 'pipe') endClosed(state, f.pipe, f.end, ctx);
}

function fileOf(state: VfsState, proc: Proc, fd: number): { id: number; file: OpenFile } | null {
  const id = proc.fds[fd];
  if (id === undefined || id === null) return null;
  const file = state.files.get(id);
  return file ? { id, file } : null;
}

export function toStat(server: string, a: InodeAttrs): Stat {
  return { dev: server, ino: a.ino, type: a.kind, mode: a.mode, uid: a.uid, size: a.size, nlink: a.nlink, mtime: a.mtime, ctime: a.ctime };
}

const FLAGS: Record<string, { read: boolean; write: boolean; create: boolean; trunc: boolean; append: boolean; excl: boolean }> = {
  r: { read: true, write: false, create: false, trunc: false, append: false, excl: false },
  'r+': { read: true, write: true, create: false, trunc: false, append: false, excl: false },
  w: { read: false, write: true, create: true, trunc: true, append: false, excl: false },
  'w+': { read: true, write: true, create: true, trunc: true, append: false, excl: false },
  a: { read: false, write: true, create: true, trunc: false, append: true, excl: false },
  'a+': { read: true, write: true, create: true, trunc: false, append: true, excl: false },
  wx: { read: false, write: true, create: true, trunc: true, append: false, excl: true },
  'w+x': { read: true, write: true, create: true, trunc: true, append: false, excl: true },
};

export const doOpen: Handler<VfsState, Req<'vfs.open'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const fl = FLAGS[msg.flags];
  if (!fl) return err('EINVAL', `bad open flags ${JSON.stringify(msg.flags)} (r r+ w w+ a a+ wx w+x)`);
  if (isDevNull(proc.cwd, msg.path)) {
    const id = state.nextFile++;
    state.files.set(id, { kind: 'null', refs: 1 });
    const fd = allocFd(proc, id);
    if (fd === null) {
      state.files.delete(id);
      return err('EMFILE');
    }
    return ok(fd);
  }
  let found = await resolvePath(state, ctx, proc.cwd, msg.path);
  if (!found.ok && found.code !== 'ENOENT') return found;
  if (found.ok && fl.excl) return err('EEXIST', msg.path);
  let attrs: InodeAttrs;
  let server: string;
  if (!found.ok) {
    if (!fl.create) return found;
    const parent = await resolveParent(state, ctx, proc.cwd, msg.path);
    if (!parent.ok) return parent;
    if (parent.value.mount.readonly) return err('EPERM', `${parent.value.path}: read-only file system`);
    if (!mayChange(proc.uid, parent.value.dirAttrs)) return err('EACCES', `${parent.value.path}: permission denied`);
    const made = await fsCall<InodeAttrs>(ctx, parent.value.mount.server, 'mfs.create', {
      dir: parent.value.dir, name: parent.value.name, kind: 'file', mode: msg.mode ?? 0o644, uid: proc.uid,
    });
    if (!made.ok) return made;
    attrs = made.value;
    server = parent.value.mount.server;
  } else {
    attrs = found.value.attrs;
    server = found.value.mount.server;
    if (attrs.kind === 'dir' && fl.write) return err('EISDIR', msg.path);
    if (fl.write && found.value.mount.readonly) return err('EPERM', `${msg.path}: read-only file system`);
    if (fl.write && proc.uid !== 0 && attrs.uid !== proc.uid && !(attrs.mode & 0o002)) return err('EACCES', msg.path);
    if (fl.trunc && attrs.kind === 'file' && attrs.size > 0) {
      const t = await fsCall(ctx, server, 'mfs.truncate', { ino: attrs.ino, size: 0 });
      if (!t.ok) return t;
    }
  }
  const id = state.nextFile++;
  state.files.set(id, { kind: 'file', server, ino: attrs.ino, offset: 0, read: fl.read, write: fl.write, append: fl.append, refs: 1 });
  const fd = allocFd(proc, id);
  if (fd === null) {
    state.files.delete(id);
    return err('EMFILE', `more than ${MAX_FDS} open files`);
  }
  return ok(fd);
};

export const doClose: Handler<VfsState, Req<'vfs.close'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  proc.fds[msg.fd] = null;
  release(state, f.id, ctx);
  return ok(null);
};

export const doRead: Handler<VfsState, Req<'vfs.read'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  const length = Math.min(Math.max(0, msg.length), MAX_IO);
  const file = f.file;
  switch (file.kind) {
    case 'null':
      return ok(new Uint8Array(0));
    case 'pipe':
      if (file.end !== 'read') return err('EBADF', 'the write end of a pipe');
      return pipeRead(state, file.pipe, length, msg, ctx);
    case 'tty': {
      if (!file.read) return err('EBADF', `fd ${msg.fd} is not open for reading`);
      // Deferred, not awaited: the wait for a console line lives in state (a ticket), so a
      // live update or restart of vfs or tty carries it.
      const ticket = state.nextTicket++;
      state.ttyReads.set(ticket, { token: ctx.defer(msg), length });
      ctx.send('tty', { type: 'tty.read', length, ticket });
      return DEFERRED;
    }
    case 'file': {
      if (!file.read) return err('EBADF', `fd ${msg.fd} is not open for reading`);
      const r = await fsCall<Uint8Array>(ctx, file.server, 'mfs.read', { ino: file.ino, offset: file.offset, length });
      if (r.ok) file.offset += r.value.length;
      return r;
    }
  }
};

export const doWrite: Handler<VfsState, Req<'vfs.write'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  if (!(msg.data instanceof Uint8Array)) return err('EINVAL', 'data must be bytes');
  if (msg.data.length > MAX_IO) return err('EINVAL', `a write is at most ${MAX_IO} bytes`);
  const file = f.file;
  switch (file.kind) {
    case 'null':
      return ok(msg.data.length);
    case 'pipe':
      if (file.end !== 'write') return err('EBADF', 'the read end of a pipe');
      return pipeWrite(state, file.pipe, msg.data, msg, ctx);
    case 'tty':
      if (!file.write) return err('EBADF', `fd ${msg.fd} is not open for writing`);
      return ctx.sendrec('tty', { type: 'tty.write', data: msg.data, ...(file.err ? { stream: 'err' } : {}) });
    case 'file': {
      if (!file.write) return err('EBADF', `fd ${msg.fd} is not open for writing`);
      if (file.append) {
        const st = await fsCall<InodeAttrs>(ctx, file.server, 'mfs.stat', { ino: file.ino });
        if (!st.ok) return st;
        file.offset = st.value.size;
      }
      const at = file.offset;
      file.offset += msg.data.length; // claimed before the await: concurrent writes do not overlap
      const r = await fsCall<number>(ctx, file.server, 'mfs.write', { ino: file.ino, offset: at, data: msg.data });
      if (!r.ok) {
        file.offset = at;
        return r;
      }
      return ok(msg.data.length);
    }
  }
};

export const doLseek: Handler<VfsState, Req<'vfs.lseek'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  const file = f.file;
  if (file.kind !== 'file') return err('ESPIPE', 'cannot seek a pipe or the console');
  let base = 0;
  if (msg.whence === 'cur') base = file.offset;
  else if (msg.whence === 'end') {
    const st = await fsCall<InodeAttrs>(ctx, file.server, 'mfs.stat', { ino: file.ino });
    if (!st.ok) return st;
    base = st.value.size;
  }
  const next = base + msg.offset;
  if (next < 0) return err('EINVAL', 'negative offset');
  file.offset = next;
  return ok(next);
};

export const doFstat: Handler<VfsState, Req<'vfs.fstat'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  const file = f.file;
  if (file.kind === 'file') {
    const st = await fsCall<InodeAttrs>(ctx, file.server, 'mfs.stat', { ino: file.ino });
    return st.ok ? ok(toStat(file.server, st.value)) : st;
  }
  const now = ctx.now();
  const size = file.kind === 'pipe' ? (state.pipes.get(file.pipe)?.size ?? 0) : 0;
  const type = file.kind === 'null' ? 'tty' : file.kind; // a character device
  return ok<Stat>({ dev: file.kind, ino: 0, type, mode: 0o666, uid: 0, size, nlink: 1, mtime: now, ctime: now });
};

export const doDup: Handler<VfsState, Req<'vfs.dup'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  const fd = allocFd(proc, f.id);
  if (fd === null) return err('EMFILE');
  retain(state, f.id);
  return ok(fd);
};

export const doDup2: Handler<VfsState, Req<'vfs.dup2'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  if (msg.to < 0 || msg.to >= MAX_FDS) return err('EBADF', `fd ${msg.to}`);
  if (msg.to === msg.fd) return ok(msg.to);
  const old = proc.fds[msg.to];
  retain(state, f.id);
  proc.fds[msg.to] = f.id;
  if (old !== undefined && old !== null) release(state, old, ctx);
  return ok(msg.to);
};

export const doIsatty: Handler<VfsState, Req<'vfs.isatty'>> = async (state, msg, ctx) => {
  const { proc } = await procOf(state, msg, ctx);
  const f = fileOf(state, proc, msg.fd);
  if (!f) return err('EBADF', `fd ${msg.fd}`);
  if (f.file.kind !== 'tty') return ok(false);
  const info = await ctx.sendrec<{ isTTY: boolean }>('tty', { type: 'tty.info' });
  return ok(info.ok && info.value.isTTY);
};

export type { Result };
