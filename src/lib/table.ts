/**
 * Plain-text rendering shared by the console and the host CLI: the `service list`
 * table, `service faults`, `service policy`, `service fi`, and durations.
 *
 * Entry points: `formatServiceTable(rows)`, `formatDuration(ms)`, `formatFaultTable(rows)`,
 * `formatPolicy(view)`, `formatFiResult(result)`.
 */
import type { FaultRow, FiResult, PolicyView, ServiceRow } from '../servers/rs/protocol.js';

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function formatServiceTable(rows: ServiceRow[]): string {
  return formatTable(
    ['LABEL', 'ENDPOINT', 'INC', 'VERSION', 'STATUS', 'RESTARTS', 'UPTIME', 'MSGS'],
    rows.map((r) => [
      r.label,
      String(r.endpoint),
      r.incarnation === null ? '-' : `#${r.incarnation}`,
      r.version ?? '-',
      r.status,
      String(r.restarts),
      formatDuration(r.uptimeMs),
      String(r.messages),
    ]),
  );
}

/** A time of day in UTC with milliseconds (`14:03:07.412`): the same inside and outside the system. */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** `service faults`: one line per recorded fault, oldest first. */
export function formatFaultTable(rows: FaultRow[]): string {
  if (rows.length === 0) return 'no faults recorded\n';
  return formatTable(
    ['TIME', 'LABEL', 'INC', 'KIND', 'REQUEST', 'ACTION', 'RECOVERED'],
    rows.map((r) => [
      formatClock(r.at),
      r.label,
      r.incarnation === null ? '-' : `#${r.incarnation}`,
      r.injected ? `${r.kind} (fi ${r.injected})` : r.kind,
      r.requests.length > 0 ? r.requests.join(',') : '-',
      r.action,
      r.recoveredMs === null ? '-' : formatDuration(r.recoveredMs),
    ]),
  );
}

/** `service policy`: one line per field, named as the options that change it. */
export function formatPolicy(p: PolicyView): string {
  return formatTable(
    ['POLICY', p.label],
    [
      ['mode', p.mode],
      ['retries', String(p.retries)],
      ['max-init-failures', String(p.maxInitFailures)],
      ['backoff-ms', String(p.backoffBaseMs)],
      ['backoff-max-ms', String(p.backoffMaxMs)],
      ['max-faults', String(p.maxFaults)],
      ['window-ms', String(p.windowMs)],
    ],
  );
}

/** `service fi`: what was armed (or cleared) where. */
export function formatFiResult(r: FiResult): string {
  if (!r.plan) return `cleared fault injection in ${r.label}#${r.incarnation}\n`;
  const p = r.plan;
  const when = [
    `at ${p.at ?? 'any request'}`,
    ...(p.after ? [`after ${p.after}`] : []),
    p.times === 0 ? 'every time' : `${p.times ?? 1} time${(p.times ?? 1) === 1 ? '' : 's'}`,
    ...(p.seed !== undefined ? [`seed ${p.seed}`] : []),
  ];
  return `armed ${p.kind} in ${r.label}#${r.incarnation} (${when.join(', ')})\n`;
}

/** `patch list` / `patch apply`: one row per patch (src/patch's report, as rs relays it). */
export function formatPatchTable(rows: Array<{ id: number; label: string; source: string; info: Record<string, unknown> }>): string {
  const list = (v: unknown) => (Array.isArray(v) ? v.join(',') : '');
  return formatTable(
    ['ID', 'LABEL', 'STATUS', 'FUNCTIONS', 'DATA', 'OLD CALLS', 'APPLY', 'SOURCE', 'NOTE'],
    rows.map((r) => [
      String(r.id), r.label, String(r.info.status ?? '?'), list(r.info.functions), list(r.info.data),
      r.info.oldInvocations === undefined ? '' : String(r.info.oldInvocations),
      typeof r.info.applyUs === 'number' ? `${r.info.applyUs}µs` : '', r.source, typeof r.info.error === 'string' ? r.info.error : '',
    ]),
  );
}
