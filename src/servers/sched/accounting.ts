/**
 * sched: accounting — folding one sample of the kernel's `cpu-usage` rows (and pm's
 * process table) into the records, and the views `sched.ps` / `sched.top` answer. Pure
 * functions over the state: no messages, no clock (the caller passes `now`).
 *
 * Entry points: `applySample`, `account`, `newUsage`, `psRows`, `topReport`.
 */
import type { CpuUsage } from '../../kernel/abi.js';
import { pidOfLabel, processLabel, type ProcInfo } from '../pm/protocol.js';
import type { SchedRow, TopReport, TopRow } from './protocol.js';
import type { ProcRecord, SchedState, Usage } from './state.js';

export const newUsage = (): Usage => ({ baseMs: 0, incarnations: new Map(), cpuMs: 0, pcpu: 0 });

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Fold one label's rows into its usage. An incarnation seen before contributes its
 * growth over the window; one seen for the first time, its lifetime average (it may have
 * started before the window: its whole busy time is not this window's). An incarnation
 * that is gone keeps its last figure in `baseMs`. A worker's loop is busy at most 100%.
 */
export function account(u: Usage, rows: readonly CpuUsage[], windowMs: number): void {
  const live = new Map<number, number>();
  let pct = 0;
  for (const r of rows) {
    const active = Math.max(0, r.activeMs);
    live.set(r.incarnation, active);
    const before = u.incarnations.get(r.incarnation);
    const p = before !== undefined && windowMs > 0
      ? ((active - before) / windowMs) * 100
      : (active / Math.max(1, r.elapsedMs)) * 100;
    pct += Math.min(100, Math.max(0, p));
  }
  for (const [inc, ms] of u.incarnations) if (!live.has(inc)) u.baseMs += ms;
  u.incarnations = live;
  let cpu = u.baseMs;
  for (const ms of live.values()) cpu += ms;
  u.cpuMs = Math.max(u.cpuMs, cpu); // never backwards (a figure read twice, rounding)
  u.pcpu = round1(pct);
}

function newRecord(pid: number, info: ProcInfo | null, parent: ProcRecord | undefined): ProcRecord {
  return {
    pid,
    ppid: info?.ppid ?? -1,
    uid: info?.uid ?? -1,
    cmd: info ? (info.argv.length > 0 ? info.argv.join(' ') : `[${info.label}]`) : `[${processLabel(pid)}]`,
    usage: newUsage(),
    nice: parent?.nice ?? 0, // inherited, as fork does
    limitMs: null,
    enforcement: { phase: 'run' },
    overShare: 0,
    shedAt: null,
  };
}

/** The record of `pid` (created from pm's row if sched has none yet). */
export function recordFor(state: SchedState, info: ProcInfo): ProcRecord {
  let rec = state.procs.get(info.pid);
  if (!rec) {
    rec = newRecord(info.pid, info, state.procs.get(info.ppid));
    state.procs.set(info.pid, rec);
  }
  rec.ppid = info.ppid;
  rec.uid = info.uid;
  return rec;
}

/**
 * One sample:
 * 1. the window since the last sample;
 * 2. the running processes — pm's table when it answered, else the `p<pid>` labels that
 *    have a live incarnation; records of the others (exited, zombies) are dropped;
 * 3. each process's and each system component's usage;
 * 4. the totals and whether the processes' CPU exceeded the capacity.
 */
export function applySample(state: SchedState, procs: readonly ProcInfo[] | null, usage: readonly CpuUsage[], now: number): void {
  // 1.
  const windowMs = state.sampler.lastAt === null ? 0 : Math.max(0, now - state.sampler.lastAt);
  const byLabel = new Map<string, CpuUsage[]>();
  for (const r of usage) {
    const list = byLabel.get(r.label);
    if (list) list.push(r);
    else byLabel.set(r.label, [r]);
  }
  // 2.
  const running = new Map<number, ProcInfo | null>();
  if (procs) {
    for (const p of procs) if (p.state === 'running') running.set(p.pid, p);
  } else {
    for (const label of byLabel.keys()) {
      const pid = pidOfLabel(label);
      if (pid > 0) running.set(pid, null);
    }
  }
  for (const pid of [...state.procs.keys()]) if (!running.has(pid)) state.procs.delete(pid);
  // Parents first, so a child created in this sample inherits its parent's nice.
  for (const [pid, info] of [...running].sort((a, b) => a[0] - b[0])) {
    const rec = info ? recordFor(state, info) : (state.procs.get(pid) ?? newRecord(pid, null, undefined));
    state.procs.set(pid, rec);
    // 3.
    account(rec.usage, byLabel.get(processLabel(pid)) ?? [], windowMs);
  }
  for (const [label, rows] of byLabel) {
    if (pidOfLabel(label) > 0) continue;
    let srv = state.servers.get(label);
    if (!srv) {
      srv = { label, usage: newUsage() };
      state.servers.set(label, srv);
    }
    account(srv.usage, rows, windowMs);
  }
  for (const srv of state.servers.values()) if (!byLabel.has(srv.label)) account(srv.usage, [], windowMs);
  // 4.
  state.sampler.windowMs = windowMs;
  state.sampler.lastAt = now;
  state.sampler.samples++;
  state.sampler.contended = windowMs > 0 && procsPcpu(state) > state.config.capacityPct;
}

export function procsPcpu(state: SchedState): number {
  let sum = 0;
  for (const r of state.procs.values()) sum += r.usage.pcpu;
  return round1(sum);
}

export const psRow = (r: ProcRecord): SchedRow => ({
  pid: r.pid, cpuMs: Math.round(r.usage.cpuMs), pcpu: r.usage.pcpu, nice: r.nice, limitMs: r.limitMs,
});

export function psRows(state: SchedState): SchedRow[] {
  return [...state.procs.values()].sort((a, b) => a.pid - b.pid).map(psRow);
}

export function topReport(state: SchedState): TopReport {
  const rows = [...state.procs.values()]
    .sort((a, b) => b.usage.pcpu - a.usage.pcpu || b.usage.cpuMs - a.usage.cpuMs || a.pid - b.pid)
    .map((r): TopRow => ({ ...psRow(r), uid: r.uid, enforcement: r.enforcement.phase, cmd: r.cmd }));
  const servers = [...state.servers.values()]
    .sort((a, b) => b.usage.cpuMs - a.usage.cpuMs || a.label.localeCompare(b.label))
    .map((s) => ({ label: s.label, cpuMs: Math.round(s.usage.cpuMs), pcpu: s.usage.pcpu, incarnations: s.usage.incarnations.size }));
  let procsCpuMs = 0;
  for (const r of state.procs.values()) procsCpuMs += r.usage.cpuMs;
  let serversCpuMs = 0;
  let serversPcpu = 0;
  for (const s of state.servers.values()) {
    serversCpuMs += s.usage.cpuMs;
    serversPcpu += s.usage.pcpu;
  }
  return {
    rows,
    servers,
    totals: {
      procsCpuMs: Math.round(procsCpuMs),
      procsPcpu: procsPcpu(state),
      serversCpuMs: Math.round(serversCpuMs),
      serversPcpu: round1(serversPcpu),
      procs: state.procs.size,
      windowMs: state.sampler.windowMs,
      sampledAt: state.sampler.lastAt,
      samples: state.sampler.samples,
      capacityPct: state.config.capacityPct,
      contended: state.sampler.contended,
      ...state.stats,
    },
  };
}
