/**
 * A small, dependency-free SVG chart kit for the benchmark report: scales (linear and
 * log10) with their ticks, axes with grid lines and labels, line/scatter series, a
 * legend, stacked bars, horizontal reference lines, vertical event markers, and a
 * document with a title and a caption. Every function returns SVG text; the output is a
 * pure function of the input (numbers are rounded to 2 decimals, nothing depends on the
 * clock, the locale or iteration order of anything unordered), so the same input gives
 * the same bytes and tests can check it.
 *
 * Conventions a reader of the SVG (or a test) can rely on: a series is
 * `<g class="series" data-name=… data-n=…>` holding a `<path class="line">` and one
 * `<circle class="point">` per marker; a stacked bar is `<g class="bar" data-label=…>`
 * holding one `<rect class="seg" data-key=… data-value=…>` per non-zero segment; an event
 * marker is `<g class="event" data-kind=…>`; a tick is `<g class="tick" data-value=…>`; the
 * caption lines are `<text class="caption">`.
 *
 * Entry points: `SvgDoc`, `linearScale`, `logScale`, `axes`, `lineSeries`, `legend`,
 * `stackedBars`, `hline`, `eventMarkers`, `esc`, `num`, `formatTick`, `textWidth`, `PALETTE`.
 */

/** Okabe–Ito: distinguishable with the common kinds of colour blindness, and in print. */
export const PALETTE = {
  blue: '#0072B2',
  vermillion: '#D55E00',
  green: '#009E73',
  orange: '#E69F00',
  pink: '#CC79A7',
  sky: '#56B4E9',
  yellow: '#F0E442',
  black: '#000000',
  grey: '#999999',
  lightGrey: '#DDDDDD',
} as const;

export const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';

/** Text for an XML text node or attribute value. Drops characters XML 1.0 does not allow. */
export function esc(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A coordinate: at most 2 decimals, no `-0`, no exponent. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return '0';
  const r = Math.round(x * 100) / 100;
  return Object.is(r, -0) || r === 0 ? '0' : String(r);
}

/** Rough width of a string in the chart's sans-serif font (deterministic, for layout only). */
export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.58;
}

/** Tick labels: 1, 2.5, 10, 1k, 2.5k, 250k, 1M, 0.001 (≈ 4 significant digits, no float noise). */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  const clean = (x: number) => String(Number(x.toPrecision(4)));
  if (a >= 1e9) return `${clean(v / 1e9)}G`;
  if (a >= 1e6) return `${clean(v / 1e6)}M`;
  if (a >= 1e3) return `${clean(v / 1e3)}k`;
  return clean(v);
}

export interface Tick {
  value: number;
  label: string;
  /** Major ticks get a grid line and (normally) a label; minor ones a short tick only. */
  major: boolean;
}

export interface Scale {
  kind: 'linear' | 'log';
  /** The (widened, "nice") domain the scale maps. */
  domain: [number, number];
  /** Pixels: domain[0] maps to range[0]. */
  range: [number, number];
  /** Value → pixel; values outside the domain are clamped to it (a log scale maps ≤ 0 to its bottom). */
  map(v: number): number;
  ticks: Tick[];
}

export interface ScaleOptions {
  /** Tick label text (default `formatTick`). */
  format?: (v: number) => string;
  /** About how many ticks a linear scale gets (default 5). */
  ticks?: number;
  /** Linear: include 0 in the domain (default true when every value is ≥ 0). */
  zero?: boolean;
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * p;
}

