// The benchmark report renderer (bench/render.ts, bench/lib/{svg,charts,markdown}.ts):
// charts drawn from synthetic reports are well-formed standalone SVG with the expected
// points, bars, markers and log ticks, captioned with machine, date and command; the same
// input gives the same bytes; REPORT.md has its sections and links, and says what is
// missing when the results directory is empty.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHARTS, ChartDataError, faultCells, faultChart, soakChart, updateChart, updatePoints } from '../../bench/lib/charts.js';
import { esc, formatTick, linearScale, logScale, num } from '../../bench/lib/svg.js';
import { buildOutputs, loadReports, renderResults, type Loaded } from '../../bench/render.js';
import type { Figure, MachineInfo, Report, Timeline } from '../../bench/lib/types.js';

// ───────────────────────────── a small XML well-formedness check ─────────────────────────────

/** Errors of an XML document (empty when well-formed): balanced tags, quoted unique attributes, escaped text, one root. */
function xmlErrors(xml: string): string[] {
  const errors: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  const badAmp = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  for (const m of body.matchAll(/<!--[\s\S]*?-->|<[^>]*>|[^<]+/g)) {
    const tok = m[0];
    if (tok.startsWith('<!--')) continue;
    if (!tok.startsWith('<')) {
      if (badAmp.test(tok)) errors.push(`unescaped & in text ${JSON.stringify(tok.slice(0, 40))}`);
      if (stack.length === 0 && tok.trim()) errors.push(`text outside the root: ${JSON.stringify(tok.slice(0, 40))}`);
      continue;
    }
    const close = /^<\/([A-Za-z_][\w.:-]*)\s*>$/.exec(tok);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) errors.push(`</${close[1]}> closes <${open}>`);
      continue;
    }
    const t = /^<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"<]*")*)\s*(\/?)>$/.exec(tok);
    if (!t) {
      errors.push(`malformed tag ${tok.slice(0, 60)}`);
      continue;
    }
    const names = [...t[2]!.matchAll(/([A-Za-z_][\w.:-]*)="([^"]*)"/g)].map((a) => {
      if (badAmp.test(a[2]!)) errors.push(`unescaped & in attribute ${a[1]} of <${t[1]}>`);
      return a[1]!;
    });
    if (new Set(names).size !== names.length) errors.push(`duplicate attribute in <${t[1]}>`);
    if (stack.length === 0) roots++;
    if (!t[3]) stack.push(t[1]!);
  }
  if (stack.length) errors.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) errors.push(`${roots} root elements`);
  return errors;
}

