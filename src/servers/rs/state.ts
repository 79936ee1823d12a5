/**
 * rs state: the service table. All of rs's state is reachable from `RsState`.
 */
import type { BootConfig, Privileges, RestartPolicy, Limits } from '../../kernel/abi.js';
import type { ServiceStatus, UpdatePhase, UpdateResult } from './protocol.js';

export const DEFAULT_POLICY: RestartPolicy = {
  maxInitFailures: 3,
  backoffBaseMs: 50,
  backoffMaxMs: 5_000,
  maxFaults: 10,
  windowMs: 60_000,
};

export interface ServiceRecord {
  label: string;
  source: string;
  privileges: Privileges;
  limits: Partial<Limits>;
  args: Record<string, unknown>;
  policy: RestartPolicy;
  endpoint: number;
  incarnation: number | null;
  version: string | null;
  status: ServiceStatus;
  /** Successful restarts since boot. */
  restarts: number;
  startedAt: number | null;
  /** Times of recent faults (within `policy.windowMs`). */
  faults: number[];
  consecutiveInitFailures: number;
  lastFault: { kind: string; message: string; at: number } | null;
  /** Versions this service has run, oldest first (the last is the current one). */
  versions: Array<{ version: string; source: string; since: number }>;
  history: UpdateResult[];
}

/** One component's part in an update in progress (an explicit state machine). */
export interface UpdateStep {
  label: string;
  source: string;
  from: number;
  fromVersion: string | null;
  /** Built version id, then the new incarnation once spawned. */
  version: string | null;
  to: number | null;
  filters: number[];
  phase: UpdatePhase;
  prepared: boolean;
  report: unknown;
}

export interface UpdateRun {
  id: number;
  steps: UpdateStep[];
  startedAt: number;
  heldSince: number | null;
  timings: Partial<Record<UpdatePhase, number>>;
}

export interface RsState {
  config: BootConfig | null;
  services: Map<string, ServiceRecord>;
  booted: boolean;
  /** Updates in progress, by id. */
  updates: Map<number, UpdateRun>;
  nextUpdate: number;
}
