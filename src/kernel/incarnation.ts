/**
 * Incarnations: one running instance of a component in its own worker thread, with
 * V8 resource limits. This file owns the worker's lifecycle and turns every way a
 * worker can end (uncaught error, exit, out of memory, missed heartbeat, failed init)
 * into exactly one `onEnd` callback with a `FaultKind` (or none for a requested stop).
 *
 * Entry points: `Incarnation.start(...)`, `Incarnation.post`, `Incarnation.stop`,
 * `Incarnation.kill(kind)`.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Ctl, Down, Endpoint, FaultKind, InitInfo, Limits, Result, Up, WireError } from './abi.js';
import type { Clock } from './clock.js';

/** The lifecycle of an incarnation (an explicit state machine, not flags). */
export type IncarnationPhase =
  | { phase: 'starting' }
  | { phase: 'ready' }
  | { phase: 'stopping' }
  | { phase: 'dead'; fault: FaultKind | null };

export interface IncarnationHooks {
  onUp(inc: Incarnation, up: Up): void;
  /** Called once, when the worker is gone. `fault` is null for a requested stop. */
  onEnd(inc: Incarnation, fault: FaultKind | null, error: WireError): void;
}

export class Incarnation {
  state: IncarnationPhase = { phase: 'starting' };
  readonly startedAt: number;
  lastPong: number;
  lastPing: number;
  pingSeq = 0;
  /** Kernel call ids of calls delivered to this incarnation and not yet answered. */
  readonly pending = new Set<number>();
  /** Calls this incarnation made that are in flight: its own call id → kernel call id. */
  readonly outgoing = new Map<number, number>();
  delivered = 0;
  /** It was given requests again after a crash, and has not answered anything since. */
  retried = false;
  private readonly worker: Worker;
  private ctlSeq = 0;
  private readonly ctls = new Map<number, (r: Result) => void>();
  private ended = false;
  private lastError: WireError | null = null;

  constructor(
    readonly id: number,
    readonly label: string,
    readonly endpoint: Endpoint,
    /** The version it runs: changes with an object-level update (its classes replaced in place). */
    public version: string,
    file: string,
    readonly limits: Limits,
    clock: Clock,
    private readonly hooks: IncarnationHooks,
  ) {
    this.startedAt = this.lastPong = this.lastPing = clock.now();
    this.worker = new Worker(file, {
      resourceLimits: {
        maxOldGenerationSizeMb: limits.memoryMb,
        maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(limits.memoryMb / 4))),
      },
      name: `${label}#${id}`,
      // Components never inherit the host's Node flags (tsx's loader, --inspect …): they are
      // plain bundles. MOLT_WORKER_FLAGS opts in, e.g. '--cpu-prof' to profile components.
      execArgv: process.env.MOLT_WORKER_FLAGS ? process.env.MOLT_WORKER_FLAGS.split(/\s+/).filter(Boolean) : [],
    });
    this.worker.on('message', (up: Up) => {
      if (up === null || typeof up !== 'object' || typeof up.op !== 'string') {
        // Only the server library talks to the kernel; garbage here means the component is broken.
        this.kill('throw', { name: 'ProtocolError', message: `malformed kernel request: ${JSON.stringify(up)?.slice(0, 80)}` });
        return;
      }
      if (up.op === 'pong') {
        this.lastPong = clock.now();
        return;
      }
      if (up.op === 'ctl-reply') {
        const r = this.ctls.get(up.id);
        this.ctls.delete(up.id);
        r?.(up.result);
        return;
      }
      this.hooks.onUp(this, up);
    });
    this.worker.on('error', (e: Error & { code?: string }) => {
      this.lastError = toWireError(e);
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') this.end('oom');
      else this.end(this.state.phase === 'starting' ? 'init' : 'throw');
    });
    this.worker.on('exit', (code) => {
      if (this.state.phase === 'stopping') this.end(null);
      else this.end(this.state.phase === 'starting' ? 'init' : 'exit', code);
    });
  }

  get name(): string {
    return `${this.label}#${this.id}`;
  }

  /** Busy time of the worker's event loop since it started (ms): its CPU use, as sched accounts it. */
  cpuActiveMs(): number {
    try {
      return this.worker.performance.eventLoopUtilization().active;
    } catch {
      return 0;
    }
  }

  /** A live-update control operation (export, import, warm …) is running: its own deadline governs it. */
  get inControl(): boolean {
    return this.ctls.size > 0;
  }

  get alive(): boolean {
    return this.state.phase === 'starting' || this.state.phase === 'ready';
  }

  init(info: InitInfo): void {
    this.post({ op: 'init', info });
  }

  post(down: Down, transfer?: MessagePort[]): void {
    if (this.ended) return;
    this.worker.postMessage(down, transfer);
  }

  /** A live-update control operation; resolves with the component's answer, or an error if it ends or times out. */
  ctl(ctl: Ctl, timeoutMs: number, clock: Clock, transfer?: MessagePort[]): Promise<Result> {
    if (this.ended) return Promise.resolve({ ok: false, code: 'EIO', message: `${this.name} has ended` });
    return new Promise((resolve) => {
      const id = ++this.ctlSeq;
      const timer = clock.setTimeout(() => {
        if (this.ctls.delete(id)) resolve({ ok: false, code: 'ETIMEDOUT', message: `${this.name}: ${ctl.c} did not finish within ${timeoutMs} ms` });
      }, timeoutMs);
      this.ctls.set(id, (r) => {
        clock.clearTimeout(timer);
        resolve(r);
      });
      this.post({ op: 'ctl', id, ctl }, transfer);
    });
  }

  ping(now: number): void {
    this.lastPing = now;
    this.post({ op: 'ping', seq: ++this.pingSeq });
  }

  /** Ask the worker to end (no fault). */
  async stop(): Promise<void> {
    if (this.ended) return;
    this.state = { phase: 'stopping' };
    await this.worker.terminate();
  }

  /** End the worker as faulty (hang, failed init, …). Terminates a spinning loop too. */
  kill(kind: FaultKind, error: WireError): void {
    if (this.ended) return;
    this.lastError = error;
    this.end(kind);
    void this.worker.terminate();
  }

  private end(fault: FaultKind | null, exitCode?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.state = { phase: 'dead', fault };
    for (const [, r] of this.ctls) r({ ok: false, code: 'EIO', message: `${this.name} ended (${fault ?? 'stopped'})` });
    this.ctls.clear();
    const error =
      this.lastError ??
      (fault === null
        ? { name: 'Stopped', message: 'stopped' }
        : { name: 'Exit', message: `worker exited with code ${exitCode ?? '?'}` });
    this.hooks.onEnd(this, fault, error);
  }
}

export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return {
      name: e.name,
      message: e.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(e.stack ? { stack: e.stack } : {}),
    };
  }
  return { name: 'Error', message: String(e) };
}
