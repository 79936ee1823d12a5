/**
 * pm protocol: processes. pids, parent/child, spawn/exit/wait/kill, the process table.
 * Signals: INT (Ctrl-C), TERM (ask to end: a program may handle it), KILL (ended at
 * once), XCPU (over its CPU budget, sent by sched: a program may handle it; sched sends
 * KILL if it is still running after a grace period). A process that exits by a signal
 * has status 128 + the signal's number.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const SIGNALS = { INT: 2, KILL: 9, TERM: 15, XCPU: 24 } as const;

/** A process runs under the kernel label `p<pid>`: the one place this convention is written. */
export const processLabel = (pid: number): string => `p${pid}`;
/** The pid of a process label, or 0 for any other label (a system caller). */
export const pidOfLabel = (label: string | null): number => {
  const m = label === null ? null : /^p(\d+)$/.exec(label);
  return m ? Number(m[1]) : 0;
};
export type SignalName = keyof typeof SIGNALS;

export interface ProcInfo {
  pid: number;
  ppid: number;
  uid: number;
  /** Program path and arguments. */
  argv: string[];
  state: 'running' | 'zombie';
  status: number | null;
  startedAt: number;
  /** Kernel messages handled by its endpoint (a rough activity figure). */
  label: string;
}

export const pmProtocol = {
  /** Start `path` (a .ts program) as a child of the caller. `fds`: [childFd, callerFd] pairs (default 0,1,2 inherited). → pid. */
  'pm.spawn': t.object({
    path: t.string,
    argv: t.array(t.string),
    env: t.optional(t.record(t.string)),
    fds: t.optional(t.array(t.array(t.int))),
    cwd: t.optional(t.string),
    /** Run the child as this user (root only may choose another uid than its own). */
    uid: t.optional(t.int),
  }),
  /** Wait for a child (`pid`, or -1 for any) to exit → { pid, status }. ECHILD if none. */
  'pm.wait': t.object({ pid: t.int }),
  'pm.kill': t.object({ pid: t.int, signal: t.oneOf('INT', 'TERM', 'KILL', 'XCPU') }),
  /** → { pid, ppid, uid }. */
  'pm.getpid': t.object({}),
  /** → ProcInfo[]. */
  'pm.ps': t.object({}),

  // ── from the kernel ──
  'kernel.exit': t.object({ label: t.string, incarnation: t.int, status: t.int, error: t.optional(t.string) }),
  'kernel.fault': t.object({ label: t.string, incarnation: t.int, kind: t.string, error: t.any, wasBound: t.boolean }),
} as const;

export type PmRequest = MessagesOf<typeof pmProtocol>;
