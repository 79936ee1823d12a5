/**
 * The kernel (main thread): owns the endpoint table, routes every message, enforces
 * privileges, holds messages behind interface filters, detects faults, serves kernel
 * calls, and owns the host resources as devices (console, clock; disk and TCP later).
 *
 * Entry points: `new Kernel(options)`, `boot()`, `call()` / `send()` (the host's own
 * client, used by the control socket and tests), `trace`, `snapshot()` / `systemEvents`
 * (what `molt top` and `molt dashboard` show), `shutdown()`, `exited`.
 */
import { createHash } from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HOST, KERNEL,
  type Address, type BootConfig, type CpuUsage, type EndpointInfo, type ErrCode, type ExportResult, type FaultKind, type InitKind,
  type KCall, type Limits, type Message, type Outgoing, type Privileges, type Recovery, type Result, type Up,
  type WireError, type SystemEvent, type SystemSnapshot,
} from './abi.js';
import { realClock, type Clock } from './clock.js';
import { ConsoleDevice, type ConsoleOptions } from './devices/console.js';
import { TcpDevice, TcpError } from './devices/tcp.js';
import { DiskDevice, DiskError } from './devices/disk.js';
import { BootImageDevice } from './devices/boot-image.js';
import { EndpointTable, typeMatches, type EndpointEntry, type Envelope } from './endpoints.js';
import { Incarnation } from './incarnation.js';
import { LoadError, Loader } from './loader.js';
import { Trace } from './trace.js';
import { StatsProbe, SystemEvents } from './snapshot.js';
import { claimHome } from './home.js';
import { BuildError, VersionBuilder } from '../update/version.js';
import type { StateMeta } from '../update/types.js';


/** How long the components' stop hooks may take at shutdown. */
const STOP_MS = 3_000;

export const DEFAULT_LIMITS: Limits = { memoryMb: 128, heartbeatMs: 500, hangMs: 3000, initMs: 10_000 };

export interface KernelOptions {
  /** State directory (created if missing). */
  home: string;
  config: BootConfig;
  /** Where built bundles are cached (default `<home>/cache`). */
  cacheDir?: string;
  /** Attach a console device (host stdin/stdout or streams given here). */
  console?: ConsoleOptions | null;
  /**
   * Attach the console only when `attachConsole()` is called (not at the end of boot):
   * until then what the system writes to it is kept, then written in order (the guided
   * demo prints its own story first, then hands over the shell).
   */
  deferConsole?: boolean;
  /** Listen on `<home>/molt.sock` for the `molt` command (default true). */
  control?: boolean;
  clock?: Clock;
  /** How long `boot()` waits for `rs` to report the boot image up (ms). */
  bootTimeoutMs?: number;
  /** false: components are built with the live-update machinery compiled out (to measure its cost). */
  updatable?: boolean;
  /** The disk image (default `<home>/disk.img`, created on first boot); null: no disk device. */
  disk?: string | null;
  /** Size of a disk image created on first boot, in 4 KiB blocks. */
  diskBlocks?: number;
}

/** A call the kernel is tracking, by kernel call id. */
interface CallRecord {
  /** The calling incarnation, or null for the host's own client. */
  caller: Incarnation | null;
  callerId: number;
  /** The incarnation it was delivered to (null while held). */
  callee: Incarnation | null;
  /** The request, kept while delivered to a server with ssr-restart (given again if it crashes). */
  msg?: Message;
  /** Times delivered to an ssr-restart server. */
  tries?: number;
  /** Its message type (the request a crash interrupted, in `kernel.fault`). */
  type?: string;
}

export class KernelError extends Error {
  constructor(readonly code: ErrCode, message: string) {
    super(message);
    this.name = 'KernelError';
  }
}

export class Kernel {
  readonly trace = new Trace();
  /** Rare lifecycle events (updates, faults, incarnations), recorded always; see snapshot.ts. */
  readonly systemEvents = new SystemEvents();
  readonly home: string;
  readonly config: BootConfig;
  readonly clock: Clock;
  /** Resolves with the exit code once the system has shut down. */
  readonly exited: Promise<number>;

  private readonly endpoints = new EndpointTable();
  private readonly incarnations = new Map<number, Incarnation>();
  private readonly privileges = new Map<Incarnation, CompiledPrivileges>();
  /** User processes: who is told when one faults (pm), instead of rs. */
  private readonly managers = new Map<Incarnation, string>();
  private readonly calls = new Map<number, CallRecord>();
  private readonly hostCalls = new Map<number, (r: Result) => void>();
  private readonly readyWaiters = new Map<Incarnation, (r: Result<null>) => void>();
  private readonly loader: Loader;
  private readonly versions: VersionBuilder;
  /** Messages a quiesced incarnation received after it froze, waiting for the update's outcome (by new incarnation). */
  private readonly parked = new Map<number, Message[]>();
  private consoleDevice: ConsoleDevice | null = null;
  private diskDevice: DiskDevice | null = null;
  /** Host sockets: events go to the owning label (held while it is updated or restarted). */
  private readonly tcpDevice = new TcpDevice({
    event: (owner, ev) => {
      if (this.running) this.kernelSend(owner, { type: 'kernel.tcp', ...ev });
    },
    direct: (label, ev) => {
      if (this.running) this.kernelSend(label, { type: 'net.event', ...ev });
    },
  });
  /** The boot image's programs (/bin), read-only. */
  private readonly bootImage = new BootImageDevice(join(PACKAGE_ROOT, 'src', 'user', 'bin'));
  private control: { close(): Promise<void> } | null = null;
  private homeLock: { release(): Promise<void> } | null = null;
  private nextIncarnation = 1;
  private nextCall = 1;
  private nextHostCall = 1;
  private nextFilter = 1;
  private readonly filterOwner = new Map<number, EndpointEntry>();
  private heartbeat: NodeJS.Timeout | null = null;
  private phase: 'new' | 'booting' | 'running' | 'stopping' | 'stopped' = 'new';
  private bootDone: ((r: Result<null>) => void) | null = null;
  private resolveExited!: (code: number) => void;
  private rsFaults: number[] = [];
  private readonly stats: StatsProbe;

  constructor(private readonly options: KernelOptions) {
    this.home = resolve(options.home);
    this.config = options.config;
    this.clock = options.clock ?? realClock;
    const cacheDir = options.cacheDir ?? join(this.home, 'cache');
    this.loader = new Loader(cacheDir, options.updatable ?? true);
    this.versions = new VersionBuilder(this.loader, cacheDir);
    this.exited = new Promise((r) => (this.resolveExited = r));
    this.stats = new StatsProbe(this.clock);
  }

