/**
 * The control-socket client the `molt` command uses: one request, one response (or a
 * stream of trace events).
 *
 * Entry points: `controlRequest(home, req)`, `controlStream(home, onEvent)`, `NotRunning`.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Result, TraceEvent } from '../kernel/abi.js';
import { onLines, type ControlRequest, type ControlResponse } from '../kernel/control.js';

export class NotRunning extends Error {
  override name = 'NotRunning';
  constructor(home: string) {
    super(`no Molt system is running with home ${home} (start one with: molt boot --home ${home})`);
  }
}

type RequestBody = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'id'> : never) : never;

function open(home: string): Promise<Socket> {
  const path = join(home, 'molt.sock');
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new NotRunning(home) : e);
    });
  });
}

export async function controlRequest(home: string, body: RequestBody): Promise<Result> {
  const sock = await open(home);
  return new Promise((resolve, reject) => {
    onLines(sock, (l) => {
      const r = JSON.parse(l) as ControlResponse;
      if ('result' in r) {
        sock.destroy();
        resolve(r.result);
      }
    });
    sock.once('close', () => reject(new Error('the system closed the connection without answering')));
    sock.write(JSON.stringify({ id: 1, ...body }) + '\n');
  });
}

/** Stream trace events until the system stops or `signal` aborts; `onStart` once the stream is live. */
export async function controlStream(home: string, onEvent: (e: TraceEvent) => void, signal?: AbortSignal, onStart?: () => void): Promise<void> {
  const sock = await open(home);
  return new Promise((resolve) => {
    onLines(sock, (l) => {
      const r = JSON.parse(l) as ControlResponse;
      if ('event' in r) onEvent(r.event);
      else onStart?.();
    });
    sock.once('close', () => resolve());
    signal?.addEventListener('abort', () => sock.destroy());
    sock.write(JSON.stringify({ id: 1, verb: 'trace' }) + '\n');
  });
}
