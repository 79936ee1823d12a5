/**
 * rs: the update manager — transactional live update of one component or a batch
 * (DESIGN.md §3). Phases, each with a deadline and a trace event:
 *   1. build     bundle + type metadata of every new version (refused if any fails);
 *   2. spawn     new incarnations, loaded, initialised (kind `update`), not bound;
 *   3. prepare   in order (rs last): interface filter, then wait for the old
 *                incarnation's quiescence (work-free / request-free / protocol-free /
 *                state filter); once it holds, the kernel holds all its messages;
 *   4. transfer  old exports its state graph, new imports it against the new metadata,
 *                runs afterTransfer and the checks;
 *   5. commit    every endpoint rebound at once, held messages released in order, old
 *                incarnations drained and ended.
 * Any failure rolls every step back in reverse order: new incarnations ended, old ones
 * resumed with their state untouched, held messages released to them in order. Every
 * outcome goes through one `endUpdate`.
 *
 * Entry points: `doUpdate`, `doRollback`, `doHistory`, `finishSelfUpdate`.
 */
import type { FilterMatch, PrepareMode } from '../../kernel/abi.js';
import { DEFERRED, err, ok, type Ctx, type Handler } from '../../sys/index.js';
import type { TransferReport } from '../../update/transfer.js';
import { planTransfer } from '../../update/plan.js';
import type { StateMeta } from '../../update/types.js';
import type { RsRequest, UpdateOutcome, UpdatePhase, UpdateResult } from './protocol.js';
import { recoveryOf } from './policy.js';
import { runObjectsUpdate } from './objects.js';
import { dropPatches } from './patch.js';
import type { RsState, UpdateRun, UpdateStep } from './state.js';

type Req<K extends RsRequest['type']> = Extract<RsRequest, { type: K }>;
type UpdateReq = Req<'rs.update'>;

export const DEFAULT_PREPARE_MS = 2_000;
export const DEFAULT_TRANSFER_MS = 10_000;
const DRAIN_MS = 2_000;
const HISTORY_LIMIT = 50;

/** A failure inside a phase: carries the outcome it leads to. */
export class Abort extends Error {
  constructor(readonly outcome: UpdateOutcome, readonly phase: UpdatePhase, message: string) {
    super(message);
  }
}

export const doUpdate: Handler<RsState, UpdateReq> = async (state, msg, ctx) => {
  const result = msg.mode === 'objects' ? await runObjectsUpdate(state, msg, ctx) : await runUpdate(state, msg, ctx, null);
  if (result.labels.includes(ctx.self.label) && result.outcome === 'committed') {
    // rs updated itself: this (old) incarnation answers, then ends; the new rs carries on.
    ctx.reply(ctx.defer(msg), ok(result));
    void ctx.kcall({ call: 'retire', incarnation: ctx.self.incarnation, drainMs: 0 });
    return DEFERRED;
  }
  return ok(result);
};

export const doRollback: Handler<RsState, Req<'rs.rollback'>> = async (state, msg, ctx) => {
  const rec = state.services.get(msg.label);
  if (!rec) return err('ENOENT', `no service ${msg.label}`);
  const prev = rec.versions.at(-2);
  if (!prev) return ok(refusedResult(state, [msg.label], ctx, `${msg.label} has no previous version to return to`));
  const result = await runUpdate(state, { type: 'rs.update', items: [{ label: msg.label, source: prev.source }] }, ctx, prev.version);
  if (result.outcome === 'committed') {
    // Returning to the previous version pops the version stack rather than growing it:
    // [… prev, cur, prev] (the commit pushed prev again) becomes [… prev].
    rec.versions.splice(-3, 3, { ...prev, since: ctx.now() });
  }
  return ok(result);
};

export const doHistory: Handler<RsState, Req<'rs.history'>> = (state, msg) => {
  const rec = state.services.get(msg.label);
  if (!rec) return err('ENOENT', `no service ${msg.label}`);
  return ok({ label: rec.label, versions: rec.versions, updates: rec.history });
};

export function refusedResult(state: RsState, labels: string[], ctx: Ctx, reason: string): UpdateResult {
  const now = ctx.now();
  return {
    id: state.nextUpdate++, outcome: 'refused', labels, phase: 'build', reason, timings: {}, heldMs: 0, totalMs: 0,
    startedAt: now, versions: [], reports: {},
  };
}

