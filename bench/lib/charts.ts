/**
 * The report's charts, drawn from the experiments' JSON reports with bench/lib/svg.ts:
 *
 *  - `update-time.svg`: live update time (rs's `totalMs`) vs state size, both sweeps of
 *    the `update` experiment (by serialized size, by object count), log-log;
 *  - `update-disruption.svg`: the same for `heldMs` (requests held);
 *  - `faults-outcomes.svg`: the `faults` campaign's outcome counts per server and fault
 *    kind, stacked, one panel per recovery policy;
 *  - `soak-latency.svg`: the `soak` experiment's latency (p50, p99, max) over time, its
 *    updates, rollbacks, faults and batches marked (`Report.timeline`).
 *
 * Each chart states the machine, the date and the command of its report in a caption.
 * A report that lacks the data a chart needs makes `render` throw a `ChartDataError`,
 * whose message says what is missing (the Markdown report prints it instead of the chart).
 *
 * Entry points: `CHARTS`, `ChartDef`, `ChartDataError`, `captionLines`, `machineText`,
 * `updatePoints`, `faultCells`, `timelineOf`, and the renderers `updateChart`,
 * `faultChart`, `soakChart`.
 */
import {
  PALETTE,
  SvgDoc,
  axes,
  barLabelDepth,
  eventMarkers,
  formatTick,
  hline,
  legend,
  lineSeries,
  linearScale,
  logScale,
  num,
  stackedBars,
  type Area,
  type Bar,
  type LegendItem,
  type Marker,
  type Scale,
} from './svg.js';
import type { MachineInfo, Report, Timeline } from './types.js';

/** The report lacks what a chart needs (an older format, a skipped part, no data yet). */
export class ChartDataError extends Error {
  override name = 'ChartDataError';
}

export interface ChartDef {
  /** File name under bench/results/. */
  file: string;
  title: string;
  /** The experiment whose report it is drawn from. */
  experiment: string;
  /** One sentence for the Markdown: what the chart shows. */
  about: string;
  render(report: Report): string;
}

// ───────────────────────────── captions ─────────────────────────────

export function machineText(m: MachineInfo | undefined): string {
  if (!m) return 'unknown machine';
  return `${m.cpus} × ${m.cpuModel}, ${m.totalMemGiB} GiB, ${m.platform}, node ${m.node}`;
}

/** What produced a report: the machine, the date and the command (and whether it was --quick). */
export function captionLines(r: Report): string[] {
  const quick = r.params?.quick === true ? ' (--quick: a smoke test, not a measurement)' : '';
  return [`machine: ${machineText(r.machine)}`, `date: ${r.date} · command: ${r.command}${quick}`];
}

// ───────────────────────────── shared layout ─────────────────────────────

const WIDTH = 960;
const MARGIN = { left: 78, right: 24 };
/** Where the legend starts (under the title). */
const LEGEND_TOP = 42;

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function asRecord(x: unknown): Record<string, unknown> | null {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null;
}

