/**
 * The `ipc` experiment: what a message costs in Molt, against raw `worker_threads`.
 *
 * a. `sendrec` round trip `a` → kernel → `b` → kernel → `a`, timed inside `a`, against
 *    raw worker↔worker (the target: ≤ 1.5×), raw main↔worker, and a raw relay through
 *    the main thread (the floor of any kernel-routed design: the same four hops, no
 *    Molt code). All four are measured in interleaved rounds in one process, each round
 *    twice: with the whole process pinned to one CPU (stable; the work per message) and
 *    unpinned (what the OS's thread placement gives).
 * b. Pipelined one-way `send` throughput `a` → `b` (target ≥ 200,000 msg/s), with the
 *    raw worker↔worker and relay floods for scale, in both CPU modes.
 * c. Boot to console ready: `new Kernel(...)` → `boot()` resolved, default boot image,
 *    console and control socket attached as `molt boot` has them; median of warm-cache
 *    boots (target ≤ 500 ms) and one cold-cache boot.
 *
 * Entry point: the `ipc` experiment object (registered in bench/run.ts).
 */
import { PassThrough } from 'node:stream';
import type { ServiceConfig } from '../src/kernel/abi.js';
import { allowedCpus, canPin, withPinnedCpu } from './lib/affinity.js';
import { figure } from './lib/report.js';
import { RawWorkers, type FloodResult } from './lib/raw.js';
import { median, summarize, type Summary } from './lib/stats.js';
import { BenchScratch, fixture, type BenchSystem } from './lib/system.js';
import type { Experiment, ExperimentOptions, ExperimentResult, Figure } from './lib/types.js';

const SERVICES: ServiceConfig[] = [
  {
    label: 'a',
    source: fixture('ipc-a.ts'),
    privileges: { to: ['b'], types: ['b.*'], kcalls: [] },
  },
  {
    label: 'b',
    source: fixture('ipc-b.ts'),
    privileges: { to: [], types: [], kcalls: [] },
  },
];

interface Params {
  /** Timed round trips per contender and CPU mode, over all rounds. */
  roundTrips: number;
  /** Untimed round trips before the first round (a tenth of it before every later round). */
  warmup: number;
  rounds: number;
  /** One-way messages per flood, floods per contender and CPU mode, messages per burst. */
  floodMessages: number;
  floodRounds: number;
  burst: number;
  warmBoots: number;
}

const FULL: Params = { roundTrips: 30_000, warmup: 10_000, rounds: 5, floodMessages: 200_000, floodRounds: 3, burst: 1_000, warmBoots: 7 };
const QUICK: Params = { roundTrips: 2_000, warmup: 500, rounds: 1, floodMessages: 20_000, floodRounds: 1, burst: 1_000, warmBoots: 2 };

const CALL_TIMEOUT_MS = 300_000;

/**
 * Where the threads run. `pinned`: the whole process on one CPU (the L4 convention of
 * same-core IPC: stable, and what it measures is the work per message). `unpinned`:
 * wherever the OS puts the threads; on a small machine a hop between threads on
 * different CPUs costs a cross-CPU wake-up, and which hops cross changes from run to run.
 */
type Mode = 'pinned' | 'unpinned';
const MODE_NAME: Record<Mode, string> = { pinned: 'pinned 1 CPU', unpinned: 'unpinned' };

function inMode<T>(mode: Mode, fn: () => Promise<T>): Promise<T> {
  return mode === 'pinned' ? withPinnedCpu(fn) : fn();
}

async function moltCall<T>(sys: BenchSystem, to: string, msg: { type: string } & Record<string, unknown>): Promise<T> {
  const r = await sys.kernel.call(to, msg, CALL_TIMEOUT_MS);
  if (!r.ok) throw new Error(`${to} ${msg.type} failed: ${r.code}${r.message ? `: ${r.message}` : ''}`);
  return r.value as T;
}

function checkFlood(what: string, r: FloodResult, m: number): number {
  if (r.received !== m || r.disordered !== 0) {
    throw new Error(`${what}: b counted ${r.received} of ${m} messages, ${r.disordered} out of order`);
  }
  return (m / r.ms) * 1000;
}

const us = (x: number) => `${x.toFixed(1)} µs`;
const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;

type Contender = 'molt' | 'ww' | 'mw' | 'relay';
type RoundTrips = Record<Contender, Summary>;

