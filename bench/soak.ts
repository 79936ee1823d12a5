/**
 * The `soak` experiment (issue 8, "live update under real load"): the whole OS booted
 * (rs, ds, disk, mfs as root, tmpfs at /run, bootfs at /bin, vfs, pm, tty, net, sched)
 * with kvd, and for `MOLT_SOAK_SECONDS` (default 180; `--quick`: 20) — and at least one
 * full cycle of the update schedule — four workloads at once while every component is
 * live-updated in turn:
 *
 * 1. `redis-benchmark -t set,get,incr,lpush -n N -c 8 -r 10000 --csv`, round after round,
 *    against kvd (requests counted from each finished round; a round that fails or
 *    prints an error counts as failed requests);
 * 2. a RESP client in a thread of its own (fixtures/soak-client.ts): a closed loop of
 *    INCR / RPUSH / SET / GET / LRANGE with every reply checked against a model of what
 *    it wrote, each request's start and latency kept; at the end every key is read back
 *    and compared (data lost);
 * 3. file I/O through vfs from the host: files of known contents (1–16 KiB, a
 *    deterministic generator) written, read back and checksummed (SHA-256), half on the
 *    root (mfs) and half on /run (tmpfs), overwritten in a ring; at the end every file is
 *    read again and compared with the model;
 * 4. processes: pm.spawn /bin/true.ts or /bin/false.ts, pm.wait, the exit status checked.
 *
 * The update schedule (one step at least every `MOLT_SOAK_INTERVAL_MS`, default 1000;
 * `--quick`: 400), cycled: every system server to its corpus version 2
 * (test/corpus/<label>/v2.ts) and back (`rs.rollback` for tty and sched, `rs.update` to
 * the v1 source with request-free for the others — see ROLLBACK), prepare request-free — ds and rs included (their v2 add a
 * state field and count requests); kvd to test/corpus/kvd/v2.ts and back (rollback), object level to
 * lists-v2.ts eagerly and lazily (each followed by a process-level update back to v1),
 * the function patch patch-info.ts applied and undone (`rs.patch`); a batch of every
 * system server at once (to v2, then back to v1; request-free, callers prepared first); and injected failures that must not
 * commit: kvd object level to lists-broken.ts (its List transfer throws on the poison
 * list: rolled back), kvd process level to lists-broken.ts (the same transfer), vfs with
 * a state filter that does not parse (rolled back in prepare), vfs with a state filter
 * that never holds (`maxtime` 300 ms: cancelled in prepare).
 *
 * Figures: updates committed / expected rollbacks / unexpected failures, requests
 * served and failed, data lost, the client's latency p50/p99/max during updates against
 * without (each sample classified by whether it overlapped an update), the batch's total
 * and held time. The time series (per-second p50/p99/max, every step as an event) is the
 * report's `timeline` (bench/lib/types.ts `Timeline`; each event also carries the step's
 * `ms`, its own `step` kind — update, objects, patch, batch, fault — and `outcome`).
 *
 * Versions are built before the soak starts (so the steps time updates, not builds),
 * into a cache kept between runs (`MOLT_SOAK_CACHE`, default $TMPDIR/molt-bench-soak-cache;
 * content-hashed, so always valid).
 *
 * Entry point: the `soak` experiment object (registered in bench/run.ts).
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from '../src/kernel/abi.js';
import { SCHED } from '../src/boot/os.js';
import { Loader } from '../src/kernel/loader.js';
import type { PatchRow, UpdateResult } from '../src/servers/rs/protocol.js';
import { VersionBuilder } from '../src/update/version.js';
import { ClientThread } from './lib/client-thread.js';
import { figure } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';
import { BenchScratch, bootOsWithKvd, fixture, type BenchSystem } from './lib/system.js';
import type { Experiment, ExperimentOptions, ExperimentResult, Figure, Timeline } from './lib/types.js';
import type { SoakClientRequest, SoakSample, SoakVerify } from './fixtures/soak-client.js';

const src = (rel: string) => fileURLToPath(new URL(`../${rel}`, import.meta.url));
const v1Of = (label: string) => src(`src/servers/${label}/main.ts`);
const v2Of = (label: string) => src(`test/corpus/${label}/v2.ts`);

const KVD_V1 = src('src/user/kvd/main.ts');
const KVD_V2 = src('test/corpus/kvd/v2.ts');
const KVD_LISTS_V2 = src('test/corpus/kvd/lists-v2.ts');
const KVD_LISTS_BROKEN = src('test/corpus/kvd/lists-broken.ts');
const KVD_PATCH = src('test/corpus/kvd/patch-info.ts');

/** The system servers with a version 2 in the corpus (updated to it and back). */
const WITH_V2 = ['vfs', 'mfs', 'pm', 'net', 'tty', 'disk', 'tmpfs', 'bootfs', 'sched', 'ds', 'rs'] as const;
/**
 * Every system server, as one batch. Prepared in this order (rs last): callers before the
 * servers they call (sched → pm → vfs → tty / file systems → disk), so that with
 * request-free each one's calls in flight can finish on servers not yet held.
 */
