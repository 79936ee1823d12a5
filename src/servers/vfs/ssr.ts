/**
 * vfs's server state regions (DESIGN.md §5, CuriOS): what each process must get back
 * if vfs crashes — its fd table, working directory, uid, and the open files its fds
 * refer to (offsets, flags) — kept by the kernel per client, outside vfs's heap.
 *
 * - Every request a process makes ends by committing a snapshot of *its* table and files
 *   (the runtime commits it only if the handler completes: a crash mid-request leaves the
 *   region as before the request). Each snapshot carries a stamp; an open file shared by
 *   several processes (fork, dup) is restored from the newest snapshot that holds it —
 *   snapshots are taken from the live shared state, so the newest one is current.
 * - pm's region holds the tables of processes it forked that have not yet made a request
 *   of their own (and forgets a process at exit).
 * - `recoverVfs` rebuilds the fd tables, the open-file table, reference counts, and the
 *   pipes (their ends; bytes in flight in a pipe are not client state and are lost).
 *
 * Entry points: `withSsr(handlers)`, `recoverVfs`.
 */
import { withAfter, type Ctx, type Endpoint, type Handler, type Header } from '../../sys/index.js';
import { pidOfLabel } from '../pm/protocol.js';
import type { Mount, OpenFile, Proc, VfsState } from './state.js';

/** One process's table and the open files it refers to, as of `stamp`. */
export interface ProcSnap {
  stamp: number;
  pid: number;
  proc: Proc;
  files: Array<[number, OpenFile]>;
}

export type VfsRegion = { kind: 'proc'; snap: ProcSnap } | { kind: 'pm'; forks: Array<[number, ProcSnap]> };

/** A stamp later than every earlier one, across incarnations (wall clock, then a sequence). */
function stamp(state: VfsState, now: number): number {
  state.stamp = Math.max(state.stamp + 1, now * 1000);
  return state.stamp;
}

function snapshot(state: VfsState, pid: number, proc: Proc, now: number): ProcSnap {
  const files: Array<[number, OpenFile]> = [];
  for (const id of new Set(proc.fds)) {
    if (id === null || id === undefined) continue;
    const f = state.files.get(id);
    if (f) files.push([id, f]);
  }
  return { stamp: stamp(state, now), pid, proc, files };
}

/** After the handler: commit the caller's region (pm: the forked tables; a process or system caller: its own). */
async function commit(state: VfsState, msg: Header & { type: string; child?: unknown; pid?: unknown }, ctx: Ctx): Promise<void> {
  if (!ctx.ssr) return;
  const label = await ctx.whois(msg.from);
  if (label === 'pm') {
    if (msg.type !== 'vfs.fork' && msg.type !== 'vfs.exit') return;
    const region = ctx.ssr<VfsRegion>(() => ({ kind: 'pm', forks: [] }));
    if (region.kind !== 'pm') return;
    const pid = Number(msg.type === 'vfs.fork' ? msg.child : msg.pid);
    region.forks = region.forks.filter(([p]) => p !== pid);
    const proc = state.procs.get(pid);
    if (msg.type === 'vfs.fork' && proc) region.forks.push([pid, snapshot(state, pid, proc, ctx.now())]);
    return;
  }
  if (label === 'tty' || label === null) return;
  const pid = pidOfLabel(label);
  const proc = state.procs.get(pid);
  if (!proc) {
    ctx.dropSsr?.();
    return;
  }
  const region = ctx.ssr<VfsRegion>(() => ({ kind: 'proc', snap: snapshot(state, pid, proc, ctx.now()) }));
  if (region.kind === 'proc') region.snap = snapshot(state, pid, proc, ctx.now());
}

/** Every handler, followed by the commit of its caller's region. */
/** Every handler, followed by the commit of its caller's region. */
export const withSsr = <T extends Record<string, Handler<VfsState, never>>>(handlers: T): T => withAfter(handlers, commit);

/** Rebuild vfs from its regions: fd tables, open files (newest copy of each), reference counts, pipes. */
export function recoverVfs(regions: Array<{ client: Endpoint; value: unknown }>, mounts: Mount[]): VfsState {
  const snaps: ProcSnap[] = [];
  for (const { value } of regions) {
    const r = value as VfsRegion;
    if (r?.kind === 'proc') snaps.push(r.snap);
    else if (r?.kind === 'pm') for (const [, s] of r.forks) snaps.push(s);
  }
  // Newest first: the first table seen for a pid, the first copy seen of a file, win.
  snaps.sort((a, b) => b.stamp - a.stamp);
  const procs = new Map<number, Proc>();
  const files = new Map<number, OpenFile>();
  let top = 0;
  for (const s of snaps) {
    top = Math.max(top, s.stamp);
    if (!procs.has(s.pid)) procs.set(s.pid, { ...s.proc, fds: [...s.proc.fds] });
    for (const [id, f] of s.files) if (!files.has(id)) files.set(id, { ...f });
  }
  // References: the fds that point at each open file (a file no fd points at is gone).
  for (const f of files.values()) f.refs = 0;
  for (const proc of procs.values()) {
    for (let fd = 0; fd < proc.fds.length; fd++) {
      const id = proc.fds[fd];
      if (id === null || id === undefined) continue;
      const f = files.get(id);
      if (f) f.refs++;
      else proc.fds[fd] = null;
    }
  }
  for (const [id, f] of files) if (f.refs === 0) files.delete(id);
  // Pipes: their ends come back (empty: bytes in flight were vfs's, not a client's).
  const pipes: VfsState['pipes'] = new Map();
  for (const f of files.values()) {
    if (f.kind !== 'pipe') continue;
    let p = pipes.get(f.pipe);
    if (!p) {
      p = { chunks: [], size: 0, readers: 0, writers: 0, waitingReads: [], waitingWrites: [] };
      pipes.set(f.pipe, p);
    }
    if (f.end === 'read') p.readers++;
    else p.writers++;
  }
  const maxKey = (m: Map<number, unknown>) => Math.max(0, ...m.keys());
  return {
    procs,
    files,
    nextFile: maxKey(files) + 1,
    pipes,
    nextPipe: maxKey(pipes) + 1,
    mounts: mounts.map((m) => ({ ...m })),
    ttyReads: new Map(),
    nextTicket: 1,
    stamp: top,
  };
}
