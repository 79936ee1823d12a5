/**
 * The benchmark runner: `npm run bench -- <name> [--json FILE] [--quick]`, or
 * `molt bench <name>` (the CLI calls `runBench`). Runs an experiment from the registry,
 * prints its figures as a table, and writes the JSON report to
 * `bench/results/<name>.json` (or FILE). `all` runs every registered experiment, then
 * renders the charts and `bench/results/REPORT.md` (bench/render.ts); `report` (or
 * `render`) only renders, from the JSON already there.
 *
 * Adding an experiment: write `bench/<name>.ts` exporting an `Experiment`, import it
 * here and add it to `EXPERIMENTS`.
 *
 * Entry points: `runBench(name, opts)`, `renderBench(opts)`, `experiments()`, `main(argv)`, `BenchUsageError`.
 */
import { realpathSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipc } from './ipc.js';
import { update } from './update.js';
import { fs } from './fs.js';
import { net } from './net.js';
import { faults } from './faults.js';
import { granularity } from './granularity.js';
import { soak } from './soak.js';
import { formatReport, machineInfo, writeReport } from './lib/report.js';
import { renderResults } from './render.js';
import type { Experiment, Report } from './lib/types.js';

/** The registry, in the order `all` runs them. */
const EXPERIMENTS: readonly Experiment[] = [ipc, update, fs, net, faults, granularity, soak];

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export function experiments(): readonly Experiment[] {
  return EXPERIMENTS;
}

/** A bad experiment name or option (exit status 2). */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export interface RunBenchOptions {
  /** Shrink iteration counts (smoke tests). */
  quick?: boolean;
  /** Where to write the JSON (default `bench/results/<name>.json`; for `all`, one array). */
  json?: string;
  /** The command line recorded in the report. */
  command?: string;
  /** Where the table goes (default stdout); progress goes to `log` (default stderr). */
  out?: (text: string) => void;
  log?: (line: string) => void;
}

/** Run one experiment (or `all`), print the table(s), write the JSON. Returns the reports. */
export async function runBench(name: string, opts: RunBenchOptions = {}): Promise<Report[]> {
  const chosen = name === 'all' ? [...EXPERIMENTS] : EXPERIMENTS.filter((e) => e.name === name);
  if (chosen.length === 0) {
    throw new BenchUsageError(`no experiment named "${name}" (experiments: ${[...EXPERIMENTS.map((e) => e.name), 'all'].join(', ')})`);
  }
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  const log = opts.log ?? ((l: string) => void process.stderr.write(l + '\n'));
  const command = opts.command ?? defaultCommand();
  const reports: Report[] = [];
  for (const exp of chosen) {
    const date = new Date().toISOString();
    const before = loadavg();
    if (before[0]! > cpus().length / 2) {
      log(`bench: warning: load average ${before[0]!.toFixed(2)} on ${cpus().length} CPUs — other work on this machine will show in the figures`);
    }
    const result = await exp.run({ quick: opts.quick ?? false, log });
    const round = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100);
    const report: Report = {
      experiment: exp.name,
      date,
      machine: machineInfo(),
      command,
      params: { quick: opts.quick ?? false, loadavg: { before: round(before), after: round(loadavg()) }, ...result.params },
      figures: result.figures,
      ...(result.timeline ? { timeline: result.timeline } : {}),
    };
    reports.push(report);
    out(formatReport(report) + '\n');
    if (!opts.json || name !== 'all') {
      const file = opts.json ?? join(RESULTS_DIR, `${exp.name}.json`);
      await writeReport(file, report);
      log(`wrote ${displayPath(file)}`);
    }
  }
  if (opts.json && name === 'all') {
    await writeReport(opts.json, reports);
    log(`wrote ${displayPath(opts.json)}`);
    log(`bench: charts and REPORT.md not rendered (the reports went to ${displayPath(opts.json)}); render them with npm run bench -- report --results ${displayPath(dirname(resolve(opts.json)))}`);
  } else if (name === 'all') {
    await renderBench({ log });
  }
  return reports;
}