/** All contenders, all modes, in interleaved rounds: drift and placement luck hit each alike. */
async function roundTrips(p: Params, modes: Mode[], sys: BenchSystem, raw: RawWorkers, log: ExperimentOptions['log']) {
  const samples = new Map<Mode, Record<Contender, number[]>>(modes.map((m) => [m, { molt: [], ww: [], mw: [], relay: [] }]));
  const per = Math.ceil(p.roundTrips / p.rounds);
  for (let round = 0; round < p.rounds; round++) {
    const warmup = round === 0 ? p.warmup : Math.ceil(p.warmup / 10);
    for (const mode of modes) {
      const s = samples.get(mode)!;
      const got = await inMode(mode, async () => ({
        ww: await raw.pingpong('ww', per, warmup),
        mw: await raw.mainPingpong(per, warmup),
        relay: await raw.pingpong('relay', per, warmup),
        molt: (await moltCall<{ samples: number[] }>(sys, 'a', { type: 'a.pingpong', n: per, warmup })).samples,
      }));
      for (const k of Object.keys(got) as Contender[]) s[k].push(...got[k]);
      log(`  round ${round + 1}/${p.rounds} ${MODE_NAME[mode]}: molt ${us(summarize(got.molt).mean)}, ` +
        `raw w↔w ${us(summarize(got.ww).mean)}, main↔w ${us(summarize(got.mw).mean)}, relay ${us(summarize(got.relay).mean)}`);
    }
  }
  const out = new Map<Mode, RoundTrips>();
  for (const [mode, s] of samples) {
    out.set(mode, { molt: summarize(s.molt), ww: summarize(s.ww), mw: summarize(s.mw), relay: summarize(s.relay) });
  }
  return out;
}

interface Floods {
  molt: number;
  ww: number;
  relay: number;
  all: { molt: number[]; ww: number[]; relay: number[] };
}

async function floods(p: Params, modes: Mode[], sys: BenchSystem, raw: RawWorkers, log: ExperimentOptions['log']) {
  const m = p.floodMessages;
  const warm = Math.ceil(m / 10);
  checkFlood('raw w↔w warm-up', await raw.flood('ww', warm, p.burst), warm);
  checkFlood('raw relay warm-up', await raw.flood('relay', warm, p.burst), warm);
  checkFlood('molt warm-up', await moltCall<FloodResult>(sys, 'a', { type: 'a.flood', m: warm, burst: p.burst }), warm);
  const rates = new Map<Mode, Floods['all']>(modes.map((mode) => [mode, { molt: [], ww: [], relay: [] }]));
  for (let round = 0; round < p.floodRounds; round++) {
    for (const mode of modes) {
      const r = rates.get(mode)!;
      await inMode(mode, async () => {
        r.ww.push(checkFlood('raw w↔w', await raw.flood('ww', m, p.burst), m));
        r.relay.push(checkFlood('raw relay', await raw.flood('relay', m, p.burst), m));
        r.molt.push(checkFlood('molt', await moltCall<FloodResult>(sys, 'a', { type: 'a.flood', m, burst: p.burst }), m));
      });
      log(`  flood ${round + 1}/${p.floodRounds} ${MODE_NAME[mode]}: molt ${rate(r.molt.at(-1)!)}, raw w↔w ${rate(r.ww.at(-1)!)}, relay ${rate(r.relay.at(-1)!)}`);
    }
  }
  const out = new Map<Mode, Floods>();
  for (const [mode, all] of rates) out.set(mode, { molt: median(all.molt), ww: median(all.ww), relay: median(all.relay), all });
  return out;
}

/** Boot the default image as `molt boot` does (console streams, control socket). */
async function timedBoot(scratch: BenchScratch, cacheDir: string): Promise<number> {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const sys = await scratch.boot({
    kernel: { cacheDir, control: true, console: { input, output, isTTY: false } },
  });
  await sys.stop();
  input.end();
  return sys.bootMs;
}

async function boots(p: Params, scratch: BenchScratch, log: ExperimentOptions['log']) {
  const cold = await timedBoot(scratch, scratch.freshCacheDir());
  log(`  cold boot: ${cold.toFixed(1)} ms`);
  await timedBoot(scratch, scratch.cacheDir); // fills the shared cache; untimed
  const warm: number[] = [];
  for (let i = 0; i < p.warmBoots; i++) warm.push(await timedBoot(scratch, scratch.cacheDir));
  log(`  warm boots: ${warm.map((x) => x.toFixed(1)).join(', ')} ms`);
  return { cold, warm };
}

const WW = 'raw worker↔worker';
const MW = 'raw main↔worker';
const RELAY = 'raw relay w→main→w';

