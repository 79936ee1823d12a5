/**
 * rs: function-level patches of running components (`patch apply | undo | list`,
 * DESIGN.md §4, src/patch). The kernel builds the patch file and the component's
 * incarnation applies it to its trampoline tables at once — no quiescence, nothing held.
 * rs numbers the patches system-wide, remembers where each lives, and, when a component
 * is restarted after a fault, applies its patches again in order (a patch lives in an
 * incarnation's memory; a process-level update replaces the code and drops them).
 *
 * Entry points: `doPatch`, `reapplyPatches`, `dropPatches`.
 */
import { err, ok, type Ctx, type Handler } from '../../sys/index.js';
import type { PatchRow, RsRequest } from './protocol.js';
import type { PatchRecord, RsState, ServiceRecord } from './state.js';

type PatchReq = Extract<RsRequest, { type: 'rs.patch' }>;
type Info = Record<string, unknown> & { id: number; status?: string };

export const doPatch: Handler<RsState, PatchReq> = async (state, msg, ctx) => {
  switch (msg.op) {
    case 'apply': {
      if (!msg.label || !msg.source) return err('EINVAL', 'patch apply needs LABEL and FILE.ts');
      const rec = running(state, msg.label);
      if (typeof rec === 'string') return err('ENOENT', rec);
      const r = await ctx.kcall<Info>({ call: 'patch', label: rec.label, op: 'apply', source: msg.source }, { timeoutMs: 120_000 });
      if (!r.ok) return r;
      const row: PatchRecord = { id: state.nextPatch++, label: rec.label, source: msg.source, local: r.value.id, incarnation: rec.incarnation!, undone: false };
      state.patches.push(row);
      event(ctx, rec.label, `patch ${row.id} applied: ${String(r.value.status ?? '')}`);
      return ok(toRow(row, r.value));
    }
    case 'undo': {
      if (msg.patch === undefined) return err('EINVAL', 'patch undo needs the patch id (see patch list)');
      const row = state.patches.find((p) => p.id === msg.patch);
      if (!row) return err('ENOENT', `no patch ${msg.patch}`);
      const rec = running(state, row.label);
      if (typeof rec === 'string') return err('ENOENT', rec);
      if (rec.incarnation !== row.incarnation) return err('ESRCH', `patch ${row.id} is not in ${row.label}'s running incarnation (it was not applied again after a restart)`);
      const r = await ctx.kcall<Info>({ call: 'patch', label: row.label, op: 'undo', id: row.local });
      if (!r.ok) return r;
      row.undone = true;
      event(ctx, row.label, `patch ${row.id} undone`);
      return ok(toRow(row, r.value));
    }
    case 'list': {
      const labels = msg.label ? [msg.label] : [...new Set(state.patches.map((p) => p.label))];
      if (msg.label && !state.services.has(msg.label)) return err('ENOENT', `unknown label ${msg.label}`);
      const rows: PatchRow[] = [];
      for (const label of labels) {
        const rec = state.services.get(label);
        const mine = state.patches.filter((p) => p.label === label);
        let infos: Info[] = [];
        if (rec?.status === 'running') {
          const r = await ctx.kcall<Info[]>({ call: 'patch', label, op: 'list' });
          if (r.ok) infos = r.value;
        }
        for (const p of mine) {
          const info = p.incarnation === rec?.incarnation ? infos.find((i) => i.id === p.local) : undefined;
          rows.push(toRow(p, info ?? { id: p.local, status: 'lost', error: `its incarnation #${p.incarnation} is gone` }));
        }
      }
      return ok(rows);
    }
  }
};

function running(state: RsState, label: string): ServiceRecord | string {
  const rec = state.services.get(label);
  if (!rec) return `unknown label ${label}`;
  if (rec.status !== 'running' || rec.incarnation === null) return `${label} is ${rec.status}, not running`;
  return rec;
}

function toRow(p: PatchRecord, info: Info): PatchRow {
  return { id: p.id, label: p.label, source: p.source, local: p.local, info };
}

function event(ctx: Ctx, label: string, detail: string): void {
  void ctx.kcall({ call: 'update-event', label, update: 0, phase: 'patch', status: 'end', detail });
}

/**
 * A restarted component comes back with its version's code: apply its patches again,
 * in the order they were applied (those undone since are not). A patch that no longer
 * applies is recorded as such in the fault log's place: the event trace.
 */
export async function reapplyPatches(state: RsState, rec: ServiceRecord, ctx: Ctx): Promise<void> {
  const mine = state.patches.filter((p) => p.label === rec.label && p.incarnation !== rec.incarnation);
  if (mine.length === 0) return;
  // Which of them were still applied in the incarnation that ended is not known after a
  // crash; rs's record is what it was told: patches undone were undone through it.
  for (const p of mine) {
    if (p.undone) continue;
    const r = await ctx.kcall<Info>({ call: 'patch', label: rec.label, op: 'apply', source: p.source }, { timeoutMs: 120_000 });
    if (r.ok) {
      p.local = r.value.id;
      p.incarnation = rec.incarnation!;
      event(ctx, rec.label, `patch ${p.id} applied again after a restart`);
    } else {
      event(ctx, rec.label, `patch ${p.id} could not be applied again after a restart: ${r.message ?? r.code}`);
    }
  }
}

/** A process-level update replaced the component's code: its patches are gone with the old version. */
export function dropPatches(state: RsState, label: string): void {
  state.patches = state.patches.filter((p) => p.label !== label);
}
