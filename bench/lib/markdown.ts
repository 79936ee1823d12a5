/**
 * The Markdown report (`bench/results/REPORT.md`): what was run and what was not, a
 * headline table of every figure that has a target (pass/fail), the charts (linked SVGs,
 * each with its machine, date and command) or why a chart is missing, and a table per
 * experiment generated from its JSON report. A pure function of its input: the same
 * reports give the same bytes.
 *
 * Entry points: `renderMarkdown(input)`, `ChartEntry`, `MarkdownInput`, `targetText`, `mdCell`.
 */
import { fmt } from './report.js';
import type { ChartDef } from './charts.js';
import { machineText } from './charts.js';
import type { Figure, Report } from './types.js';

export interface ChartEntry {
  def: ChartDef;
  /** The report it was drawn from (absent when there is none). */
  report?: Report;
  /** Drawn: written as `def.file` next to REPORT.md. */
  drawn: boolean;
  /** Why it was not drawn. */
  reason?: string;
}

export interface LoadedReport {
  report: Report;
  /** The JSON file it came from (a name in the results directory). */
  file: string;
}

export interface MarkdownInput {
  /** In the order the report shows them. */
  reports: readonly LoadedReport[];
  charts: readonly ChartEntry[];
  /** Experiments expected but without a report: name → why. */
  missing: ReadonlyArray<{ experiment: string; reason: string }>;
  /** Files in the results directory that could not be read as reports. */
  problems: readonly string[];
  /** The results directory as the reader should see it (`bench/results`). */
  resultsDir: string;
}

