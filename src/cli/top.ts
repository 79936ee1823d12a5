/**
 * `molt top`: a live terminal view of a running system, and the data model `molt
 * dashboard` shares with it. Each sample is two control-socket requests — the kernel's
 * `snapshot` and `rs.list` (restart counts, service status) — and a view is built from
 * two consecutive samples (messages/s is the difference of the endpoints' delivered
 * counts over the time between them).
 *
 * Columns: LABEL, INC (incarnation), VERSION, STATUS, HEAP (the V8 heap the component's
 * worker uses: a proxy for its state size), MSG/S, INFLIGHT (handlers running in it),
 * RESTARTS; then the updates in progress (label, id, phase, elapsed) and the last
 * update and fault events.
 *
 * Entry points: `sample(home)`, `buildView(cur, prev)`, `timeline(events, services)`,
 * `formatTop(view)`, `runTop(options)`.
 */
import { resolve } from 'node:path';
import type { FaultKind, SystemEvent, SystemSnapshot, UpdateInProgress } from '../kernel/abi.js';
import { formatClock, formatDuration, formatTable } from '../lib/table.js';
import type { ServiceRow } from '../servers/rs/protocol.js';
import { controlRequest, NotRunning } from './client.js';

/** What one poll of a running system returns. */
export interface Sample {
  snap: SystemSnapshot;
  /** rs's `service list`, or null if rs did not answer in time (e.g. while rs itself is updated). */
  services: ServiceRow[] | null;
}

/** One component as top and the dashboard show it. */
export interface TopRow {
  label: string;
  /** service: a component rs manages; program: a user process that is running now. */
  kind: 'service' | 'program';
  endpoint: number;
  incarnation: number | null;
  version: string | null;
  /** rs's status for a service (`running`, `restarting`, `failed` …), `updating` during a live update; else the kernel's binding. */
  status: string;
  /** Bytes of V8 heap its worker uses (a proxy for state size); null if it did not answer in time. */
  heapUsed: number | null;
  inflight: number | null;
  /** Messages delivered per second between the two samples (null for the first sample). */
  msgsPerSec: number | null;
  delivered: number;
  held: number;
  restarts: number | null;
}

export interface TopView {
  t: number;
  /** Time between the two samples the rates come from (ms), or null. */
  intervalMs: number | null;
  components: TopRow[];
  updates: Array<UpdateInProgress & { elapsedMs: number }>;
  /** The kernel's recent system events, oldest first. */
  events: SystemEvent[];
}

/** Updates and faults, grouped for reading: one item per update (its phases and timings), per fault, per incarnation. */
export type TimelineItem =
  | {
      kind: 'update'; update: number; label: string; startedAt: number; endedAt: number | null;
      phases: Array<{ phase: string; startedAt: number; ms: number | null }>;
      /** committed, rolled-back, cancelled … (null while it runs); `detail` is rs's full outcome text. */
      outcome: string | null; detail: string | null;
    }
  | { kind: 'patch'; t: number; label: string; detail: string | null }
  | { kind: 'crashed'; t: number; label: string; incarnation: number; fault: FaultKind; message: string }
  | { kind: 'failed'; t: number; label: string; reason: string }
  | { kind: 'started'; t: number; label: string; incarnation: number; version: string }
  | { kind: 'ended'; t: number; label: string; incarnation: number };

/** How long top waits for rs's service list: a busy rs (e.g. updating itself) must not stall the view. */
const RS_LIST_TIMEOUT_MS = 1_000;

/** Take one sample (throws `NotRunning` if no system answers on `home`). */
export async function sample(home: string): Promise<Sample> {
  const [snap, list] = await Promise.all([
    controlRequest(home, { verb: 'snapshot' }),
    controlRequest(home, { verb: 'call', to: 'rs', msg: { type: 'rs.list' }, timeoutMs: RS_LIST_TIMEOUT_MS }).catch(() => null),
  ]);
  if (!snap.ok) throw new Error(`snapshot: ${snap.code}${snap.message ? `: ${snap.message}` : ''}`);
  return { snap: snap.value as SystemSnapshot, services: list?.ok ? (list.value as ServiceRow[]) : null };
}

/**
 * The view of `cur`, with rates against `prev`. Shown: every component rs knows, and
 * every other endpoint that is bound now (a running user program); programs that ended
 * are not shown. Without rs's list (it did not answer), every endpoint is shown.
 * `restartsFallback`: restart counts from an earlier sample, used when rs did not answer.
 */
