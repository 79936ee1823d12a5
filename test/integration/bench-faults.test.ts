/**
 * Smoke test of the `faults` benchmark (bench/faults.ts): one cell of the campaign —
 * crash faults in vfs under ssr-restart — runs end to end (boot, arm, workload, recovery,
 * classification) and gives the figures the report is made of.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { faults } from '../../bench/faults.js';

const VARS = ['MOLT_BENCH_FAULTS', 'MOLT_BENCH_FAULTS_TARGETS', 'MOLT_BENCH_FAULTS_KINDS', 'MOLT_BENCH_FAULTS_POLICIES'];

describe('bench faults', () => {
  const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  afterEach(() => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  });

  it('--quick, one cell: vfs crash faults under ssr-restart are transparent, with a recovery time', async () => {
    Object.assign(process.env, { MOLT_BENCH_FAULTS: '2', MOLT_BENCH_FAULTS_TARGETS: 'vfs', MOLT_BENCH_FAULTS_KINDS: 'crash', MOLT_BENCH_FAULTS_POLICIES: 'ssr-restart' });
    const r = await faults.run({ quick: true, log: () => undefined });
    expect(r.params).toMatchObject({ trialsPerCell: 2, targets: ['vfs'], kinds: ['crash'], policies: ['ssr-restart'] });
    const pct = r.figures.find((f) => f.name === 'vfs crash ssr-restart: transparent');
    expect(pct?.value).toBe(100);
    expect(pct?.pass).toBe(true);
    const p50 = r.figures.find((f) => f.name === 'vfs crash ssr-restart: recovery p50');
    expect(p50?.value).toBeGreaterThan(0);
  }, 90_000);
});
