/**
 * ps: the process table: PID, PPID, UID, STAT (R running, Z ended but not yet waited
 * for), and — when sched runs — NI (nice) and TIME (CPU time used, M:SS.cc), then CMD
 * (its arguments). Without sched (or when it does not answer) the table is pm's alone.
 *
 * Usage: `ps`. Entry points: default `main(argv)`; `formatPs`, `formatCpuTime`.
 */
import { call, eprint, print, ps, sleep, SysError, type ProcInfo } from 'libc';
import { formatTable } from 'libc/format';
import type { SchedRow } from '../../servers/sched/protocol.js';

/** CPU milliseconds → `M:SS.cc` (minutes may exceed 59, as in top's TIME+). */
export function formatCpuTime(ms: number): string {
  const cs = Math.floor(ms / 10);
  const m = Math.floor(cs / 6000);
  const s = Math.floor((cs % 6000) / 100);
  return `${m}:${String(s).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
}

/**
 * The table; with `sched` (its `sched.ps` rows), NI and TIME columns too (TIME '-' for a
 * process it has not sampled yet, NI then its nearest ancestor's; '-' for zombies).
 */
export function formatPs(procs: readonly ProcInfo[], sched: readonly SchedRow[] | null = null): string {
  const byPid = new Map((sched ?? []).map((r) => [r.pid, r]));
  const cmd = (p: ProcInfo) => (p.argv.length > 0 ? p.argv.join(' ') : `[${p.label}]`);
  const stat = (p: ProcInfo) => (p.state === 'zombie' ? 'Z' : 'R');
  const sorted = [...procs].sort((a, b) => a.pid - b.pid);
  if (!sched) {
    return formatTable(['PID', 'PPID', 'UID', 'STAT', 'CMD'], sorted.map((p) => [String(p.pid), String(p.ppid), String(p.uid), stat(p), cmd(p)]));
  }
  // A process sched has not sampled yet will have its parent's nice (sched gives it that
  // when it first sees it): show the nearest ancestor's.
  const byPidProc = new Map(procs.map((p) => [p.pid, p]));
  const niceOf = (p: ProcInfo): string => {
    for (let q: ProcInfo | undefined = p, depth = 0; q && depth < 64; q = byPidProc.get(q.ppid), depth++) {
      const s = byPid.get(q.pid);
      if (s) return String(s.nice);
    }
    return '-';
  };
  return formatTable(
    ['PID', 'PPID', 'UID', 'STAT', 'NI', 'TIME', 'CMD'],
    sorted.map((p) => {
      if (p.state !== 'running') return [String(p.pid), String(p.ppid), String(p.uid), stat(p), '-', '-', cmd(p)];
      const s = byPid.get(p.pid);
      return [String(p.pid), String(p.ppid), String(p.uid), stat(p), niceOf(p), s ? formatCpuTime(s.cpuMs) : '-', cmd(p)];
    }),
  );
}

/** How long ps waits for sched (being restarted, say) before it prints pm's table alone. */
const SCHED_WAIT_MS = 2_000;

export default async function main(argv: readonly string[]): Promise<number> {
  if (argv.length > 1 && !/^-?[aefx]*$/.test(argv[1]!)) {
    await eprint(`ps: unknown option ${argv[1]}\nusage: ps\n`).catch(() => undefined);
    return 2;
  }
  try {
    // sched's figures if it answers soon; pm's table alone otherwise.
    const figures = Promise.race([call<SchedRow[]>('sched', 'sched.ps').catch(() => null), sleep(SCHED_WAIT_MS).then(() => null)]);
    const [procs, sched] = await Promise.all([ps(), figures]);
    await print(formatPs(procs, sched));
    return 0;
  } catch (e) {
    await eprint(`ps: ${e instanceof SysError ? e.code : 'EIO'}\n`).catch(() => undefined);
    return 1;
  }
}
