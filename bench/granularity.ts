/**
 * The `granularity` experiment: what updating at a finer granularity than a process
 * costs (DESIGN.md §4) — function patches (LUCOS) and object-level hot swap (K42) —
 * against each other and against a process-level live update of the same component.
 *
 * 1. Patch apply and undo time (src/patch). In a worker of its own
 *    (fixtures/granularity-patch.ts): a `patchable` table of 16 functions; patches
 *    replacing 1, 3 and 13 of them (no data change), a fresh table and a fresh patch
 *    definition every repetition; `applyPatch` then `undoPatch`, each timed; medians per
 *    patch and per function. Target ≤ 10 µs per function. LUCOS (VEE '06) reports 15–216 µs
 *    to apply patches of 1–13 functions on its hardware (a running Linux kernel patched
 *    through Xen): the scale, not a baseline. Also, in the notes, the same cycle repeated
 *    on one table (does the cost grow with its patch list?).
 * 2. Lazy class update with 1,000,000 instances (src/objects). In a worker of its own per
 *    point (fixtures/granularity-objects.ts): N instances of kvd's `List` (a deque of two
 *    arrays), updated to test/corpus/kvd/lists-v2.ts's `List` (one array and an offset,
 *    built by its `typeTransfer`): (a) lazily — the time at apply (target ≤ 1 ms at 1M,
 *    shown at 10k, 100k and 1M: it does not depend on the count), and the first-call cost
 *    (an unconverted instance converts on its first call: that call's extra time over a
 *    call on a converted one, median over 1,000 instances); (b) eagerly — a mediated swap
 *    of every instance, no call in flight: total and per instance. K42's hot swap (Soules
 *    et al., USENIX '03) is the mediated swap; lazy mode (DESIGN.md §4) is meant to make
 *    the update O(1) at the moment it is applied.
 * 3. Steady-state cost of each indirection, against a direct call in the same run:
 *    (a) a method called through an object reference (the class's translation table) vs
 *    the same method of a plain instance; (b) a patchable table's trampoline vs a direct
 *    call of the same function with the same data view. Each with a trivial body (the
 *    worst case: all call) and a realistic one (FNV-1a of a 25-character key);
 *    interleaved rounds, pinned to one CPU where possible; ns per call and the ratio.
 *    Target ≤ 5% slower, judged on the realistic body. Both bodies run in every round
 *    (two methods / table functions in use at once, as in a component): each wrapper has
 *    code of its own, so V8 can inline the callee through it (see bench/README.md).
 * 4. The same large-state component updated at process level, object level and lazily:
 *    the OS booted (storage, vfs, pm, net) with kvd; kvd filled with N lists (200,000)
 *    over RESP; while a client (a thread of its own) runs a closed loop of LPUSH / LRANGE /
 *    GET, kvd is updated (i) at process level, `rs.update` to test/corpus/kvd/v2.ts (a new
 *    incarnation, the whole state transferred into another database layout), (ii) at
 *    object level, `rs.update … mode: 'objects'` to test/corpus/kvd/lists-v2.ts (its lists
 *    change representation in place: every list converted at once), (iii) the same with
 *    `lazy: true`; after each, a process-level update back to src/user/kvd/main.ts (in
 *    the notes). For each: rs's update time, the component's own figure for the
 *    object-level ones, and the disruption the client saw — max and p99 latency of the
 *    requests overlapping the update against the same client's p99 just before, and the
 *    requests that failed (must be 0). The PROTEOS / MINIX 3 live-update evaluations
 *    report update time and service disruption the same way.
 *
 * Entry point: the `granularity` experiment object (registered in bench/run.ts).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TraceEvent } from '../src/kernel/abi.js';
import { Loader } from '../src/kernel/loader.js';
import type { UpdateResult } from '../src/servers/rs/protocol.js';
import type { ObjectUpdateReport } from '../src/objects/types.js';
import type { StateMeta } from '../src/update/types.js';
import { VersionBuilder } from '../src/update/version.js';
import { allowedCpus, canPin, withPinnedCpu } from './lib/affinity.js';
import { ClientThread } from './lib/client-thread.js';
import { figure } from './lib/report.js';
import { median, summarize, type Summary } from './lib/stats.js';
import { BenchScratch, bootOsWithKvd, fixture, type BenchSystem } from './lib/system.js';
import type { Experiment, ExperimentOptions, ExperimentResult, Figure } from './lib/types.js';
import type { ClientRequest, ClientSample, FillResult } from './fixtures/granularity-client.js';
import type { CallsOutcome as ObjectCalls, EagerOutcome, LazyOutcome, ObjectsJob, ObjectsOutcome, UpdateRun } from './fixtures/granularity-objects.js';
import type { ApplyOutcome, CallsOutcome as PatchCalls, PatchJob, PatchOutcome } from './fixtures/granularity-patch.js';

const OBJECTS_WORKER = fixture('granularity-objects.ts');
const PATCH_WORKER = fixture('granularity-patch.ts');
const CLIENT_WORKER = fixture('granularity-client.ts');

/**
 * kvd version 1 (lists: a deque of two arrays); version 2 (test/corpus/kvd/v2.ts: another
 * database layout, every entry rebuilt); the version whose `List` keeps one array and an
 * offset (the object-level updates).
 */
