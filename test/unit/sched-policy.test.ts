/**
 * sched policy (pure): budgets (XCPU, then KILL after the grace period), shedding of
 * background processes under contention, the rights to change nice and budgets, the
 * configuration from boot arguments; and the programs' argument parsing and tables.
 */
import { describe, expect, it } from 'vitest';
import { newUsage } from '../../src/servers/sched/accounting.js';
import { configFrom, enforce, limitRight, niceRight, weight } from '../../src/servers/sched/policy.js';
import type { ProcRecord, SchedState } from '../../src/servers/sched/state.js';
import { formatCpuTime, formatPs } from '../../src/user/bin/ps.js';
import { parseTopArgs, MAX_FRAMES } from '../../src/user/bin/top.js';
import { clampNice, parseNiceArgs } from '../../src/user/bin/nice.js';

const rec = (pid: number, fields: Partial<ProcRecord> & { cpuMs?: number; pcpu?: number } = {}): ProcRecord => {
  const { cpuMs = 0, pcpu = 0, ...rest } = fields;
  return {
    pid, ppid: 0, uid: 0, cmd: 'x', usage: { ...newUsage(), cpuMs, pcpu }, nice: 0, limitMs: null,
    enforcement: { phase: 'run' }, overShare: 0, shedAt: null, ...rest,
  };
};
const state = (recs: ProcRecord[], args: Record<string, unknown> = {}, contended = false): SchedState => ({
  config: configFrom(args),
  procs: new Map(recs.map((r) => [r.pid, r])),
  servers: new Map(),
  sampler: { tag: 't', lastAt: 0, windowMs: 500, samples: 1, contended },
  stats: { xcpuSent: 0, shed: 0, killsSent: 0 },
  restored: new Map(),
});

describe('enforce: budgets', () => {
  it('XCPU once over the budget, KILL once the grace period has passed, nothing after', () => {
    const s = state([rec(1, { cpuMs: 99, limitMs: 100 })], { graceMs: 1000 });
    expect(enforce(s, 0)).toEqual([]);
    s.procs.get(1)!.usage.cpuMs = 100;
    expect(enforce(s, 10)).toEqual([{ pid: 1, signal: 'XCPU', why: 'limit' }]);
    expect(enforce(s, 500)).toEqual([]);
    expect(enforce(s, 1010)).toEqual([{ pid: 1, signal: 'KILL', why: 'limit' }]);
    expect(enforce(s, 5000)).toEqual([]);
  });

  it('a budget raised above the use puts the process back within it', () => {
    const s = state([rec(1, { cpuMs: 200, limitMs: 100 })]);
    expect(enforce(s, 0)).toHaveLength(1);
    s.procs.get(1)!.limitMs = 1000;
    expect(enforce(s, 10)).toEqual([]);
    expect(s.procs.get(1)!.enforcement).toEqual({ phase: 'run' });
  });
});

describe('enforce: contention', () => {
  it('weights as CFS: 1024 at 0, ×1.25 per step', () => {
    expect(weight(0)).toBe(1024);
    expect(weight(1)).toBeCloseTo(819.2);
    expect(weight(-1)).toBe(1280);
  });

  it('sheds a background process over its share after shedSamples, with a cooldown; never a foreground one', () => {
    const s = state([rec(1, { pcpu: 90 }), rec(2, { pcpu: 90, nice: 15 }), rec(3, { pcpu: 90, nice: 5 })], { capacityPct: 100, shedSamples: 2, shedCooldownMs: 1000 }, true);
    expect(enforce(s, 0)).toEqual([]);
    expect(enforce(s, 100)).toEqual([{ pid: 2, signal: 'XCPU', why: 'contention' }]);
    expect(enforce(s, 200)).toEqual([]);
    expect(enforce(s, 300)).toEqual([]); // cooling down
    expect(enforce(s, 1200)).toEqual([{ pid: 2, signal: 'XCPU', why: 'contention' }]);
  });

  it('no contention, or one process alone: nothing', () => {
    const s = state([rec(1, { pcpu: 100, nice: 19 }), rec(2, { pcpu: 100, nice: 19 })], { shedSamples: 1 }, false);
    expect(enforce(s, 0)).toEqual([]);
    const alone = state([rec(1, { pcpu: 100, nice: 19 })], { shedSamples: 1, capacityPct: 10 }, true);
    expect(enforce(alone, 0)).toEqual([]);
  });
});

