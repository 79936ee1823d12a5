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
    /** Message types of the calls the incarnation was handling when it ended. */
    requests: t.optional(t.array(t.string)),
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
    /**
     * `process` (default): a new incarnation, the whole state transferred. `objects`: the
     * component's updatable classes replaced in place, inside its incarnation (src/objects);
     * with `lazy`, each instance converts on its next call.
     */
    mode: t.optional(t.oneOf('process', 'objects')),
    lazy: t.optional(t.boolean),
  }),
  /** `service rollback <label>`: back to the previous version, through the same transfer. */
  'rs.rollback': t.object({ label: t.string }),
  /** `service up <label>`: start a daemon the boot configuration lists (`daemons`), with extra `args`. */
  'rs.up': t.object({ label: t.string, args: t.optional(t.record(t.any)) }),
  /** `service down <label>`: stop a daemon (its stop hook runs first); its callers then get EDEADEP. */
  'rs.down': t.object({ label: t.string }),
  /** `service history <label>`. */
  'rs.history': t.object({ label: t.string }),
  /**
   * `service policy <label> [changes]`: a running service's recovery policy; the fields
   * given change it (validated as a whole: EINVAL with every reason). Answers the policy.
   */
  'rs.policy': t.object({
    label: t.string,
    mode: t.optional(t.string),
    retries: t.optional(t.any),
    maxInitFailures: t.optional(t.any),
    backoffBaseMs: t.optional(t.any),
    backoffMaxMs: t.optional(t.any),
    maxFaults: t.optional(t.any),
    windowMs: t.optional(t.any),
  }),
  /**
   * `patch apply LABEL FILE` / `patch undo ID` / `patch list [LABEL]`: function-level
   * patches (src/patch) of running components. Ids are rs's, unique across the system.
   */
  'rs.patch': t.object({
    op: t.oneOf('apply', 'undo', 'list'),
    label: t.optional(t.string),
    source: t.optional(t.string),
    /** The patch to undo (rs's id). */
    patch: t.optional(t.int),
  }),
  /** `service faults [label]`: the recorded faults of one service or of all, oldest first. */
  'rs.faults': t.object({ label: t.optional(t.string) }),
  /**
   * `service fi <label> …`: arm fault injection in a running service's incarnation
   * (`kind` and the plan's fields), or with `clear`, disarm it.
   */
  'rs.fi': t.object({
    label: t.string,
    clear: t.optional(t.boolean),
    kind: t.optional(t.string),
    at: t.optional(t.string),
    after: t.optional(t.any),
    seed: t.optional(t.any),
    times: t.optional(t.any),
  }),
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

/** What rs did about a fault: restarted (stateless or keeping the interrupted calls), or gave up. */
export type FaultAction = 'restart' | 'ssr-restart' | 'give-up';

/** One recorded fault of a service (`service faults`). */
export interface FaultRecord {
  /** When rs learnt of it (ms since the epoch). */
  at: number;
  /** The incarnation that faulted (null: one whose spawn failed before rs learnt its number). */
  incarnation: number | null;
  /** The kernel's fault kind (`throw`, `exit`, `oom`, `hang`), or `init` for a failed (re)start. */
  kind: string;
  message: string;
  /** Message types of the calls it was handling. */
  requests: string[];
  action: FaultAction;
  /** Fault → the service running (bound) again, once it is; null until then, or after giving up. */
  recoveredMs: number | null;
  /** The kind of fault injected (`service fi`) into that incarnation, if one was armed. */
  injected?: string;
}

/** A fault with its service's label: one row of `rs.faults`. */
export interface FaultRow extends FaultRecord {
  label: string;
}

/** What `rs.policy` answers: a service's recovery policy. */
export interface PolicyView {
  label: string;
  mode: 'stateless-restart' | 'ssr-restart';
  retries: number;
  maxInitFailures: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxFaults: number;
  windowMs: number;
}

/** What `rs.fi` answers. */
export interface FiResult {
  label: string;
  incarnation: number;
  /** The plan armed, or null when cleared. */
  plan: { kind: string; at?: string; after?: number; seed?: number; times?: number } | null;
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

/** One patch as `rs.patch` answers it: the component's own report, with rs's id and the label. */
export interface PatchRow {
  id: number;
  label: string;
  source: string;
  /** The id the component's patch table knows it by (its incarnation's). */
  local: number;
  /** The component's report (src/patch `PatchInfo`): status, functions, timings, … */
  info: Record<string, unknown>;
}