const KVD_V1 = fileURLToPath(new URL('../src/user/kvd/main.ts', import.meta.url));
const KVD_V2 = fileURLToPath(new URL('../test/corpus/kvd/v2.ts', import.meta.url));
const KVD_LISTS_V2 = fileURLToPath(new URL('../test/corpus/kvd/lists-v2.ts', import.meta.url));

/** Heap for a million lists twice over (old and new instances while an eager update converts). */
const OBJECTS_HEAP_MB = 8192;
const CALL_TIMEOUT_MS = 600_000;
/** Generous: a process-level transfer of 200,000 lists takes seconds. */
const TRANSFER_DEADLINE_MS = 240_000;

interface Params {
  /** Part 1: repetitions per patch size (after untimed ones), patch sizes, history length. */
  patchSizes: number[];
  patchReps: number;
  patchWarmReps: number;
  patchHistory: number;
  /** Part 2: instance counts (the last one is judged), lazy updates per point, sampled first calls, eager updates per point. */
  counts: number[];
  lazyReps: number;
  firstCalls: number;
  warmCalls: number;
  eagerReps: number;
  eagerRepsBig: number;
  /** Part 3: timed and untimed rounds; calls per round (trivial, realistic body). */
  rounds: number;
  warmRounds: number;
  trivialCalls: number;
  realisticCalls: number;
  /** Part 4: lists (4 elements each) and string keys in kvd; the client's loop before and after each update (ms). */
  lists: number;
  strings: number;
  elements: number;
  beforeMs: number;
  afterMs: number;
}

const FULL: Params = {
  patchSizes: [1, 3, 13],
  patchReps: 2_000,
  patchWarmReps: 200,
  patchHistory: 2_000,
  counts: [10_000, 100_000, 1_000_000],
  lazyReps: 7,
  firstCalls: 1_000,
  warmCalls: 200,
  eagerReps: 4,
  eagerRepsBig: 2,
  rounds: 41,
  warmRounds: 5,
  trivialCalls: 2_000_000,
  realisticCalls: 200_000,
  lists: 200_000,
  strings: 20_000,
  elements: 4,
  beforeMs: 3_000,
  afterMs: 1_000,
};
const QUICK: Params = {
  patchSizes: [1, 3, 13],
  patchReps: 200,
  patchWarmReps: 50,
  patchHistory: 200,
  counts: [10_000, 100_000],
  lazyReps: 3,
  firstCalls: 300,
  warmCalls: 50,
  eagerReps: 2,
  eagerRepsBig: 1,
  rounds: 7,
  warmRounds: 2,
  trivialCalls: 500_000,
  realisticCalls: 50_000,
  lists: 20_000,
  strings: 2_000,
  elements: 4,
  beforeMs: 1_000,
  afterMs: 500,
};

/** An eager update of at least this many instances gets `eagerRepsBig` repetitions. */
const BIG_COUNT = 500_000;

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const count = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const f3 = (x: number) => x.toFixed(3);

// ───────────────────────────── workers ─────────────────────────────

/** Run one job in a fresh worker (`file` bundled by the kernel's tool loader); resolves with its outcome. */
function inWorker<T>(file: string, job: unknown, heapMb?: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(file, {
      workerData: job,
      name: 'granularity',
      ...(heapMb ? { resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 64 } } : {}),
    });
    let done = false;
    w.once('message', (m: { ok: true; outcome: T } | { ok: false; error: string }) => {
      done = true;
      if (m.ok) resolve(m.outcome);
      else reject(new Error(`worker job failed: ${m.error}`));
      void w.terminate();
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!done) reject(new Error(`worker exited (${code}) before answering`));
    });
  });
}

