/**
 * The `faults` experiment: a CuriOS-style fault-injection campaign. For each target
 * server (vfs, mfs, pm, net, sched, tty, kvd) × fault kind (crash, throw, hang, oom,
 * corrupt) × recovery policy (stateless-restart, ssr-restart), N trials: arm one fault
 * (`rs.fi`, `times: 1`, at a request type the workload sends, after a seeded random
 * count of them), run a workload slice that checks its own results, wait (bounded) for
 * the server to be back, and classify the trial:
 *
 *  - transparent: the workload finished, its results are right, it saw no error;
 *  - graceful: it saw an error (an error code, a failed exit, a dropped connection), and
 *    nothing it had been told was done is wrong or missing;
 *  - lost: wrong results or data lost (something acknowledged is gone or different);
 *  - system failure: the system stopped answering (a trial over its time bound, a health
 *    probe failing, rs giving up on the server): a fresh system is booted and the
 *    campaign goes on;
 *  - not fired: the workload sent fewer requests of the type than `after` (excluded).
 *
 * Recovery time: rs's fault log (`rs.faults`, `recoveredMs`: fault → running again).
 *
 * Entry point: `faults` (an Experiment). N per cell: `MOLT_BENCH_FAULTS=N` (default 6,
 * `--quick` 2); `MOLT_BENCH_FAULTS_TARGETS=vfs,pm` and `MOLT_BENCH_FAULTS_KINDS=crash`
 * restrict the campaign.
 */
import { readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { KVD, HTTPD } from '../src/boot/os.js';
import type { BootConfig, Result, ServiceConfig, TraceEvent } from '../src/kernel/abi.js';
import type { Kernel } from '../src/kernel/kernel.js';
import { prng } from '../src/sys/faults.js';
import { freePort } from './net.js';
import { figure } from './lib/report.js';
import { percentile } from './lib/stats.js';
import { BenchScratch, fixture, type BenchSystem } from './lib/system.js';
import type { Experiment, ExperimentOptions, ExperimentResult, Figure } from './lib/types.js';

const TARGETS = ['vfs', 'mfs', 'pm', 'net', 'sched', 'tty', 'kvd'] as const;
const KINDS = ['crash', 'throw', 'hang', 'oom', 'corrupt'] as const;
const POLICIES = ['stateless-restart', 'ssr-restart'] as const;
type Target = (typeof TARGETS)[number];
type Kind = (typeof KINDS)[number];
type Policy = (typeof POLICIES)[number];
type Outcome = 'transparent' | 'graceful' | 'lost' | 'system failure' | 'not fired';

/** The targets' limits in this experiment: a hang is seen after 1 s, an oom at 128 MiB. */
const TARGET_LIMITS = { hangMs: 1000, heartbeatMs: 200, memoryMb: 128 };
/** A trial (workload + recovery + checks) longer than this is a system failure. */
const TRIAL_MS = 60_000;
const RECOVERY_WAIT_MS = 20_000;
/** Default trials per cell (full run), and with --quick. */
const FULL_N = 6;
const QUICK_N = 2;

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: unknown) => new TextDecoder().decode(b as Uint8Array);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class CallError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The workload's view: errors it saw, and what was wrong in its results. */
interface Seen {
  errors: string[];
  wrong: string[];
}

interface Env {
  k: Kernel;
  /** Resolves with a reason when the system shut down (e.g. init exited). */
  down: Promise<string>;
  isDown: () => string | null;
  kvdPort: number;
  console: { text: string };
  trial: number;
}

const DEBUG = !!process.env.MOLT_BENCH_FAULTS_DEBUG;