/** Names that render instead of running an experiment. */
const RENDER_NAMES = new Set(['report', 'render']);

/** Render the charts and REPORT.md from the JSON in `dir` (default bench/results/); runs nothing. */
export async function renderBench(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<string[]> {
  const log = opts.log ?? ((l: string) => void process.stderr.write(l + '\n'));
  const r = await renderResults({ dir: opts.dir ?? RESULTS_DIR, expected: EXPERIMENTS.map((e) => e.name), log });
  log(`wrote ${r.written.map(displayPath).join(', ')}`);
  return r.written;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), resolve(file));
  return rel && !rel.startsWith('..') ? rel : resolve(file);
}

function defaultCommand(): string {
  const args = process.argv.slice(2);
  if (process.env.npm_lifecycle_event === 'bench') return ['npm run bench --', ...args].join(' ');
  return process.argv.slice(1).map((a) => (a.startsWith('/') ? relative(process.cwd(), a) || a : a)).join(' ');
}

export function usage(): string {
  const w = Math.max(...EXPERIMENTS.map((e) => e.name.length), 3);
  return [
    'usage: npm run bench -- <experiment> [--json FILE] [--quick]',
    '       npm run bench -- report [--results DIR]',
    '       molt bench <experiment> [--json FILE] [--quick]',
    '',
    'experiments:',
    ...EXPERIMENTS.map((e) => `  ${e.name.padEnd(w)}  ${e.description}`),
    `  ${'all'.padEnd(w)}  every experiment above, in order, then the charts and REPORT.md`,
    '',
    'report (or render): draw the charts (SVG) and bench/results/REPORT.md from the JSON',
    'already in bench/results/ (or DIR), running nothing',
    '',
    'options:',
    '  --json FILE    write the JSON report to FILE (default bench/results/<experiment>.json;',
    '                 with all, one array of reports, and no charts)',
    '  --quick        small iteration counts (a smoke test, not a measurement)',
    '  --results DIR  report: read the JSON from DIR and write the charts and REPORT.md there',
    '  -h, --help     this text',
    '',
  ].join('\n');
}

export interface ParsedArgs {
  name: string | null;
  json?: string;
  /** `report`: the results directory. */
  results?: string;
  quick: boolean;
  help: boolean;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const parsed: ParsedArgs = { name: null, quick: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') parsed.help = true;
    else if (a === '--quick') parsed.quick = true;
    else if (a === '--json') {
      const file = argv[++i];
      if (!file) throw new BenchUsageError('--json needs a file name');
      parsed.json = file;
    } else if (a.startsWith('--json=')) parsed.json = a.slice('--json='.length);
    else if (a === '--results') {
      const dir = argv[++i];
      if (!dir) throw new BenchUsageError('--results needs a directory');
      parsed.results = dir;
    } else if (a.startsWith('--results=')) parsed.results = a.slice('--results='.length);
    else if (a.startsWith('-')) throw new BenchUsageError(`unknown option ${a}`);
    else if (parsed.name === null) parsed.name = a;
    else throw new BenchUsageError(`unexpected argument ${a}`);
  }
  return parsed;
}

/** The command-line entry: returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n\n${usage()}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (!args.name) {
    process.stderr.write(`bench: which experiment?\n\n${usage()}`);
    return 2;
  }
  const rendering = RENDER_NAMES.has(args.name);
  if (rendering && args.json) {
    process.stderr.write(`bench: ${args.name} writes no JSON (it reads it: --results DIR)\n`);
    return 2;
  }
  if (!rendering && args.results) {
    process.stderr.write('bench: --results goes with report\n');
    return 2;
  }
  try {
    if (rendering) await renderBench(args.results ? { dir: args.results } : {});
    else await runBench(args.name, { quick: args.quick, ...(args.json ? { json: args.json } : {}) });
    return 0;
  } catch (e) {
    if (e instanceof BenchUsageError) {
      process.stderr.write(`bench: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) process.exitCode = await main(process.argv.slice(2));