const BATCH = ['ds', 'sched', 'net', 'pm', 'vfs', 'tty', 'tmpfs', 'bootfs', 'mfs', 'disk', 'rs'] as const;
/**
 * Back to v1 through `rs.rollback` (which takes no prepare mode: work-free). The others go
 * back with `rs.update` to their v1 source and prepare request-free: under the file and
 * spawn loops, a work-free update of vfs or pm loses the effect of a handler still running
 * in the old incarnation after its state was exported (seen: pm.wait → ECHILD after pm's
 * rollback; vfs.close → EBADF), which is what request-free is for (DESIGN.md §3).
 */
const ROLLBACK = ['kvd', 'tty', 'sched'];
const REQUEST_FREE = { prepare: 'request-free' };
const hasV2 = (l: string) => (WITH_V2 as readonly string[]).includes(l);

const CALL_TIMEOUT_MS = 60_000;
const BATCH_TARGET_MS = 1_000;
/** The batch's prepare deadline: eleven servers reaching request-free one after another on a busy machine (rs's default is 2 s). */
const BATCH_PREPARE_MS = 5_000;

interface Params {
  seconds: number;
  intervalMs: number;
  /** redis-benchmark requests per test per round, connections. */
  benchRequests: number;
  benchClients: number;
  /** Files in the ring (half on mfs, half on tmpfs). */
  files: number;
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const epochNow = () => performance.timeOrigin + performance.now();

function params(quick: boolean): Params {
  const env = (name: string) => {
    const v = process.env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${v}: a positive number, please`);
    return n;
  };
  return {
    seconds: env('MOLT_SOAK_SECONDS') ?? (quick ? 20 : 180),
    intervalMs: env('MOLT_SOAK_INTERVAL_MS') ?? (quick ? 400 : 1_000),
    benchRequests: quick ? 2_000 : 10_000,
    benchClients: 8,
    files: 32,
  };
}

// ───────────────────────────── the update schedule ─────────────────────────────

type Kind = 'update' | 'rollback' | 'batch' | 'patch' | 'objects' | 'fault';

type Step =
  | { do: 'update'; name: string; kind: Kind; labels: string[]; req: Record<string, unknown>; expect: 'committed' | 'rolled-back' | 'cancelled' }
  | { do: 'rollback'; name: string; label: string }
  | { do: 'patch-apply'; name: string }
  | { do: 'patch-undo'; name: string };

const up = (label: string, source: string, name: string, extra: Record<string, unknown> = {}, expect: 'committed' | 'rolled-back' | 'cancelled' = 'committed', kind: Kind = 'update'): Step => ({
  do: 'update', name, kind, labels: [label], req: { items: [{ label, source }], ...extra }, expect,
});
const back = (label: string): Step =>
  ROLLBACK.includes(label) ? { do: 'rollback', name: `${label} → v1 (rs.rollback)`, label } : up(label, v1Of(label), `${label} → v1`, REQUEST_FREE);

/** One cycle: kvd's steps interleaved with the servers', so a short run still covers many components. */
function schedule(): Step[] {
  // mfs answers a request while it waits on disk: under the file loop it is rarely work-free
  // (the update then rolls back in its state check: "in the middle of an operation").
  const srv = (l: string) => up(l, v2Of(l), `${l} → v2`, REQUEST_FREE);
  return [
    up('kvd', KVD_V2, 'kvd → v2'),
    srv('vfs'),
    back('kvd'),
    up('kvd', KVD_LISTS_BROKEN, 'kvd objects → lists-broken (injected: transfer throws)', { mode: 'objects' }, 'rolled-back', 'fault'),
    srv('mfs'),
    up('kvd', KVD_LISTS_V2, 'kvd objects → lists-v2, eager', { mode: 'objects' }, 'committed', 'objects'),
    srv('pm'),
    up('kvd', KVD_V1, 'kvd → v1 (process level)'),
    srv('net'),
    { do: 'patch-apply', name: 'kvd patch patch-info apply' },
    srv('tty'),
    { do: 'patch-undo', name: 'kvd patch patch-info undo' },
    up('vfs', v1Of('vfs'), 'vfs → v1, state filter that does not parse (injected)', { prepare: 'state', state: 'state.files >' }, 'rolled-back', 'fault'),
    srv('disk'),
    up('kvd', KVD_LISTS_V2, 'kvd objects → lists-v2, lazy', { mode: 'objects', lazy: true }, 'committed', 'objects'),
    srv('tmpfs'),
    up('kvd', KVD_V1, 'kvd → v1 (process level)'),
    srv('bootfs'),
    up('kvd', KVD_LISTS_BROKEN, 'kvd → lists-broken, process level (injected: transfer throws)', {}, 'rolled-back', 'fault'),
    srv('sched'),
    up('vfs', v1Of('vfs'), 'vfs → v1, state filter that never holds, maxtime 300 ms (injected)', { prepare: 'state', state: 'false', maxtime: 300 }, 'cancelled', 'fault'),
    srv('ds'),
    srv('rs'),
    ...WITH_V2.map(back),
    {
      do: 'update', name: 'batch: every system server → v2', kind: 'batch', labels: [...BATCH], expect: 'committed',
      req: { items: BATCH.map((l) => ({ label: l, source: hasV2(l) ? v2Of(l) : v1Of(l) })), prepare: 'request-free', maxtime: BATCH_PREPARE_MS },
    },
    {
      do: 'update', name: 'batch: every system server → v1', kind: 'batch', labels: [...BATCH], expect: 'committed',
      req: { items: BATCH.map((l) => ({ label: l, source: v1Of(l) })), prepare: 'request-free', maxtime: BATCH_PREPARE_MS },
    },
  ];
}

/** What one step did. */
interface StepRun {
  name: string;
  kind: Kind;
  labels: string[];
  /** Expected to commit (or, for an injected failure, not to). */
  expect: string;
  outcome: string;
  /** The outcome was the expected one. */
  asExpected: boolean;
  reason: string | null;
  /** Epoch ms, host-observed. */
  t0: number;
  t1: number;
  /** rs's totalMs (host-observed for patches) and heldMs. */
  ms: number;
  heldMs: number;
  phase?: string;
  /** rs's per-phase milliseconds. */
  timings?: UpdateResult['timings'];
}

async function runStep(sys: BenchSystem, step: Step, patch: { id: number | null }): Promise<StepRun> {
  const t0 = epochNow();
  const rs = (msg: Record<string, unknown>) => sys.kernel.call('rs', msg as { type: string }, CALL_TIMEOUT_MS);
  const fail = (r: Result) => (r.ok ? 'ok' : `${r.code}${r.message ? `: ${r.message}` : ''}`);
  const fromUpdate = (r: Result, base: Omit<StepRun, 'outcome' | 'asExpected' | 'reason' | 't0' | 't1' | 'ms' | 'heldMs'>): StepRun => {
    const t1 = epochNow();
    if (!r.ok) return { ...base, outcome: 'error', asExpected: false, reason: fail(r), t0, t1, ms: t1 - t0, heldMs: 0 };
    const u = r.value as UpdateResult;
    return { ...base, outcome: u.outcome, asExpected: u.outcome === base.expect, reason: u.reason, t0, t1, ms: u.totalMs, heldMs: u.heldMs, phase: u.phase, timings: u.timings };
  };
  switch (step.do) {
    case 'update':
      return fromUpdate(await rs({ type: 'rs.update', ...step.req }), { name: step.name, kind: step.kind, labels: step.labels, expect: step.expect });
    case 'rollback':
      return fromUpdate(await rs({ type: 'rs.rollback', label: step.label }), { name: step.name, kind: 'update', labels: [step.label], expect: 'committed' });
    case 'patch-apply': {
      const r = await rs({ type: 'rs.patch', op: 'apply', label: 'kvd', source: KVD_PATCH });
      const t1 = epochNow();
      const row = r.ok ? (r.value as PatchRow) : null;
      patch.id = row?.id ?? null;
      const status = String(row?.info.status ?? fail(r));
      return { name: step.name, kind: 'patch', labels: ['kvd'], expect: 'complete', outcome: status, asExpected: status === 'complete', reason: row ? null : fail(r), t0, t1, ms: t1 - t0, heldMs: 0 };
    }
    case 'patch-undo': {
      if (patch.id === null) return { name: step.name, kind: 'patch', labels: ['kvd'], expect: 'undone', outcome: 'skipped', asExpected: false, reason: 'no patch applied', t0, t1: t0, ms: 0, heldMs: 0 };
      const r = await rs({ type: 'rs.patch', op: 'undo', patch: patch.id });
      const t1 = epochNow();
      patch.id = null;
      const row = r.ok ? (r.value as PatchRow) : null;
      const status = String(row?.info.status ?? fail(r));
      return { name: step.name, kind: 'patch', labels: ['kvd'], expect: 'undone', outcome: status, asExpected: status === 'undone', reason: row ? null : fail(r), t0, t1, ms: t1 - t0, heldMs: 0 };
    }
  }
}

// ───────────────────────────── workloads ─────────────────────────────

/** The client thread (bench/lib/client-thread.ts). */
const startClient = (file: string, port: number) => ClientThread.start<SoakClientRequest>(file, port, 'soak-client');
type Client = ClientThread<SoakClientRequest>;

interface BenchRounds {
  rounds: number;
  failedRounds: number;
  requests: number;
  errors: number;
  /** requests/s by test, per finished round. */
  rps: Record<string, number[]>;
  problems: string[];
}

const TESTS = ['SET', 'GET', 'INCR', 'LPUSH'];

/** redis-benchmark, round after round, until `stop()`; resolves when the round running then ends. */
function redisRounds(port: number, p: Params): { stop: () => Promise<BenchRounds> } {
  const out: BenchRounds = { rounds: 0, failedRounds: 0, requests: 0, errors: 0, rps: {}, problems: [] };
  let stopping = false;
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', 'set,get,incr,lpush', '-n', String(p.benchRequests), '-c', String(p.benchClients), '-r', '10000', '--csv'];
  const round = () =>
    new Promise<void>((resolve) => {
      execFile('redis-benchmark', args, { timeout: 300_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
        out.rounds++;
        const seen = new Set<string>();
        for (const line of stdout.split('\n')) {
          const m = /^"([A-Z]+)[^"]*","([\d.]+)"/.exec(line.trim());
          if (m && TESTS.includes(m[1]!)) {
            seen.add(m[1]!);
            (out.rps[m[1]!] ??= []).push(Number(m[2]));
          }
        }
        const errLines = stderr.split('\n').filter((l) => /error/i.test(l));
        if (error || seen.size !== TESTS.length) {
          out.failedRounds++;
          out.errors += (TESTS.length - seen.size) * p.benchRequests;
          if (out.problems.length < 5) out.problems.push(`${error ? error.message.split('\n')[0] : 'incomplete'}; ${stderr.trim().slice(0, 200)}`);
        } else if (errLines.length > 0) {
          out.errors += errLines.length;
          if (out.problems.length < 5) out.problems.push(errLines.slice(0, 3).join('; '));
        }
        out.requests += seen.size * p.benchRequests;
        resolve();
      });
    });
  const done = (async () => {
    while (!stopping) await round();
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return out;
    },
  };
}

/** Deterministic contents of file version `seq`: 1–16 KiB. */
function contents(seq: number): Uint8Array {
  const n = 1024 + ((seq * 7919) % (15 * 1024));
  const b = new Uint8Array(n);
  let x = (seq * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Failure {
  at: number;
  error: string;
  /** The update step running then (filled in at the end). */
  during?: string;
}

interface FileWork {
  cycles: number;
  failed: number;
  failures: Failure[];
  /** Per write+read cycle: start (epoch ms) and latency (ms). */
  starts: number[];
  latencies: number[];
  lost: number;
  mismatches: string[];
  files: number;
}

interface SpawnWork {
  spawns: number;
  failed: number;
  failures: Failure[];
  starts: number[];
  latencies: number[];
}

class Os {
  constructor(private readonly sys: BenchSystem) {}

  async call<T>(to: string, msg: Record<string, unknown>): Promise<T> {
    const r = await this.sys.kernel.call(to, msg as { type: string }, CALL_TIMEOUT_MS);
    if (!r.ok) throw new Error(`${to} ${String(msg.type)}: ${r.code}${r.message ? ` ${r.message}` : ''}`);
    return r.value as T;
  }

  async write(path: string, data: Uint8Array): Promise<void> {
    const fd = await this.call<number>('vfs', { type: 'vfs.open', path, flags: 'w' });
    await this.closing(fd, () => this.call('vfs', { type: 'vfs.write', fd, data }));
  }

  /** Run `body`, then close `fd`; the body's error wins over the close's (which is kept in its text). */
  private async closing<T>(fd: number, body: () => Promise<T>): Promise<T> {
    let out: T;
    try {
      out = await body();
    } catch (e) {
      const closed = await this.call('vfs', { type: 'vfs.close', fd }).then(() => 'closed', (c: Error) => c.message);
      throw new Error(`${(e as Error).message} (fd ${fd}; close: ${closed})`);
    }
    try {
      await this.call('vfs', { type: 'vfs.close', fd });
    } catch (e) {
      throw new Error(`after the ${fd === -1 ? '' : 'operation, '}close: ${(e as Error).message} (fd ${fd})`);
    }
    return out;
  }

  async read(path: string): Promise<Uint8Array> {
    const fd = await this.call<number>('vfs', { type: 'vfs.open', path, flags: 'r' });
    return this.closing(fd, async () => {
      const parts: Uint8Array[] = [];
      for (;;) {
        const c = await this.call<Uint8Array>('vfs', { type: 'vfs.read', fd, length: 65536 });
        if (c.length === 0) break;
        parts.push(c);
      }
      return Buffer.concat(parts);
    });
  }
}

const FILE_DIRS = ['/soak', '/run/soak'];

/** The file loop: write, read back, checksum; the model is each path's last checksum. */
function fileLoop(os: Os, p: Params): { stop: () => Promise<FileWork> } {
  const w: FileWork = { cycles: 0, failed: 0, failures: [], starts: [], latencies: [], lost: 0, mismatches: [], files: 0 };
  const model = new Map<string, string>();
  let stopping = false;
  const path = (i: number) => `${FILE_DIRS[i % 2]}/f${i}`;
  const done = (async () => {
    for (const d of FILE_DIRS) await os.call('vfs', { type: 'vfs.mkdir', path: d });
    let seq = 0;
    while (!stopping) {
      const s = seq++;
      const file = path(s % p.files);
      const data = contents(s);
      const at = epochNow();
      const t0 = performance.now();
      try {
        await os.write(file, data);
        model.set(file, sha(data));
        const got = await os.read(file);
        if (sha(got) !== model.get(file)) throw new Error(`${file}: read back ${got.length} bytes, checksum differs from the ${data.length} written`);
      } catch (e) {
        model.delete(file); // unknown now: not judged at the end
        w.failed++;
        if (w.failures.length < 50) w.failures.push({ at, error: `${file}: ${(e as Error).message}` });
      }
      w.starts.push(at);
      w.latencies.push(performance.now() - t0);
      w.cycles++;
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      for (const [file, want] of model) {
        w.files++;
        try {
          const got = sha(await os.read(file));
          if (got !== want) {
            w.lost++;
            w.mismatches.push(`${file}: checksum differs`);
          }
        } catch (e) {
          w.lost++;
          w.mismatches.push(`${file}: ${(e as Error).message}`);
        }
      }
      return w;
    },
  };
}

/** The process loop: spawn /bin/true.ts or /bin/false.ts, wait, check the status. */
function spawnLoop(os: Os): { stop: () => Promise<SpawnWork> } {
  const w: SpawnWork = { spawns: 0, failed: 0, failures: [], starts: [], latencies: [] };
  let stopping = false;
  const done = (async () => {
    let seq = 0;
    while (!stopping) {
      const ok = seq++ % 2 === 0;
      const at = epochNow();
      const t0 = performance.now();
      try {
        const pid = await os.call<number>('pm', { type: 'pm.spawn', path: ok ? '/bin/true.ts' : '/bin/false.ts', argv: [ok ? 'true' : 'false'] });
        const r = await os.call<{ pid: number; status: number }>('pm', { type: 'pm.wait', pid });
        if (r.pid !== pid || r.status !== (ok ? 0 : 1)) throw new Error(`${ok ? 'true' : 'false'} (pid ${pid}): wait answered ${JSON.stringify(r)}`);
      } catch (e) {
        w.failed++;
        if (w.failures.length < 50) w.failures.push({ at, error: (e as Error).message });
      }
      w.starts.push(at);
      w.latencies.push(performance.now() - t0);
      w.spawns++;
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return w;
    },
  };
}

// ───────────────────────────── analysis ─────────────────────────────

/** Latencies split by whether the request overlapped an update step (windows sorted, disjoint). */
function classify(starts: ArrayLike<number>, lat: ArrayLike<number>, windows: Array<[number, number]>): { during: number[]; quiet: number[] } {
  const order = Array.from({ length: starts.length }, (_, i) => i).sort((a, b) => starts[a]! - starts[b]!);
  const during: number[] = [];
  const quiet: number[] = [];
  let w = 0;
  for (const i of order) {
    const s = starts[i]!;
    const e = s + lat[i]!;
    while (w < windows.length && windows[w]![1] < s) w++;
    if (w < windows.length && windows[w]![0] <= e) during.push(lat[i]!);
    else quiet.push(lat[i]!);
  }
  return { during, quiet };
}

/** Per-second buckets (by completion time) of the client's latency. */
function series(starts: ArrayLike<number>, lat: ArrayLike<number>, t0: number, failures: SoakSample['failures']): Timeline['samples'] {
  const buckets: number[][] = [];
  for (let i = 0; i < starts.length; i++) {
    const b = Math.floor((starts[i]! + lat[i]! - t0) / 1000);
    if (b < 0) continue;
    (buckets[b] ??= []).push(lat[i]!);
  }
  const errs: number[] = [];
  for (const f of failures) {
    const b = Math.floor((f.at - t0) / 1000);
    if (b >= 0) errs[b] = (errs[b] ?? 0) + 1;
  }
  const out: Timeline['samples'] = [];
  for (let b = 0; b < buckets.length; b++) {
    const xs = buckets[b];
    if (!xs || xs.length === 0) continue;
    const s = summarize(xs);
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    out.push({ t: b + 1, p50: r3(s.p50), p99: r3(s.p99), max: r3(s.max), n: s.n, errors: errs[b] ?? 0 });
  }
  return out;
}

const bootKvd = (scratch: BenchScratch, cacheDir: string) => bootOsWithKvd(scratch, { kvdSource: KVD_V1, extra: [{ ...SCHED }], kernel: { cacheDir } });

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** redis-benchmark (Debian's redis-tools), installed with apt-get when missing and this is root. */
function ensureRedisBenchmark(log: (l: string) => void): boolean {
  if (!have('redis-benchmark') && process.getuid?.() === 0) {
    log('soak: installing redis-tools (apt-get)');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'redis-tools'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return have('redis-benchmark');
}

// ───────────────────────────── the experiment ─────────────────────────────

export const soak: Experiment = {
  name: 'soak',
  description: 'live update under real load: redis-benchmark + a checked client on kvd, file I/O, spawns, while every component is updated in turn (MOLT_SOAK_SECONDS)',
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const p = params(opts.quick);
    const log = opts.log;
    if (!ensureRedisBenchmark(log)) throw new Error('soak: redis-benchmark is not installed (apt-get install redis-tools)');
    const cacheDir = process.env.MOLT_SOAK_CACHE || join(tmpdir(), 'molt-bench-soak-cache');
    const scratch = await BenchScratch.create();
    let sys: BenchSystem | null = null;
    let client: Client | null = null;
    try {
      // 1. Every version built (bundle + type metadata) before the clock starts.
      const loader = new Loader(cacheDir);
      const clientWorker = (await loader.loadTool(fixture('soak-client.ts'))).file;
      const sources = [
        KVD_V1, KVD_V2, KVD_LISTS_V2, KVD_LISTS_BROKEN,
        ...BATCH.map(v1Of), ...WITH_V2.map(v2Of),
      ];
      const tb = performance.now();
      const builder = new VersionBuilder(loader, cacheDir);
      const alive = setInterval(() => undefined, 1_000); // the metadata worker is unref'd: keep this process up meanwhile
      try {
        for (const s of sources) await builder.build(s);
        await loader.loadPatch(KVD_PATCH);
      } finally {
        clearInterval(alive);
        await builder.close();
      }
      const buildMs = performance.now() - tb;
      log(`soak: ${sources.length} versions and a patch built in ${f2(buildMs / 1000)} s (cache ${cacheDir})`);

      // 2. Boot, start the workloads.
      const booted = await bootKvd(scratch, cacheDir);
      sys = booted.sys;
      const os = new Os(sys);
      log(`soak: booted in ${f2(sys.bootMs / 1000)} s, kvd on port ${booted.port}; ${p.seconds} s, a step every ${p.intervalMs} ms`);
      client = await startClient(clientWorker, booted.port);
      const t0 = epochNow();
      await client.request({ op: 'run' });
      const bench = redisRounds(booted.port, p);
      const files = fileLoop(os, p);
      const spawns = spawnLoop(os);

      // 3. The update schedule, cycled until the time is up (and at least one whole cycle).
      const steps: StepRun[] = [];
      const patch = { id: null as number | null };
      const plan = schedule();
      await sleep(Math.min(2_000, p.intervalMs * 2)); // a quiet start: latency before any update
      let cycle = 0;
      const timeUp = () => epochNow() - t0 >= p.seconds * 1000;
      for (;;) {
        for (const step of plan) {
          if (cycle > 0 && timeUp()) break; // the first cycle always runs whole
          const started = performance.now();
          const r = await runStep(sys, step, patch);
          steps.push(r);
          if (!r.asExpected) log(`  UNEXPECTED: ${r.name}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`);
          const rest = p.intervalMs - (performance.now() - started);
          await sleep(Math.max(100, rest));
        }
        if (cycle > 0 && timeUp()) break;
        cycle++;
        log(`soak: cycle ${cycle} done at ${f2((epochNow() - t0) / 1000)} s (${steps.length} steps, ${steps.filter((s) => !s.asExpected).length} unexpected)`);
        if (timeUp()) break;
      }
      await sleep(Math.min(2_000, p.intervalMs * 2)); // a quiet end
      const tEnd = epochNow();

      // 4. Stop the workloads, verify the data.
      const sample = await client.request<SoakSample>({ op: 'stop' });
      const [rounds, fw, sw] = await Promise.all([bench.stop(), files.stop(), spawns.stop()]);
      const kv = await client.request<SoakVerify>({ op: 'verify' });
      log(`soak: verified ${kv.keys} keys (${int(kv.writes)} writes): ${kv.lost} differ; ${fw.files} files: ${fw.lost} differ`);

      // 5. Figures.
      const windows = steps.map((s): [number, number] => [s.t0, s.t1]);
      /** The step a failure happened in (or the last one before it). */
      const stepAt = (at: number) => {
        let last: StepRun | null = null;
        for (const s of steps) if (s.t0 <= at) last = s;
        if (!last) return 'before any update';
        return at <= last.t1 ? `during ${last.name}` : `${Math.round(at - last.t1)} ms after ${last.name}`;
      };
      for (const f of [...fw.failures, ...sw.failures]) f.during = stepAt(f.at);
      const showFailures = (fs: Failure[]) => fs.slice(0, 3).map((f) => `${f.error} [${f.during}]`).join('; ');
      const { during, quiet } = classify(sample.starts, sample.latencies, windows);
      const sd = summarize(during);
      const sq = summarize(quiet);
      const fileSplit = classify(fw.starts, fw.latencies, windows);
      const spawnSplit = classify(sw.starts, sw.latencies, windows);
      const committed = steps.filter((s) => s.expect === 'committed' && s.outcome === 'committed');
      const expectedFails = steps.filter((s) => s.expect !== 'committed' && s.expect !== 'complete' && s.expect !== 'undone');
      const rolledAsExpected = expectedFails.filter((s) => s.asExpected);
      const unexpected = steps.filter((s) => !s.asExpected);
      const patches = steps.filter((s) => s.kind === 'patch' && s.asExpected);
      const byComponent: Record<string, number> = {};
      for (const s of committed) for (const l of s.labels) byComponent[l] = (byComponent[l] ?? 0) + 1;
      const batches = steps.filter((s) => s.kind === 'batch');
      const okBatches = batches.filter((s) => s.outcome === 'committed');
      const benchErrors = rounds.errors;
      const clientRequests = sample.starts.length;
      const served = rounds.requests + clientRequests;
      const failed = sample.failures.length + benchErrors;
      const seconds = (tEnd - t0) / 1000;
      const median = (xs: number[]) => (xs.length ? summarize(xs).p50 : NaN);
      const byKind = (k: Kind) => steps.filter((s) => s.kind === k && s.outcome === 'committed').map((s) => s.ms);
      const latNote = (what: string, a: Summary, b: Summary) =>
        `${what}: the RESP client's requests (closed loop, one at a time, every reply checked) overlapping an update step (${int(a.n)} requests) vs the rest of the same run (${int(b.n)}); ` +
        `during p50 ${f2(a.p50)} / p99 ${f2(a.p99)} / max ${f2(a.max)} ms, without p50 ${f2(b.p50)} / p99 ${f2(b.p99)} / max ${f2(b.max)} ms`;

      const figures: Figure[] = [
        figure({
          name: 'updates committed', value: committed.length + patches.length, unit: 'updates', better: 'higher',
          note: `${committed.length} live updates (process level, object level, batches, rollbacks to v1) and ${patches.length} function-patch applies/undos, in ${steps.length} steps (${cycle} whole cycle(s) of ${plan.length}) over ${f2(seconds)} s; ` +
            `commits per component: ${Object.entries(byComponent).map(([l, n]) => `${l} ${n}`).join(', ')}; ` +
            `median rs totalMs: process-level ${f2(median(byKind('update')))} ms, object-level ${f2(median(byKind('objects')))} ms, batch ${f2(median(byKind('batch')))} ms`,
        }),
        figure({
          name: 'injected failed updates rolled back', value: rolledAsExpected.length, unit: 'updates', better: 'higher',
          note: `${rolledAsExpected.length} of ${expectedFails.length} injected failures ended as expected without committing: ` +
            Object.entries(expectedFails.reduce<Record<string, string[]>>((a, s) => ((a[s.name] ??= []).push(s.outcome), a), {})).map(([n, o]) => `${n}: ${o.join(', ')}`).join('; '),
        }),
        figure({
          name: 'unexpected update outcomes', value: unexpected.length, unit: 'updates', target: { value: 0 },
          note: unexpected.length ? unexpected.slice(0, 5).map((s) => `${s.name}: ${s.outcome}${s.reason ? ` (${s.reason})` : ''}`).join('; ') : 'every step ended as expected (committed, or for the injected failures rolled back / cancelled)',
        }),
        figure({
          name: 'requests served', value: served, unit: 'requests', better: 'higher',
          note: `redis-benchmark ${int(rounds.requests)} (${rounds.rounds} rounds of -t set,get,incr,lpush -n ${p.benchRequests} -c ${p.benchClients}; median req/s ${TESTS.map((t) => `${t} ${int(median(rounds.rps[t] ?? []))}`).join(', ')}) ` +
            `+ the RESP client ${int(clientRequests)} (${Object.entries(sample.commands).map(([c, n]) => `${c} ${int(n)}`).join(', ')}); ${int(served / seconds)} requests/s overall`,
        }),
        figure({
          name: 'requests failed', value: failed, unit: 'requests', target: { value: 0 },
          note: `RESP client: ${sample.failures.length} (error replies, wrong answers against the model, timeouts)${sample.failures.length ? `: ${sample.failures.slice(0, 3).map((f) => `${f.command}: ${f.error} [${stepAt(f.at)}]`).join('; ')}` : ''}; ` +
            `redis-benchmark: ${benchErrors} (${rounds.failedRounds} failed rounds)${rounds.problems.length ? `: ${rounds.problems.join(' | ')}` : ''}`,
        }),
        figure({
          name: 'data lost', value: kv.lost + fw.lost, unit: 'items', target: { value: 0 },
          note: `kvd: ${kv.lost} of ${kv.keys} keys differ from the client's model (${int(kv.writes)} writes: INCR counts, RPUSH logs, SETs)${kv.mismatches.length ? `: ${kv.mismatches.slice(0, 3).join('; ')}` : ''}; ` +
            `files: ${fw.lost} of ${fw.files} differ from their SHA-256 at the end${fw.mismatches.length ? `: ${fw.mismatches.slice(0, 3).join('; ')}` : ''}`,
        }),
        figure({
          name: 'file and process operations failed', value: fw.failed + sw.failed, unit: 'operations', target: { value: 0 },
          note: `${int(fw.cycles)} file write+read-back+checksum cycles through vfs (1–16 KiB, ${p.files} files on mfs and tmpfs): ${fw.failed} failed` +
            `${fw.failed ? ` (${showFailures(fw.failures)})` : ''}; ${int(sw.spawns)} spawn+wait of /bin/true.ts and /bin/false.ts: ${sw.failed} failed${sw.failed ? ` (${showFailures(sw.failures)})` : ''}`,
        }),
        figure({ name: 'client latency p50 during updates', value: sd.p50, unit: 'ms', baseline: { value: sq.p50, name: 'without updates' }, better: 'lower', note: latNote('p50', sd, sq) }),
        figure({ name: 'client latency p99 during updates', value: sd.p99, unit: 'ms', baseline: { value: sq.p99, name: 'without updates' }, better: 'lower', note: latNote('p99', sd, sq) }),
        figure({ name: 'client latency max during updates', value: sd.max, unit: 'ms', baseline: { value: sq.max, name: 'without updates' }, better: 'lower', note: latNote('max', sd, sq) }),
        figure({
          name: 'file cycle p99 during updates', value: summarize(fileSplit.during).p99, unit: 'ms', baseline: { value: summarize(fileSplit.quiet).p99, name: 'without updates' }, better: 'lower',
          note: `write + read back of one file through vfs; spawn+wait p99 during ${f2(summarize(spawnSplit.during).p99)} ms vs without ${f2(summarize(spawnSplit.quiet).p99)} ms`,
        }),
      ];
      if (batches.length > 0) {
        const phases = (b: StepRun) => Object.entries(b.timings ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
        const mid = okBatches.length ? okBatches : batches;
        figures.push(
          figure({
            name: 'batch update of all system servers', value: median(mid.map((b) => b.ms)), unit: 'ms', target: { value: BATCH_TARGET_MS },
            note: `median rs totalMs of the ${okBatches.length} committed of ${batches.length} batches (rs.update with ${BATCH.length} items: ${BATCH.join(', ')}; prepare request-free), under the load above; ` +
              `min ${int(Math.min(...mid.map((b) => b.ms)))}, max ${int(Math.max(...mid.map((b) => b.ms)))} ms; the first: ${phases(batches[0]!)} ms by phase; ` +
              `every batch: ${batches.map((b) => `${b.name.replace('batch: every system server ', '')} ${b.outcome} ${int(b.ms)} ms (held ${int(b.heldMs)})`).join(', ')}; PROTEOS (ASPLOS '13) reports ~3.5 s for updating every OS component at once`,
          }),
          figure({ name: 'batch update of all system servers, held', value: median(mid.map((b) => b.heldMs)), unit: 'ms', better: 'lower', note: `median of rs's heldMs (the servers' requests held: prepare done → commit); per batch: ${mid.map((b) => int(b.heldMs)).join(', ')} ms` }),
        );
      }

      const kindOf = (s: StepRun): Timeline['events'][number]['kind'] => (s.kind === 'batch' ? 'batch' : s.kind === 'fault' ? 'rollback' : 'update');
      const timeline: Timeline & { events: Array<Timeline['events'][number] & { ms: number; step: Kind; outcome: string }> } = {
        samples: series(sample.starts, sample.latencies, t0, sample.failures),
        events: steps.map((s) => ({
          t: Math.round((s.t0 - t0) / 10) / 100,
          label: s.name,
          kind: kindOf(s),
          // Charted dashed when it did not commit (the injected failures, and anything unexpected).
          ok: s.outcome === 'committed' || s.outcome === 'complete' || s.outcome === 'undone',
          ms: Math.round(s.ms * 10) / 10,
          step: s.kind,
          outcome: s.outcome,
        })),
      };
      return {
        figures,
        timeline,
        params: {
          ...p,
          cacheDir,
          buildMs: Math.round(buildMs),
          bootMs: Math.round(sys.bootMs),
          cycles: cycle,
          durationS: Math.round(seconds * 10) / 10,
          steps: steps.map((s) => ({ ...s, t0: Math.round(s.t0 - t0), t1: Math.round(s.t1 - t0) })),
          redisBenchmark: { ...rounds, rps: Object.fromEntries(Object.entries(rounds.rps).map(([k, v]) => [k, summarize(v)])) },
          client: { requests: clientRequests, commands: sample.commands, failures: sample.failures.slice(0, 20), during: sd, without: sq, verify: kv },
          files: { cycles: fw.cycles, files: fw.files, lost: fw.lost, failures: fw.failures, during: summarize(fileSplit.during), without: summarize(fileSplit.quiet) },
          spawns: { spawns: sw.spawns, failures: sw.failures, during: summarize(spawnSplit.during), without: summarize(spawnSplit.quiet) },
        },
      };
    } finally {
      await client?.stop().catch(() => undefined);
      await sys?.stop().catch(() => undefined);
      await scratch.cleanup();
    }
  },
};
