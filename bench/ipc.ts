/**
 * The `ipc` experiment: what a message costs in Molt, against raw `worker_threads`.
 *
 * a. `sendrec` round trip `a` → kernel → `b` → kernel → `a`, timed inside `a`, against
 *    raw worker↔worker (the target: ≤ 1.5×), raw main↔worker, and a raw relay through
 *    the main thread (the floor of kernel-routed messaging). The four are measured in
 *    interleaved rounds in one process, so drift affects all alike.
 * b. Pipelined one-way `send` throughput `a` → `b` (target ≥ 200,000 msg/s), with the
 *    raw worker↔worker and relay floods for scale.
 * c. Boot to console ready: `new Kernel(...)` → `boot()` resolved, default boot image,
 *    console and control socket attached as `molt boot` has them; median of warm-cache
 *    boots (target ≤ 500 ms) and one cold-cache boot.
 *
 * Entry point: the `ipc` experiment object (registered in bench/run.ts).
 */
import { PassThrough } from 'node:stream';
import type { ServiceConfig } from '../src/kernel/abi.js';
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
  /** Timed round trips per contender, over all rounds. */
  roundTrips: number;
  /** Untimed round trips before the first round (and a tenth of it before every round). */
  warmup: number;
  rounds: number;
  /** One-way messages per flood, floods per contender, messages per burst. */
  floodMessages: number;
  floodRounds: number;
  burst: number;
  warmBoots: number;
}

const FULL: Params = { roundTrips: 30_000, warmup: 3_000, rounds: 3, floodMessages: 200_000, floodRounds: 3, burst: 1_000, warmBoots: 7 };
const QUICK: Params = { roundTrips: 2_000, warmup: 200, rounds: 1, floodMessages: 20_000, floodRounds: 1, burst: 1_000, warmBoots: 2 };

const CALL_TIMEOUT_MS = 300_000;

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

async function roundTrips(p: Params, sys: BenchSystem, raw: RawWorkers, log: ExperimentOptions['log']) {
  const samples = { molt: [] as number[], ww: [] as number[], mw: [] as number[], relay: [] as number[] };
  const per = Math.ceil(p.roundTrips / p.rounds);
  for (let round = 0; round < p.rounds; round++) {
    const warmup = round === 0 ? p.warmup : Math.ceil(p.warmup / 10);
    samples.ww.push(...(await raw.pingpong('ww', per, warmup)));
    samples.mw.push(...(await raw.mainPingpong(per, warmup)));
    samples.relay.push(...(await raw.pingpong('relay', per, warmup)));
    const r = await moltCall<{ samples: number[] }>(sys, 'a', { type: 'a.pingpong', n: per, warmup });
    samples.molt.push(...r.samples);
    log(`  round ${round + 1}/${p.rounds}: molt ${us(summarize(samples.molt.slice(-per)).mean)}, ` +
      `raw w↔w ${us(summarize(samples.ww.slice(-per)).mean)}, main↔w ${us(summarize(samples.mw.slice(-per)).mean)}, ` +
      `relay ${us(summarize(samples.relay.slice(-per)).mean)}`);
  }
  return { molt: summarize(samples.molt), ww: summarize(samples.ww), mw: summarize(samples.mw), relay: summarize(samples.relay) };
}

