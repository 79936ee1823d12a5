/**
 * libc: the system-call library user programs import (`import { … } from 'libc'`).
 * It runs inside the program's sandbox and reaches the system only through the
 * `__molt_sys` bridge the process runtime installs (src/sys/process.ts). Every call is
 * async; failures throw `SysError` with an errno-like `code`.
 *
 * Entry points: `syscall`, `send`, `exit`, `argv`, `env`, `sleep`, `SysError`,
 * `encodeUtf8`, `decodeUtf8`.
 */

// The servers' protocol types (types only: erased from a program's bundle).
import type { DirEntryOut as DirEntry, FileType, MountInfo, OpenFlags, Stat } from '../../servers/vfs/protocol.js';
import type { ProcInfo, SignalName } from '../../servers/pm/protocol.js';
import type { StatFs } from '../../servers/mfs/protocol.js';

export type { DirEntry, FileType, MountInfo, OpenFlags, ProcInfo, SignalName, Stat, StatFs };

interface Bridge {
  call(to: string, json: string, data: Uint8Array | null): Promise<{ ok: boolean; value?: unknown; code?: string; message?: string; bytes?: Uint8Array }>;
  send(to: string, json: string): void;
  exit(code: number): void;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
  now(): number;
  setSignalHandler(fn: ((name: string) => void) | null): void;
}

declare const __molt_sys: Bridge;
declare const __molt_argv: readonly string[];
declare const __molt_env: Readonly<Record<string, string>>;

/** A failed system call: `code` is an errno-like code (ENOENT, EPERM, …). */
export class SysError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'SysError';
  }
}

/**
 * One request to a system server, answered with its value (or a SysError). `data`
 * travels as bytes; a reply carrying bytes resolves to a Uint8Array.
 */
export async function syscall<T = unknown>(server: string, type: string, fields: Record<string, unknown> = {}, data?: Uint8Array): Promise<T> {
  const r = await __molt_sys.call(server, JSON.stringify({ ...fields, type }), data ?? null);
  if (!r.ok) throw new SysError(r.code ?? 'EIO', r.message);
  return (r.bytes ?? r.value) as T;
}

/** A one-way message to a server. */
export function send(server: string, type: string, fields: Record<string, unknown> = {}): void {
  __molt_sys.send(server, JSON.stringify({ ...fields, type }));
}

/** End this process with `status` (the program may also just return it from main). */
export function exit(status = 0): void {
  __molt_sys.exit(status);
}

export const argv: readonly string[] = typeof __molt_argv === 'undefined' ? [] : __molt_argv;
export const env: Readonly<Record<string, string>> = typeof __molt_env === 'undefined' ? {} : __molt_env;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    __molt_sys.setTimeout(resolve, ms);
  });
}

export function now(): number {
  return __molt_sys.now();
}

/** Called with the signal's name (e.g. 'INT', 'TERM') when one arrives; default: exit 128+n. */
export function onSignal(handler: ((name: string) => void) | null): void {
  __molt_sys.setSignalHandler(handler);
}

// TextEncoder/TextDecoder exist in a program's realm (the process runtime provides them there).
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function decodeUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

// ───────────────────────────── files (vfs) ─────────────────────────────


export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

const vfs = <T>(type: string, fields: Record<string, unknown> = {}, data?: Uint8Array) => syscall<T>('vfs', type, fields, data);

export const open = (path: string, flags: OpenFlags = 'r', mode = 0o644) => vfs<number>('vfs.open', { path, flags, mode });
export const close = (fd: number) => vfs<null>('vfs.close', { fd });
/** Up to `length` bytes; an empty array at end of file (a pipe or the console waits for data). */
export const read = (fd: number, length = 65536) => vfs<Uint8Array>('vfs.read', { fd, length });
export async function write(fd: number, data: string | Uint8Array): Promise<number> {
  return vfs<number>('vfs.write', { fd }, typeof data === 'string' ? encodeUtf8(data) : data);
}
export const lseek = (fd: number, offset: number, whence: 'set' | 'cur' | 'end' = 'set') => vfs<number>('vfs.lseek', { fd, offset, whence });
export const stat = (path: string) => vfs<Stat>('vfs.stat', { path });
export const fstat = (fd: number) => vfs<Stat>('vfs.fstat', { fd });
export const mkdir = (path: string, mode = 0o755) => vfs<null>('vfs.mkdir', { path, mode });
export const rmdir = (path: string) => vfs<null>('vfs.rmdir', { path });
export const unlink = (path: string) => vfs<null>('vfs.unlink', { path });
export const rename = (oldPath: string, newPath: string) => vfs<null>('vfs.rename', { oldPath, newPath });
export const readdir = (path: string) => vfs<DirEntry[]>('vfs.readdir', { path });
export const dup = (fd: number) => vfs<number>('vfs.dup', { fd });
export const dup2 = (fd: number, to: number) => vfs<number>('vfs.dup2', { fd, to });
export const pipe = () => vfs<[number, number]>('vfs.pipe');
export const chdir = (path: string) => vfs<null>('vfs.chdir', { path });
export const getcwd = () => vfs<string>('vfs.getcwd');
export const truncate = (path: string, size: number) => vfs<null>('vfs.truncate', { path, size });
export const statfs = (path = '/') => vfs<StatFs & { server: string; path: string }>('vfs.statfs', { path });
export const mounts = () => vfs<MountInfo[]>('vfs.mounts');
export const isatty = (fd: number) => vfs<boolean>('vfs.isatty', { fd });
export const sync = () => vfs<null>('vfs.sync');

