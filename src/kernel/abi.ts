/**
 * The kernel ABI: the types that cross the boundary between the kernel (main thread)
 * and a component (worker thread). Types only — no logic — so that both `src/kernel`
 * and `src/sys` can import it without depending on each other's code.
 *
 * Entry points: `Up` (component → kernel), `Down` (kernel → component), `Message`,
 * `Result`, `ErrCode`, `KCall`, `Privileges`, `TraceEvent`.
 */

import type { StateMeta } from '../update/types.js';

/**
 * The part of a worker_threads MessagePort the ABI uses (stated here so the ABI needs
 * no Node type declarations: component sources are type-checked without them).
 */
export interface MessagePort {
  postMessage(value: unknown): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  once(event: 'message' | 'close', listener: (value: any) => void): unknown;
  close(): void;
}

/** A stable address. Endpoints never change across live update or restart. */
export type Endpoint = number;
/** How a component names a peer: its label (`'vfs'`) or its endpoint number. */
export type Address = string | Endpoint;

/** Reserved endpoints. Components start at `FIRST_COMPONENT_ENDPOINT`. */
export const KERNEL: Endpoint = 0;
export const HOST: Endpoint = 1;
export const FIRST_COMPONENT_ENDPOINT: Endpoint = 8;

/** The one closed union of error codes (errno-like) that replies may carry. */
export type ErrCode =
  | 'EPERM' | 'ENOENT' | 'EIO' | 'EBADF' | 'EAGAIN' | 'ENOMEM' | 'EACCES' | 'EEXIST'
  | 'ENOTDIR' | 'EISDIR' | 'EINVAL' | 'EMFILE' | 'ENOSPC' | 'ESPIPE' | 'EPIPE'
  | 'ENAMETOOLONG' | 'ENOTEMPTY' | 'ENOSYS' | 'ETIMEDOUT' | 'EDEADEP' | 'EBUSY'
  | 'ECONNREFUSED' | 'ECONNRESET' | 'EADDRINUSE' | 'ENOTCONN' | 'ESRCH' | 'ECHILD'
  | 'EINTR' | 'ECANCELED' | 'EINIT' | 'ENOEXEC';

export const ERR_CODES: readonly ErrCode[] = [
  'EPERM', 'ENOENT', 'EIO', 'EBADF', 'EAGAIN', 'ENOMEM', 'EACCES', 'EEXIST',
  'ENOTDIR', 'EISDIR', 'EINVAL', 'EMFILE', 'ENOSPC', 'ESPIPE', 'EPIPE',
  'ENAMETOOLONG', 'ENOTEMPTY', 'ENOSYS', 'ETIMEDOUT', 'EDEADEP', 'EBUSY',
  'ECONNREFUSED', 'ECONNRESET', 'EADDRINUSE', 'ENOTCONN', 'ESRCH', 'ECHILD',
  'EINTR', 'ECANCELED', 'EINIT', 'ENOEXEC',
];

/** A reply. Expected failures are values, never exceptions. */
export type Result<T = unknown> =
  | { ok: true; value: T }
  | { ok: false; code: ErrCode; message?: string };

/**
 * A message: plain structured-clone data with one header. `id` is 0 for a one-way
 * `send`, and positive for a `sendrec` (the reply carries the same id). `from` is
 * stamped by the kernel and cannot be forged.
 */
export interface Header {
  type: string;
  id: number;
  from: Endpoint;
}
export type Message = Header & Record<string, unknown>;
/** What a sender hands to the kernel: the header without `from` (and `id` for send). */
export type Outgoing = { type: string } & Record<string, unknown>;

/** An error that crosses a boundary. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Per-component privileges, the analogue of MINIX `system.conf`. */
export interface Privileges {
  /** Labels this component may send to (`'*'` = any). Replies are always allowed. */
  to: string[];
  /** Message-type patterns it may send: exact (`'ds.publish'`), prefix (`'ds.*'`) or `'*'`. */
  types: string[];
  /** Kernel calls it may make (`'*'` = all). */
  kcalls: KCallName[] | ['*'];
}

export interface Limits {
  /** V8 old-generation heap limit for the worker (MiB). */
  memoryMb: number;
  /** How often the kernel pings the incarnation (ms). */
  heartbeatMs: number;
  /** An incarnation that has not answered a ping for this long is ended as hung (ms). */
  hangMs: number;
  /** How long init may take before the incarnation counts as failed (ms). */
  initMs: number;
}

export type InitKind = 'fresh' | 'update' | 'restart';