/** A linear scale over the data extent, widened to whole tick steps (1, 2, 2.5, 5 × 10ᵏ). */
export function linearScale(values: readonly number[], range: [number, number], opts: ScaleOptions = {}): Scale {
  const fin = values.filter(Number.isFinite);
  let lo = fin.length ? Math.min(...fin) : 0;
  let hi = fin.length ? Math.max(...fin) : 1;
  if (opts.zero ?? lo >= 0) lo = Math.min(lo, 0);
  if (hi === lo) hi = lo === 0 ? 1 : lo + Math.abs(lo);
  const step = niceStep(hi - lo, opts.ticks ?? 5);
  const d0 = Math.floor(lo / step + 1e-9) * step;
  const d1 = Math.ceil(hi / step - 1e-9) * step;
  const format = opts.format ?? formatTick;
  const ticks: Tick[] = [];
  const n = Math.round((d1 - d0) / step);
  for (let i = 0; i <= n; i++) {
    const v = Number((d0 + i * step).toPrecision(12));
    ticks.push({ value: v, label: format(v), major: true });
  }
  const domain: [number, number] = [ticks[0]!.value, ticks.at(-1)!.value];
  return {
    kind: 'linear',
    domain,
    range,
    ticks,
    map: (v) => {
      const c = Math.min(domain[1], Math.max(domain[0], v));
      return range[0] + ((c - domain[0]) / (domain[1] - domain[0])) * (range[1] - range[0]);
    },
  };
}

/**
 * A log10 scale from the decade at or below the smallest positive value to the decade at
 * or above the largest. Major ticks at every decade (labelled; every other one past 8
 * decades); minor ticks at 2× and 5×, labelled too when the scale spans at most 2 decades.
 */
export function logScale(values: readonly number[], range: [number, number], opts: ScaleOptions = {}): Scale {
  const pos = values.filter((v) => Number.isFinite(v) && v > 0);
  let lo = pos.length ? Math.floor(Math.log10(Math.min(...pos)) + 1e-9) : 0;
  let hi = pos.length ? Math.ceil(Math.log10(Math.max(...pos)) - 1e-9) : 1;
  if (hi <= lo) hi = lo + 1;
  const format = opts.format ?? formatTick;
  const decades = hi - lo;
  const every = decades > 8 ? 2 : 1;
  const ticks: Tick[] = [];
  for (let k = lo; k <= hi; k++) {
    const v = Number((10 ** k).toPrecision(12));
    ticks.push({ value: v, label: (k - lo) % every === 0 ? format(v) : '', major: true });
    if (k < hi && decades <= 4) {
      for (const m of [2, 5]) {
        const mv = Number((m * 10 ** k).toPrecision(12));
        ticks.push({ value: mv, label: decades <= 2 ? format(mv) : '', major: false });
      }
    }
  }
  const domain: [number, number] = [10 ** lo, 10 ** hi];
  return {
    kind: 'log',
    domain,
    range,
    ticks,
    map: (v) => {
      const c = v > 0 ? Math.min(hi, Math.max(lo, Math.log10(v))) : lo;
      return range[0] + ((c - lo) / (hi - lo)) * (range[1] - range[0]);
    },
  };
}

/** The plotting rectangle of a panel, in pixels of the document. */
export interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface AxesOptions {
  xLabel?: string;
  yLabel?: string;
  /** Draw the x axis's ticks and labels (off for bar charts, which label their own bars). */
  xTicks?: boolean;
  /** A heading above the panel. */
  heading?: string;
}

