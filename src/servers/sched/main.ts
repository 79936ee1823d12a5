/**
 * sched — per-process CPU accounting and limits: samples the kernel's per-worker CPU
 * figures on an alarm, keeps each process's CPU time, %CPU, nice and budget, signals a
 * process over its budget (XCPU, then KILL) and background processes over their share
 * when the CPU is contended. What nice can and cannot do is in protocol.ts's header.
 *
 * Files: protocol.ts · state.ts · accounting.ts (samples → records, the views) ·
 * policy.ts (signals, rights, configuration) · sampler.ts (the tick) · requests.ts.
 *
 * Boot args (all optional): periodMs, graceMs, cpus, capacityPct, shedNice, shedSamples,
 * shedCooldownMs.
 */
import { defineServer, type Ctx } from '../../sys/index.js';
import { configFrom } from './policy.js';
import { schedServerProtocol } from './protocol.js';
import { doLimit, doNice, doPs, doTop, settingsFrom } from './requests.js';
import { arm, doAlarm, sample } from './sampler.js';
import type { SchedState } from './state.js';

const fresh = (ctx: Ctx): SchedState => ({
  config: configFrom(ctx.self.args ?? {}),
  procs: new Map(),
  servers: new Map(),
  sampler: { tag: `sample:${ctx.self.incarnation}`, lastAt: null, windowMs: 0, samples: 0, contended: false },
  stats: { xcpuSent: 0, shed: 0, killsSent: 0 },
  restored: new Map(),
});

export default defineServer<SchedState, typeof schedServerProtocol>({
  protocol: schedServerProtocol,
  init: fresh,
  // After a crash: the settings clients made come back from their regions (CPU time from the kernel).
  recover: async (regions, ctx) => {
    const state = fresh(ctx);
    for (const [pid, s] of settingsFrom(regions)) state.restored.set(pid, { nice: s.nice, limitMs: s.limitMs });
    // One sample now, so the table (and the settings on it) is back before the first request.
    await sample(state, ctx);
    return state;
  },
  // Fresh start or restart (not an update: the old incarnation's alarm, with the tag the
  // state carries, goes on to the new one): start sampling, the first sample at once.
  start: (state, ctx) => arm(state, ctx, 0),
  handlers: {
    'sched.ps': doPs,
    'sched.top': doTop,
    'sched.nice': doNice,
    'sched.limit': doLimit,
    'clock.alarm': doAlarm,
  },
  // A live update waits until no sample or request is half done (each awaits pm or the
  // kernel): the tick re-arms its alarm before it ends, so the alarm chain never breaks.
  prepare: { mode: 'request-free' },
  check: (s) => {
    const bad: string[] = [];
    for (const [pid, r] of s.procs) {
      if (r.pid !== pid) bad.push(`record ${pid} says pid ${r.pid}`);
      if (r.nice < -20 || r.nice > 19) bad.push(`pid ${pid}: nice ${r.nice}`);
      if (r.usage.cpuMs < 0) bad.push(`pid ${pid}: negative CPU time`);
    }
    return bad;
  },
});
