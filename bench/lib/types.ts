/**
 * The shapes every benchmark experiment shares: a `Figure` (one measured number, with
 * its target and baseline), the `Report` written to `bench/results/<name>.json`, and
 * the `Experiment` interface an experiment module implements to plug into the registry
 * in `bench/run.ts`.
 *
 * Entry points: `Figure`, `Report`, `Experiment`, `ExperimentOptions`, `MachineInfo`,
 * `Timeline` (optional: a latency time series with events, for the soak chart).
 */

/** One measured number. */
export interface Figure {
  /** Stable, human-readable name (`sendrec round trip, mean`). */
  name: string;
  value: number;
  /** `µs`, `ms`, `msg/s`, `×` … */
  unit: string;
  /**
   * The target from the issue. It applies to `ratio` when the figure has one and
   * `targetOn` is `'ratio'`, otherwise to `value`; `better` says which way passes.
   */
  target?: number;
  targetOn?: 'value' | 'ratio';
  /** `lower`: pass when ≤ target; `higher`: pass when ≥ target. */
  better?: 'lower' | 'higher';
  /** The same quantity measured on the baseline, in the same unit. */
  baseline?: number;
  /** What the baseline is (`raw worker↔worker`). */
  baselineName?: string;
  /** value / baseline. */
  ratio?: number;
  /** Whether the target was met (absent when the figure has no target). */
  pass?: boolean;
  /** Anything a reader needs to interpret the number. */
  note?: string;
}

export interface MachineInfo {
  node: string;
  cpus: number;
  cpuModel: string;
  totalMemGiB: number;
  platform: string;
}

/** What `bench/results/<experiment>.json` holds. */
export interface Report {
  experiment: string;
  /** ISO 8601, when the run started. */
  date: string;
  machine: MachineInfo;
  /** The command line that produced it. */
  command: string;
  /** Iteration counts and other parameters the run used. */
  params?: Record<string, unknown>;
  figures: Figure[];
  /**
   * Optional (the `soak` experiment): latency over the run with its events. When present,
   * bench/render.ts draws it as "latency over time" (bench/results/soak-latency.svg).
   */
  timeline?: Timeline;
}

/**
 * A latency time series and what happened during it (the soak experiment's). Times are
 * seconds since the run started; latencies milliseconds. Each sample summarizes the
 * requests completed in the window ending at `t`.
 */
export interface Timeline {
  samples: Array<{
    t: number;
    p50: number;
    p99: number;
    max: number;
    /** Requests in the window, and how many failed (optional). */
    n?: number;
    errors?: number;
  }>;
  events: Array<{
    t: number;
    label: string;
    kind: 'update' | 'rollback' | 'fault' | 'batch';
    /** false: the update was rolled back / failed, the fault not recovered … (drawn dashed). */
    ok: boolean;
  }>;
}

export interface ExperimentOptions {
  /** Shrink iteration counts (smoke tests). */
  quick: boolean;
  /** Progress lines (to stderr by default), so a long run shows it is alive. */
  log: (line: string) => void;
}

export interface ExperimentResult {
  figures: Figure[];
  params?: Record<string, unknown>;
  /** Copied into the report as `timeline` (see `Report.timeline`). */
  timeline?: Timeline;
}

/** An experiment: registered by name in `bench/run.ts`. */
export interface Experiment {
  name: string;
  /** One line for `--help`. */
  description: string;
  run(opts: ExperimentOptions): Promise<ExperimentResult>;
}
