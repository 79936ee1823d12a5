/**
 * Smoke test of the `soak` benchmark (bench/soak.ts), run through the runner with --quick
 * and MOLT_SOAK_SECONDS=15 (one cycle of the update schedule at least): redis-benchmark
 * and a checked RESP client on kvd, file I/O and spawns, while every component is
 * updated in turn. Checks what must hold whatever the machine: no request failed, no
 * data lost, every step ended as expected (updates committed for many components, the
 * injected failures rolled back), the latency split and the timeline there. Not the
 * timing targets (the batch's ≤ 1 s is reported, not tested).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run.js';
import type { Figure, Report } from '../../bench/lib/types.js';

interface StepRow {
  name: string;
  kind: string;
  labels: string[];
  expect: string;
  outcome: string;
  asExpected: boolean;
}

describe('bench soak', () => {
  it('--quick, 15 s: requests served, none failed, no data lost, updates of many components committed, injected failures rolled back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'molt-bench-soak-'));
    const saved = process.env.MOLT_SOAK_SECONDS;
    process.env.MOLT_SOAK_SECONDS = '15';
    try {
      const json = join(dir, 'soak.json');
      const [report] = await runBench('soak', { quick: true, json, out: () => undefined, log: () => undefined });
      const byName = new Map(report!.figures.map((f) => [f.name, f]));
      const get = (name: string): Figure => {
        const f = byName.get(name);
        if (!f) throw new Error(`no figure "${name}" (have: ${[...byName.keys()].join(' | ')})`);
        expect(Number.isFinite(f.value), name).toBe(true);
        return f;
      };

      // Load served, nothing failed, nothing lost.
      expect(get('requests served').value).toBeGreaterThan(1000);
      expect(get('requests failed'), get('requests failed').note).toMatchObject({ value: 0, pass: true });
      expect(get('data lost'), get('data lost').note).toMatchObject({ value: 0, pass: true });
      expect(get('file and process operations failed'), get('file and process operations failed').note).toMatchObject({ value: 0, pass: true });

      // Every step as expected; commits of many components; the injected failures did not commit.
      expect(get('unexpected update outcomes'), get('unexpected update outcomes').note).toMatchObject({ value: 0, pass: true });
      const steps = (report!.params as { steps: StepRow[] }).steps;
      const committed = new Set(steps.filter((s) => s.outcome === 'committed').flatMap((s) => s.labels));
      for (const label of ['kvd', 'vfs', 'mfs', 'pm', 'net', 'tty', 'disk', 'tmpfs', 'bootfs', 'sched', 'ds', 'rs']) expect([...committed], label).toContain(label);
      const injected = steps.filter((s) => s.kind === 'fault');
      expect(injected.length).toBeGreaterThanOrEqual(4);
      for (const s of injected) expect([s.name, s.outcome]).toEqual([s.name, s.expect]);
      expect(injected.some((s) => s.outcome === 'rolled-back')).toBe(true);
      expect(get('injected failed updates rolled back').value).toBe(injected.length);
      expect(steps.filter((s) => s.kind === 'patch').map((s) => s.outcome)).toEqual(expect.arrayContaining(['complete', 'undone']));
      expect(steps.filter((s) => s.kind === 'objects' && s.outcome === 'committed').length).toBeGreaterThanOrEqual(2);

      // The batch of every system server: committed, timed.
      const batch = get('batch update of all system servers');
      expect(batch.value).toBeGreaterThan(0);
      expect(batch.target).toBe(1000);
      expect(steps.filter((s) => s.kind === 'batch').every((s) => s.outcome === 'committed')).toBe(true);
      expect(get('batch update of all system servers, held').value).toBeGreaterThanOrEqual(0);

      // Latency during updates vs without, both measured.
      for (const q of ['p50', 'p99', 'max']) {
        const f = get(`client latency ${q} during updates`);
        expect(f.value, q).toBeGreaterThan(0);
        expect(f.baseline, q).toBeGreaterThan(0);
      }

      // The timeline for the chart, and the JSON written.
      const written = JSON.parse(await readFile(json, 'utf8')) as Report;
      expect(written.experiment).toBe('soak');
      const tl = written.timeline!;
      expect(tl.samples.length).toBeGreaterThanOrEqual(10);
      for (const s of tl.samples) expect(s.p50 <= s.p99 && s.p99 <= s.max).toBe(true);
      expect(tl.events.length).toBe(steps.length);
      expect(new Set(tl.events.map((e) => e.kind))).toEqual(new Set(['update', 'rollback', 'batch']));
      expect(tl.events.filter((e) => !e.ok).length).toBe(injected.length);
    } finally {
      if (saved === undefined) delete process.env.MOLT_SOAK_SECONDS;
      else process.env.MOLT_SOAK_SECONDS = saved;
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