/** The frame, grid, ticks and axis labels of one panel. */
export function axes(area: Area, x: Scale | null, y: Scale, opts: AxesOptions = {}): string {
  const { x: ax, y: ay, width: w, height: h } = area;
  const bottom = ay + h;
  const out: string[] = ['<g class="axes">'];
  out.push(`<rect class="frame" x="${num(ax)}" y="${num(ay)}" width="${num(w)}" height="${num(h)}" fill="none" stroke="#444444" stroke-width="1"/>`);
  out.push(`<g class="y-axis" data-scale="${y.kind}">`);
  for (const t of y.ticks) {
    const py = y.map(t.value);
    out.push(`<g class="tick" data-value="${esc(String(t.value))}">`);
    if (t.major) out.push(`<line x1="${num(ax)}" y1="${num(py)}" x2="${num(ax + w)}" y2="${num(py)}" stroke="${PALETTE.lightGrey}" stroke-width="1"/>`);
    out.push(`<line x1="${num(ax - (t.major ? 5 : 3))}" y1="${num(py)}" x2="${num(ax)}" y2="${num(py)}" stroke="#444444" stroke-width="1"/>`);
    if (t.label) out.push(`<text x="${num(ax - 8)}" y="${num(py + 4)}" text-anchor="end" font-size="11" fill="#333333">${esc(t.label)}</text>`);
    out.push('</g>');
  }
  out.push('</g>');
  if (x && opts.xTicks !== false) {
    out.push(`<g class="x-axis" data-scale="${x.kind}">`);
    for (const t of x.ticks) {
      const px = x.map(t.value);
      out.push(`<g class="tick" data-value="${esc(String(t.value))}">`);
      if (t.major) out.push(`<line x1="${num(px)}" y1="${num(ay)}" x2="${num(px)}" y2="${num(bottom)}" stroke="${PALETTE.lightGrey}" stroke-width="1"/>`);
      out.push(`<line x1="${num(px)}" y1="${num(bottom)}" x2="${num(px)}" y2="${num(bottom + (t.major ? 5 : 3))}" stroke="#444444" stroke-width="1"/>`);
      if (t.label) out.push(`<text x="${num(px)}" y="${num(bottom + 17)}" text-anchor="middle" font-size="11" fill="#333333">${esc(t.label)}</text>`);
      out.push('</g>');
    }
    out.push('</g>');
  }
  // The frame again on top of the grid lines.
  out.push(`<rect x="${num(ax)}" y="${num(ay)}" width="${num(w)}" height="${num(h)}" fill="none" stroke="#444444" stroke-width="1"/>`);
  if (opts.xLabel) {
    out.push(`<text class="axis-label" x="${num(ax + w / 2)}" y="${num(bottom + 36)}" text-anchor="middle" font-size="12" fill="#222222">${esc(opts.xLabel)}</text>`);
  }
  if (opts.yLabel) {
    const lx = ax - 48;
    const ly = ay + h / 2;
    out.push(`<text class="axis-label" x="${num(lx)}" y="${num(ly)}" text-anchor="middle" font-size="12" fill="#222222" transform="rotate(-90 ${num(lx)} ${num(ly)})">${esc(opts.yLabel)}</text>`);
  }
  if (opts.heading) {
    out.push(`<text class="panel-heading" x="${num(ax)}" y="${num(ay - 8)}" font-size="13" font-weight="bold" fill="#222222">${esc(opts.heading)}</text>`);
  }
  out.push('</g>');
  return out.join('\n');
}

export type MarkerShape = 'circle' | 'none';

export interface Series {
  name: string;
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Join the points with a line (default true). */
  line?: boolean;
  /** A marker on every point (default circle); `hollow` draws it unfilled. */
  marker?: MarkerShape;
  hollow?: boolean;
  radius?: number;
  dash?: string;
  width?: number;
}

/** One series: a polyline through its points (in the order given) and a marker per point. */
export function lineSeries(x: Scale, y: Scale, s: Series): string {
  const pts = s.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const out: string[] = [`<g class="series" data-name="${esc(s.name)}" data-n="${pts.length}">`];
  if ((s.line ?? true) && pts.length > 1) {
    const d = pts.map(([a, b], i) => `${i === 0 ? 'M' : 'L'}${num(x.map(a))} ${num(y.map(b))}`).join(' ');
    out.push(`<path class="line" d="${d}" fill="none" stroke="${s.color}" stroke-width="${num(s.width ?? 2)}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>`);
  }
  if ((s.marker ?? 'circle') === 'circle') {
    const r = num(s.radius ?? 3.5);
    const fill = s.hollow ? '#FFFFFF' : s.color;
    for (const [a, b] of pts) {
      out.push(`<circle class="point" cx="${num(x.map(a))}" cy="${num(y.map(b))}" r="${r}" fill="${fill}" stroke="${s.color}" stroke-width="1.25"/>`);
    }
  }
  out.push('</g>');
  return out.join('\n');
}

export interface LegendItem {
  label: string;
  color: string;
  /** `line` (optionally with a marker), `marker`, or a filled `box`. */
  kind: 'line' | 'marker' | 'box';
  dash?: string;
  hollow?: boolean;
}