/** Sent to a new incarnation once its worker is up. */
export interface InitInfo {
  kind: InitKind;
  label: string;
  endpoint: Endpoint;
  incarnation: number;
  version: string;
  /** Free-form arguments from the boot configuration. */
  args: Record<string, unknown>;
}

/** Kernel calls: what a component may ask of the kernel. Each needs a privilege. */
export type KCall =
  | { call: 'spawn'; label: string; source: string; kind: InitKind; bind: boolean;
      privileges: Privileges; limits?: Partial<Limits>; args?: Record<string, unknown>;
      /** How the kernel treats its calls when it crashes (default: stateless — callers get EDEADEP). */
      recovery?: Recovery;
      /** Run this already-built version (bundle hash) instead of building `source`. */
      version?: string }
  /**
   * Start a user program (TypeScript text, e.g. read from the Molt file system) in a
   * sandboxed worker under `label`; the caller (pm) is told of its faults.
   */
  | { call: 'exec'; label: string; name: string; text: string; argv: string[]; env: Record<string, string>; pid: number;
      privileges: Privileges; limits?: Partial<Limits> }
  | { call: 'bind'; label: string; incarnation: number }
  | { call: 'kill'; incarnation: number }
  | { call: 'fail'; label: string; reason: string }
  | { call: 'filter'; label: string; match: FilterMatch }
  | { call: 'unfilter'; filter: number }
  | { call: 'endpoints' }
  | { call: 'lookup'; label: string }
  /** Endpoint → label (e.g. vfs learning which process `p42` a request came from). */
  | { call: 'whois'; endpoint: number }
  /** The boot image's program files (served at /bin by bootfs): names, and one file's bytes. */
  | { call: 'image-list' }
  | { call: 'image-read'; name: string }
  | { call: 'bootinfo' }
  | { call: 'boot-done' }
  | { call: 'alarm'; ms: number; tag: string }
  | { call: 'console-write'; text: string; stream?: 'out' | 'err' }
  | { call: 'console-info' }
  /** The disk device (the `disk` driver's privilege). Block numbers and whole blocks. */
  | { call: 'disk-info' }
  | { call: 'disk-read'; block: number; count: number }
  | { call: 'disk-write'; block: number; data: Uint8Array }
  | { call: 'disk-flush' }
  | { call: 'shutdown'; code: number }
  /**
   * The host-TCP device (net's privilege). Host sockets stay in the kernel; a component
   * holds only their handle numbers. Events come back to the caller's *label* as
   * `kernel.tcp` messages (`TcpEvent`), so they are held, not lost, while that label is
   * updated or restarted.
   */
  | { call: 'tcp-listen'; host: string; port: number; backlog?: number }
  | { call: 'tcp-connect'; host: string; port: number }
  | { call: 'tcp-write'; handle: number; data: Uint8Array }
  /** Half-close: send FIN after what was written. */
  | { call: 'tcp-end'; handle: number }
  /** Close (a listener stops listening; a connection is destroyed). */
  | { call: 'tcp-close'; handle: number }
  /** Stop (or resume) reading from a connection: flow control when the reader is slow. */
  | { call: 'tcp-pause'; handle: number; paused: boolean }
  /** The handles the caller's label holds (a restarted net finds its connections again). */
  | { call: 'tcp-list' }
  /**
   * The data fast path (net only). On a listener: connections accepted on it will be
   * delegated to label `to` — the device keeps their events until net names their socket.
   * On a connection: from now on its data, end of stream and close go straight to `to` as
   * `net.event` messages for socket `sock` (what the device kept goes first, in order), and
   * `to` may `tcp-write` to it. net stays the owner: it closes the handle and is told when
   * it closes. `to: null` ends a listener's delegation.
   */
  | { call: 'tcp-delegate'; handle: number; to: string | null; sock?: number }
  /** CPU time of incarnations (busy event-loop ms, measured in each worker), for sched. */
  | { call: 'cpu-usage'; labels?: string[] }
  /** Fault injection (rs): hand `plan` to `label`'s bound incarnation (null: clear it). */
  | { call: 'inject'; label: string; plan: FaultPlan | null }
  /** How the kernel treats `label`'s calls when it crashes (rs, from its policy). */
  | { call: 'recovery'; label: string; recovery: Recovery }
  /** The caller's server state regions, one per client (a restarted server recovers from them). */
  | { call: 'ssr-list' }
  /** Build a version: bundle + type metadata of its state (refused before anything runs). */
  | { call: 'build'; source: string; version?: string }
  /** Live update, step by step (rs's update manager drives these). */
  | { call: 'update-prepare'; incarnation: number; mode: PrepareMode; expr?: string; timeoutMs: number }
  | { call: 'update-transfer'; from: number; to: number; version: string; timeoutMs: number }
  /** Rebind every endpoint of an update (a batch) at once: all, or — if any new incarnation is not ready — none. */
  | { call: 'update-commit'; steps: Array<{ label: string; from: number; to: number }> }
  | { call: 'update-abort'; label: string; from: number; to: number | null }
  /**
   * End an incarnation; with `drainMs`, first let its handlers in flight finish (bounded);
   * with `stop`, first run its `stop` hook (make data durable), as at shutdown.
   */
  | { call: 'retire'; incarnation: number; drainMs: number; stop?: boolean }
  /**
   * Object-level update (rs's update manager): the bound incarnation of `label` loads
   * `version` and swaps its updatable classes in place; on success the incarnation runs
   * that version (a restart starts it).
   */
  | { call: 'update-objects'; label: string; version: string; lazy: boolean; deadlineMs: number; timeoutMs: number }
  /** Function-level patches of the bound incarnation of `label`: apply a patch source, undo one, list them. */
  | { call: 'patch'; label: string; op: 'apply'; source: string }
  | { call: 'patch'; label: string; op: 'undo'; id: number }
  | { call: 'patch'; label: string; op: 'list' }
  /** Record a phase of an update in the trace (rs's update manager). */
  | { call: 'update-event'; label: string; update: number; phase: string; status: 'start' | 'end'; detail?: string };
