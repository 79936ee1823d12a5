/**
 * Building and presenting results: the machine description, a figure helper that
 * fills in ratio and pass/fail from a target and a baseline, the readable table, and
 * writing the JSON report.
 *
 * Entry points: `machineInfo()`, `figure(...)`, `formatReport(report)`, `writeReport(file, report)`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Figure, MachineInfo, Report } from './types.js';

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    totalMemGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${release()} ${process.arch}`,
  };
}

export interface FigureSpec {
  name: string;
  value: number;
  unit: string;
  baseline?: { value: number; name: string };
  /** `{ ratio: 1.5 }`: ratio ≤ 1.5; `{ value: 500 }`: value ≤ 500 (`better` flips it). */
  target?: { ratio: number } | { value: number };
  better?: 'lower' | 'higher';
  note?: string;
}

/** A figure with ratio and pass computed from its baseline and target. */
export function figure(spec: FigureSpec): Figure {
  const f: Figure = { name: spec.name, value: spec.value, unit: spec.unit };
  if (spec.baseline) {
    f.baseline = spec.baseline.value;
    f.baselineName = spec.baseline.name;
    f.ratio = spec.value / spec.baseline.value;
  }
  if (spec.target) {
    const better = spec.better ?? 'lower';
    const on: 'value' | 'ratio' = 'ratio' in spec.target ? 'ratio' : 'value';
    const target = 'ratio' in spec.target ? spec.target.ratio : spec.target.value;
    const x = on === 'ratio' ? f.ratio : f.value;
    if (x === undefined) throw new Error(`figure ${spec.name}: a ratio target needs a baseline`);
    f.target = target;
    f.targetOn = on;
    f.better = better;
    f.pass = better === 'lower' ? x <= target : x >= target;
  } else if (spec.better) {
    f.better = spec.better;
  }
  if (spec.note) f.note = spec.note;
  return f;
}

/** Numbers with about four significant digits, grouped thousands for big ones. */
export function fmt(x: number | undefined): string {
  if (x === undefined) return '';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 10_000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  return x.toFixed(3);
}

function targetText(f: Figure): string {
  if (f.target === undefined) return '';
  const op = f.better === 'higher' ? '≥' : '≤';
  return f.targetOn === 'ratio' ? `${op} ${f.target}× baseline` : `${op} ${f.target.toLocaleString('en-US')} ${f.unit}`;
}

/** The readable table of one report. */
export function formatReport(r: Report): string {
  const head = ['figure', 'value', 'unit', 'baseline', 'ratio', 'target', 'pass'];
  const rows = r.figures.map((f) => [
    f.name,
    fmt(f.value),
    f.unit,
    f.baseline === undefined ? '' : `${fmt(f.baseline)} (${f.baselineName ?? 'baseline'})`,
    f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}×`,
    targetText(f),
    f.pass === undefined ? '' : f.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const right = new Set([1, 4]);
  const line = (cells: string[]) =>
    cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const m = r.machine;
  const out = [
    `${r.experiment} — ${r.date} — node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${m.totalMemGiB} GiB, ${m.platform}`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
  const notes = r.figures.filter((f) => f.note);
  if (notes.length) {
    out.push('', 'notes:');
    for (const f of notes) out.push(`  ${f.name}: ${f.note}`);
  }
  return out.join('\n') + '\n';
}

export async function writeReport(file: string, report: Report | Report[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
}
