/**
 * sched protocol: per-process CPU accounting and limits.
 *
 * What is measured. Every component runs in its own worker thread; the kernel's
 * `cpu-usage` call reports, per live incarnation, the busy time of that worker's event
 * loop since it started (V8/libuv event-loop utilisation, `active`). sched samples it
 * every `periodMs` (an alarm) and keeps, per process: CPU ms used (summed over its
 * incarnations), %CPU over the last sample window (100 = one core, the most a worker can
 * use), its nice and its CPU budget. Figures are as of the last sample (at most
 * `periodMs` old). "Busy" means the worker's thread was running JavaScript or native code
 * on its event loop: a program blocked in a synchronous host call would count too — a
 * sandboxed program has none — and time in the kernel or in servers working for it is
 * charged to them, not to it (a system call is cheap for the caller, like a trap).
 *
 * CPU budget (`sched.limit`): like RLIMIT_CPU's soft and hard limits. Once a process has
 * used `limitMs`, sched sends it XCPU (pm `pm.kill`): the default action ends it with
 * status 128 + 24 = 152; a program may handle XCPU (libc `onSignal`) to save its work
 * and exit. If it is still running `graceMs` later, sched sends KILL (status 137).
 *
 * Nice (-20..19, default 0; a child inherits its parent's nice when sched first sees it)
 * has two real effects:
 * 1. *Host priority*: sched sends the process `proc.nice`; its runtime sets its worker
 *    thread's priority (`os.setPriority(0, n)` — on Linux that is the calling thread's),
 *    so under host CPU contention the kernel's scheduler favours lower-nice workers.
 *    Lowering below the current value needs CAP_SYS_NICE on the host; without it the
 *    value is recorded and the host priority stays where it was.
 * 2. *Shedding under contention*: when processes together use more than `capacityPct`
 *    (boot arg; default 100 × `cpus`) for a window, each running process has a fair share
 *    of that capacity weighted by nice as Linux CFS weights it (1024 / 1.25^nice). A
 *    process at nice ≥ `shedNice` (default 10: "background") that stays over its
 *    weighted share for `shedSamples` consecutive samples is sent XCPU (at most once per
 *    `shedCooldownMs`) — a cooperative program handles it by backing off; one that does
 *    not is ended (152). Processes below `shedNice` are never signalled for contention,
 *    only for their budget.
 *
 * Rights (pm's process table gives every process's uid; a caller is identified by
 * `whois(from)`: a process label `p<pid>`, or a system label or the host = root):
 * - `sched.nice`: root may set any value. Another user may change only processes of its
 *   own uid, and only to values ≥ 0 (like Linux with RLIMIT_NICE = 20): lowering nice
 *   below 0 is root's.
 * - `sched.limit`: root may set, raise or remove any budget. Another user may set a
 *   budget on processes of its own uid, or lower one, never raise or remove it.
 * - `pid: 0` means the caller itself.
 * Errors: EINVAL (bad value), ESRCH (no such running process), EPERM (rights).
 *
 * Entry points: `schedProtocol`, `SchedRow`, `TopRow`, `ServerCpu`, `TopReport`,
 * `NICE_MIN`, `NICE_MAX`.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const NICE_MIN = -20;
export const NICE_MAX = 19;

/** One process as `sched.ps` shows it. */
export interface SchedRow {
  pid: number;
  /** CPU time used (ms), as of the last sample. */
  cpuMs: number;
  /** %CPU over the last sample window (100 = one core). */
  pcpu: number;
  nice: number;
  /** Its CPU budget (ms), or null for none. */
  limitMs: number | null;
}

/** One process as `sched.top` shows it. */
export interface TopRow extends SchedRow {
  uid: number;
  /** 'run': within its budget; 'xcpu': XCPU sent; 'killed': KILL sent. */
  enforcement: 'run' | 'xcpu' | 'killed';
  /** Its command line (from pm). */
  cmd: string;
}

/** A system component's CPU (summed over its incarnations since sched started). */
export interface ServerCpu {
  label: string;
  cpuMs: number;
  pcpu: number;
  incarnations: number;
}

export interface TopReport {
  rows: TopRow[];
  servers: ServerCpu[];
  totals: {
    /** Processes: CPU ms of the running ones, and their %CPU together. */
    procsCpuMs: number;
    procsPcpu: number;
    /** System components together. */
    serversCpuMs: number;
    serversPcpu: number;
    /** Running processes sched knows. */
    procs: number;
    /** The last window's length (ms), when it ended (sched's clock), samples taken. */
    windowMs: number;
    sampledAt: number | null;
    samples: number;
    /** The capacity processes share (%), and whether the last window exceeded it. */
    capacityPct: number;
    contended: boolean;
    /** Signals sched has sent: XCPU for budgets, XCPU for contention, KILL. */
    xcpuSent: number;
    shed: number;
    killsSent: number;
  };
}

export const schedProtocol = {
  /** → SchedRow[] (running processes, by pid). */
  'sched.ps': t.object({}),
  /** → TopReport. */
  'sched.top': t.object({}),
  /** Set a process's nice (NICE_MIN..NICE_MAX) → SchedRow. */
  'sched.nice': t.object({ pid: t.int, nice: t.int }),
  /** Set a process's CPU budget in ms (≥ 1); without `cpuMs`, remove it → SchedRow. */
  'sched.limit': t.object({ pid: t.int, cpuMs: t.optional(t.int) }),
} as const;

/** What sched itself answers: the protocol, plus the kernel's alarm (the sampler's tick). */
export const schedServerProtocol = {
  ...schedProtocol,
  'clock.alarm': t.object({ tag: t.string }),
} as const;

export type SchedRequest = MessagesOf<typeof schedServerProtocol>;