/** Run `fn` pinned to one CPU when this machine allows it. */
function pinned<T>(pin: boolean, fn: () => Promise<T>): Promise<T> {
  return pin ? withPinnedCpu(fn) : fn();
}

// ───────────────────────────── 1. patch apply and undo ─────────────────────────────

function patchFigures(o: ApplyOutcome, p: Params): Figure[] {
  const out: Figure[] = [];
  const plural = (n: number) => `${n} function${n === 1 ? '' : 's'}`;
  const h = o.history;
  const firstLast = (xs: number[]) => {
    const k = Math.min(100, Math.floor(xs.length / 4));
    return `${f1(median(xs.slice(0, k)))} µs for the first ${k}, ${f1(median(xs.slice(-k)))} µs for the last ${k}`;
  };
  const history = `on one table, ${int(h.apply.length)} apply-then-undo cycles in a row (its patch list growing): apply ${firstLast(h.apply)}; undo ${firstLast(h.undo)}`;
  for (const size of p.patchSizes) {
    const s = o.sizes[size]!;
    for (const op of ['apply', 'undo'] as const) {
      const xs = s[op];
      const own = op === 'apply' ? s.applyUs : s.undoUs;
      const sum = summarize(xs);
      const what = `${plural(size)} of a ${o.tableFunctions}-function table, no data change; median of ${int(xs.length)} (a fresh table and patch definition each), ` +
        `p99 ${f1(sum.p99)} µs; the patch's own ${op === 'apply' ? 'applyUs' : 'undoUs'}: median ${f1(median(own))} µs`;
      out.push(
        figure({
          name: `patch ${op}, ${plural(size)}`,
          value: sum.p50,
          unit: 'µs',
          better: 'lower',
          note: what + (op === 'apply' ? '; LUCOS reports 15–216 µs for 1–13-function patches (other hardware: a running Linux kernel patched through Xen)' : '') +
            (op === 'apply' && size === 1 ? `; ${history}` : ''),
        }),
        figure({
          name: `patch ${op} per function, ${plural(size)}`,
          value: sum.p50 / size,
          unit: 'µs',
          target: { value: 10 },
          note: `the median above / ${size}`,
        }),
      );
    }
  }
  return out;
}

// ───────────────────────────── 2. lazy and eager object updates ─────────────────────────────

function objectFigures(lazy: LazyOutcome[], eager: EagerOutcome[]): Figure[] {
  const out: Figure[] = [];
  const biggest = lazy.at(-1)!.n;
  const warm = (l: LazyOutcome) => l.runs.slice(1).map((r) => r.hostMs);
  for (const l of lazy) {
    const first = l.runs[0]!;
    out.push(
      figure({
        name: `lazy update at apply, ${count(l.n)} instances`,
        value: (first.applyUs ?? first.hostMs * 1000) / 1000,
        unit: 'ms',
        ...(l.n === biggest ? { target: { value: 1 } } : { better: 'lower' as const }),
        note: `the apply step of updateObjects(…, { lazy: true }) to kvd's lists-v2 List — every instance marked, the new interface installed — ` +
          `the first in this isolate (cold code, as in a component), as the report's applyUs gives it: ${f3((first.applyUs ?? 0) / 1000)} ms; ` +
          `the whole call (validation and the new interface built before the apply step): ${f3(first.hostMs)} ms (totalUs ${int(first.totalUs)}); ` +
          `then, warm, alternating versions, whole calls: ${warm(l).map(f3).join(', ')} ms (median ${f3(median(warm(l)))}), apply steps: ` +
          `${l.runs.slice(1).map((r) => f3((r.applyUs ?? 0) / 1000)).join(', ')} ms; ${int(l.n)} instances marked, none converted; heap ${int(l.heapMb)} MB` +
          (l.n === biggest ? `; warm medians by instance count: ${lazy.map((x) => `${count(x.n)} ${f3(median(warm(x)))} ms`).join(', ')} (marking is O(1))` : ''),
      }),
    );
  }
  const l = lazy.at(-1)!;
  const extra = l.first.map((x, i) => x - l.second[i]!);
  const fs = summarize(l.first);
  const ss = summarize(l.second);
  out.push(
    figure({
      name: `lazy update first call, extra per call, ${count(l.n)} instances`,
      value: median(extra),
      unit: 'µs',
      better: 'lower',
      note: `after the first lazy update, list.size() on ${int(l.first.length)} unconverted instances spread over the table (after untimed ones): ` +
        `the first call converts the instance (median ${f3(fs.p50)} µs, p99 ${f3(fs.p99)}), ` +
        `the next is a plain call (median ${f3(ss.p50)} µs); median of the per-instance differences. At 10k/100k: ` +
        lazy.slice(0, -1).map((x) => `${count(x.n)} ${f3(median(x.first.map((v, i) => v - x.second[i]!)))} µs`).join(', '),
    }),
  );
  for (const e of eager) {
    const runs = e.runs;
    const total = median(runs.map((r) => r.hostMs));
    out.push(
      figure({
        name: `eager update, ${count(e.n)} instances`,
        value: total,
        unit: 'ms',
        better: 'lower',
        note: `updateObjects(…) mediated swap, no call in flight, every instance converted in one step; ` +
          `${runs.map((r) => `→${r.to} ${f1(r.hostMs)} ms (transfer ${f1(r.transferMs)})`).join(', ')}; ` +
          `${f3((total * 1000) / e.n)} µs per instance; heap ${int(e.heapMb)} MB before`,
      }),
    );
  }
  const big = eager.at(-1)!;
  out.push(
    figure({
      name: `eager update per instance, ${count(big.n)} instances`,
      value: (median(big.runs.map((r) => r.hostMs)) * 1000) / big.n,
      unit: 'µs',
      better: 'lower',
      note: `the total above / ${int(big.n)}; compare the lazy first-call extra (each instance converted alone)`,
    }),
  );
  return out;
}