async function call<T = unknown>(k: Kernel, to: string, msg: Record<string, unknown> & { type: string }, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  const r: Result = await k.call(to, msg, ms);
  if (DEBUG) process.stderr.write(`  [${new Date().toISOString().slice(17, 23)}] ${msg.type} → ${r.ok ? 'ok' : `${r.code} ${r.message ?? ''}`} (${Date.now() - t0} ms)\n`);
  if (!r.ok) throw new CallError(r.code, `${msg.type}: ${r.code} ${r.message ?? ''}`.trim());
  return r.value as T;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function putFile(k: Kernel, path: string, text: string): Promise<void> {
  const fd = await call<number>(k, 'vfs', { type: 'vfs.open', path, flags: 'w' });
  await call(k, 'vfs', { type: 'vfs.write', fd, data: enc(text) });
  await call(k, 'vfs', { type: 'vfs.close', fd });
}

async function getFile(k: Kernel, path: string): Promise<string> {
  const fd = await call<number>(k, 'vfs', { type: 'vfs.open', path, flags: 'r' });
  try {
    let s = '';
    for (;;) {
      const c = await call<Uint8Array>(k, 'vfs', { type: 'vfs.read', fd, length: 65536 });
      if (c.length === 0) return s;
      s += dec(c);
    }
  } finally {
    await call(k, 'vfs', { type: 'vfs.close', fd }).catch(() => undefined);
  }
}

/** Run a program under pm and wait for it → its exit status. */
async function runProgram(k: Kernel, path: string, argv: string[], ms = 40_000): Promise<number> {
  const pid = await call<number>(k, 'pm', { type: 'pm.spawn', path, argv });
  const w = await call<{ status: number }>(k, 'pm', { type: 'pm.wait', pid }, ms);
  return w.status;
}

// ---- A minimal RESP client (one command at a time, no automatic retry) --------------

type Reply = { kind: 'ok' | 'err' | 'bulk' | 'int' | 'nil'; text: string };

class Resp {
  private buf = '';
  private waiter: ((r: Reply | Error) => void) | null = null;
  private closed: Error | null = null;
  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      this.pump();
    });
    const fail = (e?: Error) => {
      this.closed ??= e ?? new Error('connection closed');
      this.waiter?.(this.closed);
      this.waiter = null;
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  static connect(port: number, ms = 5000): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const s = new Socket();
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timed out'));
      }, ms);
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      s.connect(port, '127.0.0.1', () => {
        clearTimeout(t);
        s.removeAllListeners('error');
        resolve(new Resp(s));
      });
    });
  }

  private pump(): void {
    if (!this.waiter) return;
    const nl = this.buf.indexOf('\r\n');
    if (nl < 0) return;
    const head = this.buf.slice(0, nl);
    let reply: Reply;
    let used = nl + 2;
    switch (head[0]) {
      case '+':
        reply = { kind: 'ok', text: head.slice(1) };
        break;
      case '-':
        reply = { kind: 'err', text: head.slice(1) };
        break;
      case ':':
        reply = { kind: 'int', text: head.slice(1) };
        break;
      case '$': {
        const n = Number(head.slice(1));
        if (n < 0) {
          reply = { kind: 'nil', text: '' };
          break;
        }
        if (this.buf.length < used + n + 2) return;
        reply = { kind: 'bulk', text: this.buf.slice(used, used + n) };
        used += n + 2;
        break;
      }
      default:
        reply = { kind: 'err', text: `unexpected reply ${JSON.stringify(head)}` };
    }
    this.buf = this.buf.slice(used);
    const w = this.waiter;
    this.waiter = null;
    w(reply);
  }

  command(args: string[], ms = 5000): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        this.sock.destroy();
        reject(new Error(`${args[0]} timed out after ${ms} ms`));
      }, ms);
      this.waiter = (r) => {
        clearTimeout(t);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      this.sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
      this.pump();
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

// ---- The workloads: each one slice, checking its own results -------------------------

interface Workload {
  /** The request type the fault is armed at (one the workload makes the target handle). */
  at: string;
  /** `after` is drawn from [minAfter, minAfter + maxAfter): fewer than the workload sends of `at`. */
  maxAfter: number;
  minAfter?: number;
  run(env: Env): Promise<Seen>;
}

const CHURN_LINES = 40;

/** A program keeps a file open for writing and one for reading (test/fixtures/programs/churn.ts). */
async function churn(env: Env): Promise<Seen> {
  const seen: Seen = { errors: [], wrong: [] };
  const path = `/faults/c${env.trial}.log`;
  const expected = Array.from({ length: CHURN_LINES }, (_, i) => `line ${i}\n`).join('');
  let status: number | null = null;
  try {
    status = await runProgram(env.k, '/faults/churn.ts', ['churn', String(CHURN_LINES), path]);
    if (status !== 0) seen.errors.push(`churn exit ${status}`);
  } catch (e) {
    seen.errors.push(errText(e));
  }
  // The results, read back once the server is back (retry: it may still be restarting).
  const result = await retry(() => getFile(env.k, `${path}.result`)).catch(() => null);
  const log = await retry(() => getFile(env.k, path)).catch((e) => {
    seen.errors.push(`reading the log: ${errText(e)}`);
    return null;
  });
  if (result !== null && result !== `${CHURN_LINES} 0\n`) seen.wrong.push(`churn read back wrong lines: result ${JSON.stringify(result.trim())}`);
  if (status === 0 && result === null) seen.wrong.push('churn exited 0 but its result file is missing');
  if (log !== null) {
    if (status === 0 && log !== expected) seen.wrong.push(`log differs (${log.length} of ${expected.length} bytes)`);
    if (status !== 0 && !expected.startsWith(log)) seen.wrong.push(`log is not a prefix of what was written (${log.length} bytes)`);
  }
  return seen;
}

async function retry<T>(f: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (i + 1 >= tries) throw e;
      await sleep(300);
    }
  }
}

