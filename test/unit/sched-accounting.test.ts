/**
 * sched accounting (pure): samples of the kernel's cpu-usage rows folded into per-process
 * and per-component records — CPU time summed over incarnations, %CPU over the window,
 * records of ended processes dropped, nice inherited — and the ps/top views.
 */
import { describe, expect, it } from 'vitest';
import type { CpuUsage } from '../../src/kernel/abi.js';
import type { ProcInfo } from '../../src/servers/pm/protocol.js';
import { account, applySample, newUsage, psRows, topReport } from '../../src/servers/sched/accounting.js';
import { configFrom } from '../../src/servers/sched/policy.js';
import type { SchedState } from '../../src/servers/sched/state.js';

const fresh = (args: Record<string, unknown> = {}): SchedState => ({
  config: configFrom(args),
  procs: new Map(),
  servers: new Map(),
  sampler: { tag: 't', lastAt: null, windowMs: 0, samples: 0, contended: false },
  stats: { xcpuSent: 0, shed: 0, killsSent: 0 },
  restored: new Map(),
});
const proc = (pid: number, ppid = 0, uid = 0, state: ProcInfo['state'] = 'running'): ProcInfo => ({
  pid, ppid, uid, argv: [`prog${pid}`], state, status: null, startedAt: 0, label: `p${pid}`,
});
const cpu = (label: string, incarnation: number, activeMs: number, elapsedMs = 10_000): CpuUsage => ({ label, incarnation, activeMs, elapsedMs });

describe('account', () => {
  it('first sight: the lifetime average; then the growth over the window; capped at 100% per worker', () => {
    const u = newUsage();
    account(u, [cpu('p1', 1, 250, 1000)], 0);
    expect(u).toMatchObject({ cpuMs: 250, pcpu: 25 });
    account(u, [cpu('p1', 1, 650, 1500)], 500);
    expect(u).toMatchObject({ cpuMs: 650, pcpu: 80 });
    account(u, [cpu('p1', 1, 1400, 2000)], 500);
    expect(u).toMatchObject({ cpuMs: 1400, pcpu: 100 });
  });

  it('sums over incarnations: an ended one keeps its last figure, a new one adds', () => {
    const u = newUsage();
    account(u, [cpu('vfs', 1, 100)], 0);
    account(u, [cpu('vfs', 1, 150), cpu('vfs', 2, 10)], 500); // during an update: both live
    expect(u.cpuMs).toBe(160);
    account(u, [cpu('vfs', 2, 60)], 500);
    expect(u).toMatchObject({ baseMs: 150, cpuMs: 210, pcpu: 10 });
    expect([...u.incarnations.keys()]).toEqual([2]);
    account(u, [], 500); // down for a moment
    expect(u).toMatchObject({ cpuMs: 210, pcpu: 0 });
  });
});

describe('applySample', () => {
  it('keeps records of running processes only, inherits nice, accounts components apart', () => {
    const s = fresh();
    applySample(s, [proc(1), proc(2, 1)], [cpu('p1', 5, 100), cpu('p2', 6, 40), cpu('pm', 2, 30)], 1000);
    expect(psRows(s).map((r) => [r.pid, r.cpuMs])).toEqual([[1, 100], [2, 40]]);
    s.procs.get(2)!.nice = 7;
    applySample(s, [proc(1), proc(2, 1), proc(3, 2), proc(4, 1, 0, 'zombie')], [cpu('p1', 5, 300), cpu('p2', 6, 40), cpu('p3', 7, 1), cpu('pm', 2, 35)], 1500);
    expect(psRows(s)).toEqual([
      { pid: 1, cpuMs: 300, pcpu: 40, nice: 0, limitMs: null },
      { pid: 2, cpuMs: 40, pcpu: 0, nice: 7, limitMs: null },
      { pid: 3, cpuMs: 1, pcpu: 0, nice: 7, limitMs: null }, // inherited from its parent
    ]);
    applySample(s, [proc(1)], [cpu('p1', 5, 300), cpu('pm', 2, 40)], 2000);
    expect([...s.procs.keys()]).toEqual([1]);
    const top = topReport(s);
    expect(top.servers).toEqual([{ label: 'pm', cpuMs: 40, pcpu: 1, incarnations: 1 }]);
    expect(top.totals).toMatchObject({ procs: 1, procsCpuMs: 300, serversCpuMs: 40, samples: 3, windowMs: 500, sampledAt: 2000 });
    expect(top.rows[0]).toMatchObject({ pid: 1, cmd: 'prog1', uid: 0, enforcement: 'run' });
  });

  it('without pm (no table): the process labels with a live incarnation are the running processes', () => {
    const s = fresh();
    applySample(s, null, [cpu('p9', 1, 10), cpu('rs', 1, 5)], 100);
    expect(s.procs.get(9)).toMatchObject({ uid: -1, cmd: '[p9]' });
    applySample(s, null, [cpu('rs', 1, 5)], 600);
    expect(s.procs.size).toBe(0);
  });

  it('contended when the processes use more than the capacity over the window', () => {
    const s = fresh({ capacityPct: 50 });
    applySample(s, [proc(1)], [cpu('p1', 1, 0)], 0);
    applySample(s, [proc(1)], [cpu('p1', 1, 400)], 500);
    expect(s.sampler.contended).toBe(true);
    applySample(s, [proc(1)], [cpu('p1', 1, 500)], 1000);
    expect(s.sampler.contended).toBe(false);
  });
});
