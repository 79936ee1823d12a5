/**
 * sched: the sampler — every `periodMs` (a kernel alarm) read pm's process table and the
 * kernel's per-incarnation CPU figures, fold them into the records, and send the signals
 * the policy calls for (through pm, like any other sender of signals).
 *
 * Entry points: `arm`, `doAlarm`, `sample`.
 */
import type { CpuUsage } from '../../kernel/abi.js';
import type { Ctx, Handler } from '../../sys/index.js';
import { processLabel, type ProcInfo } from '../pm/protocol.js';
import { applySample } from './accounting.js';
import { enforce } from './policy.js';
import type { SchedRequest } from './protocol.js';
import type { SchedState } from './state.js';

type Req<K extends SchedRequest['type']> = Extract<SchedRequest, { type: K }>;

/** How long a sample waits for pm before it goes on without its table. */
const PM_TIMEOUT_MS = 2_000;

export function arm(state: SchedState, ctx: Ctx, ms = state.config.periodMs): void {
  void ctx.kcall({ call: 'alarm', ms, tag: state.sampler.tag });
}

/**
 * Make a nice real on the host: the process's runtime sets its worker thread's priority
 * (Linux `setpriority` on the thread), so the host scheduler favours the others.
 */
export function applyNice(pid: number, nice: number, ctx: Ctx): void {
  ctx.send(processLabel(pid), { type: 'proc.nice', nice });
}

/**
 * 1. pm's table and the CPU figures (together); 2. fold them in; 3. the signals.
 * A sample that fails (pm or the kernel not answering) changes nothing but the figures
 * it has.
 */
export async function sample(state: SchedState, ctx: Ctx): Promise<void> {
  // 1.
  const [procs, usage] = await Promise.all([
    ctx.sendrec<ProcInfo[]>('pm', { type: 'pm.ps' }, { timeoutMs: PM_TIMEOUT_MS }),
    ctx.kcall<CpuUsage[]>({ call: 'cpu-usage' }),
  ]);
  if (!usage.ok) return;
  // 2.
  const now = ctx.now();
  const known = new Set(state.procs.keys());
  applySample(state, procs.ok ? procs.value : null, usage.value, now);
  // Settings restored after a crash go back on their processes (the worker's priority never changed).
  if (state.restored.size > 0) {
    for (const rec of state.procs.values()) {
      const s = state.restored.get(rec.pid);
      if (!s) continue;
      rec.nice = s.nice;
      rec.limitMs = s.limitMs;
      known.add(rec.pid);
    }
    state.restored.clear();
  }
  // A process seen for the first time with an inherited nice: its worker thread gets it too.
  for (const rec of state.procs.values()) if (!known.has(rec.pid) && rec.nice !== 0) applyNice(rec.pid, rec.nice, ctx);
  // 3.
  const actions = enforce(state, now);
  for (const a of actions) {
    if (a.signal === 'KILL') state.stats.killsSent++;
    else if (a.why === 'limit') state.stats.xcpuSent++;
    else state.stats.shed++;
  }
  await Promise.all(actions.map((a) => ctx.sendrec('pm', { type: 'pm.kill', pid: a.pid, signal: a.signal }, { timeoutMs: PM_TIMEOUT_MS })));
}

/**
 * The tick. An alarm with another tag (set by an incarnation that crashed) is dropped,
 * so restarts do not multiply the alarms; the next alarm is set whatever happens.
 */
export const doAlarm: Handler<SchedState, Req<'clock.alarm'>> = async (state, msg, ctx) => {
  if (msg.tag !== state.sampler.tag) return;
  try {
    await sample(state, ctx);
  } finally {
    arm(state, ctx);
  }
};