export type KCallName = KCall['call'];

/** When the old incarnation is ready to hand over its state (DESIGN.md §3, prepare). */
export type PrepareMode = 'work-free' | 'request-free' | 'protocol-free' | 'state' | 'default';

/** One host socket as the TCP device describes it. */
export interface TcpHandleInfo {
  handle: number;
  kind: 'listener' | 'connection';
  local: { host: string; port: number };
  remote: { host: string; port: number } | null;
  /** Bytes received and written (a delegated connection's traffic bypasses net). */
  rxBytes: number;
  txBytes: number;
  /** The label its data goes to directly, if delegated. */
  delegate: string | null;
  /**
   * What a restarted net needs to find its connections again (net's recovery, DESIGN.md §5):
   * the listener a connection was accepted on (null: connected out, or a listener itself);
   * a delegated connection's Molt socket number; whether it is held until net names its
   * socket (accepted on a delegating listener, not yet delegated); whether the peer ended
   * its stream; whether reading is paused.
   */
  listener?: number | null;
  sock?: number | null;
  awaiting?: boolean;
  ended?: boolean;
  paused?: boolean;
  /**
   * Acknowledged delivery (a delegated connection whose daemon opted in): the bytes
   * delivered and not yet acknowledged, kept by the device to be delivered again if the
   * daemon restarts (see the TCP device).
   */
  acking?: boolean;
  /** The stream offset up to which the daemon acknowledged cleanly; bytes delivered past it. */
  acked?: number;
  unacked?: number;
  /** A name for the connection unique across boots (handle numbers restart at each boot). */
  key?: string;
}

/**
 * What the TCP device tells the label that owns a handle (message type `kernel.tcp`):
 * a connection accepted on a listener, bytes received, the peer's end of stream, or the
 * handle closed (with the host's error, if any).
 */
export type TcpEvent =
  | { event: 'accept'; listener: number; handle: number; remote: { host: string; port: number }; local: { host: string; port: number } }
  | { event: 'data'; handle: number; data: Uint8Array }
  | { event: 'end'; handle: number }
  | { event: 'closed'; handle: number; error?: string };

/** What `cpu-usage` answers: one row per live incarnation asked for. */
export interface CpuUsage {
  label: string;
  incarnation: number;
  /** Busy event-loop time of its worker since it started (ms). */
  activeMs: number;
  /** Time since it started (ms). */
  elapsedMs: number;
}

/**
 * Recovery (DESIGN.md §5, CuriOS): `stateless-restart` — a crash answers the calls the
 * server was handling with EDEADEP and the next incarnation starts from `init`;
 * `ssr-restart` — the calls it was handling are held and given again to the next
 * incarnation (each up to `retries` times, then answered EIO), which starts from
 * `recover(ssrs)`: the server state regions its clients' handlers committed.
 */
export interface Recovery {
  mode: 'stateless-restart' | 'ssr-restart';
  retries: number;
}