// ───────────────────────────── 3. steady-state cost ─────────────────────────────

/** A 95% bootstrap interval of the median of `xs` (deterministic resampling). */
function medianInterval(xs: number[], iterations = 2_000): [number, number] {
  let seed = 1;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const meds: number[] = [];
  for (let i = 0; i < iterations; i++) meds.push(median(xs.map(() => xs[Math.floor(rnd() * xs.length)]!)));
  meds.sort((a, b) => a - b);
  return [meds[Math.floor(iterations * 0.025)]!, meds[Math.floor(iterations * 0.975)]!];
}

function callFigures(kind: 'object reference' | 'patch trampoline', ind: { trivial: number[]; realistic: number[] }, direct: { trivial: number[]; realistic: number[] }, baseName: string, how: string): Figure[] {
  return (['trivial', 'realistic'] as const).map((body) => {
    const a = ind[body];
    const b = direct[body];
    const paired = a.map((x, i) => x / b[i]!);
    const [lo, hi] = medianInterval(paired);
    const va = median(a);
    const vb = median(b);
    const judged = body === 'realistic';
    return figure({
      name: `${kind} call, ${body} body`,
      value: va,
      unit: 'ns',
      baseline: { value: vb, name: baseName },
      ...(judged ? { target: { ratio: 1.05 } } : { better: 'lower' as const }),
      note: `${how}; ${body === 'trivial' ? 'body n + x: the worst case (the call is all the work), reported, not judged' : 'body FNV-1a of a 25-character key: judged (≤ 5% slower)'}; ` +
        `both bodies are called in every round (two methods / functions in use, as in a component); ` +
        `+${f1(va - vb)} ns per call; medians of ${a.length} interleaved rounds; median of the per-round paired ratios ${paired.length ? median(paired).toFixed(3) : '—'} ` +
        `(95% interval ${lo.toFixed(3)}–${hi.toFixed(3)})`,
    });
  });
}

// ───────────────────────────── 4. kvd: process vs object vs lazy ─────────────────────────────


/** The client thread (bench/lib/client-thread.ts). */
const startClient = (file: string, port: number) => ClientThread.start<ClientRequest>(file, port, 'granularity-client');
type Client = ClientThread<ClientRequest>;

type KvdMode = 'process' | 'objects' | 'lazy';

interface KvdStep {
  /** What this update is, in the figures and the log. */
  title: string;
  mode: KvdMode;
  source: string;
  /** Reported as a figure (the restoring updates are in the notes and params). */
  measured: boolean;
}