/** Read a whole file. */
export async function readFile(path: string): Promise<Uint8Array> {
  const fd = await open(path, 'r');
  try {
    return await readAll(fd);
  } finally {
    await close(fd);
  }
}

/** Read until end of file. */
export async function readAll(fd: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const c = await read(fd, 1 << 16);
    if (c.length === 0) break;
    chunks.push(c);
    n += c.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export async function writeFile(path: string, data: string | Uint8Array, flags: OpenFlags = 'w'): Promise<void> {
  const fd = await open(path, flags);
  try {
    const bytes = typeof data === 'string' ? encodeUtf8(data) : data;
    for (let at = 0; at < bytes.length; at += 1 << 16) await write(fd, bytes.subarray(at, at + (1 << 16)));
  } finally {
    await close(fd);
  }
}

/** Write text to standard output / standard error. */
export const print = (text: string) => write(STDOUT, text);
export const eprint = (text: string) => write(STDERR, text);

// ───────────────────────────── processes (pm) ─────────────────────────────

export interface SpawnOptions {
  env?: Record<string, string>;
  /** [childFd, parentFd] pairs; default: 0, 1, 2 inherited. */
  fds?: Array<[number, number]>;
  cwd?: string;
  /** Run as this user (root only). */
  uid?: number;
}

const pm = <T>(type: string, fields: Record<string, unknown> = {}) => syscall<T>('pm', type, fields);

/** Start a program (`argv[0]` is conventionally its name) → pid. */
export const spawn = (path: string, args: string[], opts: SpawnOptions = {}) =>
  pm<number>('pm.spawn', {
    path, argv: args, ...(opts.env ? { env: opts.env } : {}), ...(opts.fds ? { fds: opts.fds } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
  });
/** Wait for a child to exit (-1: any) → its pid and exit status (128+n if ended by signal n). */
export const wait = (pid = -1) => pm<{ pid: number; status: number }>('pm.wait', { pid });
export const kill = (pid: number, signal: SignalName = 'TERM') => pm<null>('pm.kill', { pid, signal });
export const getpid = () => pm<{ pid: number; ppid: number; uid: number }>('pm.getpid');
export const ps = () => pm<ProcInfo[]>('pm.ps');

// ───────────────────────────── console (tty) ─────────────────────────────

/** Make `pid` the console's foreground process: it receives Ctrl-C (INT). */
export const setForeground = (pid: number) => syscall<null>('tty', 'tty.setfg', { pid });

/** Call a system service directly (e.g. `service` talks to rs): → its value. */
export const call = syscall;

// ── sockets (net) ──
export type { Readiness, SockAddr, SockInfo } from '../../servers/net/protocol.js';
import type { Readiness, SockAddr, SockInfo } from '../../servers/net/protocol.js';
const net = <T>(type: string, fields: Record<string, unknown> = {}, data?: Uint8Array) => syscall<T>('net', type, fields, data);
/** A new TCP socket (a number net hands out; only this process may use it). */
export const socket = () => net<number>('net.socket');
export const bind = (sock: number, host: string, port: number) => net<null>('net.bind', { sock, host, port });
/** Listen (binding 127.0.0.1 on an ephemeral port if unbound) → the port. */
export const listen = (sock: number, backlog = 128) => net<number>('net.listen', { sock, backlog });
/** Wait for a connection → its socket and the peer's address. */
export const accept = (sock: number, opts: { nonblock?: boolean } = {}) => net<{ sock: number; remote: SockAddr }>('net.accept', { sock, ...opts });
export const connect = (sock: number, host: string, port: number) => net<{ local: SockAddr; remote: SockAddr }>('net.connect', { sock, host, port });
/** Send bytes (or UTF-8 text) → bytes sent. */
export const sendTo = (sock: number, data: string | Uint8Array) => net<number>('net.send', { sock }, typeof data === 'string' ? encodeUtf8(data) : data);
/** Receive up to `max` bytes; empty at end of stream; waits for data unless `nonblock`. */
export const recv = (sock: number, max = 65536, opts: { nonblock?: boolean } = {}) => net<Uint8Array>('net.recv', { sock, max, ...opts });
export const shutdown = (sock: number) => net<null>('net.shutdown', { sock });
export const closeSocket = (sock: number) => net<null>('net.close', { sock });
/** The sockets of `socks` that are ready now, waiting up to `timeoutMs` (-1: no limit) for one. */
export const select = (socks: number[], timeoutMs = -1) => net<Readiness[]>('net.select', { socks, timeoutMs });
export const netstat = () => net<SockInfo[]>('net.list');
