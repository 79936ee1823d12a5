/**
 * rs: object-level updates (`service update LABEL FILE --mode objects [--lazy]`,
 * DESIGN.md §4). The new version is built like any other (bundle + type metadata); then,
 * instead of a new incarnation and a state transfer, the running incarnation loads it
 * and replaces its updatable classes in place (src/objects): a mediated swap of every
 * instance, or, lazily, a mark that converts each instance on its next call. No worker
 * is started, no request is held outside the classes being swapped. The incarnation then
 * runs the new version (a later restart starts it whole).
 *
 * Entry point: `runObjectsUpdate(state, req, ctx) → UpdateResult`.
 */
import type { Ctx } from '../../sys/index.js';
import type { StateMeta } from '../../update/types.js';
import type { RsRequest, UpdateResult } from './protocol.js';
import type { RsState, UpdateRun } from './state.js';
import { Abort, endUpdate, phase, recordCommit, refusedResult } from './update.js';

type UpdateReq = Extract<RsRequest, { type: 'rs.update' }>;

/** The swap's deadline (the old generation of calls must drain by then) unless --maxtime says otherwise. */
const DEFAULT_SWAP_MS = 2_000;

export async function runObjectsUpdate(state: RsState, req: UpdateReq, ctx: Ctx): Promise<UpdateResult> {
  const labels = req.items.map((i) => i.label);
  if (req.items.length !== 1) return refusedResult(state, labels, ctx, '--mode objects updates one component at a time (no --batch)');
  if (req.dryRun || req.prepare || req.state || req.block) return refusedResult(state, labels, ctx, '--mode objects takes no --dry-run, --prepare, --state or --block (the swap waits for the classes\' own calls)');
  const item = req.items[0]!;
  const rec = state.services.get(item.label);
  if (!rec) return refusedResult(state, labels, ctx, `unknown label ${item.label}`);
  if (rec.status !== 'running' || rec.incarnation === null) return refusedResult(state, labels, ctx, `${item.label} is ${rec.status}, not running`);
  if (item.label === ctx.self.label) return refusedResult(state, labels, ctx, `${item.label} cannot update its own objects (use a process-level update)`);
  const busy = new Set([...state.updates.values()].flatMap((r) => r.steps.map((s) => s.label)));
  if (busy.has(item.label)) return refusedResult(state, labels, ctx, `${item.label} is already being updated`);
  const step = {
    label: item.label, source: item.source, from: rec.incarnation, fromVersion: rec.version, version: null as string | null,
    to: rec.incarnation, filters: [], phase: 'build' as const, prepared: false, report: null as unknown,
  };
  const run: UpdateRun = { id: state.nextUpdate++, steps: [step], startedAt: ctx.now(), heldSince: null, timings: {} };
  state.updates.set(run.id, run);
  try {
    await phase(run, 'build', ctx, async () => {
      const r = await ctx.kcall<{ version: string; meta: StateMeta }>({ call: 'build', source: item.source }, { timeoutMs: 120_000 });
      if (!r.ok) throw new Abort('refused', 'build', `${item.label}: ${r.message ?? r.code}`);
      if (!r.value.meta.objects || Object.keys(r.value.meta.objects).length === 0) {
        throw new Abort('refused', 'build', `${item.label}: the new version declares no updatable classes (defineServer({ objects }))`);
      }
      step.version = r.value.version;
    });
    const deadlineMs = req.maxtime ?? DEFAULT_SWAP_MS;
    await phase(run, 'transfer', ctx, async () => {
      (step as { phase: string }).phase = 'transfer';
      const r = await ctx.kcall(
        { call: 'update-objects', label: item.label, version: step.version!, lazy: Boolean(req.lazy), deadlineMs, timeoutMs: deadlineMs + 60_000 },
        { timeoutMs: deadlineMs + 65_000 },
      );
      if (!r.ok) {
        if (r.code === 'ETIMEDOUT') throw new Abort('cancelled', 'transfer', `${item.label}: ${r.message ?? 'the swap did not complete in time'} (old implementation kept)`);
        throw new Abort('rolled-back', 'transfer', `${item.label}: ${r.message ?? r.code}`);
      }
      step.report = r.value;
    });
    recordCommit(state, { ...step, to: rec.incarnation }, ctx);
    return endUpdate(state, run, 'committed', 'commit', null, ctx);
  } catch (e) {
    const a = e instanceof Abort ? e : new Abort('rolled-back', 'transfer', `unexpected: ${(e as Error).message}`);
    return endUpdate(state, run, a.outcome, a.phase, a.message, ctx);
  }
}