async function runUpdate(state: RsState, req: UpdateReq, ctx: Ctx, exactVersion: string | null): Promise<UpdateResult> {
  const labels = req.items.map((i) => i.label);
  // 0. Arguments: known, running, not already updating, no duplicates; rs goes last.
  if (labels.length === 0) return refusedResult(state, labels, ctx, 'nothing to update');
  if (new Set(labels).size !== labels.length) return refusedResult(state, labels, ctx, 'a label appears twice in the batch');
  if (req.prepare === 'state' && !req.state) return refusedResult(state, labels, ctx, '--prepare state needs --state <expr>');
  if (req.lazy) return refusedResult(state, labels, ctx, '--lazy is for --mode objects');
  const busy = new Set([...state.updates.values()].flatMap((r) => r.steps.map((s) => s.label)));
  const self = ctx.self.label;
  const steps: UpdateStep[] = [];
  for (const item of [...req.items].sort((a, b) => Number(a.label === self) - Number(b.label === self))) {
    const rec = state.services.get(item.label);
    if (!rec) return refusedResult(state, labels, ctx, `unknown label ${item.label}`);
    if (rec.status !== 'running' || rec.incarnation === null) return refusedResult(state, labels, ctx, `${item.label} is ${rec.status}, not running`);
    if (busy.has(item.label)) return refusedResult(state, labels, ctx, `${item.label} is already being updated`);
    if (item.label === self && rec.incarnation !== ctx.self.incarnation) return refusedResult(state, labels, ctx, `${self}'s table is stale`);
    steps.push({ label: item.label, source: item.source, from: rec.incarnation, fromVersion: rec.version, version: null, to: null, filters: [], phase: 'build', prepared: false, report: null });
  }
  const run: UpdateRun = { id: state.nextUpdate++, steps, startedAt: ctx.now(), heldSince: null, timings: {} };
  state.updates.set(run.id, run);
  const prepareMs = req.maxtime ?? DEFAULT_PREPARE_MS;
  const transferMs = req.initMaxtime ?? DEFAULT_TRANSFER_MS;
  const metas = new Map<string, StateMeta>();
  let plans: Record<string, unknown> | undefined;
  try {
    // 1. Build.
    await phase(run, 'build', ctx, async () => {
      for (const step of steps) {
        const r = await ctx.kcall<{ version: string; meta: StateMeta }>({ call: 'build', source: step.source, ...(exactVersion ? { version: exactVersion } : {}) }, { timeoutMs: 120_000 });
        if (!r.ok) throw new Abort('refused', 'build', `${step.label}: ${r.message ?? r.code}`);
        step.version = r.value.version;
        metas.set(step.label, r.value.meta);
      }
    });
    if (req.dryRun) {
      plans = {};
      for (const step of steps) plans[step.label] = await dryRunPlan(state, step, metas.get(step.label)!, ctx);
      return endUpdate(state, run, 'dry-run', 'build', null, ctx, plans);
    }
    // 2. Spawn the new incarnations (loaded, not receiving), all at once: each is a worker
    //    of its own, and nothing is held yet. Every spawn is awaited before a failure is
    //    acted on, so the rollback sees every incarnation that started.
    await phase(run, 'spawn', ctx, async () => {
      const spawned = await Promise.allSettled(steps.map(async (step) => {
        step.phase = 'spawn';
        const spec = specFor(state, step.label, ctx);
        const r = await ctx.kcall<{ incarnation: number }>({
          call: 'spawn', label: step.label, source: step.source, version: step.version!, kind: 'update', bind: false,
          privileges: spec.privileges, limits: { ...spec.limits, initMs: transferMs }, args: spec.args,
          // The endpoint's recovery is the kernel's per endpoint; restated so the new version keeps it.
          recovery: spec.recovery,
        }, { timeoutMs: transferMs + 5_000 });
        if (!r.ok) throw new Abort('rolled-back', 'spawn', `${step.label}: new version failed to start: ${r.message ?? r.code}`);
        step.to = r.value.incarnation;
      }));
      const failed = spawned.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failed) throw failed.reason;
    });
    // 3. Prepare, in order (rs last).
    await phase(run, 'prepare', ctx, async () => {
      for (const step of steps) {
        step.phase = 'prepare';
        for (const match of await blockFilters(req, ctx)) {
          const f = await ctx.kcall<number>({ call: 'filter', label: step.label, match });
          if (!f.ok) throw new Abort('rolled-back', 'prepare', `${step.label}: cannot install the interface filter: ${f.message ?? f.code}`);
          step.filters.push(f.value);
        }
        // rs hands over at once (its own handler is the one running the update); others
        // use what was asked, else the quiescence their version declares as its default.
        const mode: PrepareMode = step.label === self ? 'work-free' : req.prepare ?? 'default';
        const r = await ctx.kcall({ call: 'update-prepare', incarnation: step.from, mode, ...(req.state ? { expr: req.state } : {}), timeoutMs: prepareMs }, { timeoutMs: prepareMs + 5_000 });
        if (!r.ok) {
          if (r.code === 'ETIMEDOUT') throw new Abort('cancelled', 'prepare', `${step.label} did not reach ${mode === 'state' ? `state ${req.state}` : mode} within ${prepareMs} ms`);
          throw new Abort('rolled-back', 'prepare', `${step.label}: ${r.message ?? r.code}`);
        }
        step.prepared = true;
        run.heldSince ??= ctx.now();
      }
    });
    // 4. Transfer and check.
    await phase(run, 'transfer', ctx, async () => {
      for (const step of steps) {
        step.phase = 'transfer';
        const r = await ctx.kcall<TransferReport>({ call: 'update-transfer', from: step.from, to: step.to!, version: step.version!, timeoutMs: transferMs }, { timeoutMs: transferMs * 2 + 5_000 });
        if (!r.ok) throw new Abort('rolled-back', 'transfer', `${step.label}: ${r.message ?? r.code}`);
        step.report = r.value;
      }
    });
    // 5. Commit all at once: rebind every endpoint, then release.
    await phase(run, 'commit', ctx, async () => {
      for (const step of steps) {
        step.phase = 'commit';
        for (const f of step.filters.splice(0)) await ctx.kcall({ call: 'unfilter', filter: f });
      }
      const r = await ctx.kcall({ call: 'update-commit', steps: steps.map((st) => ({ label: st.label, from: st.from, to: st.to! })) });
      if (!r.ok) throw new Abort('rolled-back', 'commit', r.message ?? r.code);
      for (const step of steps) {
        recordCommit(state, step, ctx);
        dropPatches(state, step.label);
      }
    });
    const result = endUpdate(state, run, 'committed', 'commit', null, ctx);
    // The old incarnations finish what they had in flight, then end (not rs: it ends after answering).
    for (const step of steps) if (step.label !== self) void ctx.kcall({ call: 'retire', incarnation: step.from, drainMs: DRAIN_MS });
    return result;
  } catch (e) {
    const a = e instanceof Abort ? e : new Abort('rolled-back', currentPhase(run), `unexpected: ${(e as Error).message}`);
    if (a.outcome !== 'refused') await rollBack(run, ctx);
    return endUpdate(state, run, a.outcome, a.phase, a.message, ctx);
  }
}

