/**
 * sched: policy — what a sample leads to (budgets: XCPU then KILL; contention: XCPU to
 * background processes over their weighted share) and who may change what (nice,
 * budgets). Pure functions: the caller sends the signals. The rules are stated in
 * protocol.ts's header.
 *
 * Entry points: `enforce`, `weight`, `niceRight`, `limitRight`, `configFrom`.
 */
import type { ErrCode } from '../../kernel/abi.js';
import { NICE_MAX, NICE_MIN } from './protocol.js';
import type { ProcRecord, SchedConfig, SchedState } from './state.js';

export interface Action {
  pid: number;
  signal: 'XCPU' | 'KILL';
  why: 'limit' | 'contention';
}

/** CFS's weight of a nice value: 1024 at 0, ×1.25 per step down, ÷1.25 per step up. */
export const weight = (nice: number): number => 1024 / 1.25 ** nice;

/** Below this %CPU a process is not competing for the CPU (it gets no share). */
const RUNNABLE_PCT = 1;

/**
 * The signals this sample calls for, with the records updated as if they were sent:
 * 1. budgets: over `limitMs` → XCPU; still running `graceMs` after it → KILL (once);
 *    a budget raised above the use puts the process back to 'run';
 * 2. contention: only when the processes used more than the capacity over the window.
 */
export function enforce(state: SchedState, now: number): Action[] {
  const out: Action[] = [];
  const cfg = state.config;
  // 1.
  for (const r of state.procs.values()) {
    const over = r.limitMs !== null && r.usage.cpuMs >= r.limitMs;
    if (!over) {
      if (r.enforcement.phase === 'xcpu') r.enforcement = { phase: 'run' };
      continue;
    }
    if (r.enforcement.phase === 'run') {
      r.enforcement = { phase: 'xcpu', at: now };
      out.push({ pid: r.pid, signal: 'XCPU', why: 'limit' });
    } else if (r.enforcement.phase === 'xcpu' && now - r.enforcement.at >= cfg.graceMs) {
      r.enforcement = { phase: 'killed', at: now };
      out.push({ pid: r.pid, signal: 'KILL', why: 'limit' });
    }
  }
  // 2.
  const competing = [...state.procs.values()].filter((r) => r.usage.pcpu >= RUNNABLE_PCT);
  if (!state.sampler.contended || competing.length < 2) {
    for (const r of state.procs.values()) r.overShare = 0;
    return out;
  }
  const total = competing.reduce((s, r) => s + weight(r.nice), 0);
  for (const r of state.procs.values()) {
    const share = r.usage.pcpu >= RUNNABLE_PCT ? (cfg.capacityPct * weight(r.nice)) / total : 0;
    if (r.nice < cfg.shedNice || r.usage.pcpu <= share || r.enforcement.phase !== 'run') {
      r.overShare = 0;
      continue;
    }
    r.overShare++;
    if (r.overShare >= cfg.shedSamples && (r.shedAt === null || now - r.shedAt >= cfg.shedCooldownMs)) {
      r.overShare = 0;
      r.shedAt = now;
      out.push({ pid: r.pid, signal: 'XCPU', why: 'contention' });
    }
  }
  return out;
}

/** Who is asking: root (a system component, the host, uid 0) or a process's uid. */
export interface Caller {
  pid: number;
  uid: number;
}

type Verdict = { ok: true } | { ok: false; code: ErrCode; message: string };
const yes: Verdict = { ok: true };
const no = (code: ErrCode, message: string): Verdict => ({ ok: false, code, message });

function sameUser(caller: Caller, target: ProcRecord): Verdict {
  if (caller.uid === 0 || caller.uid === target.uid) return yes;
  return no('EPERM', `process ${target.pid} belongs to uid ${target.uid}`);
}

export function niceRight(caller: Caller, target: ProcRecord, nice: number): Verdict {
  if (!Number.isSafeInteger(nice) || nice < NICE_MIN || nice > NICE_MAX) return no('EINVAL', `nice must be ${NICE_MIN}..${NICE_MAX}`);
  const who = sameUser(caller, target);
  if (!who.ok) return who;
  if (caller.uid !== 0 && nice < 0) return no('EPERM', 'only root may set a nice below 0');
  return yes;
}

export function limitRight(caller: Caller, target: ProcRecord, cpuMs: number | null): Verdict {
  if (cpuMs !== null && (!Number.isSafeInteger(cpuMs) || cpuMs < 1)) return no('EINVAL', 'a CPU budget is at least 1 ms');
  const who = sameUser(caller, target);
  if (!who.ok) return who;
  if (caller.uid === 0) return yes;
  if (cpuMs === null) return target.limitMs === null ? yes : no('EPERM', 'only root may remove a CPU budget');
  if (target.limitMs === null) return yes;
  if (cpuMs > target.limitMs) return no('EPERM', 'only root may raise a CPU budget');
  return yes;
}

/** The policy's knobs from the boot arguments (bad or missing values: the defaults). */
export function configFrom(args: Record<string, unknown>): SchedConfig {
  const num = (k: string, dflt: number, min: number, max: number) => {
    const v = args[k];
    return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : dflt;
  };
  const cpus = num('cpus', 1, 1, 1024);
  return {
    periodMs: num('periodMs', 500, 50, 60_000),
    graceMs: num('graceMs', 1_000, 0, 600_000),
    capacityPct: num('capacityPct', 100 * cpus, 1, 100 * 1024),
    shedNice: num('shedNice', 10, NICE_MIN, NICE_MAX + 1),
    shedSamples: num('shedSamples', 3, 1, 1_000),
    shedCooldownMs: num('shedCooldownMs', 5_000, 0, 3_600_000),
  };
}
