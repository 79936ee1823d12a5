/**
 * The `update` experiment: what a live update costs, and what being updatable costs.
 *
 * 1. Update time and disruption vs state size. A bench component `upd`
 *    (fixtures/update-v1.ts ↔ update-v2.ts: `size` number ↔ bigint, `mode` added/dropped)
 *    is filled by request with records, then live-updated back and forth with `rs.update`
 *    several times per point; the median `totalMs` (end to end, as rs measures it) and
 *    `heldMs` (its requests held: prepare done → commit) per point, with the per-phase
 *    timings. Two sweeps: by serialized size (records with 1,000 characters of data:
 *    ≈0, 1, 10, 100 MB) and by object count (records with no data: 1k … 1M). Targets for
 *    states of ≤ 1 MB: ≤ 50 ms end to end, ≤ 10 ms disruption. Slopes by least squares.
 * 2. State transfer throughput in one thread (a worker of its own with `upd`'s heap
 *    limits, fixtures/update-transfer-worker.ts), on the very graphs of 1: exportGraph +
 *    structuredClone + importState + checkState (src/update/*, metadata of update-v2.ts)
 *    against v8.deserialize(v8.serialize(graph)); MB/s and objects/s, the ratio (target:
 *    ≥ 3× v8) and where the time goes. Also the same transfer in a fresh isolate (cold
 *    code, as both incarnations run it in a live update) for the small states.
 * 3. Steady-state cost of being updatable: `cli` (fixtures/update-client.ts) sends
 *    `upd.ping` requests, a window of sendrecs in flight, to `upd`, on a normal kernel, on
 *    one booted with `updatable: false` (the live-update machinery compiled out of every
 *    component) and on a second normal one (A/A control); all up at once, interleaved
 *    rounds, pinned to one CPU (judged: ≤ 2% slower) and unpinned (reported).
 *
 * Entry point: the `update` experiment object (registered in bench/run.ts).
 */
import { stat } from 'node:fs/promises';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ServiceConfig, TraceEvent } from '../src/kernel/abi.js';
import { Loader } from '../src/kernel/loader.js';
import type { UpdateResult, UpdatePhase } from '../src/servers/rs/protocol.js';
import { extractStateMeta } from '../src/update/metadata.js';
import type { StateMeta } from '../src/update/types.js';
import { allowedCpus, canPin, withPinnedCpu } from './lib/affinity.js';
import { figure } from './lib/report.js';
import { median } from './lib/stats.js';
import { BenchScratch, fixture, type BenchSystem } from './lib/system.js';
import type { Experiment, ExperimentOptions, ExperimentResult, Figure } from './lib/types.js';
import { recordData } from './fixtures/update-gen.js';
import { buildState, type TransferJob, type TransferOutcome, type TransferRun } from './fixtures/update-transfer-worker.js';

const V1 = fixture('update-v1.ts');
const V2 = fixture('update-v2.ts');
/** Times transfers in an isolate of its own (warm, and cold as in a live update). */
const TRANSFER_WORKER = fixture('update-transfer-worker.ts');

/** Room for 100 MB of state twice over (old and new incarnation each hold a copy while it moves). */
const UPD_LIMITS = { memoryMb: 2048, hangMs: 120_000 };
/** The deadline rs gives spawn + transfer (`initMaxtime`): a 1M-object import takes seconds. */
const TRANSFER_DEADLINE_MS = 240_000;
const CALL_TIMEOUT_MS = 600_000;

const UPD: ServiceConfig = {
  label: 'upd',
  source: V1,
  privileges: { to: [], types: [], kcalls: [] },
  limits: UPD_LIMITS,
};
const CLI: ServiceConfig = {
  label: 'cli',
  source: fixture('update-client.ts'),
  privileges: { to: ['upd'], types: ['upd.*'], kcalls: [] },
};

/** Characters of data per record in the size sweep (the count sweep's records have none). */
const PAYLOAD = 1_000;
const MB = 1e6;

interface Point {
  /** `size` (records with PAYLOAD characters each) or `count` (records with no data). */
  sweep: 'size' | 'count';
  label: string;
  /** Records in the table, and characters of data each. */
  n: number;
  payload: number;
}

