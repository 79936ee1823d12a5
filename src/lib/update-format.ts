/**
 * Plain-text rendering of live-update results and histories, shared by the console
 * and the host CLI, and the exit status each outcome maps to.
 *
 * Entry points: `formatUpdateResult`, `formatHistory`, `updateExitCode`.
 */
import type { UpdateResult } from '../servers/rs/protocol.js';
import { formatTable } from './table.js';

const EXIT: Record<UpdateResult['outcome'], number> = { committed: 0, 'dry-run': 0, refused: 2, 'rolled-back': 3, cancelled: 4 };

export function updateExitCode(r: UpdateResult): number {
  return EXIT[r.outcome];
}

const versions = (r: UpdateResult) => r.versions.map((v) => `${v.label} ${v.from ?? '?'} → ${v.to ?? '?'}`).join(', ');

/** One line saying how it ended (plus the plan for a dry run). */
export function formatUpdateResult(r: UpdateResult): string {
  const labels = r.labels.join(', ');
  switch (r.outcome) {
    case 'committed':
      return `committed: ${versions(r)} in ${r.totalMs} ms (requests held ${r.heldMs} ms)\n${objectLines(r)}`;
    case 'rolled-back':
      return `rolled back in ${r.phase}: ${r.reason}\n`;
    case 'cancelled':
      return `cancelled in ${r.phase}: ${r.reason}\n`;
    case 'refused':
      return `refused: ${r.reason}\n`;
    case 'dry-run': {
      let out = `dry run: ${versions(r)} (nothing changed)\n`;
      for (const [label, plan] of Object.entries(r.plans ?? {})) out += `${label}: ${formatPlan(plan)}`;
      return out || `dry run: ${labels}\n`;
    }
  }
}

/** An object-level update's report: one line per class. */
function objectLines(r: UpdateResult): string {
  let out = '';
  for (const [label, report] of Object.entries(r.reports)) {
    const rep = report as { mode?: string; classes?: Array<Record<string, unknown>>; totalUs?: number; loadMs?: number; notes?: string[] };
    if (!Array.isArray(rep.classes)) continue;
    out += `${label}: ${rep.mode} object update, ${rep.totalUs} µs in the component (bundle loaded in ${rep.loadMs} ms)\n`;
    for (const c of rep.classes) {
      out += `  ${String(c.name)}: ${String(c.action)}, ${String(c.instances)} instances`;
      if (c.action === 'swapped') out += `, ${String(c.converted)} converted, ${String(c.inflightAtStart)} calls in flight at start, ${String(c.held)} held; forward ${String(c.forwardMs)} ms, block ${String(c.blockMs)} ms, transfer ${String(c.transferMs)} ms`;
      out += '\n';
    }
    for (const n of rep.notes ?? []) out += `  note: ${n}\n`;
  }
  return out;
}

function formatPlan(plan: unknown): string {
  const p = plan as Record<string, unknown>;
  if (typeof p.note === 'string') return `${p.note}\n`;
  const lines: string[] = [];
  for (const [key, title] of [
    ['typesAdded', 'types added'], ['typesRemoved', 'types removed'], ['fieldsAdded', 'fields added'],
    ['fieldsRemoved', 'fields removed (dropped)'], ['converted', 'converted'], ['refused', 'REFUSED (needs a callback)'],
  ] as const) {
    const items = p[key] as string[] | undefined;
    if (items && items.length > 0) lines.push(`  ${title}:\n${items.map((i) => `    ${i}`).join('\n')}`);
  }
  return lines.length > 0 ? `\n${lines.join('\n')}\n` : 'no change in the state type\n';
}

export function formatHistory(h: { label: string; versions: Array<{ version: string; source: string; since: number }>; updates: UpdateResult[] }): string {
  let out = `${h.label}: versions (oldest first)\n`;
  out += formatTable(['VERSION', 'SINCE', 'SOURCE'], h.versions.map((v) => [v.version, new Date(v.since).toISOString(), v.source]));
  out += `\nupdates\n`;
  out += formatTable(
    ['ID', 'STARTED', 'OUTCOME', 'PHASE', 'VERSIONS', 'TOTAL', 'HELD', 'PHASES (ms)', 'REASON'],
    h.updates.map((u) => [
      String(u.id), new Date(u.startedAt).toISOString(), u.outcome, u.phase, versions(u), `${u.totalMs}ms`, `${u.heldMs}ms`,
      Object.entries(u.timings).map(([k, v]) => `${k}=${v}`).join(' '), u.reason ?? '',
    ]),
  );
  return out;
}
