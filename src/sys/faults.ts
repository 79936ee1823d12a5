/**
 * Fault injection inside a component (`service fi`, DESIGN.md §5): a plan armed by the
 * `fi` control operation fires before a handler runs — for messages of one type (`at`),
 * after letting `after` of them through, `times` times. Kinds:
 *
 * - `crash`: the worker ends at once (an `exit` fault);
 * - `throw`: the handler's turn throws (a `throw` fault, like a bug in the handler);
 * - `hang`: the event loop spins forever (the kernel's heartbeat ends it: a `hang` fault);
 * - `oom`: memory is allocated until V8's limit ends the worker (an `oom` fault);
 * - `corrupt`: one value in the server's internal state — never a server state region,
 *   which lives in the kernel — is flipped or garbled, and the handler runs on.
 *
 * Everything is deterministic for a given seed and state (a small PRNG; the state is
 * walked in insertion order).
 *
 * Entry point: `FaultInjector` (`set`, `before`), `corruptOne`.
 */
import type { FaultPlan } from '../kernel/abi.js';

/** mulberry32: a tiny seeded PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A place in the state holding a primitive: how to read and write it, and its path. */
interface Slot {
  path: string;
  get(): unknown;
  set(v: unknown): void;
}

const MAX_NODES = 100_000;

/** The primitive-valued slots of a state graph (bounded), in a deterministic order. */
function slots(root: unknown): Slot[] {
  const out: Slot[] = [];
  const seen = new Set<object>();
  const stack: Array<{ v: unknown; path: string }> = [{ v: root, path: 'state' }];
  while (stack.length > 0 && seen.size < MAX_NODES) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) continue;
    if (v instanceof Map) {
      for (const [k, x] of v) {
        const p = `${path}.get(${JSON.stringify(k) ?? String(k)})`;
        if (x !== null && typeof x === 'object') stack.push({ v: x, path: p });
        else if (x !== undefined && typeof x !== 'function') out.push({ path: p, get: () => v.get(k), set: (n) => v.set(k, n) });
      }
      continue;
    }
    if (v instanceof Set) continue;
    const rec = v as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      const x = rec[k];
      const p = Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`;
      if (x !== null && typeof x === 'object') stack.push({ v: x, path: p });
      else if (x !== undefined && typeof x !== 'function') out.push({ path: p, get: () => rec[k], set: (n) => (rec[k] = n) });
    }
  }
  return out;
}

/** Garble one primitive of `state` chosen by `rand`: numbers get a bit flipped, strings a character, booleans negated. → what changed, or null if nothing could be. */
export function corruptOne(state: unknown, rand: () => number): string | null {
  const all = slots(state);
  if (all.length === 0) return null;
  const slot = all[Math.floor(rand() * all.length)]!;
  const old = slot.get();
  let next: unknown;
  switch (typeof old) {
    case 'number':
      next = Number.isInteger(old) ? old ^ (1 << Math.floor(rand() * 16)) : old * -1.5 + 1;
      break;
    case 'bigint':
      next = old ^ (1n << BigInt(Math.floor(rand() * 16)));
      break;
    case 'string': {
      const i = old.length === 0 ? 0 : Math.floor(rand() * old.length);
      next = old.length === 0 ? '\u0000' : `${old.slice(0, i)}${String.fromCharCode((old.charCodeAt(i) ^ 0x20) || 63)}${old.slice(i + 1)}`;
      break;
    }
    case 'boolean':
      next = !old;
      break;
    default:
      return null;
  }
  slot.set(next);
  return `${slot.path}: ${String(old)} → ${String(next)}`;
}

export class FaultInjector {
  private plan: FaultPlan | null = null;
  private seen = 0;
  private fired = 0;
  private rand: () => number = prng(1);
  /** What the last `corrupt` changed (for the trace and tests). */
  lastCorruption: string | null = null;

  set(plan: FaultPlan | null): void {
    this.plan = plan;
    this.seen = 0;
    this.fired = 0;
    this.rand = prng(plan?.seed ?? 1);
  }

  get armed(): boolean {
    return this.plan !== null;
  }

  /** Called before the handler of a message of `type` runs: fires the plan if it matches. */
  before(type: string, state: unknown): void {
    const plan = this.plan;
    if (!plan) return;
    if (plan.at !== undefined && type !== plan.at) return;
    this.seen++;
    if (this.seen <= (plan.after ?? 0)) return;
    const times = plan.times ?? 1;
    if (times > 0 && this.fired >= times) return;
    this.fired++;
    if (times > 0 && this.fired >= times) this.plan = null; // spent
    switch (plan.kind) {
      case 'crash':
        process.exit(70);
        return;
      case 'throw':
        throw new Error(`injected fault (throw) before ${type}`);
      case 'hang':
        for (;;) {
          // spin: the kernel's heartbeat ends this incarnation
        }
      case 'oom': {
        const hog: unknown[] = [];
        for (;;) hog.push(new Array(1 << 20).fill(hog.length));
      }
      case 'corrupt':
        this.lastCorruption = corruptOne(state, this.rand);
        return;
    }
  }
}