/** A one-row legend (wrapping onto more rows past `maxWidth`), top-left at (x, y). Returns its SVG and height. */
export function legend(x: number, y: number, items: readonly LegendItem[], maxWidth: number): { svg: string; height: number } {
  const out: string[] = ['<g class="legend">'];
  let cx = x;
  let cy = y;
  const rowH = 18;
  for (const it of items) {
    const w = 26 + textWidth(it.label, 12) + 18;
    if (cx > x && cx + w > x + maxWidth) {
      cx = x;
      cy += rowH;
    }
    out.push(`<g class="legend-item" data-label="${esc(it.label)}">`);
    const my = cy + 6;
    if (it.kind === 'box') {
      out.push(`<rect x="${num(cx)}" y="${num(cy)}" width="18" height="12" fill="${it.color}" stroke="#444444" stroke-width="0.5"/>`);
    } else {
      if (it.kind === 'line') {
        out.push(`<line x1="${num(cx)}" y1="${num(my)}" x2="${num(cx + 20)}" y2="${num(my)}" stroke="${it.color}" stroke-width="2"${it.dash ? ` stroke-dasharray="${it.dash}"` : ''}/>`);
      }
      if (it.kind === 'marker' || it.hollow !== undefined) {
        out.push(`<circle cx="${num(cx + 10)}" cy="${num(my)}" r="3.5" fill="${it.hollow ? '#FFFFFF' : it.color}" stroke="${it.color}" stroke-width="1.25"/>`);
      }
    }
    out.push(`<text x="${num(cx + 26)}" y="${num(cy + 10)}" font-size="12" fill="#222222">${esc(it.label)}</text>`);
    out.push('</g>');
    cx += w;
  }
  out.push('</g>');
  return { svg: out.join('\n'), height: cy - y + rowH };
}

/** A horizontal reference line (a target) across the panel, labelled at its right end. */
export function hline(area: Area, y: Scale, value: number, label: string, color: string): string {
  const py = y.map(value);
  return [
    `<g class="hline" data-value="${esc(String(value))}">`,
    `<line x1="${num(area.x)}" y1="${num(py)}" x2="${num(area.x + area.width)}" y2="${num(py)}" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<text x="${num(area.x + area.width - 4)}" y="${num(py - 4)}" text-anchor="end" font-size="11" fill="${color}">${esc(label)}</text>`,
    '</g>',
  ].join('\n');
}

export interface StackSegment {
  key: string;
  value: number;
}

export interface Bar {
  label: string;
  /** Bars with the same group are drawn together, groups separated by a gap and labelled once. */
  group: string;
  segments: readonly StackSegment[];
}

/**
 * Stacked bars, left to right in the order given, segments bottom-up in the order given;
 * each bar's label under it (rotated), each group's label under its bars. The y scale
 * must be linear from 0.
 */
export function stackedBars(area: Area, y: Scale, bars: readonly Bar[], colors: Readonly<Record<string, string>>): string {
  const groups: string[] = [];
  for (const b of bars) if (groups.at(-1) !== b.group) groups.push(b.group);
  const gap = 1.2; // between groups, in bar slots
  const slots = bars.length + gap * Math.max(0, groups.length - 1) + 1;
  const slot = area.width / Math.max(1, slots);
  const bw = slot * 0.78;
  const bottom = area.y + area.height;
  const out: string[] = ['<g class="bars">'];
  let pos = 0.5;
  let prevGroup: string | null = null;
  const groupSpan = new Map<string, [number, number]>();
  for (const b of bars) {
    if (prevGroup !== null && b.group !== prevGroup) pos += gap;
    prevGroup = b.group;
    const cx = area.x + (pos + 0.5) * slot;
    const span = groupSpan.get(b.group);
    groupSpan.set(b.group, span ? [span[0], cx] : [cx, cx]);
    out.push(`<g class="bar" data-group="${esc(b.group)}" data-label="${esc(b.label)}">`);
    let acc = 0;
    for (const seg of b.segments) {
      if (!(seg.value > 0)) continue;
      const y0 = y.map(acc);
      const y1 = y.map(acc + seg.value);
      acc += seg.value;
      out.push(`<rect class="seg" data-key="${esc(seg.key)}" data-value="${esc(String(seg.value))}" x="${num(cx - bw / 2)}" y="${num(y1)}" width="${num(bw)}" height="${num(y0 - y1)}" fill="${colors[seg.key] ?? PALETTE.grey}" stroke="#FFFFFF" stroke-width="0.5"/>`);
    }
    const ly = bottom + 8;
    out.push(`<text class="bar-label" x="${num(cx)}" y="${num(ly)}" text-anchor="end" font-size="10" fill="#333333" transform="rotate(-55 ${num(cx)} ${num(ly)})">${esc(b.label)}</text>`);
    out.push('</g>');
    pos += 1;
  }
  for (const g of groups) {
    const [a, b] = groupSpan.get(g)!;
    const gy = bottom + barLabelDepth(bars) - 6;
    out.push(`<line class="group-rule" x1="${num(a - bw / 2)}" y1="${num(gy - 13)}" x2="${num(b + bw / 2)}" y2="${num(gy - 13)}" stroke="#888888" stroke-width="1"/>`);
    out.push(`<text class="group-label" x="${num((a + b) / 2)}" y="${num(gy)}" text-anchor="middle" font-size="12" font-weight="bold" fill="#222222">${esc(g)}</text>`);
  }
  out.push('</g>');
  return out.join('\n');
}