async function floods(p: Params, sys: BenchSystem, raw: RawWorkers, log: ExperimentOptions['log']) {
  const m = p.floodMessages;
  const warm = Math.ceil(m / 10);
  const rates = { molt: [] as number[], ww: [] as number[], relay: [] as number[] };
  checkFlood('raw w↔w warm-up', await raw.flood('ww', warm, p.burst), warm);
  checkFlood('raw relay warm-up', await raw.flood('relay', warm, p.burst), warm);
  checkFlood('molt warm-up', await moltCall<FloodResult>(sys, 'a', { type: 'a.flood', m: warm, burst: p.burst }), warm);
  for (let round = 0; round < p.floodRounds; round++) {
    rates.ww.push(checkFlood('raw w↔w', await raw.flood('ww', m, p.burst), m));
    rates.relay.push(checkFlood('raw relay', await raw.flood('relay', m, p.burst), m));
    rates.molt.push(checkFlood('molt', await moltCall<FloodResult>(sys, 'a', { type: 'a.flood', m, burst: p.burst }), m));
    log(`  flood ${round + 1}/${p.floodRounds}: molt ${rate(rates.molt.at(-1)!)}, raw w↔w ${rate(rates.ww.at(-1)!)}, relay ${rate(rates.relay.at(-1)!)}`);
  }
  return { molt: median(rates.molt), ww: median(rates.ww), relay: median(rates.relay), all: rates };
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

function rttFigures(what: string, molt: Summary, base: Summary, baseName: string, targetRatio?: number): Figure[] {
  return (['mean', 'p50', 'p99'] as const).map((k) =>
    figure({
      name: `sendrec round trip, ${k} (${what})`,
      value: molt[k],
      unit: 'µs',
      baseline: { value: base[k], name: baseName },
      ...(k === 'mean' && targetRatio !== undefined ? { target: { ratio: targetRatio } } : {}),
      better: 'lower',
    }),
  );
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
      opts.log('ipc: booting a + b and the raw baseline workers');
      sys = await scratch.boot({ services: SERVICES });
      raw = await RawWorkers.start();

      opts.log(`ipc: round trips (${p.roundTrips} per contender in ${p.rounds} interleaved rounds, ${p.warmup} warm-up)`);
      const rt = await roundTrips(p, sys, raw, opts.log);

      opts.log(`ipc: one-way throughput (${p.floodMessages} messages × ${p.floodRounds}, bursts of ${p.burst})`);
      const fl = await floods(p, sys, raw, opts.log);

      await raw.stop();
      raw = null;
      await sys.stop();
      sys = null;

      opts.log(`ipc: boot to console ready (1 cold, 1 untimed + ${p.warmBoots} warm)`);
      const bt = await boots(p, scratch, opts.log);

      const WW = 'raw worker↔worker';
      const MW = 'raw main↔worker';
      const RELAY = 'raw relay w→main→w';
      const figures: Figure[] = [
        ...rttFigures('vs w↔w', rt.molt, rt.ww, WW, 1.5),
        ...rttFigures('vs main↔w', rt.molt, rt.mw, MW),
        figure({
          name: 'sendrec round trip, mean (vs relay)',
          value: rt.molt.mean,
          unit: 'µs',
          baseline: { value: rt.relay.mean, name: RELAY },
          note: 'Molt over a bare forwarding relay with the same hops: the cost of the kernel and server library alone',
        }),
        figure({
          name: 'raw relay round trip, mean',
          value: rt.relay.mean,
          unit: 'µs',
          baseline: { value: rt.ww.mean, name: WW },
          note: 'the floor of routing every message through the main thread (4 postMessage hops instead of 2), no Molt code',
        }),
        figure({
          name: 'send throughput, one-way pipelined',
          value: fl.molt,
          unit: 'msg/s',
          baseline: { value: fl.ww, name: WW },
          target: { value: 200_000 },
          better: 'higher',
          note: `median of ${p.floodRounds} floods of ${p.floodMessages} (bursts of ${p.burst}); molt ${fl.all.molt.map(rate).join(', ')}`,
        }),
        figure({
          name: 'raw relay throughput, one-way',
          value: fl.relay,
          unit: 'msg/s',
          baseline: { value: fl.ww, name: WW },
          better: 'higher',
        }),
        figure({
          name: 'boot to console ready, warm cache, median',
          value: median(bt.warm),
          unit: 'ms',
          target: { value: 500 },
          note: `${p.warmBoots} boots: ${bt.warm.map((x) => x.toFixed(1)).join(', ')} ms`,
        }),
        figure({
          name: 'boot to console ready, cold cache',
          value: bt.cold,
          unit: 'ms',
          better: 'lower',
          note: 'empty bundle cache: esbuild builds rs, ds and tty',
        }),
      ];
      return {
        figures,
        params: {
          ...p,
          samples: { molt: rt.molt, rawWorkerWorker: rt.ww, rawMainWorker: rt.mw, rawRelay: rt.relay },
          floodRates: fl.all,
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
