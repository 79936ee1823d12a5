/**
 * rs state: the service table. All of rs's state is reachable from `RsState`.
 */
import type { BootConfig, Privileges, RestartPolicy, Limits } from '../../kernel/abi.js';
import type { ServiceStatus } from './protocol.js';

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
}

export interface RsState {
  config: BootConfig | null;
  services: Map<string, ServiceRecord>;
  booted: boolean;
}
