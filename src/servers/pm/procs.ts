/**
 * pm: starting processes (spawn), their end (exit, fault, KILL), waiting for children,
 * signals, and the process table.
 *
 * Entry points: `doSpawn`, `doWait`, `doKill`, `doGetpid`, `doPs`, `doKernelExit`,
 * `doKernelFault`, `spawnProcess`.
 */
import type { Privileges } from '../../kernel/abi.js';
import { DEFERRED, err, ok, type Ctx, type Handler, type Header, type Result } from '../../sys/index.js';
import { SIGNALS, pidOfLabel, processLabel, type PmRequest, type ProcInfo } from './protocol.js';
import type { ProgramFile } from '../vfs/protocol.js';
import type { PmState, Proc } from './state.js';

type Req<K extends PmRequest['type']> = Extract<PmRequest, { type: K }>;

const PROCESS_LIMITS = { memoryMb: 256, heartbeatMs: 250, hangMs: 2_000, initMs: 10_000 };

/**
 * The programs that may manage services (talk to rs), when root runs them: the boot
 * image's `service` (on the read-only /bin, so it cannot be replaced). Like a privileged
 * binary in MINIX's system.conf, the right goes with the program, not the user alone.
 */
const SERVICE_MANAGERS = new Set(['/bin/service.ts']);

/** What a process may send: the file, process and console servers; reads in ds; rs only as above. */
function privilegesFor(uid: number, program: ProgramFile): Privileges {
  const base = ['vfs.*', 'pm.spawn', 'pm.wait', 'pm.kill', 'pm.getpid', 'pm.ps', 'tty.setfg', 'tty.info', 'ds.retrieve', 'ds.lookup', 'ds.keys', 'net.*', 'sched.*'];
  const to = ['vfs', 'pm', 'tty', 'ds', 'net', 'sched'];
  if (uid === 0 && program.readonly && SERVICE_MANAGERS.has(program.path)) return { to: [...to, 'rs'], types: [...base, 'rs.*'], kcalls: [] };
  return { to, types: base, kcalls: [] };
}

/** The calling process's pid (0: a system caller). */
async function callerPid(msg: Header, ctx: Ctx): Promise<number> {
  return pidOfLabel(await ctx.whois(msg.from));
}

export interface SpawnSpec {
  parent: number;
  path: string;
  argv: string[];
  env: Record<string, string>;
  fds: Array<[number, number]>;
  cwd?: string;
  /** The child's uid (default: the parent's). */
  uid?: number;
}

/** 1. read the program (vfs), 2. give it its fds (vfs.fork), 3. start it (kernel exec). */
export async function spawnProcess(state: PmState, spec: SpawnSpec, ctx: Ctx): Promise<Result<number>> {
  const parent = state.procs.get(spec.parent);
  const parentUid = parent?.uid ?? 0;
  if (spec.uid !== undefined && spec.uid !== parentUid && parentUid !== 0) return err('EPERM', 'only root may run a program as another user');
  if (spec.uid !== undefined && (spec.uid < 0 || spec.uid > 65535)) return err('EINVAL', `bad uid ${spec.uid}`);
  const uid = spec.uid ?? parentUid;
  const file = await ctx.sendrec<ProgramFile>('vfs', { type: 'vfs.readfile', pid: spec.parent, path: spec.path });
  if (!file.ok) return file;
  const text = new TextDecoder().decode(file.value.data);
  const pid = state.nextPid++;
  const label = processLabel(pid);
  const forked = await ctx.sendrec('vfs', { type: 'vfs.fork', parent: spec.parent, child: pid, fds: spec.fds, uid, ...(spec.cwd ? { cwd: spec.cwd } : {}) });
  if (!forked.ok) return forked;
  const proc: Proc = { pid, ppid: spec.parent, uid, argv: spec.argv, label, incarnation: null, state: 'running', status: null, startedAt: ctx.now() };
  state.procs.set(pid, proc);
  state.labels.set(label, pid);
  const r = await ctx.kcall<{ incarnation: number }>({
    call: 'exec', label, name: spec.path, text, argv: spec.argv, env: spec.env, pid, privileges: privilegesFor(uid, file.value), limits: PROCESS_LIMITS,
  });
  if (!r.ok) {
    state.procs.delete(pid);
    state.labels.delete(label);
    await ctx.sendrec('vfs', { type: 'vfs.exit', pid });
    return r;
  }
  if (proc.state === 'running') proc.incarnation = r.value.incarnation;
  return ok(pid);
}

export const doSpawn: Handler<PmState, Req<'pm.spawn'>> = async (state, msg, ctx) => {
  const parent = await callerPid(msg, ctx);
  const fds = (msg.fds as Array<[number, number]> | undefined) ?? [[0, 0], [1, 1], [2, 2]];
  return spawnProcess(state, {
    parent, path: msg.path, argv: msg.argv, env: msg.env ?? {}, fds, ...(msg.cwd ? { cwd: msg.cwd } : {}), ...(msg.uid !== undefined ? { uid: msg.uid } : {}),
  }, ctx);
};

