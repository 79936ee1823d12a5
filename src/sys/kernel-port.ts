/**
 * The worker side of the kernel ABI that every kind of incarnation shares (servers and
 * user processes): posting requests, correlating replies and kernel-call answers with
 * deadlines, and answering heartbeats.
 *
 * Entry points: `KernelPort.send/sendrec/notify/kcall/post`, `KernelPort.handle(down)`.
 */
import { parentPort } from 'node:worker_threads';
import type { Address, Down, KCall, Outgoing, Result, Up } from '../kernel/abi.js';

export const DEFAULT_TIMEOUT_MS = 30_000;

interface Waiter {
  resolve(r: Result): void;
  timer: NodeJS.Timeout;
}

export class KernelPort {
  private nextId = 1;
  private readonly calls = new Map<number, Waiter>();
  private readonly kcalls = new Map<number, Waiter>();
  private readonly port: NonNullable<typeof parentPort>;

  constructor() {
    if (!parentPort) throw new Error('a Molt incarnation must run inside a worker');
    this.port = parentPort;
  }

  post(up: Up): void {
    this.port.postMessage(up);
  }

  onDown(listener: (down: Down) => void): void {
    this.port.on('message', listener);
  }

  send(to: Address, msg: Outgoing): void {
    this.post({ op: 'send', to, msg });
  }

  notify(to: Address): void {
    this.post({ op: 'notify', to });
  }

  sendrec<T>(to: Address, msg: Outgoing, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Result<T>> {
    const id = this.nextId++;
    this.post({ op: 'call', to, id, msg });
    return this.wait(this.calls, id, `sendrec ${String(to)} ${msg.type}`, timeoutMs, () => this.post({ op: 'cancel', id })) as Promise<Result<T>>;
  }

  /** A kernel call whose result is not wanted (no reply, no timer): e.g. a socket write. */
  kcast(kcall: KCall): void {
    this.post({ op: 'kcall', id: 0, kcall });
  }

  kcall<T>(kcall: KCall, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Result<T>> {
    const id = this.nextId++;
    this.post({ op: 'kcall', id, kcall });
    return this.wait(this.kcalls, id, `kernel call ${kcall.call}`, timeoutMs) as Promise<Result<T>>;
  }

  /** Consume the kernel messages this class owns (replies, kernel-call answers, pings). */
  handle(down: Down): boolean {
    switch (down.op) {
      case 'reply':
      case 'kreply': {
        const map = down.op === 'reply' ? this.calls : this.kcalls;
        const w = map.get(down.id);
        if (w) {
          map.delete(down.id);
          clearTimeout(w.timer);
          w.resolve(down.result);
        } // else: timed out already
        return true;
      }
      case 'ping':
        this.post({ op: 'pong', seq: down.seq });
        return true;
      default:
        return false;
    }
  }

  private wait(map: Map<number, Waiter>, id: number, what: string, ms: number, onTimeout?: () => void): Promise<Result> {
    return new Promise<Result>((resolve) => {
      const timer = setTimeout(() => {
        map.delete(id);
        onTimeout?.();
        resolve({ ok: false, code: 'ETIMEDOUT', message: `${what}: no reply within ${ms} ms` });
      }, ms);
      map.set(id, { resolve, timer });
    });
  }
}