/**
 * The ≤ 1.5× target is judged on the pinned round trip when there is one: unpinned, the
 * ratio mostly says which hops the OS happened to place across CPUs in this run.
 */
function rttFigures(mode: Mode, rt: RoundTrips, judged: boolean): Figure[] {
  const m = MODE_NAME[mode];
  return [
    ...(['mean', 'p50', 'p99'] as const).map((k) =>
      figure({
        name: `sendrec RTT ${k}, ${m}`,
        value: rt.molt[k],
        unit: 'µs',
        baseline: { value: rt.ww[k], name: WW },
        ...(k === 'mean' && judged ? { target: { ratio: 1.5 } } : {}),
        ...(k === 'mean' && !judged ? { note: 'not judged against the target: dominated by thread placement (see the pinned figure)' } : {}),
      }),
    ),
    figure({ name: `sendrec RTT mean, ${m}`, value: rt.molt.mean, unit: 'µs', baseline: { value: rt.mw.mean, name: MW } }),
    figure({ name: `sendrec RTT mean, ${m}`, value: rt.molt.mean, unit: 'µs', baseline: { value: rt.relay.mean, name: RELAY } }),
    figure({ name: `raw relay RTT mean, ${m}`, value: rt.relay.mean, unit: 'µs', baseline: { value: rt.ww.mean, name: WW } }),
  ];
}

function floodFigures(mode: Mode, fl: Floods, p: Params): Figure[] {
  const m = MODE_NAME[mode];
  return [
    figure({
      name: `send throughput, ${m}`,
      value: fl.molt,
      unit: 'msg/s',
      baseline: { value: fl.ww, name: WW },
      target: { value: 200_000 },
      better: 'higher',
      note: `median of ${p.floodRounds} × ${p.floodMessages.toLocaleString('en-US')} messages: ${fl.all.molt.map(rate).join(', ')}`,
    }),
    figure({ name: `raw relay throughput, ${m}`, value: fl.relay, unit: 'msg/s', baseline: { value: fl.ww, name: WW }, better: 'higher' }),
  ];
}

export const ipc: Experiment = {
  name: 'ipc',
  description: 'sendrec round trip and one-way throughput vs raw worker_threads; boot to console ready',
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const p = opts.quick ? QUICK : FULL;
    const scratch = await BenchScratch.create();
    let sys: BenchSystem | null = null;
    let raw: RawWorkers | null = null;
    try {
      const modes: Mode[] = canPin() ? ['pinned', 'unpinned'] : ['unpinned'];
      if (!modes.includes('pinned')) opts.log('ipc: cannot pin the process to one CPU here (Linux taskset needed): unpinned figures only');
      opts.log('ipc: booting a + b and the raw baseline workers');
      sys = await scratch.boot({ services: SERVICES, image: 'minimal' });
      raw = await RawWorkers.start();

      opts.log(`ipc: round trips (${p.roundTrips} per contender and mode in ${p.rounds} interleaved rounds, ${p.warmup} warm-up)`);
      const rt = await roundTrips(p, modes, sys, raw, opts.log);

      opts.log(`ipc: one-way throughput (${p.floodMessages} messages × ${p.floodRounds} per mode, bursts of ${p.burst})`);
      const fl = await floods(p, modes, sys, raw, opts.log);

      await raw.stop();
      raw = null;
      await sys.stop();
      sys = null;

      opts.log(`ipc: boot to console ready (1 cold, 1 untimed + ${p.warmBoots} warm)`);
      const bt = await boots(p, scratch, opts.log);

      const figures: Figure[] = [
        ...modes.flatMap((mode) => rttFigures(mode, rt.get(mode)!, mode === modes[0])),
        ...modes.flatMap((mode) => floodFigures(mode, fl.get(mode)!, p)),
        figure({
          name: 'boot to console ready, warm, median',
          value: median(bt.warm),
          unit: 'ms',
          target: { value: 500 },
          note: `${p.warmBoots} boots: ${bt.warm.map((x) => x.toFixed(1)).join(', ')} ms`,
        }),
        figure({
          name: 'boot to console ready, cold',
          value: bt.cold,
          unit: 'ms',
          better: 'lower',
          note: 'empty bundle cache: esbuild builds rs, ds and tty first',
        }),
      ];
      return {
        figures,
        params: {
          ...p,
          cpus: allowedCpus(),
          rtt: Object.fromEntries(rt),
          flood: Object.fromEntries(fl),
          boots: bt,
        },
      };
    } finally {
      await raw?.stop().catch(() => undefined);
      await sys?.stop().catch(() => undefined);
      await scratch.cleanup();
    }
  },
};