  // ───────────────────────────── boot / shutdown ─────────────────────────────

  /**
   * Boot: 1. create the state directory; 2. open the control socket; 3. start `rs`,
   * which starts the boot image and reports `boot-done`; 4. attach the console.
   * Resolves with the time it took (ms).
   */
  async boot(): Promise<number> {
    if (this.phase !== 'new') throw new Error(`kernel already ${this.phase}`);
    const t0 = performance.now();
    this.phase = 'booting';
    try {
      this.homeLock = await claimHome(this.home);
    } catch (e) {
      this.phase = 'stopped';
      this.resolveExited(1);
      throw e;
    }
    if (this.options.disk !== null && this.config.services.some((s) => s.privileges.kcalls.includes('disk-read' as never))) {
      const path = this.options.disk ?? join(this.home, 'disk.img');
      try {
        this.diskDevice = await DiskDevice.open(path, { ...(this.options.diskBlocks ? { createBlocks: this.options.diskBlocks } : {}) });
      } catch (e) {
        await this.shutdown(1);
        throw new KernelError('EIO', (e as Error).message);
      }
    }
    this.heartbeat = setInterval(() => this.checkHeartbeats(), 50);
    this.heartbeat.unref();
    // Every label of the boot image has its endpoint from the start: messages to a
    // component that is still starting are held, not refused.
    if (this.config.console) this.endpoints.ensure(this.config.console);
    for (const svc of this.config.services) this.endpoints.ensure(svc.label);

    const booted = new Promise<Result<null>>((r) => (this.bootDone = r));
    const rs = await this.spawn(this.config.rs, 'fresh', true);
    if (!rs.ok) {
      await this.shutdown(1);
      throw new KernelError(rs.code, `rs failed to start: ${rs.message ?? rs.code}`);
    }
    const timeout = this.options.bootTimeoutMs ?? 20_000;
    let timer: unknown;
    const result = await Promise.race([
      booted,
      new Promise<Result<null>>((r) => {
        timer = this.clock.setTimeout(() => r({ ok: false, code: 'ETIMEDOUT', message: `boot did not finish within ${timeout} ms` }), timeout);
      }),
    ]);
    this.clock.clearTimeout(timer);
    if (!result.ok) {
      await this.shutdown(1);
      throw new KernelError(result.code, result.message ?? 'boot failed');
    }
    // The control socket appears only once the system answers: a script may wait for it.
    if (this.options.control !== false) {
      const { openControlSocket } = await import('./control.js');
      try {
        this.control = await openControlSocket(this, join(this.home, 'molt.sock'));
      } catch (e) {
        await this.shutdown(1);
        throw e;
      }
    }
    this.phase = 'running';
    if (!this.options.deferConsole) this.attachConsole();
    return performance.now() - t0;
  }

  /** Writes to a deferred console, kept until it is attached. */
  private consoleBacklog: Array<[string, boolean]> | null = null;

  /** Attach the console device (at the end of boot, or later with `deferConsole`); writes kept until now go out first. */
  attachConsole(): void {
    if (this.consoleDevice || !this.options.console || !this.config.console || !this.running) return;
    const label = this.config.console;
    this.consoleDevice = new ConsoleDevice(this.options.console, {
      line: (line) => this.kernelSend(label, { type: 'console.input', line }),
      eof: () => this.kernelSend(label, { type: 'console.eof' }),
    });
    for (const [text, err] of this.consoleBacklog?.splice(0) ?? []) this.consoleDevice.write(text, err);
    this.consoleBacklog = null;
  }

