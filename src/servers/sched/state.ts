/**
 * sched state: one record per running process and per system component, the sampler,
 * the policy's configuration and counters — plain data reachable from `SchedState`, so
 * a live update carries every figure, nice and budget.
 */

/** CPU use of one label, summed over its incarnations. */
export interface Usage {
  /** CPU ms of incarnations that have ended (their last sampled figure). */
  baseMs: number;
  /** Live incarnation → its busy ms at the last sample. */
  incarnations: Map<number, number>;
  /** baseMs + the live incarnations' figures. */
  cpuMs: number;
  /** %CPU over the last window. */
  pcpu: number;
}

/** Where a process stands with its CPU budget (RLIMIT_CPU-like: XCPU, then KILL). */
export type Enforcement =
  | { phase: 'run' }
  | { phase: 'xcpu'; at: number }
  | { phase: 'killed'; at: number };

export interface ProcRecord {
  pid: number;
  /** From pm's table (-1: not known, pm did not answer). */
  ppid: number;
  uid: number;
  cmd: string;
  usage: Usage;
  nice: number;
  limitMs: number | null;
  enforcement: Enforcement;
  /** Contention: consecutive samples over its weighted share, and when it was last sent XCPU for it. */
  overShare: number;
  shedAt: number | null;
}

export interface ServerRecord {
  label: string;
  usage: Usage;
}

/** The policy's knobs (boot args; see protocol.ts). */
export interface SchedConfig {
  periodMs: number;
  graceMs: number;
  capacityPct: number;
  shedNice: number;
  shedSamples: number;
  shedCooldownMs: number;
}

export interface SchedState {
  config: SchedConfig;
  procs: Map<number, ProcRecord>;
  servers: Map<string, ServerRecord>;
  sampler: {
    /** The alarm tag this state answers to (an alarm set by a crashed incarnation is dropped). */
    tag: string;
    lastAt: number | null;
    windowMs: number;
    samples: number;
    contended: boolean;
  };
  stats: { xcpuSent: number; shed: number; killsSent: number };
  /** After a crash: nice and budget settings from the clients' regions, applied as each process is sampled again. */
  restored: Map<number, { nice: number; limitMs: number | null }>;
}