const SPAWNS = 5;

/** Process spawn and wait: /bin/true.ts must exit 0. */
async function spawnWait(env: Env): Promise<Seen> {
  const seen: Seen = { errors: [], wrong: [] };
  const k = env.k;
  // A process started before the fault must still be pm's afterwards (its table survives).
  let sleeper: number | null = null;
  try {
    sleeper = await call<number>(k, 'pm', { type: 'pm.spawn', path: '/faults/sleeper.ts', argv: ['sleeper'] });
  } catch (e) {
    seen.errors.push(`spawn sleeper: ${errText(e)}`);
  }
  for (let i = 0; i < SPAWNS; i++) {
    try {
      const status = await runProgram(k, '/bin/true.ts', ['true'], 20_000);
      if (status !== 0) seen.wrong.push(`true exited ${status}`);
    } catch (e) {
      seen.errors.push(errText(e));
    }
  }
  if (sleeper !== null) {
    try {
      await retry(() => call(k, 'pm', { type: 'pm.kill', pid: sleeper, signal: 'KILL' }), 3);
      const w = await call<{ status: number }>(k, 'pm', { type: 'pm.wait', pid: sleeper }, 10_000);
      if (w.status !== 137) seen.wrong.push(`the sleeper (KILL) exited ${w.status}`);
    } catch (e) {
      // pm no longer knows a process it started: the process table was lost.
      seen.wrong.push(`the sleeper started before the fault: ${errText(e)}`);
    }
  }
  return seen;
}

const NICES = 5;

/** sched: set a sleeping process's nice, and read it back in sched.ps. */
async function nice(env: Env): Promise<Seen> {
  const seen: Seen = { errors: [], wrong: [] };
  const k = env.k;
  let pid: number;
  try {
    pid = await call<number>(k, 'pm', { type: 'pm.spawn', path: '/faults/sleeper.ts', argv: ['sleeper'] });
  } catch (e) {
    seen.errors.push(`spawn: ${errText(e)}`);
    return seen;
  }
  let last: number | null = null;
  for (let i = 0; i < NICES; i++) {
    const v = 1 + ((env.trial * 7 + i * 3) % 19);
    try {
      const row = await call<{ nice: number }>(k, 'sched', { type: 'sched.nice', pid, nice: v });
      if (row.nice !== v) seen.wrong.push(`sched.nice answered nice ${row.nice}, not ${v}`);
      else last = v;
    } catch (e) {
      seen.errors.push(errText(e));
    }
    try {
      const rows = await call<Array<{ pid: number; nice: number }>>(k, 'sched', { type: 'sched.ps' });
      const row = rows.find((r) => r.pid === pid);
      if (last !== null && row && row.nice !== last) seen.wrong.push(`sched.ps shows nice ${row.nice}, set ${last}`);
      if (last !== null && !row) seen.wrong.push(`sched.ps does not show pid ${pid}`);
    } catch (e) {
      seen.errors.push(errText(e));
    }
  }
  try {
    await call(k, 'pm', { type: 'pm.kill', pid, signal: 'KILL' });
    await call(k, 'pm', { type: 'pm.wait', pid });
  } catch (e) {
    seen.errors.push(`ending the sleeper: ${errText(e)}`);
  }
  return seen;
}

const PRINT_LINES = 20;