interface Params {
  sizes: number[];
  counts: number[];
  /** Timed updates per point (a state of ≥ BIG_BYTES serialized, or ≥ BIG_OBJECTS objects, gets `updatesBig`). */
  updates: number;
  updatesBig: number;
  /** Timed in-thread transfers per point (after untimed warm-up runs), `repsBig` for big states. */
  reps: number;
  repsBig: number;
  /** Fresh-isolate (cold) transfers per point and variant, for states up to COLD_MAX_*. */
  coldRuns: number;
  /** Steady-state throughput: requests per run, sendrecs in flight, rounds per CPU mode. */
  requests: number;
  window: number;
  rounds: number;
}

const FULL: Params = {
  sizes: [0, 1 * MB, 10 * MB, 100 * MB],
  counts: [1_000, 10_000, 100_000, 1_000_000],
  updates: 7,
  updatesBig: 3,
  reps: 5,
  repsBig: 3,
  coldRuns: 3,
  requests: 5_000,
  window: 16,
  rounds: 64,
};
const QUICK: Params = {
  sizes: [0, 1 * MB, 10 * MB],
  counts: [1_000, 10_000, 100_000],
  updates: 2,
  updatesBig: 2,
  reps: 2,
  repsBig: 1,
  coldRuns: 1,
  requests: 2_000,
  window: 16,
  rounds: 3,
};

const BIG_BYTES = 50 * MB;
const BIG_OBJECTS = 500_000;
/** Cold (fresh-isolate) transfers are timed for states up to this size: past it, the code is compiled early in the run. */
const COLD_MAX_BYTES = 11 * MB;
const COLD_MAX_OBJECTS = 100_002;
/** Records of the untimed transfer a pre-warmed isolate runs first. */
const PREWARM_RECORDS = 2_000;

// ───────────────────────────── the state graphs ─────────────────────────────

/** Records of PAYLOAD characters for at most (and about) `bytes` serialized, measured. */
function recordsFor(bytes: number): number {
  if (bytes <= 0) return 0;
  const sample = 1_000;
  const empty = v8.serialize(buildState(0, PAYLOAD)).length;
  const per = (v8.serialize(buildState(sample, PAYLOAD)).length - empty) / sample;
  let n = Math.max(1, Math.floor((bytes - empty) / per));
  // Small states are judged against a target "≤ 1 MB": make sure they are not a few bytes over.
  if (bytes <= 10 * MB) while (n > 1 && v8.serialize(buildState(n, PAYLOAD)).length > bytes) n--;
  return n;
}

function points(p: Params): Point[] {
  const sizeLabel = (b: number) => (b === 0 ? '≈0 MB' : `${b / MB} MB`);
  const countLabel = (c: number) => (c >= 1e6 ? `${c / 1e6}M objects` : `${c / 1e3}k objects`);
  return [
    ...p.sizes.map((b): Point => ({ sweep: 'size', label: sizeLabel(b), n: recordsFor(b), payload: PAYLOAD })),
    ...p.counts.map((c): Point => ({ sweep: 'count', label: countLabel(c), n: c, payload: 0 })),
  ];
}

interface Shape {
  /** v8.serialize(state).length of the v1 state. */
  bytes: number;
  /** Objects in the graph, as exportGraph counts them (records, the Map, the root). */
  objects: number;
}

// ───────────────────────────── 2. transfer in one thread ─────────────────────────────

type Steps = Pick<TransferRun, 'walk' | 'clone' | 'import' | 'check' | 'molt'>;

interface InThread extends Steps {
  shape: Shape;
  /** Medians (ms): the four steps of a Molt transfer and their sum (Steps); v8 serialize, deserialize, both. */
  v8ser: number;
  v8de: number;
  v8: number;
  reps: number;
  /** Every repetition's Molt and v8 totals (ms). */
  all: { molt: number[]; v8: number[] };
}

interface Cold {
  /** Medians (ms) over `runs` fresh isolates: as a live update runs it (cold), and after an untimed small transfer (pre-warmed). */
  cold: Steps;
  prewarmed: Steps;
  runs: number;
  all: { cold: number[]; prewarmed: number[] };
}

/** One job in a worker of its own, with the heap limits of the `upd` component. */
function inWorker(file: string, job: TransferJob): Promise<TransferOutcome> {
  return new Promise((resolve, reject) => {
    const w = new Worker(file, {
      workerData: job,
      name: 'update-transfer',
      resourceLimits: { maxOldGenerationSizeMb: UPD_LIMITS.memoryMb * 2, maxYoungGenerationSizeMb: 32 },
    });
    let done = false;
    w.once('message', (m: TransferOutcome) => {
      done = true;
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!done) reject(new Error(`transfer worker exited (${code}) before answering`));
    });
  });
}

