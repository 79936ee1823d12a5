/**
 * rs protocol: the reincarnation server's requests. `kernel.*` and `clock.*` arrive
 * from the kernel only (the kernel refuses those types from anyone else).
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const rsProtocol = {
  /** The kernel reports an incarnation that ended with a fault after its init. */
  'kernel.fault': t.object({
    label: t.string,
    incarnation: t.int,
    kind: t.oneOf('throw', 'exit', 'oom', 'hang', 'init'),
    error: t.object({ name: t.string, message: t.string }),
    wasBound: t.boolean,
  }),
  /** A timer rs set (restart backoff). */
  'clock.alarm': t.object({ tag: t.string }),
  /** `service list`. */
  'rs.list': t.object({}),
  /** `service restart <label>`: end the current incarnation and start a fresh one. */
  'rs.restart': t.object({ label: t.string }),
  /** `service update`: one component, or several as one transaction (a batch). */
  'rs.update': t.object({
    items: t.array(t.object({ label: t.string, source: t.string })),
    prepare: t.optional(t.oneOf('work-free', 'request-free', 'protocol-free', 'state')),
    state: t.optional(t.string),
    block: t.optional(t.array(t.object({ label: t.optional(t.string), type: t.optional(t.string) }))),
    maxtime: t.optional(t.int),
    initMaxtime: t.optional(t.int),
    dryRun: t.optional(t.boolean),
  }),
  /** `service rollback <label>`: back to the previous version, through the same transfer. */
  'rs.rollback': t.object({ label: t.string }),
  /** `service up <label>`: start a daemon the boot configuration lists (`daemons`), with extra `args`. */
  'rs.up': t.object({ label: t.string, args: t.optional(t.record(t.any)) }),
  /** `service down <label>`: stop a daemon (its stop hook runs first); its callers then get EDEADEP. */
  'rs.down': t.object({ label: t.string }),
  /** `service history <label>`. */
  'rs.history': t.object({ label: t.string }),
} as const;

export type RsRequest = MessagesOf<typeof rsProtocol>;

export type ServiceStatus = 'starting' | 'running' | 'restarting' | 'failed';

export type UpdateOutcome = 'committed' | 'rolled-back' | 'cancelled' | 'refused' | 'dry-run';
export type UpdatePhase = 'build' | 'spawn' | 'prepare' | 'transfer' | 'commit';

/** How one update (or batch) ended: the answer to `rs.update`, and a line of `service history`. */
export interface UpdateResult {
  id: number;
  outcome: UpdateOutcome;
  labels: string[];
  /** The phase it ended in (for a failure: where it failed). */
  phase: UpdatePhase;
  reason: string | null;
  /** Milliseconds spent in each phase reached. */
  timings: Partial<Record<UpdatePhase, number>>;
  /** Milliseconds during which the components' requests were held (prepare done → commit/abort). */
  heldMs: number;
  totalMs: number;
  startedAt: number;
  versions: Array<{ label: string; from: string | null; to: string | null }>;
  /** Transfer reports (fields added/removed/converted, objects dropped), by label. */
  reports: Record<string, unknown>;
  /** For --dry-run: the transfer plan, by label. */
  plans?: Record<string, unknown>;
}

/** One row of `service list`. */
export interface ServiceRow {
  label: string;
  endpoint: number;
  incarnation: number | null;
  version: string | null;
  status: ServiceStatus;
  restarts: number;
  uptimeMs: number | null;
  messages: number;
  lastFault: { kind: string; message: string; at: number } | null;
}
