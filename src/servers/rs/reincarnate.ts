/**
 * rs: starting components, and bringing them back after a fault — a restart (stateless,
 * or keeping the calls the crash interrupted: the service's recovery policy, which the
 * kernel applies) with exponential backoff and give-up limits (a component that keeps
 * failing in its own init is not respawned forever). Every fault is recorded (faults.ts).
 *
 * Entry points: `bootImage`, `doFault`, `doAlarm`, `doRestart`, `rebuildFromKernel`.
 */
import type { EndpointInfo, ServiceConfig } from '../../kernel/abi.js';
import { err, ok, type Ctx, type Handler, type HandlerResult } from '../../sys/index.js';
import { incarnationIn, markRecovered, recordFault, restartAction } from './faults.js';
import { policyFrom, recoveryOf } from './policy.js';
import { reapplyPatches } from './patch.js';
import type { RsRequest } from './protocol.js';
import type { RsState, ServiceRecord } from './state.js';

type Req<K extends RsRequest['type']> = Extract<RsRequest, { type: K }>;

export function recordFor(svc: ServiceConfig): ServiceRecord {
  return {
    label: svc.label,
    source: svc.source,
    privileges: svc.privileges,
    limits: svc.limits ?? {},
    args: svc.args ?? {},
    policy: policyFrom(svc.policy),
    endpoint: -1,
    incarnation: null,
    version: null,
    status: 'starting',
    restarts: 0,
    startedAt: null,
    faults: [],
    consecutiveInitFailures: 0,
    lastFault: null,
    faultLog: [],
    injection: null,
    versions: [],
    history: [],
  };
}

/** rs's own record: started by the kernel, listed and updated like any other service. */
function selfRecord(state: RsState, ctx: Ctx): void {
  const rs = state.config!.rs;
  const rec = recordFor(rs);
  Object.assign(rec, {
    endpoint: ctx.self.endpoint, incarnation: ctx.self.incarnation, version: ctx.self.version, status: 'running', startedAt: ctx.now(),
    versions: [{ version: ctx.self.version, source: rs.source, since: ctx.now() }],
  });
  state.services.set(rs.label, rec);
}

/** Start every component of the boot image (in parallel: messages to a label wait until it is bound). */
export async function bootImage(state: RsState, ctx: Ctx): Promise<void> {
  const info = await ctx.kcall<NonNullable<RsState['config']>>({ call: 'bootinfo' });
  if (!info.ok) throw new Error(`rs: cannot read the boot configuration: ${info.message ?? info.code}`);
  state.config = info.value;
  selfRecord(state, ctx);
  const boot = info.value.services.map(recordFor);
  for (const rec of boot) state.services.set(rec.label, rec);
  await Promise.all(boot.map((rec) => startService(state, rec, ctx, 'fresh')));
  state.booted = true;
  await ctx.kcall({ call: 'boot-done' });
}

/** Spawn an incarnation of `rec` and bind it; on failure, back off or give up. */
/** Returns whether the service is now running. */
export async function startService(state: RsState, rec: ServiceRecord, ctx: Ctx, kind: 'fresh' | 'restart'): Promise<boolean> {
  const r = await ctx.kcall<{ incarnation: number; endpoint: number; version: string }>({
    call: 'spawn', label: rec.label, source: rec.source, kind, bind: true,
    privileges: rec.privileges, limits: rec.limits, args: rec.args, recovery: recoveryOf(rec),
  });
  if (r.ok) {
    if (kind === 'restart') rec.restarts++;
    rec.endpoint = r.value.endpoint;
    rec.incarnation = r.value.incarnation;
    rec.version = r.value.version;
    rec.status = 'running';
    rec.startedAt = ctx.now();
    rec.consecutiveInitFailures = 0;
    markRecovered(rec, rec.startedAt);
    if (rec.versions.at(-1)?.version !== r.value.version) rec.versions = [...rec.versions, { version: r.value.version, source: rec.source, since: ctx.now() }];
    announce(rec, ctx);
    if (kind === 'restart') void reapplyPatches(state, rec, ctx);
    return true;
  }
  rec.consecutiveInitFailures++;
  const message = r.message ?? r.code;
  const givingUp = rec.consecutiveInitFailures >= rec.policy.maxInitFailures;
  recordFault(rec, {
    at: ctx.now(), incarnation: incarnationIn(message, rec.label), kind: 'init', message, requests: [],
    action: givingUp ? 'give-up' : restartAction(rec),
  });
  if (givingUp) {
    await giveUp(rec, ctx, `failed in init ${rec.consecutiveInitFailures} times: ${r.message ?? r.code}`);
  } else {
    scheduleRestart(rec, ctx);
  }
  return false;
}