/** The height stackedBars' labels take under the plot area. */
export function barLabelDepth(bars: readonly Bar[]): number {
  return Math.max(0, ...bars.map((b) => textWidth(b.label, 10))) * Math.sin((55 * Math.PI) / 180) + 28;
}

export interface Marker {
  x: number;
  label: string;
  color: string;
  /** Dashed (e.g. an event that failed). */
  dash?: string;
  /** Stored as data-kind. */
  kind?: string;
}

/**
 * Vertical lines across the panel at the markers' x, each labelled at the top (rotated),
 * labels staggered over three heights so neighbours do not overprint.
 */
export function eventMarkers(area: Area, x: Scale, markers: readonly Marker[]): string {
  const out: string[] = ['<g class="events">'];
  markers.forEach((m, i) => {
    const px = x.map(m.x);
    const ly = area.y + 12 + (i % 3) * 14;
    out.push(`<g class="event"${m.kind ? ` data-kind="${esc(m.kind)}"` : ''} data-x="${esc(String(m.x))}">`);
    out.push(`<line x1="${num(px)}" y1="${num(area.y)}" x2="${num(px)}" y2="${num(area.y + area.height)}" stroke="${m.color}" stroke-width="1.5"${m.dash ? ` stroke-dasharray="${m.dash}"` : ''} opacity="0.85"/>`);
    out.push(`<text x="${num(px + 3)}" y="${num(ly)}" font-size="10" fill="${m.color}">${esc(m.label)}</text>`);
    out.push('</g>');
  });
  out.push('</g>');
  return out.join('\n');
}

export interface DocOptions {
  width: number;
  height: number;
  title: string;
  /** Lines under the chart: what produced it (machine, date, command). */
  caption: readonly string[];
  /** Longer description for `<desc>` (screen readers, and tests). */
  desc?: string;
}

/** The standalone SVG document: background, title, body, caption. */
export class SvgDoc {
  private readonly parts: string[] = [];

  constructor(readonly opts: DocOptions) {}

  /** The y where the caption starts (keep the body above it). */
  get captionTop(): number {
    return this.opts.height - 10 - this.opts.caption.length * 15;
  }

  add(fragment: string): this {
    this.parts.push(fragment);
    return this;
  }

  toString(): string {
    const { width, height, title, caption } = this.opts;
    const head = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="${esc(FONT)}">`,
      `<title>${esc(title)}</title>`,
      `<desc>${esc([this.opts.desc, ...caption].filter(Boolean).join('\n'))}</desc>`,
      `<rect class="background" x="0" y="0" width="${num(width)}" height="${num(height)}" fill="#FFFFFF"/>`,
      `<text class="title" x="${num(width / 2)}" y="26" text-anchor="middle" font-size="17" font-weight="bold" fill="#111111">${esc(title)}</text>`,
    ];
    const cap = caption.map((line, i) =>
      `<text class="caption" x="12" y="${num(this.captionTop + 12 + i * 15)}" font-size="11" fill="#555555">${esc(line)}</text>`);
    return [...head, ...this.parts, `<line x1="12" y1="${num(this.captionTop - 2)}" x2="${num(width - 12)}" y2="${num(this.captionTop - 2)}" stroke="${PALETTE.lightGrey}" stroke-width="1"/>`, ...cap, '</svg>', ''].join('\n');
  }
}
