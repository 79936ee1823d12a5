/**
 * Smoke test of the `granularity` benchmark (bench/granularity.ts), run through the
 * runner with --quick: patch apply/undo, lazy and eager object updates at 10k and 100k
 * instances, the indirection costs, and kvd (20,000 lists) updated at process level,
 * object level and lazily under a closed-loop client. Checks the report's shape and
 * sanity — every figure there, positive, no failed request — not the targets (timing is
 * not tested).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run.js';
import type { Figure, Report } from '../../bench/lib/types.js';

describe('bench granularity', () => {
  it('--quick gives every figure, positive, and no kvd request fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'molt-bench-granularity-'));
    try {
      const json = join(dir, 'granularity.json');
      let table = '';
      const [report] = await runBench('granularity', { quick: true, json, out: (t) => (table += t), log: () => undefined });
      const byName = new Map(report!.figures.map((f) => [f.name, f]));
      const get = (name: string): Figure => {
        const f = byName.get(name);
        if (!f) throw new Error(`no figure "${name}" (have: ${[...byName.keys()].join(' | ')})`);
        return f;
      };
      const positive = (name: string) => {
        const f = get(name);
        expect(Number.isFinite(f.value), name).toBe(true);
        expect(f.value, name).toBeGreaterThan(0);
        return f;
      };

      // 1. Patch apply and undo: per patch and per function, judged per function.
      for (const n of ['1 function', '3 functions', '13 functions']) {
        for (const op of ['apply', 'undo']) {
          positive(`patch ${op}, ${n}`);
          expect(positive(`patch ${op} per function, ${n}`)).toMatchObject({ target: 10, targetOn: 'value', better: 'lower' });
        }
      }
      // 2. Lazy and eager object updates (quick: 10k and 100k instances; the largest is judged).
      for (const c of ['10k', '100k']) {
        positive(`lazy update at apply, ${c} instances`);
        positive(`eager update, ${c} instances`);
      }
      expect(get('lazy update at apply, 100k instances').target).toBe(1);
      positive('lazy update first call, extra per call, 100k instances');
      positive('eager update per instance, 100k instances');
      // 3. Steady-state cost: both bodies, against the direct call; the realistic one judged.
      for (const kind of ['object reference', 'patch trampoline']) {
        const trivial = positive(`${kind} call, trivial body`);
        const realistic = positive(`${kind} call, realistic body`);
        expect(trivial.baseline).toBeGreaterThan(0);
        expect(realistic.baseline).toBeGreaterThan(trivial.baseline!); // the realistic body does more work
        expect(realistic).toMatchObject({ target: 1.05, targetOn: 'ratio' });
        expect(trivial.target).toBeUndefined();
      }
      // 4. kvd: update time and disruption per granularity, no failed request.
      for (const mode of ['process-level update', 'object-level update, eager', 'object-level update, lazy']) {
        const p = `kvd 20k lists: ${mode}`;
        positive(`${p}, total`);
        positive(`${p}, max latency during`);
        positive(`${p}, p99 latency during`);
        expect(get(`${p}, max latency during`).baseline).toBeGreaterThan(0);
        expect(get(`${p}, failed requests`)).toMatchObject({ value: 0, pass: true });
        if (mode !== 'process-level update') positive(`${p}, in the component`);
      }
      // The lazy update marks the lists instead of converting them: far quicker at apply than the eager one.
      expect(get('kvd 20k lists: object-level update, lazy, in the component').value).toBeLessThan(get('kvd 20k lists: object-level update, eager, in the component').value);

      // The printed table and the JSON report.
      expect(table).toMatch(/^granularity — /);
      expect(table).toContain('kvd 20k lists: object-level update, lazy, total');
      const written = JSON.parse(await readFile(json, 'utf8')) as Report;
      expect(written.experiment).toBe('granularity');
      expect(written.figures).toHaveLength(report!.figures.length);
      expect(written.params).toMatchObject({ quick: true, lists: 20_000, counts: [10_000, 100_000] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
