/**
 * vfs: the process lifecycle as pm reports it (fork: a child's fd table; exit: close
 * everything), reading a program for pm, and console data coming back from tty.
 *
 * Entry points: `doFork`, `doExit`, `doReadfile`, `doTtydata`.
 */
import { err, ok, type Ctx, type Handler, type Header } from '../../sys/index.js';
import type { InodeAttrs } from '../mfs/protocol.js';
import { release, retain, MAX_IO } from './fds.js';
import { fsCall, joinPath, normalize, procFor, resolvePath } from './paths.js';
import { MAX_FDS, type VfsRequest } from './protocol.js';
import type { VfsState } from './state.js';

type Req<K extends VfsRequest['type']> = Extract<VfsRequest, { type: K }>;

/** The largest program pm may read. */
const MAX_PROGRAM = 4 << 20;

async function callerIs(msg: Header, label: string, ctx: Ctx): Promise<boolean> {
  return (await ctx.whois(msg.from)) === label;
}

export const doFork: Handler<VfsState, Req<'vfs.fork'>> = async (state, msg, ctx) => {
  if (!(await callerIs(msg, 'pm', ctx))) return err('EPERM', 'only pm creates processes');
  // The parent's table (pid 0: the system's own, on the console).
  const p = msg.parent === 0 ? procFor(state, 0) : state.procs.get(msg.parent);
  if (!p) return err('ESRCH', `no process ${msg.parent}`);
  const fds: Array<number | null> = [];
  for (const pair of msg.fds) {
    const [child, from] = pair as [number, number];
    if (child < 0 || child >= MAX_FDS) return err('EBADF', `fd ${child}`);
    const id = p.fds[from];
    if (id === undefined || id === null || !state.files.has(id)) return err('EBADF', `the parent has no fd ${from}`);
    fds[child] = id;
  }
  const old = state.procs.get(msg.child);
  if (old) for (const id of old.fds) if (id !== null && id !== undefined) release(state, id, ctx);
  for (const id of fds) if (id !== null && id !== undefined) retain(state, id);
  state.procs.set(msg.child, { fds, cwd: msg.cwd ?? p.cwd, uid: msg.uid });
  return ok(null);
};

export const doExit: Handler<VfsState, Req<'vfs.exit'>> = async (state, msg, ctx) => {
  if (!(await callerIs(msg, 'pm', ctx))) return err('EPERM', 'only pm ends processes');
  const proc = state.procs.get(msg.pid);
  if (!proc) return ok(null);
  state.procs.delete(msg.pid);
  for (const id of proc.fds) if (id !== null && id !== undefined) release(state, id, ctx);
  return ok(null);
};

export const doReadfile: Handler<VfsState, Req<'vfs.readfile'>> = async (state, msg, ctx) => {
  if (!(await callerIs(msg, 'pm', ctx))) return err('EPERM', 'only pm reads programs');
  const cwd = state.procs.get(msg.pid)?.cwd ?? '/';
  const r = await resolvePath(state, ctx, cwd, msg.path);
  if (!r.ok) return r;
  const a: InodeAttrs = r.value.attrs;
  if (a.kind !== 'file') return err('EACCES', `${msg.path} is not a file`);
  if (a.size > MAX_PROGRAM) return err('ENOMEM', `${msg.path} is larger than ${MAX_PROGRAM} bytes`);
  const out = new Uint8Array(a.size);
  for (let at = 0; at < a.size; ) {
    const c = await fsCall<Uint8Array>(ctx, r.value.mount.server, 'mfs.read', { ino: a.ino, offset: at, length: Math.min(MAX_IO, a.size - at) });
    if (!c.ok) return c;
    if (c.value.length === 0) break;
    out.set(c.value, at);
    at += c.value.length;
  }
  // Where it really is (pm decides what a program may do by it: /bin is the read-only image).
  const path = joinPath(normalize(cwd, msg.path)!);
  return ok({ data: out, path, server: r.value.mount.server, readonly: r.value.mount.readonly });
};

export const doTtydata: Handler<VfsState, Req<'vfs.ttydata'>> = async (state, msg, ctx) => {
  if (!(await callerIs(msg, 'tty', ctx))) return err('EPERM', 'only tty answers console reads');
  const read = state.ttyReads.get(msg.ticket);
  if (!read) return ok(null); // the reader went away
  state.ttyReads.delete(msg.ticket);
  ctx.reply(read.token, ok(msg.data instanceof Uint8Array ? msg.data : new Uint8Array(0)));
  return ok(null);
};

/**
 * tty restarted (it says so as it comes back): it knows nothing of the reads it was
 * holding, so ask for each of them again — the readers never notice.
 */
export const doTtyReset: Handler<VfsState, Req<'vfs.ttyreset'>> = async (state, msg, ctx) => {
  if (!(await callerIs(msg, 'tty', ctx))) return err('EPERM', 'only tty resets console reads');
  for (const [ticket, r] of state.ttyReads) ctx.send('tty', { type: 'tty.read', length: r.length, ticket });
  return ok(null);
};
