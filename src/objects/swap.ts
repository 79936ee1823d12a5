/**
 * The hot swap of one or more classes with a mediator (K42), all or nothing:
 *
 *  1. forward  — the mediator is installed (the class's gate closes, so every call
 *               takes the slow path); calls are forwarded to the old implementation,
 *               and counted apart from the calls that were already in flight when it
 *               was installed (the older *generation*, counted per instance by the
 *               fast path — calls suspended at an `await` included);
 *  2. block    — once the older generation has drained, new calls are held; a call
 *               made from inside a forwarded call (tracked with an AsyncLocalStorage,
 *               only while the swap runs) still goes through, or the swap would wait
 *               on itself; so does a call to a method that is not `async` (it cannot
 *               outlive the step it runs in, and a held call would have to return a
 *               promise where its caller expects a value);
 *  3. transfer — when every class of the update is drained at once: every instance is
 *               converted by the live-update transfer rules, in one synchronous step;
 *               a failure in any instance leaves every class on its old implementation;
 *  4. complete — the table entries point at the new instances, the interface (with
 *               its adaptors) is the new one, the held calls are released to it.
 *
 * A deadline cancels the swap before the transfer: the old implementation stays and
 * the held calls are released to it.
 *
 * Entry point: `swapClasses(steps, deadlineMs) → Promise<ClassUpdateReport[]>`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { callable, convertInstances, settle, type ClassRecord, type Held, type Impl, type Mediator, type RefObj } from './record.js';
import type { ClassUpdateReport } from './types.js';

export class SwapError extends Error {
  override name = 'SwapError';
}

interface Step {
  rec: ClassRecord;
  target: Impl;
}

class ClassSwap implements Mediator {
  phase: 'forward' | 'block' | 'ended' = 'forward';
  readonly pending = new Set<RefObj>();
  fwd = 0;
  readonly held: Held[] = [];
  private readonly oldGate: number;
  readonly inflightAtStart: number;
  private readonly t0 = performance.now();
  forwardMs = 0;
  blockMs = 0;
  transferMs = 0;
  converted = 0;

  constructor(
    readonly rec: ClassRecord,
    readonly target: Impl,
    private readonly update: Update,
  ) {
    if (rec.med !== null) throw new SwapError(`${rec.name} is already being swapped`);
    let inflight = 0;
    for (const r of rec.live) {
      if (r.a > 0) {
        this.pending.add(r);
        inflight += r.a;
      }
    }
    this.inflightAtStart = inflight;
    this.oldGate = rec.gate;
    rec.med = this;
    rec.watch = true;
    rec.gate = -1;
    if (this.pending.size === 0) this.enterBlock();
  }

  call(ref: RefObj, name: string, args: unknown[]): unknown {
    if (this.phase === 'forward' || this.update.als.getStore() === this.update || !isAsync(ref.o[name])) return this.forward(ref, name, args);
    return new Promise((resolve, reject) => this.held.push({ ref, name, args, resolve, reject }));
  }

  private forward(ref: RefObj, name: string, args: unknown[]): unknown {
    const fn = callable(this.rec.impls.get(ref.v) ?? this.rec.cur, ref.o, name);
    this.fwd++;
    let r: unknown;
    try {
      r = this.update.als.run(this.update, () => fn(args));
    } catch (e) {
      this.forwardDone();
      throw e;
    }
    if (r instanceof Promise) r.then(() => this.forwardDone(), () => this.forwardDone());
    else this.forwardDone();
    return r;
  }

  private forwardDone(): void {
    if (--this.fwd === 0) this.update.check();
  }

  drained(ref: RefObj): void {
    if (this.pending.delete(ref) && this.pending.size === 0 && this.phase === 'forward') this.enterBlock();
  }

  private enterBlock(): void {
    this.phase = 'block';
    this.forwardMs = performance.now() - this.t0;
    this.update.check();
  }

  get quiet(): boolean {
    return this.phase === 'block' && this.pending.size === 0 && this.fwd === 0;
  }

  /** Transfer every instance (throws, touching nothing, if any fails). */
  convert(): Map<RefObj, object> {
    const t = performance.now();
    this.blockMs = t - this.t0 - this.forwardMs;
    const refs = [...this.rec.live];
    const next = refs.length > 0 ? convertInstances(refs.map((r) => r.o), this.target) : [];
    this.transferMs = performance.now() - t;
    this.converted = refs.length;
    return new Map(refs.map((r, i) => [r, next[i]!]));
  }

  commit(next: Map<RefObj, object>): void {
    const rec = this.rec;
    for (const [ref, o] of next) {
      ref.o = o as RefObj['o'];
      ref.v = this.target.ver;
    }
    rec.cur = this.target;
    rec.impls.clear();
    rec.impls.set(this.target.ver, this.target);
    rec.pending = 0;
    rec.installInterface();
    this.end(this.target.ver);
  }

  /** Back to the old implementation (cancelled, or the transfer failed). */
  abandon(): void {
    this.end(this.oldGate);
  }

  private end(gate: number): void {
    this.phase = 'ended';
    this.rec.med = null;
    this.rec.gate = gate;
    this.rec.watch = false;
  }

  /** Release the held calls to whatever implementation is current now. */
  release(): void {
    for (const h of this.held.splice(0)) settle(h, () => (h.ref as unknown as Record<string, (...a: unknown[]) => unknown>)[h.name]!(...h.args));
  }

  report(): ClassUpdateReport {
    return {
      name: this.rec.name, action: 'swapped', instances: this.rec.live.size, converted: this.converted,
      held: this.held.length, inflightAtStart: this.inflightAtStart,
      forwardMs: round(this.forwardMs), blockMs: round(this.blockMs), transferMs: round(this.transferMs),
    };
  }
}

