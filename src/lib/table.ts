/**
 * Plain-text rendering shared by the console and the host CLI: the `service list`
 * table and durations.
 *
 * Entry points: `formatServiceTable(rows)`, `formatDuration(ms)`.
 */
import type { ServiceRow } from '../servers/rs/protocol.js';

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