/** Text for a table cell: no pipes, no line breaks, no raw HTML. */
export function mdCell(s: string): string {
  return mdText(s).replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** Text for Markdown prose: `<`, `>` and `&` as entities, so nothing is read as HTML. */
export function mdText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Inline code that survives backticks in the text. */
export function code(s: string): string {
  const ticks = Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(ticks + 1);
  const pad = s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/** As the printed tables (about 4 significant digits), whole numbers as they are; `—` for a missing value (NaN is null in JSON). */
const value = (x: unknown): string =>
  typeof x !== 'number' ? '—' : Number.isInteger(x) && Math.abs(x) < 1e15 ? x.toLocaleString('en-US') : fmt(x);

/** `≤ 50 ms`, `≥ 3× baseline`, or '' when the figure has no target. */
export function targetText(f: Figure): string {
  if (typeof f.target !== 'number') return '';
  const op = f.better === 'higher' ? '≥' : '≤';
  return f.targetOn === 'ratio' ? `${op} ${f.target}× baseline` : `${op} ${f.target.toLocaleString('en-US')} ${f.unit}`;
}

function vsBaseline(f: Figure): string {
  if (typeof f.baseline !== 'number') return '';
  const name = f.baselineName ?? 'baseline';
  return typeof f.ratio === 'number' ? `${f.ratio.toFixed(2)}× ${name} (${value(f.baseline)})` : `${name}: ${value(f.baseline)}`;
}

const passText = (f: Figure): string => (f.pass === undefined ? '' : f.pass ? 'PASS' : '**FAIL**');

/** `1,234 µs (2.79× raw worker↔worker)` — the judged number and, for a ratio target, the ratio. */
function judgedValue(f: Figure): string {
  const v = `${value(f.value)} ${f.unit}`;
  return f.targetOn === 'ratio' && typeof f.ratio === 'number' ? `${v} (${f.ratio.toFixed(2)}× ${f.baselineName ?? 'baseline'})` : v;
}

const quickText = (r: Report): string => (r.params?.quick === true ? ' · **--quick** (a smoke test, not a measurement)' : '');

/** Machine, date and command, as the charts' captions say them. */
function captionText(r: Report): string {
  return `Machine: ${mdText(machineText(r.machine))} · date: ${mdText(r.date)} · command: ${code(r.command)}${quickText(r)}`;
}

function runLine(r: LoadedReport): string {
  return `${captionText(r.report)} · from ${code(r.file)}`;
}

function anchor(s: string): string {
  return s.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

export function renderMarkdown(input: MarkdownInput): string {
  const out: string[] = [];
  const { reports, charts, missing, problems } = input;
  out.push('# Molt benchmark results', '');
  out.push(
    `Rendered from the JSON reports in ${code(input.resultsDir + '/')} by ${code('npm run bench -- report')} ` +
      `(also run at the end of ${code('npm run bench -- all')}); re-rendering runs nothing. ` +
      'Each section says which machine, date and command produced it: numbers from different machines are not comparable.',
    '',
  );
  if (reports.length) {
    out.push(`Experiments with results: ${reports.map((r) => `[${r.report.experiment}](#${anchor(r.report.experiment)}) (${r.report.date.slice(0, 10)})`).join(', ')}.`, '');
  } else {
    out.push(`**No results yet**: ${code(input.resultsDir + '/')} holds no experiment report. Run ${code('npm run bench -- all')} (or one experiment: ${code('npm run bench -- <name>')}).`, '');
  }
  if (missing.length) {
    out.push('**Missing** (not run, or its JSON is gone):', '');
    for (const m of missing) out.push(`- ${code(m.experiment)}: ${mdText(m.reason)}`);
    out.push('');
  }
  if (problems.length) {
    out.push('**Unreadable files** in the results directory:', '');
    for (const p of problems) out.push(`- ${mdText(p)}`);
    out.push('');
  }
  const machines = [...new Set(reports.map((r) => machineText(r.report.machine)))];
  if (machines.length > 1) {
    out.push(`> **Note:** these results come from ${machines.length} different machines (${machines.map(mdText).join('; ')}): compare ratios across them, never raw numbers.`, '');
  }

  // Headline: every figure with a target.
  out.push('## Headline', '');
  const judged = reports.flatMap((r) => r.report.figures.filter((f) => f.pass !== undefined).map((f) => ({ r, f })));
  if (judged.length === 0) {
    out.push('No figure with a target in the results.', '');
  } else {
    const passed = judged.filter((j) => j.f.pass).length;
    out.push(`**${passed} of ${judged.length} targets met.** ` +
      reports.map((r) => {
        const js = r.report.figures.filter((f) => f.pass !== undefined);
        return js.length ? `${r.report.experiment}: ${js.filter((f) => f.pass).length}/${js.length}` : null;
      }).filter(Boolean).join(' · '), '');
    out.push('| experiment | figure | value | target | pass |', '|---|---|---:|---|---|');
    for (const { r, f } of judged) {
      out.push(`| ${mdCell(r.report.experiment)} | ${mdCell(f.name)} | ${mdCell(judgedValue(f))} | ${mdCell(targetText(f))} | ${passText(f)} |`);
    }
    out.push('');
  }

  // Charts.
  out.push('## Charts', '');
  for (const c of charts) {
    out.push(`### ${c.def.title}`, '');
    out.push(mdText(c.def.about), '');
    if (c.drawn && c.report) {
      out.push(`![${c.def.title}](${c.def.file})`, '');
      out.push(`*${captionText(c.report)}*`, '');
    } else {
      out.push(`*Not drawn: ${mdText(c.reason ?? 'no data')}.*`, '');
    }
  }

  // Per experiment.
  out.push('## Results by experiment', '');
  for (const lr of reports) {
    const r = lr.report;
    out.push(`### ${r.experiment}`, '');
    out.push(runLine(lr), '');
    if (r.figures.length === 0) {
      out.push('No figures.', '');
      continue;
    }
    out.push('| figure | value | unit | vs baseline | target | pass |', '|---|---:|---|---|---|---|');
    for (const f of r.figures) {
      out.push(`| ${mdCell(f.name)} | ${value(f.value)} | ${mdCell(f.unit)} | ${mdCell(vsBaseline(f))} | ${mdCell(targetText(f))} | ${passText(f)} |`);
    }
    out.push('');
    const notes = r.figures.filter((f) => f.note);
    if (notes.length) {
      out.push(`<details><summary>Notes (${notes.length})</summary>`, '');
      for (const f of notes) out.push(`- **${mdText(f.name)}**: ${mdText(f.note!).replace(/\s*\n\s*/g, ' ')}`);
      out.push('', '</details>', '');
    }
  }
  return out.join('\n').replace(/\n+$/, '\n');
}