/** What `service fi` injects into a component (deterministic with `seed`). */
export interface FaultPlan {
  kind: 'crash' | 'throw' | 'hang' | 'oom' | 'corrupt';
  /** Only before handlers of this message type (default: any request). */
  at?: string;
  /** Let this many matching messages through first (default 0). */
  after?: number;
  seed?: number;
  /** How many times it fires (default 1; 0: every matching message). */
  times?: number;
}

/** Kernel → component control operations of a live update. */
export type Ctl =
  | { c: 'prepare'; mode: PrepareMode; expr?: string }
  /** Old side: post the state graph on `port` (straight to the new incarnation: one copy). */
  | { c: 'export'; port: MessagePort }
  /** New side: import the graph that arrives on `port` against `meta`. */
  | { c: 'import'; port: MessagePort; meta: StateMeta }
  | { c: 'resume' }
  | { c: 'drain' }
  /** The system is shutting down: run the component's `stop` hook (e.g. make data durable). */
  | { c: 'stop' }
  /** A new version before its transfer: run export/import/check on its own fresh state, discarding the result (JIT warm-up). */
  | { c: 'warm'; meta: StateMeta }
  /** Arm (or, with null, disarm) fault injection. */
  | { c: 'fi'; plan: FaultPlan | null }
  /**
   * Object-level update (src/objects): load the new version's bundle in this worker and
   * swap its updatable classes in place (eager, mediated) or mark them (lazy).
   */
  | { c: 'objects'; file: string; meta: StateMeta; lazy: boolean; deadlineMs: number }
  /** Function-level patches (src/patch): apply a patch bundle, undo one, or list them. */
  | { c: 'patch'; op: 'apply'; file: string }
  | { c: 'patch'; op: 'undo'; id: number }
  | { c: 'patch'; op: 'list' }
  /** Observation only (`molt top`, the dashboard): handlers in flight and V8 heap used. Answers `ComponentStats`. */
  | { c: 'stats' };

/** What the `stats` control answers. */
export interface ComponentStats {
  /** Handlers running in the component (what `request-free` quiescence waits on). */
  inflight: number;
  /** The worker's V8 heap in use (bytes): a proxy for the size of the component's state. */
  heapUsed: number;
}

/** What `export` answers (the graph itself went over the port): messages that reached the frozen incarnation. */
export interface ExportResult {
  parked: Message[];
  objects: number;
}

/** Which messages an interface filter holds back (all given conditions must hold). */
export interface FilterMatch {
  from?: Endpoint[];
  types?: string[];
}

/** One row of the kernel's endpoint table, as `endpoints` returns it. */
export interface EndpointInfo {
  label: string;
  endpoint: Endpoint;
  /** The live incarnation bound to it, or null while restarting / updating / failed. */
  incarnation: number | null;
  version: string | null;
  status: 'bound' | 'unbound' | 'failed';
  /** Messages delivered to this endpoint since boot. */
  delivered: number;
  /** Messages currently held back (filter or unbound). */
  held: number;
  /** When the bound incarnation started (ms since epoch), or null. */
  startedAt: number | null;
  /** Interface filters installed on this endpoint. */
  filters: number;
  /** How many incarnations have been bound to it since boot (restarts + updates + 1). */
  binds: number;
}

/** Component → kernel. */
export type Up =
  | { op: 'send'; to: Address; msg: Outgoing }
  | { op: 'call'; to: Address; id: number; msg: Outgoing }
  | { op: 'reply'; to: Endpoint; id: number; result: Result }
  | { op: 'notify'; to: Address }
  | { op: 'cancel'; id: number }
  /** A kernel call; id 0: one-way (no `kreply`). */
  | { op: 'kcall'; id: number; kcall: KCall }
  | { op: 'ready' }
  | { op: 'init-failed'; error: WireError }
  /** A user program finished (its manager is told with `kernel.exit`). */
  | { op: 'exit'; status: number; error?: string }
  | { op: 'pong'; seq: number }
  | { op: 'ctl-reply'; id: number; result: Result }
  /** A handler serving `client` completed: commit its server state region (null: remove it). */
  | { op: 'ssr'; client: Endpoint; value: unknown };

/** Kernel → component. */
export type Down =
  | { op: 'init'; info: InitInfo }
  | { op: 'msg'; msg: Message }
  | { op: 'reply'; id: number; result: Result }
  | { op: 'kreply'; id: number; result: Result }
  | { op: 'ping'; seq: number }
  | { op: 'ctl'; id: number; ctl: Ctl };

/** Why an incarnation ended. */
export type FaultKind = 'throw' | 'exit' | 'oom' | 'hang' | 'init';