/** Decimal byte sizes as the update experiment counts them (1 MB = 10⁶ bytes). */
export function formatBytes(v: number): string {
  const units: Array<[number, string]> = [[1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']];
  for (const [u, name] of units) if (v >= u) return `${Number((v / u).toPrecision(3))} ${name}`;
  return `${Number(v.toPrecision(3))} B`;
}

// ───────────────────────────── update: time and disruption vs state size ─────────────────────────────

export interface UpdatePointData {
  sweep: 'size' | 'count';
  label: string;
  /** v8.serialize(state).length, and exportGraph's object count. */
  bytes: number;
  objects: number;
  /** Medians over the point's updates (ms). */
  totalMs: number;
  heldMs: number;
  /** Every update at the point. */
  all: Array<{ totalMs: number; heldMs: number }>;
}

/** The points of the update experiment's two sweeps (`params.points[]`). */
export function updatePoints(r: Report): UpdatePointData[] {
  const pts = r.params?.points;
  if (!Array.isArray(pts)) throw new ChartDataError(`${r.experiment}.json has no params.points (the live-update sweeps)`);
  const out: UpdatePointData[] = [];
  for (const raw of pts) {
    const p = asRecord(raw);
    const u = asRecord(p?.updates);
    if (!p || !u || (p.sweep !== 'size' && p.sweep !== 'count') || !isNum(p.bytes) || !isNum(p.objects) || !isNum(u.totalMs) || !isNum(u.heldMs)) {
      continue; // a point without live updates (or an unknown shape) is left out
    }
    const all = Array.isArray(u.all)
      ? u.all.flatMap((x) => {
          const o = asRecord(x);
          return o && isNum(o.totalMs) && isNum(o.heldMs) ? [{ totalMs: o.totalMs, heldMs: o.heldMs }] : [];
        })
      : [];
    out.push({ sweep: p.sweep, label: String(p.label ?? ''), bytes: p.bytes, objects: p.objects, totalMs: u.totalMs, heldMs: u.heldMs, all });
  }
  if (out.length === 0) throw new ChartDataError(`${r.experiment}.json: params.points has no point with live-update timings`);
  return out;
}

/** The target of the `update total` / `update held` figures (they carry it for the small states). */
function updateTarget(r: Report, which: 'total' | 'held'): number | undefined {
  return r.figures.find((f) => f.name.startsWith(`update ${which}, `) && f.target !== undefined && f.targetOn !== 'ratio')?.target;
}

/**
 * Update time (`total`) or disruption (`held`) vs state size: two panels, by serialized
 * size and by object count, log-log, sharing the y scale; the median per point joined by
 * a line, every single update as a hollow marker, the target as a dashed line.
 */
export function updateChart(r: Report, which: 'total' | 'held'): string {
  const pts = updatePoints(r);
  const key = which === 'total' ? 'totalMs' : 'heldMs';
  const title = which === 'total' ? 'Live update time vs state size' : 'Disruption (requests held) vs state size';
  const yLabel = which === 'total' ? 'update time, ms (rs totalMs)' : 'requests held, ms (rs heldMs)';
  const target = updateTarget(r, which);
  const color = which === 'total' ? PALETTE.blue : PALETTE.vermillion;
  const caption = captionLines(r);
  const height = 470;
  const doc = new SvgDoc({
    width: WIDTH,
    height,
    title,
    caption,
    desc: `${title}: median ${key} per point of the update experiment's two sweeps; log-log.`,
  });
  const items: LegendItem[] = [
    { label: `median ${key} per point`, color, kind: 'line', hollow: false },
    { label: 'each update', color, kind: 'marker', hollow: true },
  ];
  if (target !== undefined) items.push({ label: `target ≤ ${target} ms (states ≤ 1 MB)`, color: PALETTE.green, kind: 'line', dash: '6 4' });
  const leg = legend(MARGIN.left, LEGEND_TOP, items, WIDTH - MARGIN.left - MARGIN.right);
  doc.add(leg.svg);

  const top = LEGEND_TOP + leg.height + 26;
  const bottom = doc.captionTop - 52;
  const gapBetween = 92;
  const panelW = (WIDTH - MARGIN.left - MARGIN.right - gapBetween) / 2;
  const ys = pts.flatMap((p) => [p[key], ...p.all.map((u) => u[key])]);
  if (target !== undefined) ys.push(target);
  const zeros = ys.some((v) => v <= 0);
  // A decade below the smallest positive value, so 0 (drawn on the bottom axis) stands apart from it.
  if (zeros && ys.some((v) => v > 0)) ys.push(Math.min(...ys.filter((v) => v > 0)) / 10);
  const yScale = logScale(ys, [bottom, top]);
  const panels: Array<{ sweep: 'size' | 'count'; heading: string; xLabel: string; x: (p: UpdatePointData) => number; fmt: (v: number) => string }> = [
    { sweep: 'size', heading: 'by serialized size (records of 1,000 characters)', xLabel: 'state size, v8.serialize bytes (log)', x: (p) => p.bytes, fmt: formatBytes },
    { sweep: 'count', heading: 'by object count (records with no data)', xLabel: 'objects in the state graph (log)', x: (p) => p.objects, fmt: formatTick },
  ];
  panels.forEach((pan, i) => {
    const area: Area = { x: MARGIN.left + i * (panelW + gapBetween), y: top, width: panelW, height: bottom - top };
    const sweep = pts.filter((p) => p.sweep === pan.sweep).sort((a, b) => pan.x(a) - pan.x(b));
    const xScale = logScale(sweep.length ? sweep.map(pan.x) : [1, 10], [area.x, area.x + area.width], { format: pan.fmt });
    doc.add(`<g class="panel" data-sweep="${pan.sweep}">`);
    doc.add(axes(area, xScale, yScale, { xLabel: pan.xLabel, yLabel: i === 0 ? yLabel : undefined, heading: pan.heading }));
    if (target !== undefined) doc.add(hline(area, yScale, target, `≤ ${target} ms`, PALETTE.green));
    if (sweep.length === 0) {
      doc.add(`<text class="empty" x="${num(area.x + area.width / 2)}" y="${num(area.y + area.height / 2)}" text-anchor="middle" font-size="12" fill="#777777">no points in this sweep</text>`);
    }
    doc.add(lineSeries(xScale, yScale, {
      name: `each update (${pan.sweep})`,
      color,
      points: sweep.flatMap((p) => p.all.map((u) => [pan.x(p), u[key]] as const)),
      line: false,
      hollow: true,
      radius: 3,
    }));
    doc.add(lineSeries(xScale, yScale, { name: `median (${pan.sweep})`, color, points: sweep.map((p) => [pan.x(p), p[key]] as const) }));
    doc.add('</g>');
  });
  if (zeros) {
    doc.add(`<text class="note" x="${num(WIDTH - MARGIN.right)}" y="${num(doc.captionTop - 8)}" text-anchor="end" font-size="10" fill="#777777">rs times in whole ms: 0 ms is drawn on the bottom axis</text>`);
  }
  return doc.toString();
}

// ───────────────────────────── faults: outcome bars ─────────────────────────────

export const OUTCOMES = ['transparent', 'graceful', 'lost', 'system failure', 'not fired'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const OUTCOME_COLOR: Record<Outcome, string> = {
  transparent: PALETTE.green,
  graceful: PALETTE.sky,
  lost: PALETTE.vermillion,
  'system failure': '#333333',
  'not fired': PALETTE.lightGrey,
};

export interface FaultCell {
  target: string;
  kind: string;
  policy: string;
  counts: Record<Outcome, number>;
}

function zeroCounts(): Record<Outcome, number> {
  return { transparent: 0, graceful: 0, lost: 0, 'system failure': 0, 'not fired': 0 };
}

/**
 * The campaign's cells. From `params.cells[]` (`{ target, kind, policy, counts }`) when
 * the report has it; otherwise from the `<target> <kind> <policy>: transparent` figures,
 * whose notes begin with the count of each class ("3 transparent, 1 graceful, 0 lost,
 * 0 system failure, 1 not fired").
 */
export function faultCells(r: Report): FaultCell[] {
  const fromParams = r.params?.cells;
  if (Array.isArray(fromParams)) {
    const cells = fromParams.flatMap((x): FaultCell[] => {
      const c = asRecord(x);
      const counts = asRecord(c?.counts);
      if (!c || !counts || typeof c.target !== 'string' || typeof c.kind !== 'string' || typeof c.policy !== 'string') return [];
      const k = zeroCounts();
      for (const o of OUTCOMES) k[o] = isNum(counts[o]) ? counts[o] : 0;
      return [{ target: c.target, kind: c.kind, policy: c.policy, counts: k }];
    });
    if (cells.length) return cells;
  }
  const cells: FaultCell[] = [];
  for (const f of r.figures) {
    const m = /^(\S+) (\S+) (\S+): transparent$/.exec(f.name);
    if (!m || !f.note) continue;
    const counts = zeroCounts();
    let found = false;
    for (const o of OUTCOMES) {
      const c = new RegExp(`(?:^|; |, )(\\d+) ${o}(?=,|;|$)`).exec(f.note);
      if (c) {
        counts[o] = Number(c[1]);
        found = true;
      }
    }
    if (found) cells.push({ target: m[1]!, kind: m[2]!, policy: m[3]!, counts });
  }
  if (cells.length === 0) throw new ChartDataError(`${r.experiment}.json has no campaign cells (no params.cells, no "<target> <kind> <policy>: transparent" figures with counts)`);
  return cells;
}

/** Order: the report's own lists (params.targets / kinds / policies), then first appearance. */
function orderOf(r: Report, key: 'targets' | 'kinds' | 'policies', seen: string[]): string[] {
  const listed = Array.isArray(r.params?.[key]) ? (r.params![key] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  const out = listed.filter((x) => seen.includes(x));
  for (const s of seen) if (!out.includes(s)) out.push(s);
  return out;
}

/** Outcome counts per (server, fault kind), stacked; one panel per recovery policy. */
export function faultChart(r: Report): string {
  const cells = faultCells(r);
  const uniq = (xs: string[]) => [...new Set(xs)];
  const targets = orderOf(r, 'targets', uniq(cells.map((c) => c.target)));
  const kinds = orderOf(r, 'kinds', uniq(cells.map((c) => c.kind)));
  const policies = orderOf(r, 'policies', uniq(cells.map((c) => c.policy)));
  const present = OUTCOMES.filter((o) => o !== 'not fired' || cells.some((c) => c.counts[o] > 0));
  const barsOf = (policy: string): Bar[] =>
    targets.flatMap((t) =>
      kinds.flatMap((k) => {
        const c = cells.find((x) => x.target === t && x.kind === k && x.policy === policy);
        return c ? [{ group: t, label: k, segments: present.map((o) => ({ key: o, value: c.counts[o] })) }] : [];
      }),
    );
  const perPanel = policies.map((p) => ({ policy: p, bars: barsOf(p) }));
  const maxTotal = Math.max(1, ...cells.map((c) => present.reduce((a, o) => a + c.counts[o], 0)));
  const caption = captionLines(r);
  const plotH = 190;
  const depth = Math.max(...perPanel.map((p) => barLabelDepth(p.bars)), 40);
  const panelH = 24 + plotH + depth + 18;
  const legendH = 22;
  const height = LEGEND_TOP + legendH + 10 + perPanel.length * panelH + 16 + caption.length * 15;
  const trials = isNum(r.params?.trialsPerCell) ? r.params!.trialsPerCell : undefined;
  const doc = new SvgDoc({
    width: WIDTH,
    height,
    title: 'Fault-injection campaign: outcome of each trial',
    caption,
    desc: `Outcome counts per server and fault kind, stacked (${present.join(', ')}), one panel per recovery policy` +
      (trials !== undefined ? `; ${trials} trials per cell` : '') + '.',
  });
  const leg = legend(MARGIN.left, LEGEND_TOP, present.map((o) => ({ label: o, color: OUTCOME_COLOR[o], kind: 'box' as const })), WIDTH - MARGIN.left - MARGIN.right);
  doc.add(leg.svg);
  let y = LEGEND_TOP + leg.height + 10;
  for (const { policy, bars } of perPanel) {
    const area: Area = { x: MARGIN.left, y: y + 24, width: WIDTH - MARGIN.left - MARGIN.right, height: plotH };
    const yScale = linearScale([0, maxTotal], [area.y + area.height, area.y], { ticks: Math.min(5, maxTotal) });
    doc.add(`<g class="panel" data-policy="${policy.replace(/[^\w-]/g, '')}">`);
    doc.add(axes(area, null, yScale, { yLabel: 'trials', heading: `policy: ${policy}`, xTicks: false }));
    doc.add(stackedBars(area, yScale, bars, OUTCOME_COLOR));
    doc.add('</g>');
    y += panelH;
  }
  return doc.toString();
}

// ───────────────────────────── soak: latency over time ─────────────────────────────

const EVENT_COLOR: Record<Timeline['events'][number]['kind'], string> = {
  update: PALETTE.blue,
  rollback: PALETTE.orange,
  fault: PALETTE.vermillion,
  batch: PALETTE.green,
};

/** The report's timeline (`timeline`, or `params.timeline`), checked. */
export function timelineOf(r: Report): Timeline {
  const raw = asRecord(r.timeline) ?? asRecord(r.params?.timeline);
  if (!raw) throw new ChartDataError(`${r.experiment}.json has no timeline (Report.timeline: latency samples and events)`);
  const samples = Array.isArray(raw.samples)
    ? raw.samples.flatMap((x): Timeline['samples'] => {
        const s = asRecord(x);
        return s && isNum(s.t) && isNum(s.p50) && isNum(s.p99) && isNum(s.max) ? [{ t: s.t, p50: s.p50, p99: s.p99, max: s.max }] : [];
      })
    : [];
  const kinds = Object.keys(EVENT_COLOR);
  const events = Array.isArray(raw.events)
    ? raw.events.flatMap((x): Timeline['events'] => {
        const e = asRecord(x);
        return e && isNum(e.t) && typeof e.kind === 'string' && kinds.includes(e.kind)
          ? [{ t: e.t, label: String(e.label ?? e.kind), kind: e.kind as Timeline['events'][number]['kind'], ok: e.ok !== false }]
          : [];
      })
    : [];
  if (samples.length === 0) throw new ChartDataError(`${r.experiment}.json: the timeline has no latency samples`);
  return { samples: [...samples].sort((a, b) => a.t - b.t), events: [...events].sort((a, b) => a.t - b.t) };
}

/**
 * Latency over the soak (p50, p99, max per sample window) with a vertical marker per
 * event (colour by kind, dashed when it did not succeed). The y axis is log10 when the
 * latencies span more than two decades, linear otherwise.
 */
export function soakChart(r: Report): string {
  const tl = timelineOf(r);
  const caption = captionLines(r);
  const height = 480;
  const doc = new SvgDoc({
    width: WIDTH,
    height,
    title: 'Latency over time during the soak',
    caption,
    desc: `Request latency (p50, p99, max per window) over ${tl.samples.length} samples; ${tl.events.length} events marked.`,
  });
  const seriesDefs = [
    { name: 'max', key: 'max' as const, color: '#AAAAAA', width: 1.25 },
    { name: 'p99', key: 'p99' as const, color: PALETTE.pink, width: 1.75 },
    { name: 'p50', key: 'p50' as const, color: PALETTE.black, width: 2 },
  ];
  const kindsPresent = (Object.keys(EVENT_COLOR) as Array<keyof typeof EVENT_COLOR>).filter((k) => tl.events.some((e) => e.kind === k));
  const items: LegendItem[] = [
    ...[...seriesDefs].reverse().map((s) => ({ label: `${s.name} latency`, color: s.color, kind: 'line' as const })),
    ...kindsPresent.map((k) => ({ label: k, color: EVENT_COLOR[k], kind: 'line' as const })),
  ];
  if (tl.events.some((e) => !e.ok)) items.push({ label: 'dashed: did not succeed', color: '#555555', kind: 'line', dash: '4 3' });
  const leg = legend(MARGIN.left, LEGEND_TOP, items, WIDTH - MARGIN.left - MARGIN.right);
  doc.add(leg.svg);
  const area: Area = { x: MARGIN.left, y: LEGEND_TOP + leg.height + 14, width: WIDTH - MARGIN.left - MARGIN.right, height: 0 };
  area.height = doc.captionTop - 52 - area.y;
  const ts = [...tl.samples.map((s) => s.t), ...tl.events.map((e) => e.t)];
  const xScale = linearScale(ts, [area.x, area.x + area.width], { ticks: 8 });
  const lat = tl.samples.flatMap((s) => [s.p50, s.p99, s.max]);
  const pos = lat.filter((v) => v > 0);
  const useLog = pos.length > 0 && Math.max(...pos) / Math.min(...pos) > 100;
  const yScale: Scale = useLog ? logScale(lat, [area.y + area.height, area.y]) : linearScale(lat, [area.y + area.height, area.y]);
  doc.add(axes(area, xScale, yScale, { xLabel: 'time since the start, s', yLabel: `latency, ms${useLog ? ' (log)' : ''}` }));
  const marker = tl.samples.length <= 40 ? ('circle' as const) : ('none' as const);
  for (const s of seriesDefs) {
    doc.add(lineSeries(xScale, yScale, { name: s.name, color: s.color, width: s.width, marker, radius: 2, points: tl.samples.map((x) => [x.t, x[s.key]] as const) }));
  }
  const markers: Marker[] = tl.events.map((e) => ({ x: e.t, label: e.label, color: EVENT_COLOR[e.kind], kind: e.kind, ...(e.ok ? {} : { dash: '4 3' }) }));
  doc.add(eventMarkers(area, xScale, markers));
  return doc.toString();
}

// ───────────────────────────── the list ─────────────────────────────

/** Every chart of the report, in the order it shows them. */
export const CHARTS: readonly ChartDef[] = [
  {
    file: 'update-time.svg',
    title: 'Update time vs state size',
    experiment: 'update',
    about: 'rs\'s `totalMs` (request → result) per live update of `upd`, median per point and every update, against the serialized state size and the object count (log-log).',
    render: (r) => updateChart(r, 'total'),
  },
  {
    file: 'update-disruption.svg',
    title: 'Disruption vs state size',
    experiment: 'update',
    about: 'rs\'s `heldMs` (prepare done → commit: the time `upd`\'s requests are held) per live update, the same points.',
    render: (r) => updateChart(r, 'held'),
  },
  {
    file: 'faults-outcomes.svg',
    title: 'Fault-campaign outcomes',
    experiment: 'faults',
    about: 'Per server and fault kind, how many trials were transparent, graceful (an error, nothing lost), lost (wrong results or data), or a system failure, and how many never fired; one panel per recovery policy.',
    render: faultChart,
  },
  {
    file: 'soak-latency.svg',
    title: 'Latency over time during the soak',
    experiment: 'soak',
    about: 'Request latency (p50, p99, max per window) over the soak, with every update, rollback, fault and batch marked.',
    render: soakChart,
  },
];
