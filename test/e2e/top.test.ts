/**
 * End to end: `molt top` against a running system, as a user runs it (no terminal):
 * `--once` prints one table with every component of the boot image and the documented
 * columns; `--json` prints views as JSON lines (rates, stats, restarts); a live update
 * run meanwhile shows up in the recent events with its phases and outcome; the live
 * (non-`--once`) view keeps printing until interrupted and exits 0; `--help`; a home
 * with no system fails clearly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopView } from '../../src/cli/top.js';
import { BOOT_LABELS, bootBackground, cleanup, molt, parseTable, REPO_ROOT, STACK_LINE, startMolt, tempDir } from '../helpers/cli.js';
import { join } from 'node:path';

/** The table of `molt top --once`: from its header line to the first blank line. */
function topTable(out: string): Array<Record<string, string>> {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith('LABEL'));
  expect(start, out).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return parseTable(lines.slice(start, end).join('\n'));
}

describe('molt top', () => {
  let home: string;

  beforeAll(async () => {
    home = await tempDir();
    await bootBackground(home);
  });
  afterAll(cleanup);

  /**
   * `molt top` with `args`, again (bounded) until every service answered its stats: a
   * component busy for longer than the snapshot's short deadline shows none, by design.
   */
  const topUntilStats = async (args: string[], complete: (stdout: string) => boolean) => {
    let r = await molt(['top', ...args, '--home', home]);
    for (let i = 0; i < 4 && r.code === 0 && !complete(r.stdout); i++) r = await molt(['top', ...args, '--home', home]);
    return r;
  };

  it('--once prints one table: every component with its incarnation, version, status, heap, rate, in-flight, restarts', async () => {
    const r = await topUntilStats(['--once', '--interval', '300'], (out) =>
      topTable(out).filter((x) => BOOT_LABELS.includes(x.LABEL!)).every((x) => x.HEAP !== '-'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\x1b\[/); // no terminal: no escape sequences
    expect(r.stdout).toMatch(/^molt top — /);
    expect(r.stdout).toMatch(/HEAP: V8 heap used by the component's worker \(a proxy for its state size\)/);
    const header = r.stdout.split('\n').find((l) => l.startsWith('LABEL'));
    expect(header).toMatch(/^LABEL\s+INC\s+VERSION\s+STATUS\s+HEAP\s+MSG\/S\s+INFLIGHT\s+RESTARTS$/);
    const rows = topTable(r.stdout);
    const byLabel = new Map(rows.map((x) => [x.LABEL, x]));
    for (const label of BOOT_LABELS) {
      const row = byLabel.get(label);
      expect(row, `${label} in\n${r.stdout}`).toBeDefined();
      expect(row!.INC).toMatch(/^#\d+$/);
      expect(row!.VERSION).toMatch(/^[0-9a-f]{12}$/);
      expect(row!.STATUS).toBe('running');
      expect(row!.HEAP).toMatch(/^\d+(\.\d)?[BKM]$/);
      expect(row!['MSG/S']).toMatch(/^\d+(\.\d)?$/);
      expect(row!.INFLIGHT).toMatch(/^\d+$/);
      expect(row!.RESTARTS).toBe('0');
    }
    expect(r.stdout).toMatch(/^UPDATES IN PROGRESS: none$/m);
  });

  it('--json prints a view as one JSON line: stats from each component, restarts from rs, rates between two samples', async () => {
    const r = await topUntilStats(['--once', '--json', '--interval', '300'], (out) =>
      (JSON.parse(out) as TopView).components.every((c) => c.kind !== 'service' || c.heapUsed !== null));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const view = JSON.parse(lines[0]!) as TopView;
    expect(view.intervalMs).toBeGreaterThanOrEqual(250);
    const services = view.components.filter((c) => c.kind === 'service');
    expect(services.map((c) => c.label).sort()).toEqual(BOOT_LABELS);
    for (const c of services) {
      expect(c).toMatchObject({ status: 'running', restarts: 0, incarnation: expect.any(Number), version: expect.any(String), delivered: expect.any(Number) });
      expect(c.heapUsed).toBeGreaterThan(100_000);
      expect(c.inflight).toBeGreaterThanOrEqual(0);
      expect(c.msgsPerSec).toBeGreaterThanOrEqual(0);
    }
    // rs is answering top's own `rs.list` calls: it has delivered messages since boot.
    expect(services.find((c) => c.label === 'rs')!.delivered).toBeGreaterThan(0);
    // The kernel always records system events: the boot's incarnations starting.
    expect(view.events.some((e) => e.ev === 'incarnation.started' && e.label === 'rs')).toBe(true);
    expect(view.updates).toEqual([]);
  });

  it('shows a live update that ran meanwhile: its phases and outcome among the recent events', async () => {
    const up = await molt(['service', 'update', 'sched', join(REPO_ROOT, 'test/corpus/sched/v2.ts'), '--home', home], { timeoutMs: 120_000 });
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const r = await molt(['top', '--once', '--interval', '100', '--home', home]);
    expect(r.code).toBe(0);
    const line = r.stdout.split('\n').find((l) => /update #\d+ sched:/.test(l));
    expect(line, r.stdout).toBeDefined();
    expect(line).toMatch(/build \S+ · spawn \S+ · prepare \S+ · transfer \S+ · commit \S+ → committed$/);
    const json = await molt(['top', '--once', '--json', '--interval', '100', '--home', home]);
    const view = JSON.parse(json.stdout) as TopView;
    const phases = view.events.filter((e) => e.ev === 'update.phase' && e.label === 'sched');
    expect(phases.map((e) => e.ev === 'update.phase' && `${e.phase}:${e.status}`)).toEqual(expect.arrayContaining(['build:start', 'transfer:end', 'commit:end']));
    // An update is not a restart.
    expect(view.components.find((c) => c.label === 'sched')).toMatchObject({ status: 'running', restarts: 0 });
  }, 150_000);

  it('without --once it keeps printing views until interrupted, then exits 0', async () => {
    const top = startMolt(['top', '--json', '--interval', '100', '--home', home], { timeoutMs: 30_000 });
    await top.waitForStdout((out) => out.split('\n').filter((l) => l.startsWith('{')).length >= 3, 15_000);
    top.signal('SIGINT');
    const end = await top.waitForExit(5_000);
    expect(end.code).toBe(0);
    expect(end.stderr).toBe('');
    const views = end.stdout.trim().split('\n').map((l) => JSON.parse(l) as TopView);
    expect(views.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < views.length; i++) expect(views[i]!.t).toBeGreaterThan(views[i - 1]!.t);
  });

  it('--help names the options and what HEAP measures; so does dashboard --help', async () => {
    const top = await molt(['top', '--help']);
    expect(top.code).toBe(0);
    for (const m of ['--home <dir>', '--interval <ms>', '--once', '--json', "V8 heap used by the component's worker"]) expect(top.stdout).toContain(m);
    const dash = await molt(['dashboard', '--help']);
    expect(dash.code).toBe(0);
    for (const m of ['--home <dir>', '--port <n>', '127.0.0.1', '--open']) expect(dash.stdout).toContain(m);
  });

  it('fails clearly when no system runs on the home', async () => {
    const empty = await tempDir();
    const r = await molt(['top', '--once', '--home', empty]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/no Molt system is running/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});
