/**
 * sched: the requests — the tables (`sched.ps`, `sched.top`) and the changes
 * (`sched.nice`, `sched.limit`), with the rights of protocol.ts's header.
 *
 * Entry points: `doPs`, `doTop`, `doNice`, `doLimit`.
 */
import { err, ok, type Ctx, type Handler, type Header, type Result } from '../../sys/index.js';
import { pidOfLabel, type ProcInfo } from '../pm/protocol.js';
import { psRow, psRows, recordFor, topReport } from './accounting.js';
import { limitRight, niceRight, type Caller } from './policy.js';
import { applyNice } from './sampler.js';
import type { SchedRequest } from './protocol.js';
import type { ProcRecord, SchedState } from './state.js';

type Req<K extends SchedRequest['type']> = Extract<SchedRequest, { type: K }>;

export const doPs: Handler<SchedState, Req<'sched.ps'>> = (state) => ok(psRows(state));

export const doTop: Handler<SchedState, Req<'sched.top'>> = (state) => ok(topReport(state));

/**
 * 1. who asks (a process's pid and uid, or root); 2. the target, running, from pm's
 * table now (`pid` 0: the caller) → its record (created if sched has not sampled it yet).
 */
async function resolve(state: SchedState, msg: Header & { pid: number }, ctx: Ctx): Promise<Result<{ caller: Caller; target: ProcRecord }>> {
  // 1.
  const callerPid = pidOfLabel(await ctx.whois(msg.from));
  const table = await ctx.sendrec<ProcInfo[]>('pm', { type: 'pm.ps' });
  if (!table.ok) return table;
  const rows = table.value;
  let uid = 0;
  if (callerPid > 0) {
    const me = rows.find((p) => p.pid === callerPid);
    if (!me) return err('ESRCH', `the caller (pid ${callerPid}) is not in the process table`);
    uid = me.uid;
  }
  // 2.
  const pid = msg.pid === 0 ? callerPid : msg.pid;
  if (pid <= 0) return err(msg.pid === 0 ? 'EINVAL' : 'ESRCH', msg.pid === 0 ? 'pid 0 (self) needs a process caller' : `no process ${msg.pid}`);
  const info = rows.find((p) => p.pid === pid && p.state === 'running');
  if (!info) return err('ESRCH', `no process ${pid}`);
  return ok({ caller: { pid: callerPid, uid }, target: recordFor(state, info) });
}

export const doNice: Handler<SchedState, Req<'sched.nice'>> = async (state, msg, ctx) => {
  const r = await resolve(state, msg, ctx);
  if (!r.ok) return r;
  const { caller, target } = r.value;
  const v = niceRight(caller, target, msg.nice);
  if (!v.ok) return err(v.code, v.message);
  target.nice = msg.nice;
  applyNice(target.pid, msg.nice, ctx);
  remember(target, ctx);
  return ok(psRow(target));
};

/**
 * The caller's server state region: the settings it made (nice, budget) by pid, stamped,
 * so a restarted sched puts them back (the newest setting of a pid wins). CPU time needs
 * none: the kernel's per-worker figures are cumulative.
 */
export interface SchedRegion {
  settings: Array<[number, Setting]>;
}
export interface Setting {
  nice: number;
  limitMs: number | null;
  stamp: number;
}

function remember(target: ProcRecord, ctx: Ctx): void {
  const region = ctx.ssr?.<SchedRegion>(() => ({ settings: [] }));
  if (!region) return;
  region.settings = region.settings.filter(([pid]) => pid !== target.pid);
  region.settings.push([target.pid, { nice: target.nice, limitMs: target.limitMs, stamp: ctx.now() }]);
}

/** After a crash: the newest setting of each pid, from every client's region. */
export function settingsFrom(regions: Array<{ value: unknown }>): Map<number, Setting> {
  const out = new Map<number, Setting>();
  for (const { value } of regions) {
    for (const [pid, s] of (value as SchedRegion).settings ?? []) {
      const cur = out.get(pid);
      if (!cur || s.stamp >= cur.stamp) out.set(pid, s);
    }
  }
  return out;
}

export const doLimit: Handler<SchedState, Req<'sched.limit'>> = async (state, msg, ctx) => {
  const r = await resolve(state, msg, ctx);
  if (!r.ok) return r;
  const { caller, target } = r.value;
  const cpuMs = msg.cpuMs ?? null;
  const v = limitRight(caller, target, cpuMs);
  if (!v.ok) return err(v.code, v.message);
  target.limitMs = cpuMs;
  // A budget removed or raised above the use: the process is back within it.
  if (target.enforcement.phase === 'xcpu' && (cpuMs === null || target.usage.cpuMs < cpuMs)) target.enforcement = { phase: 'run' };
  remember(target, ctx);
  return ok(psRow(target));
};