/** tty: a program prints lines to the console (captured in memory); each must appear once, in order. */
async function print(env: Env): Promise<Seen> {
  const seen: Seen = { errors: [], wrong: [] };
  const tag = `F${env.trial}x`;
  const start = env.console.text.length;
  let status: number | null = null;
  try {
    status = await runProgram(env.k, '/faults/print.ts', ['print', tag, String(PRINT_LINES)]);
    if (status !== 0) seen.errors.push(`print exit ${status}`);
  } catch (e) {
    seen.errors.push(errText(e));
  }
  await sleep(200);
  const got = env.console.text.slice(start).split(/\r?\n/).filter((l) => l.startsWith(`${tag}:`));
  const want = Array.from({ length: PRINT_LINES }, (_, i) => `${tag}:${i}`);
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (status === 0 && !same(got, want)) seen.wrong.push(`console shows ${got.length} lines, not the ${PRINT_LINES} printed (${got.slice(0, 3).join(' ')}…)`);
  if (status !== 0 && !same(got, want.slice(0, got.length))) seen.wrong.push(`console lines out of order or repeated (${got.length})`);
  return seen;
}

const KV_PAIRS = 8;

/**
 * kvd over TCP: SET then GET each key; afterwards, every acknowledged SET must read back.
 * With `reconnect`, each pair on a new connection: net itself sees every connection
 * (accepted, closed) — a delegated connection's data bypasses net, so this is what
 * exercises it.
 */
async function redis(env: Env, reconnect = false): Promise<Seen> {
  const seen: Seen = { errors: [], wrong: [] };
  const acked = new Map<string, string>();
  const h: { conn: Resp | null } = { conn: null };
  const rand = prng(env.trial * 977 + 13);
  const get = async () => (h.conn ??= await Resp.connect(env.kvdPort));
  const drop = () => {
    h.conn?.close();
    h.conn = null;
  };
  const cmd = async (args: string[]): Promise<Reply | null> => {
    try {
      return await (await get()).command(args);
    } catch (e) {
      seen.errors.push(`${args[0]}: ${errText(e)}`);
      drop();
      return null;
    }
  };
  let failures = 0;
  for (let i = 0; i < KV_PAIRS && failures < 2; i++) {
    const key = `faults:${env.trial}:${i}`;
    const val = `v${Math.floor(rand() * 1e9)}`;
    const s = await cmd(['SET', key, val]);
    if (s?.kind === 'ok') acked.set(key, val);
    else if (s) seen.errors.push(`SET: ${s.kind} ${s.text}`);
    const g = await cmd(['GET', key]);
    if (g?.kind === 'err') seen.errors.push(`GET: ${g.text}`);
    else if (g && acked.has(key) && (g.kind !== 'bulk' || g.text !== val)) seen.wrong.push(`GET ${key} → ${g.kind} ${g.text}, set ${val}`);
    // Two commands in a row without an answer: the service is not answering; stop the slice.
    failures = s === null && g === null ? failures + 1 : 0;
    if (reconnect) drop();
  }
  drop();
  // After recovery: everything acknowledged is still there (a new connection, a few tries).
  let tries = 0;
  for (const [key, val] of acked) {
    let g: Reply | null = null;
    while (!g && tries < 4) {
      try {
        g = await (await get()).command(['GET', key], 3000);
      } catch {
        drop();
        tries++;
        await sleep(300);
      }
    }
    if (!g) {
      seen.errors.push(`GET ${key} after recovery: no answer`);
      break;
    } else if (g.kind !== 'bulk' || g.text !== val) seen.wrong.push(`after recovery GET ${key} → ${g.kind} ${g.text}, set ${val}`);
  }
  drop();
  return seen;
}

const WORKLOADS: Record<Target, Workload> = {
  vfs: { at: 'vfs.write', maxAfter: CHURN_LINES - 5, run: churn },
  mfs: { at: 'mfs.write', maxAfter: CHURN_LINES - 5, run: churn },
  pm: { at: 'pm.spawn', minAfter: 1, maxAfter: SPAWNS, run: spawnWait },
  net: { at: 'kernel.tcp', maxAfter: KV_PAIRS, run: (env) => redis(env, true) },
  sched: { at: 'sched.ps', maxAfter: NICES - 1, run: nice },
  tty: { at: 'tty.write', maxAfter: PRINT_LINES - 4, run: print },
  kvd: { at: 'net.event', maxAfter: KV_PAIRS, run: redis },
};

// ---- The system under test -----------------------------------------------------------

interface Sys {
  sys: BenchSystem;
  env: Omit<Env, 'trial'>;
}

