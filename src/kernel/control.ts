/**
 * The control socket: a Unix socket (`<home>/molt.sock`, mode 0600) through which the
 * host `molt` command talks to a running system. One JSON object per line each way.
 *
 * Requests (`ControlRequest`): `call` (a sendrec from the host to a label — every CLI
 * verb is one of these, to `rs` or another server), `status`, `shutdown`, `trace`
 * (stream trace events until the client hangs up; with `events`, only those), `snapshot`
 * (the kernel's `SystemSnapshot`, for `molt top` and `molt dashboard`).
 *
 * Entry points: `openControlSocket(kernel, path)`, `ControlRequest`, `ControlResponse`.
 */
import { chmod, unlink } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { SYSTEM_EVENT_NAMES, type Outgoing, type Result, type TraceEvent, type TraceEventName } from './abi.js';
import type { Kernel } from './kernel.js';

export type ControlRequest =
  | { id: number; verb: 'call'; to: string; msg: Outgoing; timeoutMs?: number }
  | { id: number; verb: 'status' }
  | { id: number; verb: 'shutdown'; code?: number }
  /**
   * `events`: only these. When they are all system events (`SYSTEM_EVENT_NAMES`) the
   * stream comes from the kernel's always-on record, so it does not switch on the full
   * trace (which costs every message an event while anyone listens).
   */
  | { id: number; verb: 'trace'; events?: TraceEventName[] }
  | { id: number; verb: 'snapshot' };

export type ControlResponse =
  | { id: number; result: Result }
  | { id: number; event: TraceEvent };

export interface SystemStatus {
  pid: number;
  home: string;
  uptimeMs: number;
}

/** Call `onLine` with each non-blank line that arrives on the socket (the protocol's framing, both ends). */
export function onLines(sock: Socket, onLine: (line: string) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) onLine(line);
    }
  });
}

/** Is something already answering on this socket path? */
export function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolveAlive) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolveAlive(true);
    });
    s.once('error', () => resolveAlive(false));
  });
}

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with the final NUL). */
const SOCKET_PATH_MAX = 107;

export async function openControlSocket(kernel: Kernel, path: string): Promise<{ close(): Promise<void> }> {
  const len = Buffer.byteLength(path);
  if (len > SOCKET_PATH_MAX) {
    throw new Error(`home path too long for a Unix socket (${len} bytes, at most ${SOCKET_PATH_MAX}): use a shorter --home`);
  }
  if (await socketAlive(path)) {
    throw new Error(`a Molt system is already running with home ${kernel.home} (socket ${path})`);
  }
  await unlink(path).catch(() => undefined); // a stale socket from a system that died
  const started = Date.now();
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    onLines(sock, (line) => void handle(sock, line));
  });
  const write = (sock: Socket, r: ControlResponse) => {
    if (!sock.destroyed) sock.write(JSON.stringify(r) + '\n');
  };
  const handle = async (sock: Socket, line: string) => {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      return write(sock, { id: 0, result: { ok: false, code: 'EINVAL', message: 'control request is not JSON' } });
    }
    const id = typeof req.id === 'number' ? req.id : 0;
    switch (req.verb) {
      case 'call': {
        if (typeof req.to !== 'string' || typeof req.msg?.type !== 'string') {
          return write(sock, { id, result: { ok: false, code: 'EINVAL', message: 'call needs `to` and `msg.type`' } });
        }
        const result = await kernel.call(req.to, req.msg, req.timeoutMs ?? 10_000);
        return write(sock, { id, result });
      }
      case 'status': {
        const status: SystemStatus = { pid: process.pid, home: kernel.home, uptimeMs: Date.now() - started };
        return write(sock, { id, result: { ok: true, value: status } });
      }
      case 'shutdown':
        write(sock, { id, result: { ok: true, value: null } });
        setImmediate(() => void kernel.shutdown(req.code ?? 0));
        return;
      case 'trace': {
        const only = Array.isArray(req.events) ? new Set<string>(req.events) : null;
        const systemOnly = only !== null && [...only].every((n) => (SYSTEM_EVENT_NAMES as readonly string[]).includes(n));
        const off = systemOnly
          ? kernel.systemEvents.on((event) => { if (only.has(event.ev)) write(sock, { id, event }); })
          : kernel.trace.on((event) => { if (!only || only.has(event.ev)) write(sock, { id, event }); });
        sock.on('close', off);
        write(sock, { id, result: { ok: true, value: 'tracing' } }); // the stream is live from here
        return;
      }
      case 'snapshot':
        return write(sock, { id, result: { ok: true, value: await kernel.snapshot() } });
      default:
        return write(sock, { id, result: { ok: false, code: 'ENOSYS', message: `unknown control verb ${String((req as { verb?: unknown }).verb)}` } });
    }
  };
  // Created owner-only from the start (no window in which others could connect).
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new Error(`a Molt system is already running with home ${kernel.home}`) : e));
      server.listen(path, () => resolveListen());
    });
  } finally {
    process.umask(umask);
  }
  await chmod(path, 0o600);
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await unlink(path).catch(() => undefined);
    },
  };
}