export async function phase(run: UpdateRun, name: UpdatePhase, ctx: Ctx, body: () => Promise<void>): Promise<void> {
  const t0 = ctx.now();
  const labels = run.steps.map((s) => s.label).join(',');
  void ctx.kcall({ call: 'update-event', label: labels, update: run.id, phase: name, status: 'start' });
  try {
    await body();
  } finally {
    run.timings[name] = ctx.now() - t0;
    void ctx.kcall({ call: 'update-event', label: labels, update: run.id, phase: name, status: 'end' });
  }
}

function currentPhase(run: UpdateRun): UpdatePhase {
  return run.steps.find((s) => s.phase !== 'build')?.phase ?? 'build';
}

/** Undo every step, in reverse order: end the new incarnation, resume the old one, release what was held. */
async function rollBack(run: UpdateRun, ctx: Ctx): Promise<void> {
  for (const step of [...run.steps].reverse()) {
    if (step.to === null && !step.prepared && step.filters.length === 0) continue;
    for (const f of step.filters.splice(0)) await ctx.kcall({ call: 'unfilter', filter: f });
    await ctx.kcall({ call: 'update-abort', label: step.label, from: step.from, to: step.to });
  }
}

export function endUpdate(state: RsState, run: UpdateRun, outcome: UpdateOutcome, phaseName: UpdatePhase, reason: string | null, ctx: Ctx, plans?: Record<string, unknown>): UpdateResult {
  state.updates.delete(run.id);
  const now = ctx.now();
  const result: UpdateResult = {
    id: run.id,
    outcome,
    labels: run.steps.map((s) => s.label),
    phase: phaseName,
    reason,
    timings: run.timings,
    heldMs: run.heldSince === null ? 0 : now - run.heldSince,
    totalMs: now - run.startedAt,
    startedAt: run.startedAt,
    versions: run.steps.map((s) => ({ label: s.label, from: s.fromVersion, to: s.version })),
    reports: Object.fromEntries(run.steps.filter((s) => s.report).map((s) => [s.label, s.report])),
    ...(plans ? { plans } : {}),
  };
  if (outcome !== 'dry-run') {
    for (const step of run.steps) {
      const rec = state.services.get(step.label);
      if (!rec) continue;
      rec.history = [...rec.history, result].slice(-HISTORY_LIMIT);
    }
  }
  void ctx.kcall({ call: 'update-event', label: result.labels.join(','), update: run.id, phase: phaseName, status: 'end', detail: reason ? `${outcome}: ${reason}` : outcome });
  return result;
}