export function buildView(cur: Sample, prev: Sample | null, restartsFallback?: Map<string, number>): TopView {
  const { snap } = cur;
  const services = cur.services ? new Map(cur.services.map((s) => [s.label, s])) : null;
  const before = new Map((prev?.snap.components ?? []).map((c) => [c.endpoint, c.delivered]));
  const dt = prev ? snap.t - prev.snap.t : 0;
  const updating = new Set(snap.updates.flatMap((u) => u.label.split(',')));
  const components: TopRow[] = [];
  for (const c of snap.components) {
    const svc = services?.get(c.label);
    if (services && !svc && c.status !== 'bound') continue;
    const was = before.get(c.endpoint);
    components.push({
      label: c.label,
      kind: svc || !services ? 'service' : 'program',
      endpoint: c.endpoint,
      incarnation: c.incarnation,
      version: c.version,
      status: updating.has(c.label) ? 'updating' : svc?.status ?? (c.status === 'bound' ? 'running' : c.status),
      heapUsed: c.stats?.heapUsed ?? null,
      inflight: c.stats?.inflight ?? null,
      msgsPerSec: was !== undefined && dt > 0 ? Math.max(0, ((c.delivered - was) * 1000) / dt) : null,
      delivered: c.delivered,
      held: c.held,
      restarts: svc?.restarts ?? restartsFallback?.get(c.label) ?? null,
    });
  }
  components.sort((a, b) => (a.kind === b.kind ? a.label.localeCompare(b.label) : a.kind === 'service' ? -1 : 1));
  return {
    t: snap.t,
    intervalMs: prev ? dt : null,
    components,
    updates: snap.updates.map((u) => ({ ...u, elapsedMs: snap.t - u.startedAt })),
    events: snap.events,
  };
}

/**
 * Group system events into a timeline, oldest first: each update's phase events become
 * one item with its phases' timings and outcome. With `services`, incarnations starting
 * and ending are kept only for those labels (not every short-lived user program).
 */
export function timeline(events: readonly SystemEvent[], services?: ReadonlySet<string>): TimelineItem[] {
  const items: TimelineItem[] = [];
  const updates = new Map<number, Extract<TimelineItem, { kind: 'update' }>>();
  for (const e of events) {
    switch (e.ev) {
      case 'update.phase': {
        if (e.update <= 0) {
          items.push({ kind: 'patch', t: e.t, label: e.label, detail: e.detail ?? null });
          break;
        }
        let u = updates.get(e.update);
        if (!u) {
          u = { kind: 'update', update: e.update, label: e.label, startedAt: e.t, endedAt: null, phases: [], outcome: null, detail: null };
          updates.set(e.update, u);
          items.push(u);
        }
        if (e.status === 'start') {
          u.phases.push({ phase: e.phase, startedAt: e.t, ms: null });
        } else if (e.detail !== undefined) {
          // endUpdate: the outcome ("committed", or "rolled-back: why").
          u.endedAt = e.t;
          u.detail = e.detail;
          u.outcome = e.detail.split(':')[0]!.trim();
        } else {
          const p = [...u.phases].reverse().find((x) => x.phase === e.phase && x.ms === null);
          if (p) p.ms = e.t - p.startedAt;
          else u.phases.push({ phase: e.phase, startedAt: e.t, ms: null });
        }
        break;
      }
      case 'incarnation.crashed':
        items.push({ kind: 'crashed', t: e.t, label: e.label, incarnation: e.incarnation, fault: e.kind, message: e.error.message });
        break;
      case 'endpoint.failed':
        items.push({ kind: 'failed', t: e.t, label: e.label, reason: e.reason });
        break;
      case 'incarnation.started':
        if (!services || services.has(e.label)) items.push({ kind: 'started', t: e.t, label: e.label, incarnation: e.incarnation, version: e.version });
        break;
      case 'incarnation.ended':
        if (!services || services.has(e.label)) items.push({ kind: 'ended', t: e.t, label: e.label, incarnation: e.incarnation });
        break;
    }
  }
  return items;
}

/** One timeline item as a line of text. */
export function describeItem(item: TimelineItem): string {
  switch (item.kind) {
    case 'update': {
      const phases = item.phases.map((p) => `${p.phase} ${p.ms === null ? '…' : formatDuration(p.ms)}`).join(' · ');
      const end = item.outcome === null ? 'running' : item.detail ?? item.outcome;
      return `${formatClock(item.startedAt)}  update #${item.update} ${item.label}: ${phases || '-'} → ${end}`;
    }
    case 'patch':
      return `${formatClock(item.t)}  patch ${item.label}: ${item.detail ?? ''}`;
    case 'crashed':
      return `${formatClock(item.t)}  ${item.label}#${item.incarnation} crashed (${item.fault}): ${item.message}`;
    case 'failed':
      return `${formatClock(item.t)}  ${item.label} failed: ${item.reason}`;
    case 'started':
      return `${formatClock(item.t)}  ${item.label}#${item.incarnation} started (${item.version})`;
    case 'ended':
      return `${formatClock(item.t)}  ${item.label}#${item.incarnation} ended`;
  }
}