function withLimits(s: ServiceConfig): ServiceConfig {
  if (!(TARGETS as readonly string[]).includes(s.label)) return s;
  const memoryMb = Math.min(s.limits?.memoryMb ?? TARGET_LIMITS.memoryMb, TARGET_LIMITS.memoryMb);
  return { ...s, limits: { ...s.limits, ...TARGET_LIMITS, memoryMb } };
}

async function bootSystem(scratch: BenchScratch): Promise<Sys> {
  const kvdPort = await freePort();
  const httpPort = await freePort();
  const captured = { text: '' };
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      captured.text += chunk.toString('utf8');
      if (captured.text.length > 4_000_000) captured.text = captured.text.slice(-1_000_000);
      cb();
    },
  });
  const sys = await scratch.boot({
    kernel: { console: { input: new PassThrough(), output, isTTY: false } },
    config: (c): BootConfig => ({
      ...c,
      services: c.services.map(withLimits),
      daemons: [withLimits({ ...KVD, args: { ...KVD.args, port: kvdPort } }), { ...HTTPD, args: { ...HTTPD.args, port: httpPort } }],
    }),
  });
  const k = sys.kernel;
  let downReason: string | null = null;
  const down = k.exited.then((code) => (downReason = `the system shut down (exit status ${code})`));
  try {
    await waitFor(async () => {
      const c = await Resp.connect(kvdPort, 1000);
      c.close();
      return true;
    }, 30_000, 'kvd to listen');
    await call(k, 'vfs', { type: 'vfs.mkdir', path: '/faults' }).catch(() => undefined);
    const churnSrc = await readFile(fileURLToPath(new URL('../test/fixtures/programs/churn.ts', import.meta.url)), 'utf8');
    const sleeperSrc = await readFile(fileURLToPath(new URL('../test/fixtures/programs/sleeper.ts', import.meta.url)), 'utf8');
    await putFile(k, '/faults/churn.ts', churnSrc);
    await putFile(k, '/faults/sleeper.ts', sleeperSrc);
    await putFile(k, '/faults/print.ts', await readFile(fixture('faults-print.ts'), 'utf8'));
  } catch (e) {
    await stopSystem(sys);
    throw e;
  }
  return { sys, env: { k, down, isDown: () => downReason, kvdPort, console: captured } };
}

async function stopSystem(sys: BenchSystem): Promise<void> {
  await Promise.race([sys.stop(), sleep(20_000)]).catch(() => undefined);
}

