/**
 * rs: every fault recorded, and fault injection (DESIGN.md §5). Each service keeps a
 * bounded log of its faults — a crash the kernel reported (`kernel.fault`, with the
 * requests it was handling) or a failed (re)start in init — with the action rs took and,
 * once the service runs again, how long that took. `service fi` arms a fault plan in a
 * running service's incarnation through the kernel (`inject`).
 *
 * Entry points: `recordFault`, `markRecovered`, `doFaults`, `doFi`.
 */
import type { FaultPlan } from '../../kernel/abi.js';
import { err, ok, type Handler } from '../../sys/index.js';
import type { FaultAction, FaultRecord, FaultRow, FiResult, RsRequest } from './protocol.js';
import type { RsState, ServiceRecord } from './state.js';

type Req<K extends RsRequest['type']> = Extract<RsRequest, { type: K }>;

/** Faults kept per service (the oldest go first). */
export const FAULT_LOG_LIMIT = 100;
export const FI_KINDS: ReadonlyArray<FaultPlan['kind']> = ['crash', 'throw', 'hang', 'oom', 'corrupt'];

/** The action a fault leads to when rs does not give up. */
export function restartAction(rec: ServiceRecord): FaultAction {
  return rec.policy.mode === 'ssr-restart' ? 'ssr-restart' : 'restart';
}

/** Log a fault of `rec` (and keep `lastFault`, which `service list` shows, in step). */
export function recordFault(rec: ServiceRecord, f: Omit<FaultRecord, 'recoveredMs' | 'injected'>): FaultRecord {
  const injected = f.incarnation !== null && rec.injection?.incarnation === f.incarnation ? rec.injection.plan.kind : undefined;
  const row: FaultRecord = { ...f, recoveredMs: null, ...(injected ? { injected } : {}) };
  rec.faultLog = [...rec.faultLog, row].slice(-FAULT_LOG_LIMIT);
  rec.lastFault = { kind: f.kind, message: f.message, at: f.at };
  return row;
}

/** The service runs again: every fault not yet recovered from (and not given up on) now is. */
export function markRecovered(rec: ServiceRecord, now: number): void {
  for (const f of rec.faultLog) if (f.recoveredMs === null && f.action !== 'give-up') f.recoveredMs = Math.max(0, now - f.at);
}

/** A failed spawn's error names the incarnation (`label#7 failed in init …`): its number, if so. */
export function incarnationIn(message: string, label: string): number | null {
  const m = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}#(\\d+)\\b`).exec(message);
  return m ? Number(m[1]) : null;
}

export const doFaults: Handler<RsState, Req<'rs.faults'>> = (state, msg) => {
  let recs = [...state.services.values()];
  if (msg.label !== undefined) {
    const rec = state.services.get(msg.label);
    if (!rec) return err('ENOENT', `no service ${msg.label}`);
    recs = [rec];
  }
  const rows: FaultRow[] = recs.flatMap((rec) => rec.faultLog.map((f) => ({ label: rec.label, ...f })));
  rows.sort((a, b) => a.at - b.at);
  return ok(rows);
};

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export const doFi: Handler<RsState, Req<'rs.fi'>> = async (state, msg, ctx) => {
  const rec = state.services.get(msg.label);
  if (!rec) return err('ENOENT', `no service ${msg.label}`);
  // rs injecting into itself would fault the manager that records the fault (and, with
  // --times 0, make the kernel give up on rs and stop the system): refused.
  if (msg.label === ctx.self.label) return err('EPERM', `no fault injection into ${msg.label} itself`);
  let plan: FaultPlan | null = null;
  if (msg.clear) {
    if (msg.kind !== undefined) return err('EINVAL', 'clear takes no kind');
  } else {
    const problems: string[] = [];
    if (!FI_KINDS.includes(msg.kind as FaultPlan['kind'])) problems.push(`kind: ${FI_KINDS.join('|')}${msg.kind === undefined ? ' (or clear)' : `, not ${JSON.stringify(msg.kind)}`}`);
    if (msg.at !== undefined && msg.at.length === 0) problems.push('at: a message type');
    for (const f of ['after', 'seed', 'times'] as const) if (msg[f] !== undefined && !count(msg[f])) problems.push(`${f}: an integer >= 0, not ${JSON.stringify(msg[f])}`);
    if (problems.length > 0) return err('EINVAL', problems.join('; '));
    plan = {
      kind: msg.kind as FaultPlan['kind'],
      ...(msg.at !== undefined ? { at: msg.at } : {}),
      ...(msg.after !== undefined ? { after: msg.after as number } : {}),
      ...(msg.seed !== undefined ? { seed: msg.seed as number } : {}),
      ...(msg.times !== undefined ? { times: msg.times as number } : {}),
    };
  }
  const inc = rec.incarnation;
  if (rec.status !== 'running' || inc === null) return err('ESRCH', `${msg.label} is ${rec.status}, not running`);
  const r = await ctx.kcall({ call: 'inject', label: rec.label, plan });
  if (!r.ok) return err(r.code, r.message);
  rec.injection = plan ? { plan, incarnation: inc, at: ctx.now() } : null;
  const result: FiResult = { label: rec.label, incarnation: inc, plan };
  return ok(result);
};