const KVD_STEPS: KvdStep[] = [
  { title: 'process-level update', mode: 'process', source: KVD_V2, measured: true },
  { title: 'process-level update back to v1', mode: 'process', source: KVD_V1, measured: false },
  { title: 'object-level update, eager', mode: 'objects', source: KVD_LISTS_V2, measured: true },
  { title: 'process-level update back to v1', mode: 'process', source: KVD_V1, measured: false },
  { title: 'object-level update, lazy', mode: 'lazy', source: KVD_LISTS_V2, measured: true },
  { title: 'process-level update back to v1', mode: 'process', source: KVD_V1, measured: false },
];

interface KvdUpdate {
  title: string;
  mode: KvdMode;
  measured: boolean;
  /** rs's answer. */
  totalMs: number;
  heldMs: number;
  timings: UpdateResult['timings'];
  /** Object-level: the component's own report. */
  component: (ObjectUpdateReport & { loadMs?: number }) | null;
  hostMs: number;
  /** Latency (ms) of the client's requests: before (p99 and more), overlapping the update, after. */
  before: Summary;
  during: Summary;
  after: Summary;
  failed: number;
  failures: ClientSample['failures'];
  requests: number;
}

async function call<T>(sys: BenchSystem, to: string, msg: { type: string } & Record<string, unknown>): Promise<T> {
  const r = await sys.kernel.call(to, msg, CALL_TIMEOUT_MS);
  if (!r.ok) throw new Error(`${to} ${msg.type} failed: ${r.code}${r.message ? `: ${r.message}` : ''}`);
  return r.value as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const epochNow = () => performance.timeOrigin + performance.now();

/** Waits for kvd's incarnations to end (an old one is retired after a process-level update answers). */
class Ended {
  private readonly ended = new Set<number>();
  constructor(sys: BenchSystem) {
    sys.kernel.trace.on((e: TraceEvent) => {
      if (e.ev === 'incarnation.ended' && e.label === 'kvd') this.ended.add(e.incarnation);
    });
  }

  async wait(inc: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!this.ended.has(inc)) {
      if (Date.now() > deadline) throw new Error(`old incarnation #${inc} of kvd did not end`);
      await sleep(50);
    }
  }
}

function kvdIncarnation(sys: BenchSystem): number {
  const row = sys.kernel.endpointTable().find((r) => r.label === 'kvd');
  if (!row || row.incarnation === null) throw new Error('kvd is not bound');
  return row.incarnation;
}

/** The latency summaries of one update's window (times in ms since the epoch). */
function windows(s: ClientSample, t0: number, t1: number, p: Params): Pick<KvdUpdate, 'before' | 'during' | 'after' | 'failed' | 'failures' | 'requests'> {
  const before: number[] = [];
  const during: number[] = [];
  const after: number[] = [];
  // The loop's first half second is left out of "before" (its own warm-up, or the previous update's cold code).
  const from = t0 - p.beforeMs + 500;
  for (let i = 0; i < s.starts.length; i++) {
    const start = s.starts[i]!;
    const lat = s.latencies[i]!;
    if (start < t1 && start + lat > t0) during.push(lat);
    else if (start >= from && start + lat <= t0) before.push(lat);
    else if (start >= t1 && start < t1 + p.afterMs) after.push(lat);
  }
  return { before: summarize(before), during: summarize(during), after: summarize(after), failed: s.failures.length, failures: s.failures.slice(0, 5), requests: s.starts.length };
}

async function kvdUpdate(sys: BenchSystem, client: Client, ended: Ended, step: KvdStep, p: Params, log: ExperimentOptions['log']): Promise<KvdUpdate> {
  const inc = kvdIncarnation(sys);
  await client.request({ op: 'run' });
  await sleep(p.beforeMs);
  const t0 = epochNow();
  const r = await call<UpdateResult>(sys, 'rs', {
    type: 'rs.update',
    items: [{ label: 'kvd', source: step.source }],
    ...(step.mode === 'process' ? { initMaxtime: TRANSFER_DEADLINE_MS } : { mode: 'objects', ...(step.mode === 'lazy' ? { lazy: true } : {}) }),
  });
  const t1 = epochNow();
  await sleep(p.afterMs);
  const sample = await client.request<ClientSample>({ op: 'stop' });
  if (r.outcome !== 'committed') throw new Error(`kvd ${step.title}: ${r.outcome} in ${r.phase}: ${r.reason}`);
  const component = step.mode === 'process' ? null : (r.reports.kvd as ObjectUpdateReport & { loadMs?: number });
  if (component) {
    const list = component.classes.find((c) => c.name === 'List');
    const want = step.mode === 'lazy' ? 'marked' : 'swapped';
    if (!list || list.action !== want || list.instances < p.lists) throw new Error(`kvd ${step.title}: List ${JSON.stringify(list)}`);
    if (kvdIncarnation(sys) !== inc) throw new Error(`kvd ${step.title}: a new incarnation (the update was not in place)`);
  } else {
    await ended.wait(inc); // the old incarnation retires after the answer: not into the next measurement
  }
  const w = windows(sample, t0, t1, p);
  const u: KvdUpdate = { title: step.title, mode: step.mode, measured: step.measured, totalMs: r.totalMs, heldMs: r.heldMs, timings: r.timings, component, hostMs: t1 - t0, ...w };
  log(`  ${step.title}: total ${r.totalMs} ms (held ${r.heldMs})${component ? `, in kvd ${f3(component.totalUs / 1000)} ms` : ''}; ` +
    `latency p99 before ${f3(w.before.p99)} ms, during max ${f3(w.during.max)} / p99 ${f3(w.during.p99)} ms (${w.during.n} requests), after p99 ${f3(w.after.p99)} ms; ` +
    `${w.failed} failed of ${w.requests}`);
  return u;
}