async function waitFor(f: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await f()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function setPolicy(k: Kernel, label: string, mode: Policy): Promise<void> {
  // windowMs 1: every trial sees the first fault's backoff (50 ms), not a backoff grown by
  // the campaign's earlier faults; maxFaults: rs never gives up because of the campaign.
  await call(k, 'rs', { type: 'rs.policy', label, mode, retries: 1, windowMs: 1, maxFaults: 1_000_000 });
}

interface FaultRow {
  label: string;
  at: number;
  kind: string;
  action: string;
  recoveredMs: number | null;
  injected?: string;
}

const endpointOf = (k: Kernel, label: string) => k.endpointTable().find((e) => e.label === label);

/** Whether the system still answers: the file system, pm's table, the target bound. */
async function healthy(env: Env, target: Target): Promise<string | null> {
  const k = env.k;
  if (env.isDown()) return env.isDown();
  try {
    await call(k, 'vfs', { type: 'vfs.stat', path: '/faults' }, 5_000);
    await call(k, 'pm', { type: 'pm.ps' }, 5_000);
    const e = endpointOf(k, target);
    if (!e || e.status !== 'bound') return `${target} is ${e?.status ?? 'gone'}`;
    if (target === 'kvd' || target === 'net') {
      const c = await Resp.connect(env.kvdPort, 3000);
      try {
        const r = await c.command(['PING'], 3000);
        if (r.kind !== 'ok') return `kvd PING → ${r.kind} ${r.text}`;
      } finally {
        c.close();
      }
    }
    return null;
  } catch (e) {
    return errText(e);
  }
}

interface TrialResult {
  outcome: Outcome;
  recoveredMs: number[];
  detail?: string;
}

async function runTrial(env: Env, target: Target, kind: Kind, seed: number): Promise<TrialResult> {
  const k = env.k;
  const w = WORKLOADS[target];
  const rand = prng(seed);
  const after = (w.minAfter ?? 0) + Math.floor(rand() * w.maxAfter);
  const t0 = Date.now();
  const armed = endpointOf(k, target)?.incarnation ?? null;
  // Deliveries of `at` to the armed incarnation: the plan fires on the (after+1)-th.
  let delivered = 0;
  const off = k.trace.on((ev: TraceEvent) => {
    if (ev.ev === 'msg.delivered' && ev.incarnation === armed && ev.type === w.at) delivered++;
  });
  try {
    await call(k, 'rs', { type: 'rs.fi', label: target, kind, at: w.at, after, seed, times: 1 });
    let timer: NodeJS.Timeout | undefined;
    const seen = await Promise.race([
      w.run(env),
      env.down,
      new Promise<null>((r) => (timer = setTimeout(() => r(null), TRIAL_MS))),
    ]).finally(() => clearTimeout(timer));
    if (seen === null) return { outcome: 'system failure', recoveredMs: [], detail: `workload over ${TRIAL_MS} ms` };
    if (typeof seen === 'string') return { outcome: 'system failure', recoveredMs: [], detail: seen };
    const fired = delivered > after;
    if (!fired) {
      await call(k, 'rs', { type: 'rs.fi', label: target, clear: true }).catch(() => undefined);
      return { outcome: 'not fired', recoveredMs: [], detail: `${delivered} ${w.at} delivered, after ${after}` };
    }
    // Wait until the server is back (and, for a fault that ends it, rs logged its recovery).
    let rows: FaultRow[] = [];
    try {
      await waitFor(async () => {
        if (env.isDown()) return true;
        rows = (await call<FaultRow[]>(k, 'rs', { type: 'rs.faults', label: target }, 5_000)).filter((r) => r.at >= t0);
        if (rows.some((r) => r.action === 'give-up')) return true;
        const bound = endpointOf(k, target)?.status === 'bound';
        if (kind === 'corrupt') return bound;
        return bound && rows.length > 0 && rows.every((r) => r.recoveredMs !== null);
      }, RECOVERY_WAIT_MS, `${target} to recover`);
    } catch (e) {
      return { outcome: 'system failure', recoveredMs: [], detail: errText(e) };
    }
    if (env.isDown()) return { outcome: 'system failure', recoveredMs: [], detail: env.isDown()! };
    const recoveredMs = rows.flatMap((r) => (r.recoveredMs === null ? [] : [r.recoveredMs]));
    if (rows.some((r) => r.action === 'give-up')) return { outcome: 'system failure', recoveredMs, detail: `rs gave up on ${target}` };
    const sick = await healthy(env, target);
    if (sick) return { outcome: 'system failure', recoveredMs, detail: sick };
    if (seen.wrong.length > 0) return { outcome: 'lost', recoveredMs, detail: seen.wrong.slice(0, 2).join('; ') };
    if (seen.errors.length > 0) return { outcome: 'graceful', recoveredMs, detail: seen.errors.slice(0, 2).join('; ') };
    return { outcome: 'transparent', recoveredMs };
  } finally {
    off();
  }
}

// ---- The campaign --------------------------------------------------------------------

interface Cell {
  target: Target;
  kind: Kind;
  policy: Policy;
  counts: Record<Outcome, number>;
  recoveredMs: number[];
  details: string[];
}

function pickList<T extends string>(all: readonly T[], env: string | undefined, what: string): T[] {
  if (!env) return [...all];
  const want = env.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = want.filter((w) => !(all as readonly string[]).includes(w));
  if (bad.length) throw new Error(`${what}: unknown ${bad.join(', ')} (${all.join(', ')})`);
  return want as T[];
}

export const faults: Experiment = {
  name: 'faults',
  description: 'fault injection campaign: servers × crash/throw/hang/oom/corrupt × stateless/ssr restart; % transparent, recovery time',
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const envN = process.env.MOLT_BENCH_FAULTS;
    const n = envN ? Number(envN) : opts.quick ? QUICK_N : FULL_N;
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`MOLT_BENCH_FAULTS: a count ≥ 1, not ${envN}`);
    const targets = pickList(TARGETS, process.env.MOLT_BENCH_FAULTS_TARGETS, 'MOLT_BENCH_FAULTS_TARGETS');
    const kinds = pickList(KINDS, process.env.MOLT_BENCH_FAULTS_KINDS, 'MOLT_BENCH_FAULTS_KINDS');
    const policies = pickList(POLICIES, process.env.MOLT_BENCH_FAULTS_POLICIES, 'MOLT_BENCH_FAULTS_POLICIES');
    const scratch = await BenchScratch.create();
    const cells: Cell[] = [];
    let boots = 0;
    let trialNo = 0;
    let current: Sys | null = null;
    const started = Date.now();
    try {
      const fresh = async () => {
        if (current) await stopSystem(current.sys);
        current = null;
        current = await bootSystem(scratch);
        boots++;
        return current;
      };
      for (const target of targets) {
        for (const policy of policies) {
          // A fresh system for every (target, policy): corrupt faults, last in each group,
          // may leave damage that would otherwise spill into the next group.
          let s = await fresh();
          await setPolicy(s.env.k, target, policy);
          for (const kind of kinds) {
            const cell: Cell = {
              target, kind, policy, recoveredMs: [], details: [],
              counts: { transparent: 0, graceful: 0, lost: 0, 'system failure': 0, 'not fired': 0 },
            };
            cells.push(cell);
            for (let i = 0; i < n; i++) {
              const trial = ++trialNo;
              let r: TrialResult;
              try {
                r = await runTrial({ ...s.env, trial }, target, kind, 1000 + trial);
              } catch (e) {
                r = { outcome: 'system failure', recoveredMs: [], detail: `trial: ${errText(e)}` };
              }
              cell.counts[r.outcome]++;
              cell.recoveredMs.push(...r.recoveredMs);
              if (r.detail && r.outcome !== 'transparent' && cell.details.length < 3) cell.details.push(`${r.outcome}: ${r.detail}`);
              if (r.outcome === 'system failure') {
                opts.log(`faults: ${target} ${kind} ${policy} #${i + 1}: system failure (${r.detail}); booting a fresh system`);
                s = await fresh();
                await setPolicy(s.env.k, target, policy);
              }
            }
            const c = cell.counts;
            opts.log(`faults: ${target} ${kind} ${policy}: ${c.transparent} transparent, ${c.graceful} graceful, ${c.lost} lost, ${c['system failure']} system failure, ${c['not fired']} not fired`);
          }
        }
      }
    } finally {
      if (current) await stopSystem((current as Sys).sys);
      await scratch.cleanup();
    }
    return { figures: cellFigures(cells), params: { trialsPerCell: n, targets, kinds, policies, targetLimits: TARGET_LIMITS, workloads: Object.fromEntries(targets.map((t) => [t, { at: WORKLOADS[t].at, after: [WORKLOADS[t].minAfter ?? 0, (WORKLOADS[t].minAfter ?? 0) + WORKLOADS[t].maxAfter - 1] }])), boots, totalSeconds: Math.round((Date.now() - started) / 1000) } };
  },
};