const medSteps = (xs: Steps[]): Steps => ({
  walk: median(xs.map((x) => x.walk)), clone: median(xs.map((x) => x.clone)), import: median(xs.map((x) => x.import)),
  check: median(xs.map((x) => x.check)), molt: median(xs.map((x) => x.molt)),
});

async function inThread(file: string, pt: Point, meta: StateMeta, reps: number): Promise<InThread> {
  const r = await inWorker(file, { n: pt.n, payload: pt.payload, meta, mode: 'warm', prewarm: 0, reps });
  const med = (k: 'v8ser' | 'v8de' | 'v8') => median(r.runs.map((x) => x[k]!));
  return {
    shape: { bytes: r.bytes, objects: r.objects },
    ...medSteps(r.runs),
    v8ser: med('v8ser'), v8de: med('v8de'), v8: med('v8'),
    reps,
    all: { molt: r.runs.map((x) => x.molt), v8: r.runs.map((x) => x.v8!) },
  };
}

async function coldTransfers(file: string, pt: Point, meta: StateMeta, runs: number): Promise<Cold> {
  const cold: Steps[] = [];
  const prewarmed: Steps[] = [];
  const job = { n: pt.n, payload: pt.payload, meta, mode: 'cold' as const, reps: 1 };
  for (let i = 0; i < runs; i++) {
    cold.push((await inWorker(file, { ...job, prewarm: 0 })).runs[0]!);
    prewarmed.push((await inWorker(file, { ...job, prewarm: PREWARM_RECORDS })).runs[0]!);
  }
  return { cold: medSteps(cold), prewarmed: medSteps(prewarmed), runs, all: { cold: cold.map((x) => x.molt), prewarmed: prewarmed.map((x) => x.molt) } };
}

// ───────────────────────────── 1. live updates ─────────────────────────────

async function call<T>(sys: BenchSystem, to: string, msg: { type: string } & Record<string, unknown>): Promise<T> {
  const r = await sys.kernel.call(to, msg, CALL_TIMEOUT_MS);
  if (!r.ok) throw new Error(`${to} ${msg.type} failed: ${r.code}${r.message ? `: ${r.message}` : ''}`);
  return r.value as T;
}

interface Info {
  layout: 'v1' | 'v2';
  n: number;
  chars: number;
  valid: boolean;
}

const PHASES: UpdatePhase[] = ['build', 'spawn', 'prepare', 'transfer', 'commit'];

interface OneUpdate {
  dir: 'v1→v2' | 'v2→v1';
  totalMs: number;
  heldMs: number;
  /** performance.now() around the host's rs.update call. */
  hostMs: number;
  timings: Partial<Record<UpdatePhase, number>>;
  objectsBefore: number;
}

/** The live-update driver: knows which version runs, waits for each old incarnation to end. */
class Updater {
  layout: 'v1' | 'v2' = 'v1';
  private ended = new Set<number>();
  private waiters: Array<() => void> = [];

  constructor(private readonly sys: BenchSystem) {
    sys.kernel.trace.on((e: TraceEvent) => {
      if (e.ev === 'incarnation.ended' && e.label === 'upd') {
        this.ended.add(e.incarnation);
        for (const w of this.waiters.splice(0)) w();
      }
    });
  }

  private incarnation(): number {
    const row = this.sys.kernel.endpointTable().find((r) => r.label === 'upd');
    if (!row || row.incarnation === null) throw new Error('upd is not bound');
    return row.incarnation;
  }

  /** One live update to the other version; checks it committed and the state came across whole. */
  async update(expect: { n: number; chars: number }): Promise<OneUpdate> {
    const from = this.incarnation();
    const to = this.layout === 'v1' ? 'v2' : 'v1';
    const t0 = performance.now();
    const r = await call<UpdateResult>(this.sys, 'rs', {
      type: 'rs.update',
      items: [{ label: 'upd', source: to === 'v1' ? V1 : V2 }],
      initMaxtime: TRANSFER_DEADLINE_MS,
    });
    const hostMs = performance.now() - t0;
    if (r.outcome !== 'committed') throw new Error(`update ${this.layout}→${to}: ${r.outcome} in ${r.phase}: ${r.reason}`);
    const dir = this.layout === 'v1' ? 'v1→v2' : 'v2→v1';
    this.layout = to;
    const info = await call<Info>(this.sys, 'upd', { type: 'upd.info' });
    if (info.layout !== to || info.n !== expect.n || info.chars !== expect.chars || !info.valid) {
      throw new Error(`after update ${dir}: upd holds ${JSON.stringify(info)}, expected ${to} with ${expect.n} records, ${expect.chars} characters`);
    }
    await this.untilEnded(from);
    const report = r.reports.upd as { objectsBefore?: number } | undefined;
    return { dir, totalMs: r.totalMs, heldMs: r.heldMs, hostMs, timings: r.timings, objectsBefore: report?.objectsBefore ?? NaN };
  }