/** The kernel's typed trace event stream. */
export type TraceEvent =
  | { ev: 'msg.sent'; t: number; from: Endpoint; to: Endpoint; type: string; id: number }
  | { ev: 'msg.delivered'; t: number; from: Endpoint; to: Endpoint; incarnation: number; type: string; id: number }
  | { ev: 'msg.refused'; t: number; from: Endpoint; to: Address; type: string; code: ErrCode; reason: string }
  | { ev: 'msg.held'; t: number; from: Endpoint; to: Endpoint; type: string; id: number }
  | { ev: 'incarnation.started'; t: number; label: string; incarnation: number; version: string }
  | { ev: 'incarnation.ready'; t: number; label: string; incarnation: number }
  | { ev: 'incarnation.ended'; t: number; label: string; incarnation: number }
  | { ev: 'incarnation.crashed'; t: number; label: string; incarnation: number; kind: FaultKind; error: WireError }
  | { ev: 'endpoint.bound'; t: number; label: string; endpoint: Endpoint; incarnation: number }
  | { ev: 'endpoint.failed'; t: number; label: string; endpoint: Endpoint; reason: string }
  | { ev: 'filter.installed'; t: number; filter: number; label: string; match: FilterMatch }
  | { ev: 'filter.released'; t: number; filter: number; label: string; released: number }
  | { ev: 'update.phase'; t: number; label: string; update: number; phase: string; status: 'start' | 'end'; detail?: string }
  | { ev: 'kernel.log'; t: number; level: 'info' | 'warn' | 'error'; text: string };
export type TraceEventName = TraceEvent['ev'];

/**
 * The trace events the kernel always records (a bounded ring, whether or not anyone
 * traces): rare lifecycle events, never per-message ones.
 */
export const SYSTEM_EVENT_NAMES = ['update.phase', 'incarnation.started', 'incarnation.crashed', 'incarnation.ended', 'endpoint.failed'] as const;
export type SystemEvent = Extract<TraceEvent, { ev: (typeof SYSTEM_EVENT_NAMES)[number] }>;

/** An update the kernel has seen start (from rs's `update-event`s) and not yet end. */
export interface UpdateInProgress {
  update: number;
  /** The labels it updates, comma-separated (a batch). */
  label: string;
  /** The phase running now (or the last one that ended). */
  phase: string;
  /** When the update and its current phase started (ms since epoch). */
  startedAt: number;
  phaseStartedAt: number;
}

/** One endpoint in a `SystemSnapshot`: its `endpoints` row plus its bound incarnation's stats. */
export interface ComponentSnapshot extends EndpointInfo {
  /** null: not bound, a user program, or no answer within the snapshot's short deadline. */
  stats: ComponentStats | null;
}

/** `Kernel.snapshot()` (control verb `snapshot`): what `molt top` and `molt dashboard` show. */
export interface SystemSnapshot {
  /** When it was taken (ms since epoch). */
  t: number;
  components: ComponentSnapshot[];
  updates: UpdateInProgress[];
  /** The most recent system events, oldest first (bounded). */
  events: SystemEvent[];
}

/** How `rs` restarts a component that faulted (stateless for now; SSRs come later). */
export interface RestartPolicy {
  /** stateless-restart (default) or ssr-restart; see `Recovery`. */
  mode?: Recovery['mode'];
  /** ssr-restart: how many times the request a crash interrupted is given again (default 1). */
  retries?: number;
  /** Give up after this many consecutive failures in the component's own init. */
  maxInitFailures: number;
  /** First restart delay; doubled per consecutive fault, up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Give up after this many faults within `windowMs`. */
  maxFaults: number;
  windowMs: number;
}

/** One component of the boot image. */
export interface ServiceConfig {
  label: string;
  /** Entry file (TypeScript), absolute or relative to the package root. */
  source: string;
  privileges: Privileges;
  limits?: Partial<Limits>;
  policy?: Partial<RestartPolicy>;
  args?: Record<string, unknown>;
}

/** The boot configuration: `rs` (started by the kernel) and what `rs` starts, in order. */
export interface BootConfig {
  rs: ServiceConfig;
  services: ServiceConfig[];
  /**
   * Services rs knows but does not start at boot (MINIX's system.conf entries for
   * `service up`): daemons such as kvd and httpd, started by `/etc/rc` with `service up LABEL`.
   */
  daemons?: ServiceConfig[];
  /** The label that receives console input (`console.input` / `console.eof`). */
  console?: string;
  /** Defaults applied to every component's limits. */
  limits?: Partial<Limits>;
}