function cellFigures(cells: Cell[]): Figure[] {
  const figures: Figure[] = [];
  for (const c of cells) {
    const fired = c.counts.transparent + c.counts.graceful + c.counts.lost + c.counts['system failure'];
    const pct = fired > 0 ? (100 * c.counts.transparent) / fired : 0;
    const judged = c.policy === 'ssr-restart' && c.kind !== 'corrupt';
    const sorted = [...c.recoveredMs].sort((a, b) => a - b);
    const rec = sorted.length ? `recovery median ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms (${sorted.length})` : 'no recovery logged';
    const counts = `${c.counts.transparent} transparent, ${c.counts.graceful} graceful, ${c.counts.lost} lost, ${c.counts['system failure']} system failure${c.counts['not fired'] ? `, ${c.counts['not fired']} not fired` : ''}`;
    figures.push(figure({
      name: `${c.target} ${c.kind} ${c.policy}: transparent`,
      value: pct,
      unit: '%',
      ...(judged && fired > 0 ? { target: { value: 95 }, better: 'higher' as const } : { better: 'higher' as const }),
      note: [counts, rec, ...c.details].join('; '),
    }));
    if (sorted.length > 0) {
      figures.push(figure({ name: `${c.target} ${c.kind} ${c.policy}: recovery p50`, value: percentile(sorted, 50), unit: 'ms' }));
      figures.push(figure({ name: `${c.target} ${c.kind} ${c.policy}: recovery p99`, value: percentile(sorted, 99), unit: 'ms' }));
    }
  }
  return figures;
}