function scheduleRestart(rec: ServiceRecord, ctx: Ctx): void {
  rec.status = 'restarting';
  const n = Math.max(rec.faults.length, rec.consecutiveInitFailures, 1);
  const delay = Math.min(rec.policy.backoffMaxMs, rec.policy.backoffBaseMs * 2 ** (n - 1));
  void ctx.kcall({ call: 'alarm', ms: delay, tag: `restart:${rec.label}` });
}

async function giveUp(rec: ServiceRecord, ctx: Ctx, reason: string): Promise<void> {
  rec.status = 'failed';
  rec.incarnation = null;
  await ctx.kcall({ call: 'fail', label: rec.label, reason });
  announce(rec, ctx);
}

/** Tell ds where a service is (fire and forget: ds may itself be restarting). */
function announce(rec: ServiceRecord, ctx: Ctx): void {
  if (rec.label === 'ds' || rec.endpoint < 0) return;
  ctx.send('ds', { type: 'ds.service', label: rec.label, endpoint: rec.endpoint, status: rec.status });
}

export const doFault: Handler<RsState, Req<'kernel.fault'>> = (state, msg, ctx): HandlerResult => {
  const rec = state.services.get(msg.label);
  if (!rec || msg.label === ctx.self.label) return; // rs itself is restarted by the kernel
  if (rec.incarnation !== msg.incarnation || rec.status === 'failed') return; // stale
  const now = ctx.now();
  rec.incarnation = null;
  rec.faults = [...rec.faults.filter((t) => now - t < rec.policy.windowMs), now];
  const givingUp = rec.faults.length > rec.policy.maxFaults;
  recordFault(rec, {
    at: now, incarnation: msg.incarnation, kind: msg.kind, message: msg.error.message, requests: msg.requests ?? [],
    action: givingUp ? 'give-up' : restartAction(rec),
  });
  if (givingUp) {
    void giveUp(rec, ctx, `${rec.faults.length} faults within ${rec.policy.windowMs} ms`);
    return;
  }
  scheduleRestart(rec, ctx);
};

export const doAlarm: Handler<RsState, Req<'clock.alarm'>> = async (state, msg, ctx) => {
  if (!msg.tag.startsWith('restart:')) return;
  const rec = state.services.get(msg.tag.slice('restart:'.length));
  if (!rec || rec.status !== 'restarting') return;
  await startService(state, rec, ctx, 'restart');
};

export const doRestart: Handler<RsState, Req<'rs.restart'>> = async (state, msg, ctx) => {
  const rec = state.services.get(msg.label);
  if (!rec) return err('ENOENT', `no service ${msg.label}`);
  if (msg.label === ctx.self.label) return err('EPERM', `${msg.label} cannot restart itself (update it instead)`);
  const old = rec.incarnation;
  rec.status = 'restarting';
  rec.incarnation = null;
  rec.faults = [];
  rec.consecutiveInitFailures = 0;
  if (old !== null) await ctx.kcall({ call: 'kill', incarnation: old });
  const running = await startService(state, rec, ctx, 'restart');
  return running ? ok({ incarnation: rec.incarnation }) : err('EINIT', rec.lastFault?.message);
};

/**
 * After rs itself restarted: rebuild the service table from the boot configuration
 * and the kernel's endpoint table (the kernel is the ground truth of what runs).
 */
export async function rebuildFromKernel(state: RsState, ctx: Ctx): Promise<void> {
  const [info, eps] = await Promise.all([
    ctx.kcall<NonNullable<RsState['config']>>({ call: 'bootinfo' }),
    ctx.kcall<EndpointInfo[]>({ call: 'endpoints' }),
  ]);
  if (!info.ok || !eps.ok) throw new Error('rs: cannot read the kernel tables after a restart');
  state.config = info.value;
  state.booted = true;
  selfRecord(state, ctx);
  const byLabel = new Map(eps.value.map((e) => [e.label, e]));
  const daemons = (info.value.daemons ?? []).filter((d) => byLabel.get(d.label)?.status === 'bound');
  for (const svc of [...info.value.services, ...daemons]) {
    const rec = recordFor(svc);
    const e = byLabel.get(svc.label);
    state.services.set(svc.label, rec);
    // The kernel keeps each endpoint's recovery across rs's restart; rs now knows only the
    // boot configuration's policy, so it makes the kernel agree with what it will show.
    if (e) void ctx.kcall({ call: 'recovery', label: rec.label, recovery: recoveryOf(rec) });
    if (e?.status === 'bound') {
      Object.assign(rec, {
        endpoint: e.endpoint, incarnation: e.incarnation, version: e.version, status: 'running', startedAt: e.startedAt,
        versions: [{ version: e.version, source: svc.source, since: e.startedAt }],
      });
    } else if (e?.status === 'failed') {
      Object.assign(rec, { endpoint: e.endpoint, status: 'failed' });
    } else {
      scheduleRestart(rec, ctx);
    }
  }
}