const bootKvd = (scratch: BenchScratch) => bootOsWithKvd(scratch, { kvdSource: KVD_V1 });

function kvdFigures(ups: KvdUpdate[], p: Params): Figure[] {
  const out: Figure[] = [];
  const label = `kvd ${count(p.lists)} lists`;
  const restores = ups.filter((u) => !u.measured);
  const phases = (u: KvdUpdate) => Object.entries(u.timings).map(([k, v]) => `${k} ${v}`).join(', ');
  for (const u of ups.filter((x) => x.measured)) {
    const name = `${label}: ${u.title}`;
    const c = u.component;
    const list = c?.classes.find((x) => x.name === 'List');
    const before = { value: u.before.p99, name: 'p99 before' };
    out.push(
      figure({
        name: `${name}, total`,
        value: u.totalMs,
        unit: 'ms',
        better: 'lower',
        note: `rs's totalMs (request → answer; the versions were built before); phases (ms): ${phases(u)}; requests held ${u.heldMs} ms; host-observed ${f1(u.hostMs)} ms` +
          (u.mode === 'process'
            ? `; kvd → test/corpus/kvd/v2.ts (another database layout: every entry rebuilt), the whole state transferred to a new incarnation; ` +
              `the process-level updates back to v1 (after this one and after each object-level one): ${restores.map((r) => `${r.totalMs} ms (held ${r.heldMs})`).join(', ')}`
            : `; kvd's List → test/corpus/kvd/lists-v2.ts's, in place`),
      }),
    );
    if (c) {
      out.push(
        figure({
          name: `${name}, in the component`,
          value: c.totalUs / 1000,
          unit: 'ms',
          better: 'lower',
          note: `kvd's own report: updateObjects start → commit (totalUs ${int(c.totalUs)}); List: ${list?.action}, ${int(list?.instances ?? 0)} instances, ` +
            `${int(list?.converted ?? 0)} converted, transfer ${list?.transferMs} ms, forward ${list?.forwardMs} ms, block ${list?.blockMs} ms, ${list?.held} calls held; ` +
            `loading the new version's bundle ${c.loadMs ?? '?'} ms`,
        }),
      );
    }
    out.push(
      figure({
        name: `${name}, max latency during`,
        value: u.during.max,
        unit: 'ms',
        baseline: before,
        better: 'lower',
        note: `the slowest of the ${u.during.n} requests overlapping the update (closed loop, one at a time: LPUSH / LRANGE 0 9 / GET on random keys); ` +
          `before: ${u.before.n} requests, p50 ${f3(u.before.p50)} ms, p99 ${f3(u.before.p99)} ms; the ${p.afterMs} ms after: p50 ${f3(u.after.p50)}, p99 ${f3(u.after.p99)}, max ${f3(u.after.max)} ms`,
      }),
      figure({
        name: `${name}, p99 latency during`,
        value: u.during.p99,
        unit: 'ms',
        baseline: before,
        better: 'lower',
        note: `p99 of the ${u.during.n} requests overlapping the update (median ${f3(u.during.p50)} ms)`,
      }),
      figure({
        name: `${name}, failed requests`,
        value: u.failed,
        unit: 'requests',
        target: { value: 0 },
        note: `error replies, timeouts or a lost connection, of ${int(u.requests)} requests in the client's run around the update` +
          (u.failures.length ? `: ${u.failures.map((f) => `${f.command}: ${f.error}`).join('; ')}` : ''),
      }),
    );
  }
  return out;
}