/** A process ended (exit status, fault or KILL): zombie until its parent waits. */
async function finish(state: PmState, pid: number, status: number, note: string | null, ctx: Ctx): Promise<void> {
  const proc = state.procs.get(pid);
  if (!proc || proc.state === 'zombie') return;
  proc.state = 'zombie';
  proc.status = status;
  proc.incarnation = null;
  if (note) ctx.send('tty', { type: 'tty.write', data: new TextEncoder().encode(`${proc.argv[0] ?? proc.label}[${pid}]: ${note}\n`) });
  await ctx.sendrec('vfs', { type: 'vfs.exit', pid });
  // Its sockets close (a system without net refuses this one-way message: nothing to do).
  ctx.send('net', { type: 'net.exit', label: proc.label });
  // Orphans go to init (or, without one, are reaped when they end).
  for (const p of state.procs.values()) if (p.ppid === pid) p.ppid = state.initPid ?? 0;
  if (pid === state.initPid) {
    await ctx.kcall({ call: 'shutdown', code: status });
    return;
  }
  wake(state, proc.ppid, ctx);
}

/** Zombies the system (pid 0: the host, servers) may leave unwaited before the oldest are reaped. */
const SYSTEM_ZOMBIES = 64;

/** Answer waits of `parent` that a zombie child satisfies. */
function wake(state: PmState, parent: number, ctx: Ctx): void {
  const parentAlive = parent === 0 || state.procs.get(parent)?.state === 'running';
  for (const p of [...state.procs.values()]) {
    if (p.ppid !== parent || p.state !== 'zombie') continue;
    const i = state.waits.findIndex((w) => w.parent === parent && (w.pid === -1 || w.pid === p.pid));
    if (i >= 0) {
      const [w] = state.waits.splice(i, 1);
      reap(state, p);
      ctx.reply(w!.token, ok({ pid: p.pid, status: p.status }));
    } else if (!parentAlive) {
      reap(state, p); // nobody will ever wait for it
    }
  }
  if (parent === 0) {
    const zombies = [...state.procs.values()].filter((p) => p.ppid === 0 && p.state === 'zombie');
    for (const z of zombies.slice(0, Math.max(0, zombies.length - SYSTEM_ZOMBIES))) reap(state, z);
  }
}

function reap(state: PmState, p: Proc): void {
  state.procs.delete(p.pid);
  state.labels.delete(p.label);
}

export const doKernelExit: Handler<PmState, Req<'kernel.exit'>> = async (state, msg, ctx) => {
  const pid = state.labels.get(msg.label);
  if (pid === undefined) return;
  await finish(state, pid, msg.status, msg.error ? `error: ${msg.error.split('\n')[0]}` : null, ctx);
};

export const doKernelFault: Handler<PmState, Req<'kernel.fault'>> = async (state, msg, ctx) => {
  const pid = state.labels.get(msg.label);
  if (pid === undefined) return;
  const why = msg.kind === 'hang' ? 'ended: it stopped responding (a loop that never yields?)'
    : msg.kind === 'oom' ? 'ended: out of memory'
    : `crashed (${msg.kind}): ${(msg.error as { message?: string })?.message ?? ''}`;
  await finish(state, pid, 128 + SIGNALS.KILL, why, ctx);
};

export const doWait: Handler<PmState, Req<'pm.wait'>> = async (state, msg, ctx) => {
  const parent = await callerPid(msg, ctx);
  const children = [...state.procs.values()].filter((p) => p.ppid === parent && (msg.pid === -1 || p.pid === msg.pid));
  if (children.length === 0) return err('ECHILD', msg.pid === -1 ? 'no children' : `${msg.pid} is not a child of ${parent}`);
  const done = children.find((p) => p.state === 'zombie');
  if (done) {
    reap(state, done);
    return ok({ pid: done.pid, status: done.status });
  }
  state.waits.push({ parent, pid: msg.pid, token: ctx.defer(msg) });
  return DEFERRED;
};

export const doKill: Handler<PmState, Req<'pm.kill'>> = async (state, msg, ctx) => {
  const caller = await callerPid(msg, ctx);
  const target = state.procs.get(msg.pid);
  if (!target || target.state !== 'running') return err('ESRCH', `no process ${msg.pid}`);
  const uid = state.procs.get(caller)?.uid ?? 0;
  if (uid !== 0 && uid !== target.uid) return err('EPERM', `process ${msg.pid} belongs to uid ${target.uid}`);
  if (msg.signal === 'KILL') {
    if (target.incarnation !== null) await ctx.kcall({ call: 'kill', incarnation: target.incarnation });
    await finish(state, target.pid, 128 + SIGNALS.KILL, null, ctx);
    return ok(null);
  }
  ctx.send(target.label, { type: 'proc.signal', signal: msg.signal });
  return ok(null);
};

export const doGetpid: Handler<PmState, Req<'pm.getpid'>> = async (state, msg, ctx) => {
  const pid = await callerPid(msg, ctx);
  const p = state.procs.get(pid);
  return ok({ pid, ppid: p?.ppid ?? 0, uid: p?.uid ?? 0 });
};

export const doPs: Handler<PmState, Req<'pm.ps'>> = (state) =>
  ok([...state.procs.values()].sort((a, b) => a.pid - b.pid).map((p): ProcInfo => ({
    pid: p.pid, ppid: p.ppid, uid: p.uid, argv: p.argv, state: p.state, status: p.status, startedAt: p.startedAt, label: p.label,
  })));