  /** End every incarnation, close devices and the control socket. Idempotent. */
  async shutdown(code = 0): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return this.exited.then(() => undefined);
    this.phase = 'stopping';
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.consoleDevice?.close();
    for (const [, resolve] of this.hostCalls) resolve({ ok: false, code: 'EDEADEP', message: 'system shut down' });
    this.hostCalls.clear();
    // 1. Every component's stop hook, all at once while all can still talk (mfs syncs to
    //    disk through the disk driver), bounded; 2. then every worker ends.
    const live = [...this.incarnations.values()].filter((inc) => inc.state.phase === 'ready');
    await Promise.all(live.map((inc) => inc.ctl({ c: 'stop' }, STOP_MS, this.clock)));
    await Promise.all([...this.incarnations.values()].map((inc) => inc.stop()));
    await this.versions.close();
    await this.diskDevice?.close();
    this.tcpDevice.closeAll();
    await this.control?.close();
    await this.homeLock?.release();
    this.phase = 'stopped';
    this.resolveExited(code);
  }

  get running(): boolean {
    return this.phase === 'booting' || this.phase === 'running';
  }

  // ───────────────────────────── the host's client ─────────────────────────────

  /** sendrec from the host (control socket, tests): resolves with the reply. */
  call(to: Address, msg: Outgoing, timeoutMs = 10_000): Promise<Result> {
    return new Promise((resolveCall) => {
      const hostId = this.nextHostCall++;
      let timer: unknown;
      this.hostCalls.set(hostId, (r) => {
        this.clock.clearTimeout(timer);
        resolveCall(r);
      });
      timer = this.clock.setTimeout(() => {
        if (this.hostCalls.delete(hostId)) {
          this.cancelCall(null, hostId);
          resolveCall({ ok: false, code: 'ETIMEDOUT', message: `no reply from ${String(to)} within ${timeoutMs} ms` });
        }
      }, timeoutMs);
      this.route(null, to, msg, hostId);
    });
  }

  /** One-way send from the host. */
  send(to: Address, msg: Outgoing): void {
    this.route(null, to, msg, 0);
  }

  /** The endpoint table as plain rows. */
  endpointTable(): EndpointInfo[] {
    return this.endpoints.all().map((e) => {
      const inc = e.bound;
      return {
        label: e.label,
        endpoint: e.endpoint,
        incarnation: inc?.id ?? null,
        version: inc?.version ?? null,
        status: e.state.status,
        delivered: e.delivered,
        held: e.heldCount,
        startedAt: inc?.startedAt ?? null,
        filters: e.filters.size,
        binds: e.binds,
      };
    });
  }

  /**
   * What `molt top` and `molt dashboard` show: the endpoint table, each bound
   * incarnation's stats (asked with a short deadline, concurrently: a busy component
   * shows none and stalls nothing; user programs are not asked), the updates in
   * progress and the recent system events.
   */
  async snapshot(): Promise<SystemSnapshot> {
    const t = this.clock.now();
    const components = await Promise.all(this.endpointTable().map(async (row) => {
      const inc = this.endpoints.get(row.endpoint)?.bound;
      const stats = inc && !this.managers.has(inc) ? await this.stats.probe(inc) : null;
      return { ...row, stats };
    }));
    const updates = this.systemEvents.inProgress((id) => this.incarnations.has(id));
    return { t, components, updates, events: this.systemEvents.recent() };
  }

  /** A system event: recorded always (rare, off the message path), and traced if anyone listens. */
  private note(e: SystemEvent, reporter: number | null = null): void {
    this.systemEvents.record(e, reporter);
    if (this.trace.active) this.trace.emit(e);
  }

  // ───────────────────────────── incarnations ─────────────────────────────

  /**
   * Start a new incarnation of a component and wait until its init has finished.
   * With `bind`, the endpoint is rebound to it as soon as it is ready.
   */
  async spawn(
    svc: {
      label: string; source: string; privileges: Privileges; limits?: Partial<Limits>; args?: Record<string, unknown>; version?: string;
      /** A user program: its bundled code, run by the process runtime; faults are reported to `manager`. */
      program?: { code: string; manager: string };
    },
    kind: InitKind,
    bind: boolean,
  ): Promise<Result<{ incarnation: number; endpoint: number; version: string }>> {
    if (!this.running) return { ok: false, code: 'EDEADEP', message: 'system is shutting down' };
    if (typeof svc.label !== 'string' || !/^[\w.-]{1,64}$/.test(svc.label)) {
      return { ok: false, code: 'EINVAL', message: `bad label ${JSON.stringify(svc.label)} (letters, digits, . _ -)` };
    }
    let loaded;
    try {
      loaded = svc.program
        ? { ...(await this.loader.loadTool(PROCESS_RUNTIME)), version: createHash('sha256').update(svc.program.code).digest('hex').slice(0, 12) }
        : svc.version
          ? await this.versions.byVersion(svc.version)
          : await this.loader.load(resolveSource(svc.source));
    } catch (e) {
      const message = e instanceof LoadError || e instanceof BuildError ? e.message : String(e);
      this.log('error', message);
      return { ok: false, code: 'EINIT', message };
    }
    // The endpoint exists from the first version that loads (a label that never loads gets none).
    const entry = this.endpoints.ensure(svc.label);
    if (entry.state.status === 'failed') entry.state = { status: 'unbound' };
    const limits: Limits = { ...DEFAULT_LIMITS, ...this.config.limits, ...svc.limits };
    const inc = new Incarnation(this.nextIncarnation++, svc.label, entry.endpoint, loaded.version, loaded.file, limits, this.clock, {
      onUp: (i, up) => this.onUp(i, up),
      onEnd: (i, fault, error) => this.onEnd(i, fault, error),
    });
    this.incarnations.set(inc.id, inc);
    this.privileges.set(inc, compilePrivileges(svc.privileges));
    if (svc.program) this.managers.set(inc, svc.program.manager);
    this.note({ ev: 'incarnation.started', t: this.clock.now(), label: svc.label, incarnation: inc.id, version: loaded.version });
    const ready = new Promise<Result<null>>((r) => this.readyWaiters.set(inc, r));
    const initTimer = this.clock.setTimeout(() => {
      inc.kill('init', { name: 'InitTimeout', message: `init did not finish within ${limits.initMs} ms` });
    }, limits.initMs);
    const args = svc.program ? { ...svc.args, code: svc.program.code } : svc.args ?? {};
    inc.init({ kind, label: svc.label, endpoint: entry.endpoint, incarnation: inc.id, version: loaded.version, args });
    const r = await ready;
    this.clock.clearTimeout(initTimer);
    if (!r.ok) return r;
    // A new version for a live update: exercise its import and check code on its own fresh
    // state now, so the transfer later (while requests are held) runs warm, not cold.
    const meta = (loaded as { meta?: StateMeta }).meta;
    if (kind === 'update' && meta) await inc.ctl({ c: 'warm', meta }, limits.initMs, this.clock);
    if (bind) this.bind(entry, inc);
    return { ok: true, value: { incarnation: inc.id, endpoint: entry.endpoint, version: loaded.version } };
  }

  /** Rebind an endpoint to an incarnation in one step and release what it held. */
  private bind(entry: EndpointEntry, inc: Incarnation): void {
    entry.state = { status: 'bound', incarnation: inc };
    entry.binds++;
    if (this.trace.active) this.trace.emit({ ev: 'endpoint.bound', t: this.clock.now(), label: entry.label, endpoint: entry.endpoint, incarnation: inc.id });
    this.release(entry);
  }

  private release(entry: EndpointEntry): void {
    const inc = entry.bound;
    if (!inc) return;
    for (const env of entry.takeReleasable()) this.deliver(entry, inc, env);
  }

  private onUp(inc: Incarnation, up: Up): void {
    try {
      this.handleUp(inc, up);
    } catch (e) {
      // A malformed request must never take the kernel down: it is the sender's fault.
      this.log('error', `malformed ${String(up.op)} from ${inc.name}: ${(e as Error).message}`);
      inc.kill('throw', { name: 'ProtocolError', message: `malformed ${String(up.op)} request: ${(e as Error).message}` });
    }
  }

  private handleUp(inc: Incarnation, up: Up): void {
    switch (up.op) {
      case 'send':
        return this.route(inc, up.to, up.msg, 0);
      case 'call':
        return this.route(inc, up.to, up.msg, up.id);
      case 'reply':
        return this.onReply(inc, up.id, up.result);
      case 'notify':
        return this.route(inc, up.to, { type: 'notify' }, 0);
      case 'cancel':
        return this.cancelCall(inc, up.id);
      case 'kcall':
        // id 0: the caller does not want the result (a one-way kernel call, e.g. a socket write).
        if (up.id === 0) void this.kcall(inc, up.kcall);
        else void this.kcall(inc, up.kcall).then((result) => inc.post({ op: 'kreply', id: up.id, result }));
        return;
      case 'ready': {
        if (inc.state.phase !== 'starting') return;
        inc.state = { phase: 'ready' };
        inc.lastPong = inc.lastPing = this.clock.now(); // heartbeats are watched from here on (init has its own deadline)
        if (this.trace.active) this.trace.emit({ ev: 'incarnation.ready', t: this.clock.now(), label: inc.label, incarnation: inc.id });
        const w = this.readyWaiters.get(inc);
        this.readyWaiters.delete(inc);
        w?.({ ok: true, value: null });
        return;
      }
      case 'init-failed':
        return inc.kill('init', up.error);
      case 'exit': {
        const manager = this.managers.get(inc);
        if (!manager) return inc.kill('throw', { name: 'ProtocolError', message: 'only a user program may exit' });
        this.kernelSend(manager, {
          type: 'kernel.exit', label: inc.label, incarnation: inc.id, status: Number(up.status) | 0,
          ...(typeof up.error === 'string' ? { error: up.error.slice(0, 4000) } : {}),
        });
        void inc.stop();
        return;
      }
      case 'pong':
        return;
      case 'ssr': {
        // Committed by a handler of this label's live incarnation.
        const entry = this.endpoints.get(inc.endpoint);
        if (!entry || !inc.alive || typeof up.client !== 'number') return;
        if (up.value === null || up.value === undefined) entry.ssrs.delete(up.client);
        else entry.ssrs.set(up.client, up.value);
        return;
      }
    }
  }

  private onEnd(inc: Incarnation, fault: FaultKind | null, error: WireError): void {
    const t = this.clock.now();
    this.incarnations.delete(inc.id);
    this.privileges.delete(inc);
    const manager = this.managers.get(inc);
    this.managers.delete(inc);
    if (fault) this.note({ ev: 'incarnation.crashed', t, label: inc.label, incarnation: inc.id, kind: fault, error });
    this.note({ ev: 'incarnation.ended', t, label: inc.label, incarnation: inc.id });
    const entry = this.endpoints.get(inc.endpoint)!;
    const wasBound = entry.bound === inc;
    if (wasBound) {
      entry.state = { status: 'unbound' };
      entry.frozen = false; // the quiesced incarnation of an update is gone; what it held waits for the next one
    }
    // 1. Calls delivered to it and not answered: under ssr-restart, given again to the next
    //    incarnation (first, in order) up to `retries` times, then answered EIO; otherwise
    //    their callers get EDEADEP.
    const requests: string[] = [];
    const again: Envelope[] = [];
    const recovery = entry.recovery;
    for (const callId of inc.pending) {
      const rec = this.calls.get(callId);
      if (!rec) continue;
      if (rec.type) requests.push(rec.type);
      if (fault && wasBound && recovery?.mode === 'ssr-restart' && rec.msg) {
        if ((rec.tries ?? 1) <= recovery.retries) {
          rec.callee = null;
          again.push({ msg: rec.msg, call: callId });
        } else {
          this.answer(callId, rec, { ok: false, code: 'EIO', message: `${inc.label} crashed on this request ${rec.tries} times` });
        }
        continue;
      }
      this.answer(callId, rec, { ok: false, code: 'EDEADEP', message: `${inc.label} ended (${fault ?? 'stopped'}) while handling the call` });
    }
    inc.pending.clear();
    entry.holdFirst(again);
    // Stateless restart: the next incarnation starts from init — no client state survives.
    if (fault && wasBound && recovery?.mode !== 'ssr-restart') entry.ssrs.clear();
    // A program that ended is a client gone for good: its server state regions go.
    if (manager) for (const e of this.endpoints.all()) e.ssrs.delete(inc.endpoint);
    // 2. Calls it made: forget them (their replies have nowhere to go).
    for (const callId of inc.outgoing.values()) this.forgetCall(callId);
    inc.outgoing.clear();
    // 3. Not yet ready: the spawn that started it gets the error.
    const w = this.readyWaiters.get(inc);
    if (w) {
      this.readyWaiters.delete(inc);
      w({ ok: false, code: 'EINIT', message: `${inc.name} failed in init (${fault ?? 'stopped'}): ${error.message}` });
      return;
    }
    if (!fault || !this.running) return;
    // 4. A fault after init: rs decides what to do (rs itself is restarted by the kernel).
    this.log('warn', `${inc.name} crashed (${fault}): ${error.message}`);
    if (inc.label === this.config.rs.label) {
      if (wasBound) void this.restartRs();
      return;
    }
    this.kernelSend(manager ?? this.config.rs.label, {
      type: 'kernel.fault', label: inc.label, incarnation: inc.id, kind: fault, error, wasBound, requests,
    });
  }

  /** rs is the root of the reincarnation tree: the kernel restarts it, with a give-up limit. */
  private async restartRs(): Promise<void> {
    const now = this.clock.now();
    this.rsFaults = [...this.rsFaults.filter((t) => now - t < 60_000), now];
    if (this.rsFaults.length > 5) {
      this.log('error', 'rs keeps failing; the system cannot recover and shuts down');
      return this.shutdown(1);
    }
    const r = await this.spawn(this.config.rs, 'restart', true);
    if (!r.ok) {
      this.log('error', `rs could not be restarted: ${r.message ?? r.code}`);
      return this.shutdown(1);
    }
  }

  private checkHeartbeats(): void {
    const now = this.clock.now();
    for (const inc of this.incarnations.values()) {
      if (inc.state.phase !== 'ready') continue;
      // Exporting or importing a large state legitimately keeps the event loop busy for a
      // while: the operation's deadline judges it, not the heartbeat.
      if (inc.inControl) {
        inc.lastPong = inc.lastPing = now;
        continue;
      }
      // A hang is a ping left unanswered for hangMs (one ping outstanding at a time).
      const waiting = inc.lastPing > inc.lastPong;
      if (waiting && now - inc.lastPing > inc.limits.hangMs) {
        inc.kill('hang', { name: 'Hang', message: `no answer to a heartbeat for ${now - inc.lastPing} ms (limit ${inc.limits.hangMs} ms)` });
      } else if (!waiting && now - inc.lastPing >= inc.limits.heartbeatMs) {
        inc.ping(now);
      }
    }
  }

  // ───────────────────────────── message routing ─────────────────────────────

  /**
   * Route a message from `sender` (null = host). `callerId` > 0 makes it a call whose
   * reply goes back to the sender under that id.
   */
  private route(sender: Incarnation | null, to: Address, out: Outgoing, callerId: number): void {
    const msg = (out !== null && typeof out === 'object' ? out : { type: '' }) as Message;
    const from = sender ? sender.endpoint : HOST;
    const type = typeof msg.type === 'string' ? msg.type : '';
    const entry = this.endpoints.get(to);
    let refusal: [ErrCode, string] | null = null;
    if (!entry) refusal = ['ENOENT', `no such endpoint: ${String(to)}`];
    else if (!type) refusal = ['EINVAL', 'message has no type'];
    else if (sender) refusal = this.checkSend(sender, entry.label, type);
    if (refusal) {
      if (this.trace.active) this.trace.emit({ ev: 'msg.refused', t: this.clock.now(), from, to, type, code: refusal[0], reason: refusal[1] });
      if (sender) this.log('warn', `refused ${sender.name} → ${String(to)} ${type}: ${refusal[1]}`);
      if (callerId) this.replyTo(sender, callerId, { ok: false, code: refusal[0], message: refusal[1] });
      return;
    }
    const dest = entry!;
    msg.from = from;
    let call = 0;
    if (callerId) {
      call = this.nextCall++;
      this.calls.set(call, { caller: sender, callerId, callee: null });
      sender?.outgoing.set(callerId, call);
    }
    msg.id = call;
    if (this.trace.active) this.trace.emit({ ev: 'msg.sent', t: this.clock.now(), from, to: dest.endpoint, type, id: call });
    const env: Envelope = { msg, call };
    if (dest.state.status === 'failed') return this.refuseFailed(dest, env);
    if (dest.shouldHold(msg)) {
      dest.hold(env);
      if (this.trace.active) this.trace.emit({ ev: 'msg.held', t: this.clock.now(), from, to: dest.endpoint, type, id: call });
      return;
    }
    this.deliver(dest, dest.bound!, env);
  }

  private deliver(entry: EndpointEntry, inc: Incarnation, env: Envelope): void {
    if (env.call) {
      const rec = this.calls.get(env.call);
      if (!rec) return; // cancelled while held
      rec.callee = inc;
      rec.type = env.msg.type;
      if (entry.recovery?.mode === 'ssr-restart') {
        rec.msg = env.msg;
        rec.tries = (rec.tries ?? 0) + 1;
        if (rec.tries > 1) inc.retried = true;
      }
      inc.pending.add(env.call);
    }
    entry.delivered++;
    inc.delivered++;
    inc.post({ op: 'msg', msg: env.msg });
    if (this.trace.active) this.trace.emit({ ev: 'msg.delivered', t: this.clock.now(), from: env.msg.from, to: entry.endpoint, incarnation: inc.id, type: env.msg.type, id: env.call });
  }

  /** Rebind one endpoint of a committing update: parked messages, then owed calls, move to the new incarnation. */
  private commitStep(entry: EndpointEntry, from: Incarnation | null, to: Incarnation): void {
    entry.state = { status: 'bound', incarnation: to };
    entry.binds++;
    for (const msg of this.parked.get(to.id) ?? []) this.redeliver(entry, from, to, msg);
    this.parked.delete(to.id);
    // Calls the old one still owes (deferred replies: their tokens moved with the state)
    // are owed by the new one now; the old one may still answer those it is running.
    if (from) {
      for (const call of from.pending) {
        const rec = this.calls.get(call);
        if (rec) rec.callee = to;
        to.pending.add(call);
      }
      from.pending.clear();
    }
    entry.frozen = false;
    if (this.trace.active) this.trace.emit({ ev: 'endpoint.bound', t: this.clock.now(), label: entry.label, endpoint: entry.endpoint, incarnation: to.id });
  }

  /** A message the old incarnation received but never ran goes to the new one (its call now awaits the new one). */
  private redeliver(entry: EndpointEntry, from: Incarnation | null, to: Incarnation, msg: Message): void {
    if (msg.id) {
      const rec = this.calls.get(msg.id);
      if (!rec) return; // cancelled meanwhile
      from?.pending.delete(msg.id);
      rec.callee = to;
      to.pending.add(msg.id);
    }
    entry.delivered++;
    to.delivered++;
    to.post({ op: 'msg', msg });
  }

  private onReply(inc: Incarnation, call: number, result: Result): void {
    const rec = this.calls.get(call);
    if (!rec || !rec.callee) return; // cancelled or timed out
    // The callee, or an older incarnation of the same endpoint finishing a handler it was
    // running when a live update moved the call on: the first answer wins.
    if (rec.callee !== inc && rec.callee.endpoint !== inc.endpoint) return;
    this.answer(call, rec, result);
    // The recovered incarnation makes progress: the requests it was given again are no
    // longer suspects (a request counts as crashing the server only if it does so again
    // before the server answers anything — not a wait that merely lived through a crash).
    if (inc.retried) {
      inc.retried = false;
      for (const id of inc.pending) {
        const r = this.calls.get(id);
        if (r?.tries !== undefined && r.tries > 1) r.tries = 1;
      }
    }
  }

  private answer(call: number, rec: CallRecord, result: Result): void {
    this.calls.delete(call);
    rec.callee?.pending.delete(call);
    rec.caller?.outgoing.delete(rec.callerId);
    this.replyTo(rec.caller, rec.callerId, result);
  }

  private replyTo(caller: Incarnation | null, callerId: number, result: Result): void {
    if (caller === null) {
      const r = this.hostCalls.get(callerId);
      this.hostCalls.delete(callerId);
      r?.(result);
    } else if (caller.alive) {
      caller.post({ op: 'reply', id: callerId, result });
    }
  }

  private cancelCall(caller: Incarnation | null, callerId: number): void {
    if (caller) {
      const call = caller.outgoing.get(callerId);
      caller.outgoing.delete(callerId);
      if (call) this.forgetCall(call);
      return;
    }
    for (const [call, rec] of this.calls) {
      if (rec.caller === null && rec.callerId === callerId) return this.forgetCall(call);
    }
  }

  private forgetCall(call: number): void {
    const rec = this.calls.get(call);
    if (!rec) return;
    this.calls.delete(call);
    rec.callee?.pending.delete(call);
  }

  private refuseFailed(entry: EndpointEntry, env: Envelope): void {
    const reason = entry.state.status === 'failed' ? entry.state.reason : 'failed';
    if (this.trace.active) this.trace.emit({ ev: 'msg.refused', t: this.clock.now(), from: env.msg.from, to: entry.endpoint, type: env.msg.type, code: 'EDEADEP', reason });
    if (!env.call) return;
    const rec = this.calls.get(env.call);
    if (rec) this.answer(env.call, rec, { ok: false, code: 'EDEADEP', message: `${entry.label} is down: ${reason}` });
  }

  /** A message from the kernel itself (faults, console input, alarms): no privilege check. */
  private kernelSend(label: string, body: Outgoing): void {
    const entry = this.endpoints.ensure(label);
    const msg = { ...body, from: KERNEL, id: 0 } as Message;
    const env: Envelope = { msg, call: 0 };
    if (entry.state.status === 'failed') return;
    if (entry.shouldHold(msg)) entry.hold(env);
    else this.deliver(entry, entry.bound!, env);
  }

  private checkSend(sender: Incarnation, label: string, type: string): [ErrCode, string] | null {
    if (type.startsWith('kernel.')) return ['EPERM', `only the kernel may send ${type}`];
    const p = this.privileges.get(sender);
    if (!p) return ['EPERM', 'sender has no privileges'];
    if (!p.anyLabel && !p.labels.has(label)) return ['EPERM', `${sender.label} may not send to ${label}`];
    if (!p.anyType && !p.types.some((t) => typeMatches(t, type))) return ['EPERM', `${sender.label} may not send ${type}`];
    return null;
  }

  // ───────────────────────────── kernel calls ─────────────────────────────

  private async kcall(inc: Incarnation, k: KCall): Promise<Result> {
    const p = this.privileges.get(inc);
    const name = k?.call;
    // Reading its own server state regions needs no privilege: they are its state.
    if (!p || !(p.anyKcall || p.kcalls.has(name) || name === 'ssr-list')) {
      this.log('warn', `refused kernel call ${String(name)} from ${inc.name}`);
      return { ok: false, code: 'EPERM', message: `${inc.label} may not make kernel call ${String(name)}` };
    }
    try {
      return await this.doKcall(inc, k);
    } catch (e) {
      return { ok: false, code: 'EINVAL', message: `kernel call ${name} failed: ${(e as Error).message}` };
    }
  }

  private async doKcall(inc: Incarnation, k: KCall): Promise<Result> {
    switch (k.call) {
      case 'exec': {
        let code: string;
        try {
          code = await this.loader.bundleProgram(String(k.text), String(k.name));
        } catch (e) {
          return { ok: false, code: 'ENOEXEC', message: (e as Error).message };
        }
        return this.spawn({
          label: k.label, source: k.name, privileges: k.privileges, ...(k.limits ? { limits: k.limits } : {}),
          args: { name: k.name, argv: k.argv, env: k.env, pid: k.pid }, program: { code, manager: inc.label },
        }, 'fresh', true);
      }
      case 'spawn': {
        // The recovery rs asks for, else what the boot configuration's policy says.
        const recovery = k.recovery ?? this.configRecovery(k.label);
        if (recovery !== undefined) {
          const bad = badRecovery(recovery);
          if (bad) return { ok: false, code: 'EINVAL', message: bad };
          this.endpoints.ensure(k.label).recovery = recovery.mode === 'stateless-restart' ? null : { ...recovery };
        }
      }
        return this.spawn({ label: k.label, source: k.source, privileges: k.privileges, limits: k.limits, args: k.args, ...(k.version ? { version: k.version } : {}) }, k.kind, k.bind);
      case 'bind': {
        const entry = this.endpoints.get(k.label);
        const target = this.incarnations.get(k.incarnation);
        if (!entry || !target || target.label !== k.label || target.state.phase !== 'ready') {
          return { ok: false, code: 'ENOENT', message: `no ready incarnation ${k.label}#${k.incarnation}` };
        }
        this.bind(entry, target);
        return ok(null);
      }
      case 'kill': {
        const target = this.incarnations.get(k.incarnation);
        if (!target) return { ok: false, code: 'ESRCH', message: `no incarnation #${k.incarnation}` };
        await target.stop();
        return ok(null);
      }
      case 'fail': {
        const entry = this.endpoints.get(k.label);
        if (!entry) return { ok: false, code: 'ENOENT', message: `no endpoint ${k.label}` };
        entry.state = { status: 'failed', reason: k.reason };
        this.note({ ev: 'endpoint.failed', t: this.clock.now(), label: entry.label, endpoint: entry.endpoint, reason: k.reason });
        for (const env of entry.takeAll()) this.refuseFailed(entry, env);
        return ok(null);
      }
      case 'filter': {
        const entry = this.endpoints.get(k.label);
        if (!entry) return { ok: false, code: 'ENOENT', message: `no endpoint ${k.label}` };
        const id = this.nextFilter++;
        entry.filters.set(id, { ...(k.match.from ? { from: k.match.from } : {}), ...(k.match.types ? { types: k.match.types } : {}) });
        this.filterOwner.set(id, entry);
        if (this.trace.active) this.trace.emit({ ev: 'filter.installed', t: this.clock.now(), filter: id, label: entry.label, match: k.match });
        return ok(id);
      }
      case 'unfilter': {
        const entry = this.filterOwner.get(k.filter);
        if (!entry) return { ok: false, code: 'ENOENT', message: `no filter ${k.filter}` };
        this.filterOwner.delete(k.filter);
        entry.filters.delete(k.filter);
        const before = entry.heldCount;
        this.release(entry);
        if (this.trace.active) this.trace.emit({ ev: 'filter.released', t: this.clock.now(), filter: k.filter, label: entry.label, released: before - entry.heldCount });
        return ok(null);
      }
      case 'endpoints':
        return ok(this.endpointTable());
      case 'lookup': {
        const entry = this.endpoints.get(k.label);
        return entry ? ok(entry.endpoint) : { ok: false, code: 'ENOENT', message: `no endpoint ${k.label}` };
      }
      case 'whois': {
        if (k.endpoint === HOST) return ok('host');
        if (k.endpoint === KERNEL) return ok('kernel');
        const entry = this.endpoints.get(Number(k.endpoint));
        return entry ? ok(entry.label) : { ok: false, code: 'ENOENT', message: `no endpoint ${k.endpoint}` };
      }
      case 'image-list':
        return ok(await this.bootImage.list());
      case 'image-read':
        try {
          return ok(await this.bootImage.read(String(k.name)));
        } catch (e) {
          return { ok: false, code: 'ENOENT', message: (e as Error).message };
        }
      case 'bootinfo':
        return ok(this.config);
      case 'boot-done':
        this.bootDone?.({ ok: true, value: null });
        this.bootDone = null;
        return ok(null);
      case 'alarm': {
        const label = inc.label;
        this.clock.setTimeout(() => {
          if (this.running) this.kernelSend(label, { type: 'clock.alarm', tag: k.tag });
        }, Math.max(0, k.ms));
        return ok(null);
      }
      case 'console-write': {
        const err = k.stream === 'err';
        if (this.consoleDevice) this.consoleDevice.write(String(k.text), err);
        else if (this.options.deferConsole && this.options.console) (this.consoleBacklog ??= []).push([String(k.text), err]);
        else if (this.options.console) (err ? this.options.console.error ?? this.options.console.output : this.options.console.output).write(String(k.text));
        return ok(null);
      }
      case 'disk-info':
      case 'disk-read':
      case 'disk-write':
      case 'disk-flush':
        return this.diskCall(k);
      case 'tcp-listen':
      case 'tcp-connect':
      case 'tcp-write':
      case 'tcp-end':
      case 'tcp-close':
      case 'tcp-pause':
      case 'tcp-list':
      case 'tcp-delegate':
        return this.tcpCall(inc.label, k);
      case 'ssr-list': {
        const entry = this.endpoints.get(inc.endpoint);
        return ok(entry ? [...entry.ssrs].map(([client, value]) => ({ client, value })) : []);
      }
      case 'recovery': {
        const entry = this.endpoints.get(String(k.label));
        if (!entry) return { ok: false, code: 'ENOENT', message: `no endpoint ${String(k.label)}` };
        const bad = badRecovery(k.recovery);
        if (bad) return { ok: false, code: 'EINVAL', message: bad };
        entry.recovery = k.recovery.mode === 'stateless-restart' ? null : { ...k.recovery };
        return ok(null);
      }
      case 'inject': {
        const entry = this.endpoints.get(String(k.label));
        const target = entry?.bound;
        if (!target) return { ok: false, code: 'ESRCH', message: `${String(k.label)} has no running incarnation` };
        return target.ctl({ c: 'fi', plan: k.plan }, 5_000, this.clock);
      }
      case 'cpu-usage': {
        const want = Array.isArray(k.labels) ? new Set(k.labels.map(String)) : null;
        const now = this.clock.now();
        const rows: CpuUsage[] = [];
        for (const i of this.incarnations.values()) {
          if (!i.alive || (want && !want.has(i.label))) continue;
          rows.push({ label: i.label, incarnation: i.id, activeMs: i.cpuActiveMs(), elapsedMs: now - i.startedAt });
        }
        return ok(rows);
      }
      case 'console-info':
        return ok({ attached: this.options.console != null, isTTY: this.options.console?.isTTY ?? false });
      case 'shutdown':
        setImmediate(() => void this.shutdown(k.code ?? 0));
        return ok(null);
      case 'build':
        try {
          // A known version (e.g. a rollback target) comes from the cache; else build the source.
          const known = k.version ? await this.versions.byVersion(k.version).catch(() => null) : null;
          const v = known ?? (await this.versions.build(resolveSource(k.source)));
          if (k.version && v.version !== k.version) {
            return { ok: false, code: 'ENOENT', message: `version ${k.version} is gone: ${k.source} now builds ${v.version}` };
          }
          return ok({ version: v.version, meta: v.meta });
        } catch (e) {
          return { ok: false, code: 'EINVAL', message: e instanceof BuildError ? e.message : String(e) };
        }
      case 'update-prepare': {
        const old = this.incarnations.get(k.incarnation);
        if (!old) return { ok: false, code: 'ESRCH', message: `no incarnation #${k.incarnation}` };
        const r = await old.ctl({ c: 'prepare', mode: k.mode, ...(k.expr ? { expr: k.expr } : {}) }, k.timeoutMs, this.clock);
        if (!r.ok) {
          if (r.code === 'ETIMEDOUT') void old.ctl({ c: 'resume' }, 5_000, this.clock); // cancel the wait
          return r;
        }
        const entry = this.endpoints.get(old.endpoint)!;
        if (entry.bound === old) entry.frozen = true;
        return ok(null);
      }
      case 'update-transfer': {
        const from = this.incarnations.get(k.from);
        const to = this.incarnations.get(k.to);
        if (!from || !to) return { ok: false, code: 'ESRCH', message: `no incarnation #${from ? k.to : k.from}` };
        let meta;
        try {
          meta = (await this.versions.byVersion(k.version)).meta;
        } catch (e) {
          return { ok: false, code: 'EINVAL', message: (e as Error).message };
        }
        // The graph goes straight from the old incarnation to the new one over a channel of their own.
        const { port1, port2 } = new MessageChannel();
        const importing = to.ctl({ c: 'import', port: port2, meta }, k.timeoutMs, this.clock, [port2]);
        const ex = await from.ctl({ c: 'export', port: port1 }, k.timeoutMs, this.clock, [port1]);
        if (!ex.ok) return { ...ex, message: `export from ${from.name}: ${ex.message ?? ex.code}` };
        const im = await importing;
        if (!im.ok) return { ...im, message: `import into ${to.name}: ${im.message ?? im.code}` };
        this.parked.set(to.id, (ex.value as ExportResult).parked);
        return im;
      }
      case 'update-commit': {
        // 1. Check every step first: a batch is rebound whole or not at all.
        const steps: Array<{ entry: EndpointEntry; from: Incarnation | null; to: Incarnation }> = [];
        for (const st of k.steps) {
          const entry = this.endpoints.get(st.label);
          const to = this.incarnations.get(st.to);
          if (!entry || !to || to.state.phase !== 'ready' || to.label !== st.label) {
            return { ok: false, code: 'ESRCH', message: `${st.label}: the new incarnation #${st.to} is not ready` };
          }
          steps.push({ entry, from: this.incarnations.get(st.from) ?? null, to });
        }
        // 2. Rebind them all in this one synchronous step.
        for (const { entry, from, to } of steps) this.commitStep(entry, from, to);
        // 3. Then release what each endpoint held, in order.
        for (const { entry } of steps) this.release(entry);
        return ok(null);
      }
      case 'update-abort': {
        const entry = this.endpoints.get(k.label);
        if (k.to !== null) {
          this.parked.delete(k.to);
          await this.incarnations.get(k.to)?.stop();
        }
        const from = this.incarnations.get(k.from);
        if (from) await from.ctl({ c: 'resume' }, 5_000, this.clock);
        if (entry) {
          entry.frozen = false;
          this.release(entry);
        }
        return ok(null);
      }
      case 'update-objects': {
        const entry = this.endpoints.get(k.label);
        const target = entry?.bound;
        if (!target) return { ok: false, code: 'ESRCH', message: `${k.label} has no running incarnation` };
        let v;
        try {
          v = await this.versions.byVersion(k.version);
        } catch (e) {
          return { ok: false, code: 'EINVAL', message: (e as Error).message };
        }
        const r = await target.ctl({ c: 'objects', file: v.file, meta: v.meta, lazy: k.lazy, deadlineMs: k.deadlineMs }, k.timeoutMs, this.clock);
        if (r.ok) target.version = v.version;
        return r;
      }
      case 'patch': {
        const target = this.endpoints.get(k.label)?.bound;
        if (!target) return { ok: false, code: 'ESRCH', message: `${k.label} has no running incarnation` };
        if (k.op !== 'apply') return target.ctl({ c: 'patch', ...(k.op === 'undo' ? { op: 'undo', id: k.id } : { op: 'list' }) }, 10_000, this.clock);
        let file: string;
        try {
          file = (await this.loader.loadPatch(resolveSource(k.source))).file;
        } catch (e) {
          return { ok: false, code: 'EINVAL', message: (e as Error).message };
        }
        return target.ctl({ c: 'patch', op: 'apply', file }, 10_000, this.clock);
      }
      case 'update-event':
        // Recorded always: the snapshot's updates in progress are tracked from these.
        this.note({ ev: 'update.phase', t: this.clock.now(), label: String(k.label), update: Number(k.update), phase: String(k.phase), status: k.status === 'start' ? 'start' : 'end', ...(k.detail ? { detail: String(k.detail) } : {}) }, inc.id);
        return ok(null);
      case 'retire': {
        const inc = this.incarnations.get(k.incarnation);
        if (!inc) return { ok: false, code: 'ESRCH', message: `no incarnation #${k.incarnation}` };
        if (k.drainMs > 0) await inc.ctl({ c: 'drain' }, k.drainMs, this.clock);
        if (k.stop === true) await inc.ctl({ c: 'stop' }, STOP_MS, this.clock);
        await inc.stop();
        return ok(null);
      }
      default:
        return { ok: false, code: 'ENOSYS', message: `unknown kernel call ${(k as { call: string }).call}` };
    }
  }

  /** A label's recovery as its boot configuration states it (services and daemons), if it does. */
  private configRecovery(label: string): Recovery | undefined {
    const svc = [...this.config.services, ...(this.config.daemons ?? [])].find((x) => x.label === label);
    const mode = svc?.policy?.mode;
    return mode ? { mode, retries: svc?.policy?.retries ?? 1 } : undefined;
  }

  private async tcpCall(owner: string, k: Extract<KCall, { call: `tcp-${string}` }>): Promise<Result> {
    const tcp = this.tcpDevice;
    try {
      switch (k.call) {
        case 'tcp-listen':
          return ok(await tcp.listen(owner, String(k.host), k.port, k.backlog));
        case 'tcp-connect':
          return ok(await tcp.connect(owner, String(k.host), k.port));
        case 'tcp-write':
          if (!(k.data instanceof Uint8Array)) return { ok: false, code: 'EINVAL', message: 'tcp-write: data must be bytes' };
          tcp.write(owner, k.handle, k.data);
          return ok(k.data.length);
        case 'tcp-end':
          tcp.end(owner, k.handle);
          return ok(null);
        case 'tcp-close':
          tcp.close(owner, k.handle);
          return ok(null);
        case 'tcp-pause':
          tcp.pause(owner, k.handle, k.paused === true);
          return ok(null);
        case 'tcp-list':
          return ok(tcp.list(owner));
        case 'tcp-delegate':
          if (k.to !== null && (typeof k.to !== 'string' || !this.endpoints.get(k.to))) return { ok: false, code: 'EINVAL', message: `no label ${String(k.to)} to delegate to` };
          tcp.delegate(owner, k.handle, k.to, k.sock);
          return ok(null);
      }
    } catch (e) {
      return { ok: false, code: e instanceof TcpError ? e.code : 'EIO', message: (e as Error).message };
    }
  }

  private async diskCall(k: Extract<KCall, { call: `disk-${string}` }>): Promise<Result> {
    const disk = this.diskDevice;
    if (!disk) return { ok: false, code: 'ENOENT', message: 'this system has no disk device' };
    try {
      switch (k.call) {
        case 'disk-info':
          return ok(disk.info);
        case 'disk-read':
          return ok(await disk.read(k.block, k.count));
        case 'disk-write':
          await disk.write(k.block, k.data);
          return ok(null);
        case 'disk-flush':
          await disk.flush();
          return ok(null);
      }
    } catch (e) {
      return { ok: false, code: e instanceof DiskError ? 'EINVAL' : 'EIO', message: (e as Error).message };
    }
  }

  private log(level: 'info' | 'warn' | 'error', text: string): void {
    if (this.trace.active) this.trace.emit({ ev: 'kernel.log', t: this.clock.now(), level, text });
  }
}