export function recordCommit(state: RsState, step: UpdateStep, ctx: Ctx): void {
  const rec = state.services.get(step.label);
  if (!rec) return;
  rec.incarnation = step.to;
  rec.version = step.version;
  rec.source = step.source;
  rec.versions = [...rec.versions, { version: step.version!, source: step.source, since: ctx.now() }];
}

/** The spawn parameters of a label: its record, or (for rs itself) the boot configuration. */
function specFor(state: RsState, label: string, ctx: Ctx) {
  const rec = state.services.get(label);
  if (rec) return { privileges: rec.privileges, limits: rec.limits, args: rec.args, recovery: recoveryOf(rec) };
  throw new Abort('refused', 'spawn', `no configuration for ${label} (${ctx.self.label} knows only its boot image)`);
}

/** `--block label[:type]` → interface filters; none given: hold every request. */
async function blockFilters(req: UpdateReq, ctx: Ctx): Promise<FilterMatch[]> {
  if (!req.block || req.block.length === 0) return [{}];
  const out: FilterMatch[] = [];
  for (const b of req.block) {
    const m: FilterMatch = {};
    if (b.label) {
      const ep = await ctx.kcall<number>({ call: 'lookup', label: b.label });
      if (!ep.ok) throw new Abort('refused', 'prepare', `--block: unknown label ${b.label}`);
      m.from = [ep.value];
    }
    if (b.type) m.types = [b.type];
    out.push(m);
  }
  return out;
}

async function dryRunPlan(state: RsState, step: UpdateStep, newMeta: StateMeta, ctx: Ctx): Promise<unknown> {
  const rec = state.services.get(step.label);
  const current = rec?.versions.at(-1);
  if (!current) return { note: `no record of the running version of ${step.label}` };
  const r = await ctx.kcall<{ version: string; meta: StateMeta }>({ call: 'build', source: current.source, version: current.version }, { timeoutMs: 120_000 });
  if (!r.ok) return { note: `the running version's metadata is unavailable: ${r.message ?? r.code}`, newTypes: Object.keys(newMeta.types) };
  return planTransfer(r.value.meta, newMeta);
}

/**
 * After rs itself was updated, the new rs holds the old one's in-progress self-update
 * in its state: being bound at all means that update committed. Record it so.
 */
export function finishSelfUpdate(state: RsState, ctx: Ctx): void {
  for (const run of [...state.updates.values()]) {
    const mine = run.steps.find((s) => s.label === ctx.self.label);
    if (!mine) continue;
    mine.to = ctx.self.incarnation;
    mine.version = ctx.self.version;
    for (const step of run.steps) recordCommit(state, step, ctx);
    endUpdate(state, run, 'committed', 'commit', null, ctx);
  }
}
