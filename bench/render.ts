/**
 * Render the benchmark results: read every JSON report in a results directory
 * (`bench/results/` by default), draw the charts (bench/lib/charts.ts) as SVG files and
 * write `REPORT.md` (bench/lib/markdown.ts) beside them. Runs no experiment: this is
 * `npm run bench -- report` (and the last step of `npm run bench -- all`).
 *
 * A results file holds one report or an array of them (`all --json FILE`); when several
 * hold the same experiment, the newest (by `date`) is used. Files that are not reports
 * are listed in REPORT.md, as are the expected experiments that have no report and the
 * charts that could not be drawn (and why). A chart SVG whose data is gone is removed, so
 * the directory never shows a chart REPORT.md does not.
 *
 * Entry points: `renderResults(opts)`, `buildOutputs(loaded, opts)`, `loadReports(dir)`,
 * `KNOWN_EXPERIMENTS`, `REPORT_FILE`.
 */
import { readdir, readFile, unlink, writeFile, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHARTS, ChartDataError } from './lib/charts.js';
import { renderMarkdown, type ChartEntry, type LoadedReport } from './lib/markdown.js';
import type { Report } from './lib/types.js';

export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const REPORT_FILE = 'REPORT.md';

/** The experiments a complete run has (bench/run.ts passes its registry instead). */
export const KNOWN_EXPERIMENTS: readonly string[] = ['ipc', 'update', 'fs', 'net', 'faults', 'granularity', 'soak'];

function isReport(x: unknown): x is Report {
  const r = x as Report;
  return r !== null && typeof r === 'object' && typeof r.experiment === 'string' && Array.isArray(r.figures) &&
    typeof r.date === 'string' && typeof r.command === 'string';
}

export interface Loaded {
  /** The newest report of each experiment, with the file it came from. */
  reports: Map<string, LoadedReport>;
  /** Files that could not be read as reports: why. */
  problems: string[];
}

/** Every report in `dir` (`*.json`, in name order), the newest per experiment. A missing directory is an empty one. */
export async function loadReports(dir: string): Promise<Loaded> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { reports: new Map(), problems: [] };
    throw e;
  }
  const reports = new Map<string, LoadedReport>();
  const problems: string[] = [];
  for (const file of names) {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(join(dir, file), 'utf8'));
    } catch (e) {
      problems.push(`${file}: not JSON (${(e as Error).message})`);
      continue;
    }
    const list = Array.isArray(data) ? data : [data];
    const good = list.filter(isReport);
    if (good.length === 0 || good.length !== list.length) {
      problems.push(`${file}: ${good.length === 0 ? 'not a benchmark report' : `${list.length - good.length} of ${list.length} entries are not benchmark reports`} (expected { experiment, date, machine, command, figures })`);
    }
    for (const report of good) {
      const prev = reports.get(report.experiment);
      if (!prev || report.date > prev.report.date) reports.set(report.experiment, { report, file });
    }
  }
  return { reports, problems };
}

export interface OutputFile {
  name: string;
  content: string;
}

export interface BuildOptions {
  expected?: readonly string[];
  /** How REPORT.md names the results directory. */
  resultsDir?: string;
}

export interface Built {
  /** SVGs, then REPORT.md. */
  files: OutputFile[];
  charts: ChartEntry[];
  missing: Array<{ experiment: string; reason: string }>;
}

/** The SVGs and REPORT.md for a set of loaded reports (pure: writes nothing). */
export function buildOutputs(loaded: Loaded, opts: BuildOptions = {}): Built {
  const resultsDir = opts.resultsDir ?? 'bench/results';
  const expected = [...(opts.expected ?? KNOWN_EXPERIMENTS)];
  for (const c of CHARTS) if (!expected.includes(c.experiment)) expected.push(c.experiment);
  const order = [...expected.filter((e) => loaded.reports.has(e)), ...[...loaded.reports.keys()].filter((e) => !expected.includes(e)).sort()];
  const reports = order.map((e) => loaded.reports.get(e)!);
  const missing = expected
    .filter((e) => !loaded.reports.has(e))
    .map((e) => ({ experiment: e, reason: `no report in ${resultsDir}/ — run \`npm run bench -- ${e}\`` }));
  const files: OutputFile[] = [];
  const charts: ChartEntry[] = CHARTS.map((def) => {
    const lr = loaded.reports.get(def.experiment);
    if (!lr) return { def, drawn: false, reason: `no \`${def.experiment}\` results (${resultsDir}/${def.experiment}.json) — run \`npm run bench -- ${def.experiment}\`` };
    try {
      files.push({ name: def.file, content: def.render(lr.report) });
      return { def, report: lr.report, drawn: true };
    } catch (e) {
      if (e instanceof ChartDataError) return { def, report: lr.report, drawn: false, reason: e.message };
      throw e;
    }
  });
  files.push({ name: REPORT_FILE, content: renderMarkdown({ reports, charts, missing, problems: loaded.problems, resultsDir }) });
  return { files, charts, missing };
}

export interface RenderOptions {
  /** Where the JSON is, and where the SVGs and REPORT.md go (default bench/results/). */
  dir?: string;
  expected?: readonly string[];
  log?: (line: string) => void;
}

export interface RenderResult {
  /** Paths written (SVGs, then REPORT.md). */
  written: string[];
  /** Stale chart files removed. */
  removed: string[];
  charts: ChartEntry[];
  missing: string[];
}

function displayDir(dir: string): string {
  const rel = relative(REPO_ROOT, resolve(dir)).replace(/\\/g, '/').replace(/\/$/, '');
  return rel && !rel.startsWith('..') ? rel : resolve(dir);
}

/** Read the reports in `dir`, write the charts and REPORT.md there. */
export async function renderResults(opts: RenderOptions = {}): Promise<RenderResult> {
  const dir = opts.dir ?? DEFAULT_RESULTS_DIR;
  const loaded = await loadReports(dir);
  const built = buildOutputs(loaded, { ...(opts.expected ? { expected: opts.expected } : {}), resultsDir: displayDir(dir) });
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const f of built.files) {
    const path = join(dir, f.name);
    await writeFile(path, f.content);
    written.push(path);
  }
  const removed: string[] = [];
  for (const c of built.charts) {
    if (c.drawn) continue;
    const path = join(dir, c.def.file);
    try {
      await unlink(path);
      removed.push(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const log = opts.log;
  if (log) {
    const drawn = built.charts.filter((c) => c.drawn).length;
    log(`report: ${loaded.reports.size} experiment report(s), ${drawn} of ${built.charts.length} charts drawn` +
      (built.missing.length ? `; missing: ${built.missing.map((m) => m.experiment).join(', ')}` : ''));
    for (const c of built.charts) if (!c.drawn) log(`  not drawn: ${c.def.file}: ${c.reason}`);
    for (const p of loaded.problems) log(`  unreadable: ${p}`);
  }
  return { written, removed, charts: built.charts, missing: built.missing.map((m) => m.experiment) };
}