describe('rights', () => {
  const root = { pid: 0, uid: 0 };
  const user = { pid: 5, uid: 1000 };
  it('nice: root anything in range; a user its own processes, ≥ 0 only', () => {
    expect(niceRight(root, rec(1, { uid: 1000 }), -20)).toEqual({ ok: true });
    expect(niceRight(root, rec(1), 20)).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(niceRight(user, rec(1, { uid: 0 }), 5)).toMatchObject({ ok: false, code: 'EPERM' });
    expect(niceRight(user, rec(1, { uid: 1000 }), 5)).toEqual({ ok: true });
    expect(niceRight(user, rec(1, { uid: 1000, nice: 5 }), 0)).toEqual({ ok: true });
    expect(niceRight(user, rec(1, { uid: 1000 }), -1)).toMatchObject({ ok: false, code: 'EPERM' });
  });

  it('limit: root anything; a user may set or lower a budget on its own processes, not raise or remove it', () => {
    expect(limitRight(root, rec(1, { limitMs: 10 }), null)).toEqual({ ok: true });
    expect(limitRight(root, rec(1), 0)).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(limitRight(user, rec(1), 100)).toMatchObject({ ok: false, code: 'EPERM' });
    const own = rec(1, { uid: 1000 });
    expect(limitRight(user, own, null)).toEqual({ ok: true }); // none to remove
    expect(limitRight(user, own, 100)).toEqual({ ok: true });
    own.limitMs = 100;
    expect(limitRight(user, own, 50)).toEqual({ ok: true });
    expect(limitRight(user, own, 101)).toMatchObject({ ok: false, code: 'EPERM' });
    expect(limitRight(user, own, null)).toMatchObject({ ok: false, code: 'EPERM' });
  });
});

describe('configFrom', () => {
  it('defaults, cpus scales the capacity, bad values ignored, bounds applied', () => {
    expect(configFrom({})).toEqual({ periodMs: 500, graceMs: 1000, capacityPct: 100, shedNice: 10, shedSamples: 3, shedCooldownMs: 5000 });
    expect(configFrom({ cpus: 4 }).capacityPct).toBe(400);
    expect(configFrom({ periodMs: 'fast', graceMs: -5, capacityPct: 30 })).toMatchObject({ periodMs: 500, graceMs: 0, capacityPct: 30 });
    expect(configFrom({ periodMs: 1 }).periodMs).toBe(50);
  });
});

describe('programs', () => {
  const p = (pid: number, state: 'running' | 'zombie' = 'running') => ({ pid, ppid: 1, uid: 0, argv: ['prog'], state, status: null, startedAt: 0, label: `p${pid}` });
  it('ps: TIME as M:SS.cc; NI and TIME with sched, pm\'s table alone without', () => {
    expect(formatCpuTime(0)).toBe('0:00.00');
    expect(formatCpuTime(61_234)).toBe('1:01.23');
    expect(formatPs([p(3), p(2, 'zombie')], [{ pid: 3, cpuMs: 1500, pcpu: 50, nice: -2, limitMs: null }])).toBe(
      'PID  PPID  UID  STAT  NI  TIME     CMD\n2    1     0    Z     -   -        prog\n3    1     0    R     -2  0:01.50  prog\n',
    );
    expect(formatPs([p(3)], null)).toBe('PID  PPID  UID  STAT  CMD\n3    1     0    R     prog\n');
    // Not sampled yet: its nearest ancestor's nice (what sched will give it), no TIME.
    expect(formatPs([{ ...p(1), ppid: 0 }, p(3), { ...p(4), ppid: 3 }], [{ pid: 1, cpuMs: 10, pcpu: 0, nice: 6, limitMs: null }]).split('\n').slice(1, 4)).toEqual([
      '1    0     0    R     6   0:00.01  prog', '3    1     0    R     6   -        prog', '4    3     0    R     6   -        prog',
    ]);
  });

  it('top arguments', () => {
    expect(parseTopArgs([])).toEqual({ frames: null, delayMs: 1000, servers: true });
    expect(parseTopArgs(['-n', '3', '-d', '0.5', '-s'])).toEqual({ frames: 3, delayMs: 500, servers: false });
    expect(parseTopArgs(['-n5', '-d2'])).toEqual({ frames: 5, delayMs: 2000, servers: true });
    expect(parseTopArgs(['-n', '1e9'])).toHaveProperty('error');
    expect(parseTopArgs(['-n', '99999999'])).toMatchObject({ frames: MAX_FRAMES });
    expect(parseTopArgs(['-n', '0'])).toHaveProperty('error');
    expect(parseTopArgs(['-x'])).toHaveProperty('error');
  });

  it('nice arguments', () => {
    expect(parseNiceArgs([])).toEqual({ mode: 'show' });
    expect(parseNiceArgs(['ls', '-l'])).toEqual({ mode: 'run', adjust: 10, command: ['ls', '-l'] });
    expect(parseNiceArgs(['-n', '-5', 'sh'])).toEqual({ mode: 'run', adjust: -5, command: ['sh'] });
    expect(parseNiceArgs(['-n3', '--', '-weird'])).toEqual({ mode: 'run', adjust: 3, command: ['-weird'] });
    expect(parseNiceArgs(['-n', '4', '-p', '7', '8'])).toEqual({ mode: 'renice', nice: 4, pids: [7, 8] });
    expect(parseNiceArgs(['-p', '7'])).toHaveProperty('error');
    expect(parseNiceArgs(['-n', 'x', 'ls'])).toHaveProperty('error');
    expect(parseNiceArgs(['-n', '3'])).toHaveProperty('error');
    expect(clampNice(40)).toBe(19);
    expect(clampNice(-40)).toBe(-20);
  });
});