  /** The old incarnation is retired after the answer: wait until it is gone, so it does not run into the next update. */
  private async untilEnded(inc: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!this.ended.has(inc)) {
      if (Date.now() > deadline) throw new Error(`old incarnation #${inc} of upd did not end`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
}

interface UpdatePoint {
  totalMs: number;
  heldMs: number;
  hostMs: number;
  phases: Partial<Record<UpdatePhase, number>>;
  byDir: Record<'v1→v2' | 'v2→v1', { totalMs: number; heldMs: number }>;
  all: OneUpdate[];
}

function summarizeUpdates(all: OneUpdate[]): UpdatePoint {
  const dirMedian = (d: OneUpdate['dir'], k: 'totalMs' | 'heldMs') => median(all.filter((u) => u.dir === d).map((u) => u[k]));
  return {
    totalMs: median(all.map((u) => u.totalMs)),
    heldMs: median(all.map((u) => u.heldMs)),
    hostMs: median(all.map((u) => u.hostMs)),
    phases: Object.fromEntries(PHASES.map((ph) => [ph, median(all.map((u) => u.timings[ph] ?? 0))])),
    byDir: {
      'v1→v2': { totalMs: dirMedian('v1→v2', 'totalMs'), heldMs: dirMedian('v1→v2', 'heldMs') },
      'v2→v1': { totalMs: dirMedian('v2→v1', 'totalMs'), heldMs: dirMedian('v2→v1', 'heldMs') },
    },
    all,
  };
}

async function updatePoint(up: Updater, sys: BenchSystem, pt: Point, count: number, log: ExperimentOptions['log']): Promise<UpdatePoint> {
  await call(sys, 'upd', { type: 'upd.fill', n: pt.n, payload: pt.payload });
  const chars = pt.n * recordData(0, pt.payload).length; // every record's data has exactly `payload` characters
  const all: OneUpdate[] = [];
  for (let i = 0; i < count; i++) all.push(await up.update({ n: pt.n, chars }));
  const s = summarizeUpdates(all);
  log(`  ${pt.label}: total ${all.map((u) => u.totalMs).join(', ')} ms; held ${all.map((u) => u.heldMs).join(', ')} ms`);
  return s;
}

/** Least-squares line through (x, y). */
function fit(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

// ───────────────────────────── 3. steady-state cost ─────────────────────────────

type Mode = 'pinned' | 'unpinned';
const MODE_NAME: Record<Mode, string> = { pinned: 'pinned 1 CPU', unpinned: 'unpinned' };

function inMode<T>(mode: Mode, fn: () => Promise<T>): Promise<T> {
  return mode === 'pinned' ? withPinnedCpu(fn) : fn();
}

/**
 * The three systems: `updatable` (normal), `fixed` (`updatable: false`) and `control`, a
 * second normal system: updatable vs control is an A/A comparison — the noise floor the
 * updatable vs fixed difference has to stand out from.
 */
type SysName = 'updatable' | 'fixed' | 'control';
const SYSTEMS: SysName[] = ['updatable', 'fixed', 'control'];

interface Steady {
  /** Requests per second, median over rounds, per system. */
  rate: Record<SysName, number>;
  /** Per round, paired: updatable / fixed, and updatable / control (A/A). */
  ratios: number[];
  aa: number[];
  all: Record<SysName, number[]>;
}

async function steadyState(p: Params, modes: Mode[], sys: Record<SysName, BenchSystem>, log: ExperimentOptions['log']) {
  const run = async (s: BenchSystem, n: number) => (n / (await call<{ ms: number }>(s, 'cli', { type: 'cli.run', n, window: p.window })).ms) * 1000;
  // Untimed warm-up of each (JIT in every thread on the path).
  for (const k of SYSTEMS) await run(sys[k], Math.max(5_000, p.requests * 4));
  const out = new Map<Mode, Steady>();
  const acc = new Map<Mode, Record<SysName, number[]>>(modes.map((m) => [m, { updatable: [], fixed: [], control: [] }]));
  for (let round = 0; round < p.rounds; round++) {
    // The order rotates and reverses from round to round, so a drift within a round hits each system alike.
    const rot = [...SYSTEMS.slice(round % 3), ...SYSTEMS.slice(0, round % 3)];
    const order = Math.floor(round / 3) % 2 === 0 ? rot : rot.reverse();
    for (const mode of modes) {
      const a = acc.get(mode)!;
      const got = await inMode(mode, async () => {
        const r = {} as Record<SysName, number>;
        for (const k of order) r[k] = await run(sys[k], p.requests);
        return r;
      });
      for (const k of SYSTEMS) a[k].push(got[k]);
      if ((round + 1) % 8 === 0 || round === p.rounds - 1) {
        const paired = (o: SysName) => median(a.updatable.map((u, i) => u / a[o][i]!)).toFixed(3);
        log(`  ${round + 1}/${p.rounds} rounds ${MODE_NAME[mode]}: medians updatable ${rate(median(a.updatable))}, fixed ${rate(median(a.fixed))}, ` +
          `control ${rate(median(a.control))}; paired updatable/fixed ${paired('fixed')}, updatable/control ${paired('control')}`);
      }
    }
  }
  for (const [mode, a] of acc) {
    out.set(mode, {
      rate: { updatable: median(a.updatable), fixed: median(a.fixed), control: median(a.control) },
      ratios: a.updatable.map((u, i) => u / a.fixed[i]!),
      aa: a.updatable.map((u, i) => u / a.control[i]!),
      all: a,
    });
  }
  return out;
}

const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;
const mb = (b: number) => `${(b / MB).toFixed(b < 0.1 * MB ? 3 : 2)} MB`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const ms1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

// ───────────────────────────── figures ─────────────────────────────

function updateFigures(pts: Point[], shapes: Map<Point, Shape>, ups: Map<Point, UpdatePoint>, counts: Map<Point, number>): Figure[] {
  const out: Figure[] = [];
  for (const pt of pts) {
    const u = ups.get(pt)!;
    const sh = shapes.get(pt)!;
    const small = sh.bytes <= MB;
    const what = `${mb(sh.bytes)} serialized, ${int(sh.objects)} objects`;
    const phases = PHASES.map((ph) => `${ph} ${ms1(u.phases[ph] ?? 0)}`).join(', ');
    out.push(
      figure({
        name: `update total, ${pt.label}`,
        value: u.totalMs,
        unit: 'ms',
        ...(small ? { target: { value: 50 } } : { better: 'lower' as const }),
        note: `${what}; median of ${counts.get(pt)} updates (${u.all.map((x) => x.totalMs).join(', ')} ms); ` +
          `phases (median ms): ${phases}; v1→v2 ${ms1(u.byDir['v1→v2'].totalMs)}, v2→v1 ${ms1(u.byDir['v2→v1'].totalMs)} ms; ` +
          `host-observed ${ms1(u.hostMs)} ms`,
      }),
      figure({
        name: `update held, ${pt.label}`,
        value: u.heldMs,
        unit: 'ms',
        ...(small ? { target: { value: 10 } } : { better: 'lower' as const }),
        note: `requests held from prepare done to commit; ${u.all.map((x) => x.heldMs).join(', ')} ms; ` +
          `v1→v2 ${ms1(u.byDir['v1→v2'].heldMs)}, v2→v1 ${ms1(u.byDir['v2→v1'].heldMs)} ms`,
      }),
    );
  }
  for (const sweep of ['size', 'count'] as const) {
    const ps = pts.filter((p) => p.sweep === sweep);
    if (ps.length < 2) continue;
    const xs = ps.map((p) => (sweep === 'size' ? shapes.get(p)!.bytes / MB : shapes.get(p)!.objects));
    for (const k of ['totalMs', 'heldMs'] as const) {
      const ys = ps.map((p) => ups.get(p)![k]);
      const f = fit(xs, ys);
      // The marginal slope between consecutive points shows whether the growth is linear.
      const marginal = ps.slice(1).map((p, i) => (ys[i + 1]! - ys[i]!) / (xs[i + 1]! - xs[i]!));
      const scale = sweep === 'size' ? 1 : 1000; // per MB; per object in µs
      const unit = sweep === 'size' ? 'ms/MB' : 'µs/object';
      out.push(
        figure({
          name: `update ${k === 'totalMs' ? 'total' : 'held'} slope, ${sweep === 'size' ? 'by size' : 'by object count'}`,
          value: f.slope * scale,
          unit,
          better: 'lower',
          note: `least squares over ${ps.map((p) => p.label).join(', ')}; intercept ${ms1(f.intercept)} ms; ` +
            `between consecutive points: ${marginal.map((m) => (m * scale).toFixed(sweep === 'size' ? 2 : 3)).join(', ')} ${unit}`,
        }),
      );
    }
  }
  return out;
}

function transferFigures(pts: Point[], res: Map<Point, InThread>, colds: Map<Point, Cold>): Figure[] {
  const out: Figure[] = [];
  const steps = (s: Steps) => `walk ${ms1(s.walk)} + clone ${ms1(s.clone)} + import ${ms1(s.import)} + check ${ms1(s.check)}`;
  // Cold: a live update runs the transfer code for the first time in both isolates.
  for (const pt of pts) {
    const c = colds.get(pt);
    if (!c) continue;
    const r = res.get(pt)!;
    out.push(
      figure({
        name: `state transfer, fresh isolate, ${pt.label}`,
        value: c.cold.molt,
        unit: 'ms',
        baseline: { value: r.molt, name: 'same, warm' },
        better: 'lower',
        note: `${mb(r.shape.bytes)}, ${int(r.shape.objects)} objects; cold = ${steps(c.cold)}; warm = ${steps(r)}; ` +
          `after an untimed ${int(PREWARM_RECORDS)}-record transfer in the same isolate: ${ms1(c.prewarmed.molt)} ms = ${steps(c.prewarmed)}; ` +
          `median of ${c.runs} isolates each`,
      }),
    );
  }
  for (const pt of pts) {
    const r = res.get(pt)!;
    if (r.shape.objects < 100 && r.shape.bytes < 0.1 * MB) continue; // an empty state has no throughput
    const bySize = pt.sweep === 'size';
    const unit = bySize ? 'MB/s' : 'objects/s';
    const per = (msx: number) => (bySize ? r.shape.bytes / MB : r.shape.objects) / (msx / 1000);
    const other = (msx: number) => (bySize ? `${int(r.shape.objects / (msx / 1000))} objects/s` : `${((r.shape.bytes / MB) / (msx / 1000)).toFixed(1)} MB/s`);
    out.push(
      figure({
        name: `state transfer throughput, ${pt.label}`,
        value: per(r.molt),
        unit,
        baseline: { value: per(r.v8), name: 'v8 serialize+deserialize' },
        target: { ratio: 3 },
        better: 'higher',
        note: `${mb(r.shape.bytes)}, ${int(r.shape.objects)} objects; Molt ${ms1(r.molt)} ms (${other(r.molt)}) = ` +
          `walk ${ms1(r.walk)} + clone ${ms1(r.clone)} + import ${ms1(r.import)} + check ${ms1(r.check)}; ` +
          `v8 ${ms1(r.v8)} ms (${other(r.v8)}) = serialize ${ms1(r.v8ser)} + deserialize ${ms1(r.v8de)}; median of ${r.reps}`,
      }),
    );
  }
  // Where the time goes, at the biggest point of each sweep: each step against the whole v8 round trip.
  for (const sweep of ['size', 'count'] as const) {
    const pt = pts.filter((p) => p.sweep === sweep).at(-1);
    if (!pt) continue;
    const r = res.get(pt)!;
    for (const [step, v, what] of [
      ['walk', r.walk, 'exportGraph: check + class tags, old side'],
      ['clone', r.clone, 'structuredClone: what postMessage does between the two incarnations'],
      ['import', r.import, 'importState against the new metadata'],
      ['check', r.check, 'checkState of the new state'],
    ] as const) {
      out.push(
        figure({
          name: `state transfer ${step}, ${pt.label}`,
          value: v,
          unit: 'ms',
          baseline: { value: r.v8, name: 'v8 serialize+deserialize' },
          note: `${what}; ${((v / r.molt) * 100).toFixed(0)}% of the Molt transfer`,
        }),
      );
    }
  }
  return out;
}

/** A 95% bootstrap interval of the median of `xs` (deterministic resampling). */
function medianInterval(xs: number[], iterations = 2_000): [number, number] {
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const meds: number[] = [];
  for (let i = 0; i < iterations; i++) meds.push(median(xs.map(() => xs[Math.floor(rnd() * xs.length)]!)));
  meds.sort((a, b) => a - b);
  return [meds[Math.floor(iterations * 0.025)]!, meds[Math.floor(iterations * 0.975)]!];
}

/**
 * The judged figure is the median of the per-round paired ratios (each round runs every
 * system back to back, so a slow spell of the machine mostly hits one round's three runs
 * together); the medians of the rates are reported beside it.
 */
function steadyFigures(modes: Mode[], st: Map<Mode, Steady>, p: Params, bundles: string): Figure[] {
  const interval = (xs: number[]) => {
    const [lo, hi] = medianInterval(xs);
    const sorted = [...xs].sort((a, b) => a - b);
    return `95% interval of the median ${lo.toFixed(3)}–${hi.toFixed(3)}; rounds from ${sorted[0]!.toFixed(3)} to ${sorted.at(-1)!.toFixed(3)}`;
  };
  const how = `cli → upd.ping, ${p.window} sendrecs in flight; ${p.rounds} interleaved rounds × ${p.requests.toLocaleString('en-US')} requests per system`;
  return modes.flatMap((mode, i) => {
    const s = st.get(mode)!;
    const judged = i === 0;
    const m = MODE_NAME[mode];
    return [
      figure({
        name: `request throughput, updatable, ${m}`,
        value: s.rate.updatable,
        unit: 'req/s',
        baseline: { value: s.rate.fixed, name: 'updatable: false' },
        better: 'higher',
        note: `${how}; medians of the rounds` + (i === 0 ? `; ${bundles}` : ''),
      }),
      figure({
        name: `throughput updatable / updatable: false, ${m}`,
        value: median(s.ratios),
        unit: '×',
        ...(judged ? { target: { value: 0.98 } } : {}),
        better: 'higher',
        note: `median of the per-round paired ratios (${interval(s.ratios)})` +
          (judged ? '; target: at most 2% slower' : '; not judged: thread placement dominates (see the pinned figure)'),
      }),
      figure({
        name: `throughput A/A control (normal / normal), ${m}`,
        value: median(s.aa),
        unit: '×',
        better: 'higher',
        note: `the normal system against a second, identical one in the same rounds: the noise floor of the row above (${interval(s.aa)})`,
      }),
    ];
  });
}

// ───────────────────────────── the experiment ─────────────────────────────

export const update: Experiment = {
  name: 'update',
  description: 'live update time and disruption vs state size; state transfer vs v8 serialize; cost of being updatable',
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const p = opts.quick ? QUICK : FULL;
    const log = opts.log;
    const scratch = await BenchScratch.create();
    const systems: BenchSystem[] = [];
    try {
      // 3. Steady-state cost first, on a quiet machine (nothing big on the heap yet).
      const modes: Mode[] = canPin() ? ['pinned', 'unpinned'] : ['unpinned'];
      if (!modes.includes('pinned')) log('update: cannot pin the process to one CPU here (Linux taskset needed): unpinned figures only');
      log('update: booting a normal, an updatable: false and a second normal system (upd + cli each)');
      const three = {} as Record<SysName, BenchSystem>;
      for (const k of SYSTEMS) {
        three[k] = await scratch.boot({ services: [UPD, CLI], ...(k === 'fixed' ? { kernel: { updatable: false } } : {}) });
        systems.push(three[k]);
      }
      const bundles = await bundleSizes(scratch);
      log(`update: steady-state throughput (${p.rounds} rounds × ${p.requests} requests per system and mode, window ${p.window})`);
      const st = await steadyState(p, modes, three, log);
      for (const s of systems.splice(0)) await s.stop();

      // 2. Transfer in one thread (a worker of its own per point), on each point's graph; this also measures each point's size.
      const pts = points(p);
      const meta = extractStateMeta(V2);
      const worker = (await new Loader(scratch.cacheDir).loadTool(TRANSFER_WORKER)).file;
      const inT = new Map<Point, InThread>();
      const shapes = new Map<Point, Shape>();
      log('update: state transfer in one thread vs v8 serialize+deserialize');
      for (const pt of pts) {
        const reps = pt.n * Math.max(1, pt.payload) >= BIG_BYTES || pt.n >= BIG_OBJECTS ? p.repsBig : p.reps;
        const r = await inThread(worker, pt, meta, reps);
        inT.set(pt, r);
        shapes.set(pt, r.shape);
        log(`  ${pt.label} (${mb(r.shape.bytes)}, ${int(r.shape.objects)} objects): Molt ${ms1(r.molt)} ms ` +
          `(walk ${ms1(r.walk)}, clone ${ms1(r.clone)}, import ${ms1(r.import)}, check ${ms1(r.check)}), v8 ${ms1(r.v8)} ms`);
      }
      log('update: state transfer in fresh isolates (cold code, as in a live update)');
      const colds = new Map<Point, Cold>();
      for (const pt of pts) {
        const sh = shapes.get(pt)!;
        if (sh.bytes > COLD_MAX_BYTES || sh.objects > COLD_MAX_OBJECTS) continue;
        const c = await coldTransfers(worker, pt, meta, p.coldRuns);
        colds.set(pt, c);
        log(`  ${pt.label}: cold ${ms1(c.cold.molt)} ms, pre-warmed ${ms1(c.prewarmed.molt)} ms (warm ${ms1(inT.get(pt)!.molt)} ms)`);
      }

      // 1. Live updates.
      log('update: live updates (upd v1 ↔ v2)');
      const sys = await scratch.boot({ services: [UPD] });
      systems.push(sys);
      const up = new Updater(sys);
      // The first update of each direction builds the version (esbuild + type metadata); later ones hit the cache.
      const cold = [await up.update({ n: 0, chars: 0 }), await up.update({ n: 0, chars: 0 })];
      log(`  first builds: ${cold.map((u) => `${u.dir} build ${u.timings.build} ms, total ${u.totalMs} ms`).join('; ')}`);
      const ups = new Map<Point, UpdatePoint>();
      const counts = new Map<Point, number>();
      for (const pt of pts) {
        const sh = shapes.get(pt)!;
        const count = sh.bytes >= BIG_BYTES || sh.objects >= BIG_OBJECTS ? p.updatesBig : p.updates;
        counts.set(pt, count);
        ups.set(pt, await updatePoint(up, sys, pt, count, log));
      }
      await call(sys, 'upd', { type: 'upd.fill', n: 0, payload: 0 });
      for (const s of systems.splice(0)) await s.stop();

      const cachedBuild = median(pts.flatMap((pt) => ups.get(pt)!.all.map((u) => u.timings.build ?? 0)));
      const figures: Figure[] = [
        ...updateFigures(pts, shapes, ups, counts),
        figure({
          name: 'update build phase, first build of a version',
          value: median(cold.map((u) => u.timings.build ?? 0)),
          unit: 'ms',
          better: 'lower',
          note: `esbuild bundle + type metadata (TypeScript compiler, in the kernel's metadata worker); ` +
            `${cold.map((u) => `${u.dir} ${u.timings.build} ms`).join(', ')}; afterwards cached: median ${ms1(cachedBuild)} ms`,
        }),
        ...transferFigures(pts, inT, colds),
        ...steadyFigures(modes, st, p, bundles),
      ];
      return {
        figures,
        params: {
          ...p,
          payload: PAYLOAD,
          cpus: allowedCpus(),
          limits: UPD_LIMITS,
          points: pts.map((pt) => ({
            sweep: pt.sweep,
            label: pt.label,
            records: pt.n,
            payload: pt.payload,
            ...shapes.get(pt)!,
            updates: ups.get(pt),
            inThread: inT.get(pt),
            cold: colds.get(pt),
          })),
          coldBuilds: cold,
          steady: Object.fromEntries(st),
        },
      };
    } finally {
      for (const s of systems) await s.stop().catch(() => undefined);
      await scratch.cleanup();
    }
  },
};

/** The `upd` bundle, updatable and not (what compiling the machinery out removes). */
async function bundleSizes(scratch: BenchScratch): Promise<string> {
  const size = async (updatable: boolean) => (await stat((await new Loader(scratch.cacheDir, updatable).load(V1)).file)).size;
  const [a, b] = [await size(true), await size(false)];
  return `upd bundle ${int(a)} B updatable, ${int(b)} B with updatable: false (what differs on the message path: the frozen check in the runtime's dispatch)`;
}