export function formatBytes(n: number | null): string {
  if (n === null) return '-';
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)}K`;
  return `${(n / (1024 * 1024)).toFixed(1)}M`;
}

function formatRate(r: number | null): string {
  if (r === null) return '-';
  return r >= 100 ? r.toFixed(0) : r.toFixed(1);
}

/** How many update and fault events top prints under the table. */
const EVENTS_SHOWN = 8;

/** The whole screen of `molt top` as text (also what `--once` prints). */
export function formatTop(view: TopView, home: string): string {
  const rate = view.intervalMs === null ? '' : ` · rates over ${formatDuration(view.intervalMs)}`;
  const out: string[] = [];
  out.push(`molt top — ${home} — ${new Date(view.t).toISOString().slice(0, 19).replace('T', ' ')} UTC — ${view.components.length} components${rate}`);
  out.push('HEAP: V8 heap used by the component\'s worker (a proxy for its state size) · INFLIGHT: handlers running in it');
  out.push('');
  out.push(formatTable(
    ['LABEL', 'INC', 'VERSION', 'STATUS', 'HEAP', 'MSG/S', 'INFLIGHT', 'RESTARTS'],
    view.components.map((r) => [
      r.label,
      r.incarnation === null ? '-' : `#${r.incarnation}`,
      r.version ?? '-',
      r.status,
      formatBytes(r.heapUsed),
      formatRate(r.msgsPerSec),
      r.inflight === null ? '-' : String(r.inflight),
      r.restarts === null ? (r.kind === 'program' ? '' : '-') : String(r.restarts),
    ]),
  ).trimEnd());
  out.push('');
  if (view.updates.length === 0) out.push('UPDATES IN PROGRESS: none');
  else {
    out.push('UPDATES IN PROGRESS');
    for (const u of view.updates) out.push(`  #${u.update} ${u.label}  phase ${u.phase} (${formatDuration(view.t - u.phaseStartedAt)})  elapsed ${formatDuration(u.elapsedMs)}`);
  }
  out.push('');
  const recent = timeline(view.events).filter((i) => i.kind !== 'started' && i.kind !== 'ended').slice(-EVENTS_SHOWN);
  out.push(recent.length === 0 ? 'RECENT UPDATES AND FAULTS: none' : 'RECENT UPDATES AND FAULTS');
  for (const item of recent) out.push(`  ${describeItem(item)}`);
  return out.join('\n') + '\n';
}

export interface TopOptions {
  home: string;
  intervalMs: number;
  once: boolean;
  json: boolean;
}

/** Run `molt top`: until Ctrl-C / SIGTERM (or once). Resolves with the exit status. */
export async function runTop(opts: TopOptions): Promise<number> {
  const home = resolve(opts.home);
  const tty = Boolean(process.stdout.isTTY) && !opts.json && !opts.once;
  let stopped = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const sleep = (ms: number) => new Promise<void>((r) => {
    const timer = setTimeout(() => { wake = null; r(); }, ms);
    wake = () => { clearTimeout(timer); wake = null; r(); };
  });
  const restarts = new Map<string, number>();
  const take = async (): Promise<Sample> => {
    const s = await sample(home);
    for (const row of s.services ?? []) restarts.set(row.label, row.restarts);
    return s;
  };
  const emit = (view: TopView, first: boolean) => {
    if (opts.json) return void process.stdout.write(JSON.stringify(view) + '\n');
    const text = formatTop(view, home);
    if (!tty) return void process.stdout.write((first ? '' : '\n') + text);
    // Redraw in place: home the cursor, rewrite each line clearing its tail, clear below.
    const width = process.stdout.columns || 120;
    const height = process.stdout.rows || 1000;
    const lines = text.trimEnd().split('\n').slice(0, Math.max(1, height - 1)).map((l) => (l.length > width ? l.slice(0, width) : l) + '\x1b[K');
    process.stdout.write(`\x1b[H${lines.join('\n')}\n\x1b[J`);
  };
  if (tty) process.stdout.write('\x1b[?25l\x1b[H\x1b[2J'); // hide the cursor, clear the screen
  try {
    let prev = await take();
    // The first view waits one interval so that it has rates.
    let first = true;
    while (!stopped) {
      await sleep(opts.intervalMs);
      if (stopped && !opts.once) break;
      const cur = await take();
      emit(buildView(cur, prev, restarts), first);
      first = false;
      prev = cur;
      if (opts.once) break;
    }
    return 0;
  } catch (e) {
    if (tty) process.stdout.write('\x1b[?25h\n');
    const msg = e instanceof NotRunning ? e.message : `lost the system: ${(e as Error).message}`;
    process.stderr.write(`molt: ${msg}\n`);
    return 1;
  } finally {
    if (tty) process.stdout.write('\x1b[?25h');
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