/** The table the issue asks for: update time and disruption by granularity (printed with the progress lines). */
function kvdTable(ups: KvdUpdate[]): string[] {
  const head = ['update', 'total ms', 'held ms', 'in kvd ms', 'p99 before', 'max during', 'p99 during', 'failed'];
  const rows = ups.map((u) => [
    u.title, String(u.totalMs), String(u.heldMs), u.component ? f3(u.component.totalUs / 1000) : '—',
    f3(u.before.p99), f3(u.during.max), f3(u.during.p99), String(u.failed),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

// ───────────────────────────── the experiment ─────────────────────────────

export const granularity: Experiment = {
  name: 'granularity',
  description: 'finer-grained updates: patch apply/undo, lazy vs eager class update at 1M instances, indirection cost, kvd process vs object vs lazy update',
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const p = opts.quick ? QUICK : FULL;
    const log = opts.log;
    const pin = canPin();
    if (!pin) log('granularity: cannot pin the process to one CPU here (Linux taskset needed): steady-state figures unpinned');
    const scratch = await BenchScratch.create();
    const systems: BenchSystem[] = [];
    try {
      // The workers' bundles, and both kvd versions built (bundle + type metadata) into the
      // run's cache: the objects part uses their metadata, and rs then finds them built.
      const loader = new Loader(scratch.cacheDir);
      const tool = async (f: string) => (await loader.loadTool(f)).file;
      const [objectsWorker, patchWorker, clientWorker] = [await tool(OBJECTS_WORKER), await tool(PATCH_WORKER), await tool(CLIENT_WORKER)];
      log('granularity: building kvd v1, v2 and lists-v2 (bundles and type metadata)');
      const builder = new VersionBuilder(loader, scratch.cacheDir);
      const alive = setInterval(() => undefined, 1_000); // the metadata worker is unref'd: keep this process up meanwhile
      let metaV1: StateMeta;
      let metaV2: StateMeta;
      const tb = performance.now();
      try {
        metaV1 = (await builder.build(KVD_V1)).meta;
        metaV2 = (await builder.build(KVD_LISTS_V2)).meta;
        await builder.build(KVD_V2); // for rs only
      } finally {
        clearInterval(alive);
        await builder.close();
      }
      const buildMs = performance.now() - tb;

      // 3. Steady-state cost first, on a quiet machine.
      log(`granularity: steady-state calls (${p.rounds} rounds${pin ? ', pinned to one CPU' : ''})`);
      const calls = { rounds: p.rounds, warmRounds: p.warmRounds, trivialCalls: p.trivialCalls, realisticCalls: p.realisticCalls };
      const oc = await pinned(pin, () => inWorker<ObjectsOutcome>(objectsWorker, { kind: 'calls', ...calls } satisfies ObjectsJob)) as ObjectCalls;
      const pc = await pinned(pin, () => inWorker<PatchOutcome>(patchWorker, { kind: 'calls', ...calls } satisfies PatchJob)) as PatchCalls;
      log(`  object reference ${f1(median(oc.refTrivial))} / ${f1(median(oc.refRealistic))} ns vs plain ${f1(median(oc.plainTrivial))} / ${f1(median(oc.plainRealistic))} ns (trivial / realistic)`);
      log(`  patch trampoline ${f1(median(pc.trampTrivial))} / ${f1(median(pc.trampRealistic))} ns vs direct ${f1(median(pc.directTrivial))} / ${f1(median(pc.directRealistic))} ns`);

      // 1. Patch apply and undo.
      log(`granularity: patch apply/undo (${p.patchReps} repetitions per size)`);
      const po = await pinned(pin, () => inWorker<PatchOutcome>(patchWorker, {
        kind: 'apply', sizes: p.patchSizes, reps: p.patchReps, warmReps: p.patchWarmReps, history: p.patchHistory,
      } satisfies PatchJob)) as ApplyOutcome;
      log(`  ${p.patchSizes.map((s) => `${s} fn: apply ${f1(median(po.sizes[s]!.apply))} µs, undo ${f1(median(po.sizes[s]!.undo))} µs`).join('; ')}`);

      // 2. Lazy and eager object updates, one fresh worker per job.
      log('granularity: object-level updates of kvd lists in process (lazy, eager)');
      const lazy: LazyOutcome[] = [];
      const eager: EagerOutcome[] = [];
      for (const n of p.counts) {
        const l = await inWorker<ObjectsOutcome>(objectsWorker, { kind: 'lazy', n, reps: p.lazyReps, firstCalls: p.firstCalls, warmCalls: p.warmCalls, metaV1, metaV2 } satisfies ObjectsJob, OBJECTS_HEAP_MB) as LazyOutcome;
        lazy.push(l);
        log(`  lazy ${count(n)}: apply ${l.runs.map((r: UpdateRun) => f3(r.hostMs)).join(', ')} ms; first call ${f3(median(l.first))} µs, then ${f3(median(l.second))} µs`);
        const reps = n >= BIG_COUNT ? p.eagerRepsBig : p.eagerReps;
        const e = await inWorker<ObjectsOutcome>(objectsWorker, { kind: 'eager', n, reps, metaV1, metaV2 } satisfies ObjectsJob, OBJECTS_HEAP_MB) as EagerOutcome;
        eager.push(e);
        log(`  eager ${count(n)}: ${e.runs.map((r: UpdateRun) => `${f1(r.hostMs)} ms`).join(', ')}`);
      }

      // 4. kvd: process level vs object level vs lazy, under a closed-loop client.
      log('granularity: booting the OS with kvd');
      const { sys, port } = await bootKvd(scratch);
      systems.push(sys);
      const ended = new Ended(sys);
      const client = await startClient(clientWorker, port);
      let ups: KvdUpdate[];
      let fill: FillResult;
      try {
        log(`granularity: filling kvd with ${int(p.lists)} lists of ${p.elements} and ${int(p.strings)} strings`);
        fill = await client.request<FillResult>({ op: 'fill', lists: p.lists, elements: p.elements, strings: p.strings, batch: 1_000 });
        if (fill.errors.length) throw new Error(`filling kvd: ${fill.errors.join('; ')}`);
        log(`  ${f1(fill.ms / 1000)} s`);
        ups = [];
        for (const step of KVD_STEPS) ups.push(await kvdUpdate(sys, client, ended, step, p, log));
      } finally {
        await client.stop();
      }
      for (const l of kvdTable(ups)) log(`  ${l}`);
      for (const s of systems.splice(0)) await s.stop();

      const figures: Figure[] = [
        ...patchFigures(po, p),
        ...objectFigures(lazy, eager),
        ...callFigures('object reference', { trivial: oc.refTrivial, realistic: oc.refRealistic }, { trivial: oc.plainTrivial, realistic: oc.plainRealistic }, 'plain instance',
          `Keyed.bump / Keyed.hash through Obj<Keyed> references (src/objects) vs plain instances, 16 of each, ${int(p.trivialCalls)} / ${int(p.realisticCalls)} calls per round${pin ? ', pinned to one CPU' : ''}`),
        ...callFigures('patch trampoline', { trivial: pc.trampTrivial, realistic: pc.trampRealistic }, { trivial: pc.directTrivial, realistic: pc.directRealistic }, 'direct call',
          `table.fn.bump(x) / table.fn.hash(key) through a patchable table (src/patch) vs the same functions called with the same view, ${int(p.trivialCalls)} / ${int(p.realisticCalls)} calls per round${pin ? ', pinned to one CPU' : ''}`),
        ...kvdFigures(ups, p),
      ];
      const stripLazy = ({ first, second, ...rest }: LazyOutcome) => ({ ...rest, first: summarize(first), second: summarize(second) });
      return {
        figures,
        params: {
          ...p,
          cpus: allowedCpus(),
          pinned: pin,
          buildMs: Math.round(buildMs),
          patch: {
            tableFunctions: po.tableFunctions,
            sizes: Object.fromEntries(p.patchSizes.map((s) => [s, Object.fromEntries(Object.entries(po.sizes[s]!).map(([k, v]) => [k, summarize(v)]))])),
            history: { apply: summarize(po.history.apply), undo: summarize(po.history.undo), applyFirst100: median(po.history.apply.slice(0, 100)), applyLast100: median(po.history.apply.slice(-100)) },
          },
          lazy: lazy.map(stripLazy),
          eager,
          calls: { objects: oc, patch: pc },
          kvd: { fill, updates: ups },
        },
      };
    } finally {
      for (const s of systems) await s.stop().catch(() => undefined);
      await scratch.cleanup();
    }
  },
};