function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

function badRecovery(r: unknown): string | null {
  const x = r as { mode?: unknown; retries?: unknown } | null;
  if (!x || (x.mode !== 'stateless-restart' && x.mode !== 'ssr-restart')) return 'recovery.mode: stateless-restart or ssr-restart';
  if (!Number.isInteger(x.retries) || (x.retries as number) < 0 || (x.retries as number) > 100) return 'recovery.retries: an integer 0…100';
  return null;
}

interface CompiledPrivileges {
  anyLabel: boolean;
  labels: Set<string>;
  anyType: boolean;
  types: string[];
  anyKcall: boolean;
  kcalls: Set<string>;
}

function compilePrivileges(p: Privileges): CompiledPrivileges {
  const kcalls = p.kcalls as string[];
  return {
    anyLabel: p.to.includes('*'),
    labels: new Set(p.to),
    anyType: p.types.includes('*'),
    types: p.types,
    anyKcall: kcalls.includes('*'),
    kcalls: new Set(kcalls),
  };
}

/** The runtime user programs run under (a kernel tool bundle). */
const PROCESS_RUNTIME = fileURLToPath(new URL('../sys/process.ts', import.meta.url));

/** The package root: sources in a boot configuration are relative to it. */
export const PACKAGE_ROOT = resolve(new URL('../..', import.meta.url).pathname);

function resolveSource(source: string): string {
  return resolve(PACKAGE_ROOT, source);
}