const count = (s: string, re: RegExp) => [...s.matchAll(re)].length;
/** The text of every `<text class="…">` element of a class. */
const texts = (svg: string, cls: string) => [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
/** The labels of an axis' ticks. */
function tickLabels(svg: string, axis: 'x-axis' | 'y-axis', nth = 0): string[] {
  const groups = [...svg.matchAll(new RegExp(`<g class="${axis}" data-scale="(\\w+)">([\\s\\S]*?)\\n</g>\\n(?!<g class="tick")`, 'g'))];
  const g = groups[nth];
  if (!g) return [];
  return [...g[2]!.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

// ───────────────────────────── synthetic reports ─────────────────────────────

const MACHINE: MachineInfo = { node: 'v20.20.2', cpus: 2, cpuModel: 'Test CPU <Model> & Co', totalMemGiB: 23.6, platform: 'linux 6.18 x64' };

function report(experiment: string, figures: Figure[], params: Record<string, unknown> = {}, extra: Partial<Report> = {}): Report {
  return { experiment, date: `2026-12-06T05:00:00.000Z`, machine: MACHINE, command: `npm run bench -- ${experiment}`, params: { quick: false, ...params }, figures, ...extra };
}

const SIZE = [[27, 3, 18, 2, '≈0 MB'], [999_800, 963, 25, 5, '1 MB'], [9_998_000, 9_603, 120, 60, '10 MB'], [99_990_000, 96_003, 1100, 700, '100 MB']] as const;
const COUNT = [[49_000, 1_002, 20, 0, '1k objects'], [490_000, 10_002, 40, 3, '10k objects'], [4_900_000, 100_002, 260, 150, '100k objects'], [49_000_000, 1_000_002, 2500, 1900, '1M objects']] as const;
const UPDATES_PER_POINT = 3;

function updateReport(): Report {
  const mk = (sweep: 'size' | 'count', [bytes, objects, t, h, label]: readonly [number, number, number, number, string]) => ({
    sweep, label, records: objects - 2, payload: sweep === 'size' ? 1000 : 0, bytes, objects,
    updates: {
      totalMs: t, heldMs: h, hostMs: t + 1, phases: {}, byDir: {},
      all: Array.from({ length: UPDATES_PER_POINT }, (_, i) => ({ dir: i % 2 ? 'v2→v1' : 'v1→v2', totalMs: t + i - 1, heldMs: Math.max(0, h + i - 1), hostMs: t, timings: {} })),
    },
  });
  return report('update', [
    { name: 'update total, ≈0 MB', value: 18, unit: 'ms', target: 50, targetOn: 'value', better: 'lower', pass: true },
    { name: 'update held, ≈0 MB', value: 2, unit: 'ms', target: 10, targetOn: 'value', better: 'lower', pass: true },
    { name: 'state transfer throughput, 10 MB', value: 120, unit: 'MB/s', baseline: 400, baselineName: 'v8 serialize+deserialize', ratio: 0.3, target: 3, targetOn: 'ratio', better: 'higher', pass: false, note: 'a | pipe and <html>' },
  ], { points: [...SIZE.map((p) => mk('size', p)), ...COUNT.map((p) => mk('count', p))] });
}

const TARGETS = ['vfs', 'mfs', 'pm', 'net', 'sched', 'tty', 'kvd'];
const KINDS = ['crash', 'throw', 'hang', 'oom', 'corrupt'];
const POLICIES = ['stateless-restart', 'ssr-restart'];
const TRIALS = 4;

/** Outcome counts of a cell, varied but deterministic. */
function cellCounts(i: number) {
  const lost = i % 5 === 0 ? 1 : 0;
  const sf = i % 7 === 0 ? 1 : 0;
  const nf = i % 11 === 0 ? 1 : 0;
  const graceful = i % 3 === 0 ? 1 : 0;
  return { transparent: TRIALS - lost - sf - nf - graceful, graceful, lost, 'system failure': sf, 'not fired': nf };
}

/** As bench/faults.ts writes it: counts only in the figures' notes. */
function faultsReport(withCells = false): Report {
  const figures: Figure[] = [];
  const cells: unknown[] = [];
  let i = 0;
  for (const t of TARGETS) for (const p of POLICIES) for (const k of KINDS) {
    const c = cellCounts(i++);
    cells.push({ target: t, kind: k, policy: p, counts: c });
    const fired = TRIALS - c['not fired'];
    figures.push({
      name: `${t} ${k} ${p}: transparent`, value: (100 * c.transparent) / fired, unit: '%', better: 'higher',
      ...(p === 'ssr-restart' && k !== 'corrupt' ? { target: 95, targetOn: 'value' as const, pass: c.transparent === fired } : {}),
      note: `${c.transparent} transparent, ${c.graceful} graceful, ${c.lost} lost, ${c['system failure']} system failure${c['not fired'] ? `, ${c['not fired']} not fired` : ''}; ` +
        'recovery median 80 ms, p99 120 ms (3); graceful: kvd SET: ECONNRESET, 2 lost',
    });
    figures.push({ name: `${t} ${k} ${p}: recovery p50`, value: 80, unit: 'ms' });
  }
  return report('faults', figures, { trialsPerCell: TRIALS, targets: TARGETS, kinds: KINDS, policies: POLICIES, ...(withCells ? { cells } : {}) });
}

const SAMPLES = 120;

function timeline(): Timeline {
  const samples = Array.from({ length: SAMPLES }, (_, i) => {
    const t = (i + 1) * 5;
    const spike = [60, 120, 300, 420].some((e) => t >= e && t < e + 10);
    return { t, p50: 0.4 + (i % 7) * 0.02, p99: spike ? 40 : 2 + (i % 5) * 0.3, max: spike ? 250 : 8 + (i % 3) };
  });
  const events: Timeline['events'] = [
    { t: 60, label: 'kvd v2', kind: 'update', ok: true },
    { t: 120, label: 'vfs v2', kind: 'update', ok: true },
    { t: 300, label: 'mfs bad → rolled back', kind: 'rollback', ok: false },
    { t: 420, label: 'crash <pm>', kind: 'fault', ok: true },
    { t: 500, label: 'batch vfs+mfs', kind: 'batch', ok: true },
  ];
  return { samples, events };
}

function soakReport(): Report {
  return report('soak', [{ name: 'failed requests', value: 0, unit: 'requests', target: 0, targetOn: 'value', better: 'lower', pass: true }], {}, { timeline: timeline() });
}

function ipcReport(): Report {
  return report('ipc', [
    { name: 'sendrec RTT mean, pinned 1 CPU', value: 25.2, unit: 'µs', baseline: 9.6, baselineName: 'raw worker↔worker', ratio: 2.625, target: 1.5, targetOn: 'ratio', better: 'lower', pass: false },
    { name: 'boot to console ready, warm, median', value: 370.8, unit: 'ms', target: 500, targetOn: 'value', better: 'lower', pass: true, note: '7 boots' },
  ]);
}

function expectCaption(svg: string, r: Report) {
  const cap = texts(svg, 'caption').join('\n');
  expect(cap).toContain(esc(MACHINE.cpuModel));
  expect(cap).toContain(`${MACHINE.cpus} × `);
  expect(cap).toContain(MACHINE.node);
  expect(cap).toContain(r.date);
  expect(cap).toContain(r.command);
}

// ───────────────────────────── the SVG kit ─────────────────────────────

describe('svg kit', () => {
  it('escapes text and attribute values, formats numbers without noise', () => {
    expect(esc(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;');
    expect(esc('bell\u0007')).toBe('bell');
    expect(num(-0.001)).toBe('0');
    expect(num(1 / 3)).toBe('0.33');
    expect(num(12)).toBe('12');
    expect(formatTick(0.1 + 0.2)).toBe('0.3');
    expect(formatTick(1000)).toBe('1k');
    expect(formatTick(2_500_000)).toBe('2.5M');
  });

  it('a log10 scale has a major tick per decade, minor 2× and 5× ticks, and clamps ≤ 0 to its bottom', () => {
    const s = logScale([27, 99_990_000], [0, 700]);
    expect(s.domain).toEqual([10, 1e8]);
    expect(s.ticks.filter((t) => t.major).map((t) => t.value)).toEqual([10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]);
    expect(s.ticks.filter((t) => !t.major)).toHaveLength(0); // 7 decades: no minor ticks
    expect(s.map(1e4)).toBeCloseTo(300);
    expect(s.map(0)).toBe(0);
    const narrow = logScale([20, 60], [0, 100]);
    expect(narrow.ticks.map((t) => t.label)).toEqual(['10', '20', '50', '100']);
    const wide = logScale([1, 1e12], [0, 100]);
    expect(wide.ticks.map((t) => t.label)).toEqual(['1', '', '100', '', '10k', '', '1M', '', '100M', '', '10G', '', '1000G']);
  });

  it('a linear scale widens to whole nice steps and includes 0 for positive data', () => {
    const s = linearScale([3, 97], [0, 100]);
    expect(s.ticks.map((t) => t.value)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(linearScale([0, 6], [0, 1], { ticks: 5 }).ticks.map((t) => t.value)).toEqual([0, 2, 4, 6]);
    expect(linearScale([0, 1], [0, 1], { ticks: 1 }).ticks.map((t) => t.value)).toEqual([0, 1]);
    expect(linearScale([0.1, 0.3], [0, 1]).ticks.every((t) => String(t.value).length < 6)).toBe(true);
  });
});

// ───────────────────────────── the charts ─────────────────────────────

describe('charts', () => {
  it('update time vs state size: two log-log panels, a median per point and every update, the target, the caption', () => {
    const r = updateReport();
    const svg = updateChart(r, 'total');
    expect(xmlErrors(svg)).toEqual([]);
    expect(svg).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<title>Live update time vs state size</title>');
    expectCaption(svg, r);
    expect(count(svg, /<g class="panel" data-sweep="(size|count)">/g)).toBe(2);
    const points = SIZE.length + COUNT.length;
    expect(count(svg, /<circle class="point"/g)).toBe(points + points * UPDATES_PER_POINT);
    expect(svg).toContain(`data-name="median (size)" data-n="${SIZE.length}"`);
    expect(svg).toContain(`data-name="each update (count)" data-n="${COUNT.length * UPDATES_PER_POINT}"`);
    expect(count(svg, /<g class="x-axis" data-scale="log">/g)).toBe(2);
    expect(count(svg, /<g class="y-axis" data-scale="log">/g)).toBe(2);
    expect(tickLabels(svg, 'x-axis', 0)).toEqual(['10 B', '100 B', '1 kB', '10 kB', '100 kB', '1 MB', '10 MB', '100 MB']);
    expect(tickLabels(svg, 'x-axis', 1)).toEqual(['1k', '10k', '100k', '1M', '10M']);
    expect(tickLabels(svg, 'y-axis', 0)).toEqual(['10', '100', '1k', '10k']);
    expect(count(svg, /<g class="hline" data-value="50">/g)).toBe(2);
  });

  it('disruption vs state size: heldMs, its own target; 0 ms drawn on the axis and said so', () => {
    const svg = updateChart(updateReport(), 'held');
    expect(xmlErrors(svg)).toEqual([]);
    expect(svg).toContain('<title>Disruption (requests held) vs state size</title>');
    expect(count(svg, /<g class="hline" data-value="10">/g)).toBe(2);
    expect(svg).toContain('0 ms is drawn on the bottom axis');
    expect(tickLabels(svg, 'y-axis', 0)[0]).toBe('0.1');
  });

  it('update charts need params.points', () => {
    expect(() => updatePoints(report('update', []))).toThrow(ChartDataError);
    expect(() => updateChart(report('update', [], { points: [{ sweep: 'size' }] }), 'total')).toThrow(/no point with live-update timings/);
  });

  it('fault outcomes: a stacked bar per server and kind, a panel per policy, counts read from the notes', () => {
    const r = faultsReport();
    const cells = faultCells(r);
    expect(cells).toHaveLength(TARGETS.length * KINDS.length * POLICIES.length);
    expect(cells[0]).toEqual({ target: 'vfs', kind: 'crash', policy: 'stateless-restart', counts: cellCounts(0) });
    const svg = faultChart(r);
    expect(xmlErrors(svg)).toEqual([]);
    expectCaption(svg, r);
    expect(count(svg, /<g class="panel" data-policy=/g)).toBe(POLICIES.length);
    expect(count(svg, /<g class="bar" /g)).toBe(TARGETS.length * KINDS.length * POLICIES.length);
    expect(texts(svg, 'group-label')).toEqual([...TARGETS, ...TARGETS]);
    // Segments: one per non-zero outcome count, their values the counts.
    const segs = [...svg.matchAll(/<rect class="seg" data-key="([^"]+)" data-value="(\d+)"/g)];
    const byPanel = POLICIES.flatMap((p) => TARGETS.flatMap((t) => KINDS.map((k) => cells.find((c) => c.policy === p && c.target === t && c.kind === k)!)));
    const expected = byPanel.flatMap((c) => Object.values(c.counts).filter((v) => v > 0));
    expect(segs.map((s) => Number(s[2]))).toEqual(expected);
    expect(segs.reduce((a, s) => a + Number(s[2]), 0)).toBe(cells.length * TRIALS);
    for (const o of ['transparent', 'graceful', 'lost', 'system failure', 'not fired']) expect(svg).toContain(`<g class="legend-item" data-label="${o}">`);
    expect(tickLabels(svg, 'y-axis', 0)).toEqual(['0', '1', '2', '3', '4']);
  });

  it('fault outcomes prefer params.cells, and leave "not fired" out when nothing was', () => {
    const r = faultsReport(true);
    r.figures = [];
    expect(faultCells(r)).toHaveLength(TARGETS.length * KINDS.length * POLICIES.length);
    const one = report('faults', [], { cells: [{ target: 'vfs', kind: 'crash', policy: 'ssr-restart', counts: { transparent: 2, graceful: 1 } }] });
    const svg = faultChart(one);
    expect(xmlErrors(svg)).toEqual([]);
    expect(count(svg, /<g class="bar" /g)).toBe(1);
    expect(svg).not.toContain('data-label="not fired"');
    expect(() => faultChart(report('faults', []))).toThrow(ChartDataError);
  });

  it('soak latency: p50/p99/max over time, an event marker per event, dashed when not ok, log y for a wide spread', () => {
    const r = soakReport();
    const svg = soakChart(r);
    expect(xmlErrors(svg)).toEqual([]);
    expectCaption(svg, r);
    for (const s of ['p50', 'p99', 'max']) expect(svg).toContain(`data-name="${s}" data-n="${SAMPLES}"`);
    expect(count(svg, /<g class="event" /g)).toBe(5);
    expect(count(svg, /<g class="event" data-kind="update"/g)).toBe(2);
    expect(svg).toMatch(/<g class="event" data-kind="rollback" data-x="300">\n<line [^>]*stroke-dasharray/);
    expect(svg).toContain('crash &lt;pm&gt;');
    expect(svg).toContain('<g class="y-axis" data-scale="log">');
    expect(svg).toContain('<g class="x-axis" data-scale="linear">');
    expect(svg).toContain('data-label="dashed: did not succeed"');
  });

  it('soak latency: a narrow spread gets a linear y; params.timeline is accepted; no timeline is a ChartDataError', () => {
    const tl = timeline();
    const flat = { samples: tl.samples.map((s) => ({ ...s, p99: 2, max: 3 })), events: [] };
    const svg = soakChart(report('soak', [], { timeline: flat }));
    expect(xmlErrors(svg)).toEqual([]);
    expect(svg).toContain('<g class="y-axis" data-scale="linear">');
    expect(count(svg, /<g class="event" /g)).toBe(0);
    expect(() => soakChart(report('soak', []))).toThrow(/no timeline/);
    expect(() => soakChart(report('soak', [], { timeline: { samples: [], events: [] } }))).toThrow(ChartDataError);
  });

  it('the same input gives the same bytes', () => {
    for (const [c, r] of [[CHARTS[0]!, updateReport()], [CHARTS[1]!, updateReport()], [CHARTS[2]!, faultsReport()], [CHARTS[3]!, soakReport()]] as const) {
      expect(c.render(r)).toBe(c.render(JSON.parse(JSON.stringify(r)) as Report));
    }
  });

  it('a --quick report says so in the caption', () => {
    const r = soakReport();
    r.params = { ...r.params, quick: true };
    expect(texts(soakChart(r), 'caption').join(' ')).toContain('--quick');
  });
});

// ───────────────────────────── REPORT.md and the render command ─────────────────────────────

function loadedOf(...reports: Report[]): Loaded {
  return { reports: new Map(reports.map((r) => [r.experiment, { report: r, file: `${r.experiment}.json` }])), problems: [] };
}

describe('REPORT.md', () => {
  it('has the headline, every chart linked with its caption, and a table per experiment', () => {
    const built = buildOutputs(loadedOf(ipcReport(), updateReport(), faultsReport(), soakReport()), { expected: ['ipc', 'update', 'fs', 'faults'] });
    const names = built.files.map((f) => f.name);
    expect(names).toEqual(['update-time.svg', 'update-disruption.svg', 'faults-outcomes.svg', 'soak-latency.svg', 'REPORT.md']);
    const md = built.files.at(-1)!.content;
    const sections = [...md.matchAll(/^(#{1,3}) (.+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(sections).toEqual([
      '# Molt benchmark results',
      '## Headline',
      '## Charts',
      '### Update time vs state size',
      '### Disruption vs state size',
      '### Fault-campaign outcomes',
      '### Latency over time during the soak',
      '## Results by experiment',
      '### ipc',
      '### update',
      '### faults',
      '### soak',
    ]);
    // Every image links a file that was rendered.
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links).toEqual(['update-time.svg', 'update-disruption.svg', 'faults-outcomes.svg', 'soak-latency.svg']);
    // Each chart's caption: machine, date, command.
    for (const cmd of ['update', 'update', 'faults', 'soak']) {
      expect(md).toContain(`*Machine: 2 × Test CPU &lt;Model&gt; &amp; Co, 23.6 GiB, linux 6.18 x64, node v20.20.2 · date: 2026-12-06T05:00:00.000Z · command: \`npm run bench -- ${cmd}\`*`);
    }
    // fs was expected and is missing.
    expect(md).toMatch(/\*\*Missing\*\*[\s\S]*- `fs`: no report in bench\/results\/ — run `npm run bench -- fs`/);
    // Headline: every figure with a target, the judged value, pass/fail.
    const judged = [ipcReport(), updateReport(), faultsReport(), soakReport()].flatMap((r) => r.figures.filter((f) => f.pass !== undefined));
    const passed = judged.filter((f) => f.pass).length;
    expect(md).toContain(`**${passed} of ${judged.length} targets met.**`);
    expect(md).toContain('| ipc | sendrec RTT mean, pinned 1 CPU | 25.20 µs (2.63× raw worker↔worker) | ≤ 1.5× baseline | **FAIL** |');
    expect(md).toContain('| ipc | boot to console ready, warm, median | 370.8 ms | ≤ 500 ms | PASS |');
    // Per experiment: the table and the notes, escaped.
    expect(md).toContain('| figure | value | unit | vs baseline | target | pass |');
    expect(md).toContain('| state transfer throughput, 10 MB | 120 | MB/s | 0.30× v8 serialize+deserialize (400) | ≥ 3× baseline | **FAIL** |');
    expect(md).toContain('- **state transfer throughput, 10 MB**: a | pipe and &lt;html&gt;');
    expect(md).toContain('| failed requests | 0 | requests |  | ≤ 0 requests | PASS |');
  });

  it('says which charts it could not draw and why', () => {
    const broken = report('update', [], { points: 'gone' });
    const built = buildOutputs(loadedOf(broken));
    expect(built.files.map((f) => f.name)).toEqual(['REPORT.md']);
    const md = built.files[0]!.content;
    expect(md).toContain('*Not drawn: update.json has no params.points (the live-update sweeps).*');
    expect(md).toContain('*Not drawn: no `soak` results (bench/results/soak.json) — run `npm run bench -- soak`.*');
  });

  it('is deterministic', () => {
    const a = buildOutputs(loadedOf(ipcReport(), updateReport(), faultsReport(), soakReport()));
    const b = buildOutputs(loadedOf(ipcReport(), updateReport(), faultsReport(), soakReport()));
    expect(a.files).toEqual(b.files);
  });
});

describe('renderResults', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'molt-bench-render-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('on an empty results directory: a REPORT.md that says what is missing, no charts', async () => {
    const r = await renderResults({ dir, expected: ['ipc', 'update', 'faults'] });
    expect(await readdir(dir)).toEqual(['REPORT.md']);
    const md = await readFile(join(dir, 'REPORT.md'), 'utf8');
    expect(md).toContain('**No results yet**');
    for (const e of ['ipc', 'update', 'faults', 'soak']) expect(md).toContain(`- \`${e}\`: no report in`);
    expect(count(md, /\*Not drawn: /g)).toBe(CHARTS.length);
    expect(md).toContain('No figure with a target in the results.');
    expect(r.missing).toEqual(['ipc', 'update', 'faults', 'soak']);
    expect(r.charts.every((c) => !c.drawn)).toBe(true);
  });

  it('a missing directory is an empty one', async () => {
    const loaded = await loadReports(join(dir, 'nope'));
    expect(loaded.reports.size).toBe(0);
  });

  it('reads every report (and arrays of them, the newest winning), lists unreadable files, removes charts whose data is gone', async () => {
    const older = { ...ipcReport(), date: '2026-01-01T00:00:00.000Z', figures: [] };
    await writeFile(join(dir, 'update.json'), JSON.stringify(updateReport()));
    await writeFile(join(dir, 'all.json'), JSON.stringify([ipcReport(), soakReport()]));
    await writeFile(join(dir, 'ipc.json'), JSON.stringify(older));
    await writeFile(join(dir, 'broken.json'), '{ not json');
    await writeFile(join(dir, 'other.json'), JSON.stringify({ hello: 1 }));
    await writeFile(join(dir, 'faults-outcomes.svg'), '<svg/>'); // stale: no faults report
    const r = await renderResults({ dir, expected: ['ipc', 'update'] });
    expect((await readdir(dir)).sort()).toEqual(['REPORT.md', 'all.json', 'broken.json', 'ipc.json', 'other.json', 'soak-latency.svg', 'update-disruption.svg', 'update-time.svg', 'update.json']);
    expect(r.removed).toEqual([join(dir, 'faults-outcomes.svg')]);
    const md = await readFile(join(dir, 'REPORT.md'), 'utf8');
    expect(md).toContain('broken.json: not JSON');
    expect(md).toContain('other.json: not a benchmark report');
    expect(md).toContain('· from `all.json`'); // the newer ipc report
    expect(md).toContain('| ipc | boot to console ready, warm, median |');
    for (const f of ['update-time.svg', 'soak-latency.svg']) expect(xmlErrors(await readFile(join(dir, f), 'utf8'))).toEqual([]);
    // Rendering again changes nothing.
    const before = await readFile(join(dir, 'REPORT.md'), 'utf8');
    await renderResults({ dir, expected: ['ipc', 'update'] });
    expect(await readFile(join(dir, 'REPORT.md'), 'utf8')).toBe(before);
  });

  it('`npm run bench -- report --results DIR` renders without running anything', async () => {
    const { main } = await import('../../bench/run.js');
    await writeFile(join(dir, 'soak.json'), JSON.stringify(soakReport()));
    const err = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await main(['report', '--results', dir])).toBe(0);
      expect(await main(['render', '--results', dir, '--json', 'x.json'])).toBe(2);
      expect(await main(['ipc', '--results', dir])).toBe(2);
    } finally {
      process.stderr.write = err;
    }
    expect((await readdir(dir)).sort()).toEqual(['REPORT.md', 'soak-latency.svg', 'soak.json']);
    const md = await readFile(join(dir, 'REPORT.md'), 'utf8');
    // The registry's experiments are expected.
    for (const e of ['ipc', 'update', 'fs', 'net', 'faults', 'granularity']) expect(md).toContain(`- \`${e}\`: no report in`);
  }, 60_000);
});