class Update {
  readonly als = new AsyncLocalStorage<Update>();
  readonly swaps: ClassSwap[] = [];
  private done = false;
  /** Every class's mediator is in place (a class drained at install waits for the others). */
  private installed = false;
  private readonly timer: NodeJS.Timeout;
  private resolve!: (r: ClassUpdateReport[]) => void;
  private reject!: (e: Error) => void;
  readonly result = new Promise<ClassUpdateReport[]>((res, rej) => {
    this.resolve = res;
    this.reject = rej;
  });

  constructor(steps: Step[], deadlineMs: number) {
    this.timer = setTimeout(() => this.fail(new SwapError(`cancelled: the calls in flight did not drain within ${deadlineMs} ms (old implementation kept)`)), deadlineMs);
    try {
      for (const s of steps) this.swaps.push(new ClassSwap(s.rec, s.target, this));
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.installed = true;
    this.check();
  }

  /** Every class drained at the same moment: transfer them all, then commit them all. */
  check(): void {
    if (this.done || !this.installed) return;
    if (!this.swaps.every((s) => s.quiet)) return;
    let converted: Array<Map<RefObj, object>>;
    try {
      converted = this.swaps.map((s) => s.convert());
    } catch (e) {
      this.fail(new SwapError(`transfer failed, every class kept its old implementation: ${(e as Error).message}`));
      return;
    }
    this.finish();
    const reports = this.swaps.map((s) => s.report());
    this.swaps.forEach((s, i) => s.commit(converted[i]!));
    for (const s of this.swaps) s.release();
    this.resolve(reports);
  }

  private fail(e: Error): void {
    if (this.done) return;
    this.finish();
    for (const s of this.swaps) s.abandon();
    for (const s of this.swaps) s.release();
    this.reject(e);
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.als.disable();
  }
}

/** Swap the given classes to their new implementations, all or nothing. */
export function swapClasses(steps: Step[], deadlineMs: number): Promise<ClassUpdateReport[]> {
  return new Update(steps, deadlineMs).result;
}

function isAsync(fn: unknown): boolean {
  const name = (fn as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return name === 'AsyncFunction' || name === 'AsyncGeneratorFunction';
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
