/**
 * rs state: the service table. All of rs's state is reachable from `RsState`.
 */
import type { BootConfig, FaultPlan, Privileges, RestartPolicy, Limits } from '../../kernel/abi.js';
import type { FaultRecord, ServiceStatus, UpdatePhase, UpdateResult } from './protocol.js';

/** A service's recovery policy, every field set (the boot configuration's `policy` over these defaults). */
export type Policy = Required<RestartPolicy>;

export const DEFAULT_POLICY: Policy = {
  mode: 'stateless-restart',
  retries: 1,
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
  policy: Policy;
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
  /** Every fault and what rs did about it, oldest first (the last `FAULT_LOG_LIMIT`). */
  faultLog: FaultRecord[];
  /** The fault-injection plan armed (`service fi`) in an incarnation, so its fault is marked injected. */
  injection: { plan: FaultPlan; incarnation: number; at: number } | null;
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
  /** Function-level patches applied (src/patch), oldest first: rs id → where it lives. */
  patches: PatchRecord[];
  nextPatch: number;
}

export interface PatchRecord {
  id: number;
  label: string;
  source: string;
  /** Its id in the incarnation that applied it. */
  local: number;
  incarnation: number;
  /** Undone through rs (`patch undo`): not applied again after a restart. */
  undone: boolean;
}
