/**
 * vfs: who is calling (endpoint → pid), path normalisation, the mount table, and path
 * resolution by lookups in the mounted file-system servers.
 *
 * Entry points: `procOf`, `normalize`, `resolvePath`, `resolveParent`, `fsCall`.
 */
import type { Header, Result } from '../../sys/index.js';
import type { Ctx } from '../../sys/index.js';
import { ROOT_INO, type InodeAttrs } from '../mfs/protocol.js';
import { pidOfLabel } from '../pm/protocol.js';
import type { Mount, Proc, VfsState } from './state.js';

export const PATH_MAX = 1024;

/** The calling process (pid 0 stands for system callers: the host, tests, servers). */
export async function procOf(state: VfsState, msg: Header, ctx: Ctx): Promise<{ pid: number; proc: Proc }> {
  const pid = pidOfLabel(await ctx.whois(msg.from));
  return { pid, proc: procFor(state, pid) };
}

/** A process's table, made on first use: pid 0 (the system) gets the console as fds 0–2. */
export function procFor(state: VfsState, pid: number): Proc {
  let proc = state.procs.get(pid);
  if (!proc) {
    // A process pm has not announced, or a system caller: a minimal table on the console.
    proc = { fds: [], cwd: '/', uid: 0 };
    if (pid === 0) {
      for (let fd = 0; fd < 3; fd++) {
        const id = state.nextFile++;
        state.files.set(id, { kind: 'tty', read: fd === 0, write: fd !== 0, refs: 1, ...(fd === 2 ? { err: true } : {}) });
        proc.fds[fd] = id;
      }
    }
    state.procs.set(pid, proc);
  }
  return proc;
}

/** Absolute, normalised component list of `path` seen from `cwd`. */
export function normalize(cwd: string, path: string): string[] | null {
  if (path.length === 0 || path.length > PATH_MAX || path.includes('\0')) return null;
  const parts = (path.startsWith('/') ? path : `${cwd}/${path}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out;
}

export const joinPath = (parts: string[]) => `/${parts.join('/')}`;

/** The mount a path lies in, and the components below its root. */
export function mountOf(state: VfsState, parts: string[]): { mount: Mount; rest: string[] } {
  let best: Mount | null = null;
  let bestLen = -1;
  for (const m of state.mounts) {
    const mp = m.path === '/' ? [] : m.path.slice(1).split('/');
    if (mp.length > bestLen && mp.every((c, i) => parts[i] === c)) {
      best = m;
      bestLen = mp.length;
    }
  }
  if (!best) throw new Error('vfs has no root mount');
  return { mount: best, rest: parts.slice(bestLen) };
}

/** One request to a file-system server. */
export function fsCall<T>(ctx: Ctx, server: string, type: string, fields: Record<string, unknown>): Promise<Result<T>> {
  return ctx.sendrec<T>(server, { type, ...fields });
}

export interface Resolved {
  mount: Mount;
  attrs: InodeAttrs;
}

/** Resolve a whole path to its inode. */
export async function resolvePath(state: VfsState, ctx: Ctx, cwd: string, path: string): Promise<Result<Resolved>> {
  const parts = normalize(cwd, path);
  if (!parts) return { ok: false, code: path.length > PATH_MAX ? 'ENAMETOOLONG' : 'EINVAL', message: 'bad path' };
  const { mount, rest } = mountOf(state, parts);
  let cur = await fsCall<InodeAttrs>(ctx, mount.server, 'mfs.stat', { ino: ROOT_INO });
  for (const name of rest) {
    if (!cur.ok) return cur;
    if (cur.value.kind !== 'dir') return { ok: false, code: 'ENOTDIR', message: `${joinPath(parts)}: a component is not a directory` };
    cur = await fsCall<InodeAttrs>(ctx, mount.server, 'mfs.lookup', { dir: cur.value.ino, name });
  }
  if (!cur.ok) return { ...cur, message: `${joinPath(parts)}: ${cur.message ?? cur.code}` };
  return { ok: true, value: { mount, attrs: cur.value } };
}

/** Resolve all but the last component: the directory an entry is made or removed in. */
export async function resolveParent(state: VfsState, ctx: Ctx, cwd: string, path: string): Promise<Result<{ mount: Mount; dir: number; dirAttrs: InodeAttrs; name: string; path: string }>> {
  const parts = normalize(cwd, path);
  if (!parts) return { ok: false, code: path.length > PATH_MAX ? 'ENAMETOOLONG' : 'EINVAL', message: 'bad path' };
  if (parts.length === 0) return { ok: false, code: 'EBUSY', message: '/ cannot be changed' };
  const name = parts[parts.length - 1]!;
  const full = joinPath(parts);
  if (state.mounts.some((m) => m.path === full)) return { ok: false, code: 'EBUSY', message: `${full} is a mount point` };
  const parent = await resolvePath(state, ctx, '/', joinPath(parts.slice(0, -1)));
  if (!parent.ok) return parent;
  if (parent.value.attrs.kind !== 'dir') return { ok: false, code: 'ENOTDIR' };
  if (parent.value.mount !== mountOf(state, parts).mount) return { ok: false, code: 'EBUSY', message: `${full} is a mount point` };
  return { ok: true, value: { mount: parent.value.mount, dir: parent.value.attrs.ino, dirAttrs: parent.value.attrs, name, path: full } };
}

/** May `uid` add or remove entries in a directory with these attributes? (root always; else owner or world-writable) */
export function mayChange(uid: number, dir: InodeAttrs): boolean {
  return uid === 0 || dir.uid === uid || (dir.mode & 0o002) !== 0;
}
