/**
 * Raw `worker_threads` baselines for the ipc experiment: the same conversations as
 * Molt's `a` ↔ `b`, with none of Molt in between.
 *
 * - `ww`     worker ↔ worker: driver and echo workers hold the two ends of one
 *            `MessageChannel` (passed to both), like `a` ↔ `b` but without the kernel.
 * - `relay`  worker → main → worker: the same two workers talk through the main thread,
 *            which forwards each message with no checks, tables or timers. This is the
 *            floor of any design that routes every message through the main thread.
 * - `mw`     main ↔ worker: the main thread itself pings an echo worker over the
 *            worker's own port (`worker.postMessage` / `parentPort`).
 *
 * The messages have the shapes Molt's ABI gives them (`{ op: 'msg', msg: { type, id,
 * from } }`, `{ op: 'reply', id, result: { ok, value } }`), each await resolves a fresh
 * promise as `sendrec` does, and the workers get Molt's default resource limits. The
 * worker code is plain JavaScript (`eval: true`), as Molt's components run as plain
 * JavaScript bundles.
 *
 * Entry points: `RawWorkers.start()`, `pingpong(kind, n, warmup)`, `mainPingpong(n, warmup)`,
 * `flood(kind, m, burst)`, `stop()`.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { DEFAULT_LIMITS } from '../../src/kernel/kernel.js';

export type RawKind = 'ww' | 'relay';

export interface FloodResult {
  ms: number;
  received: number;
  disordered: number;
}

/** The `b` side: answers pings, counts one-way messages, answers counts. */
const ECHO_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const link = workerData.port || parentPort;
let received = 0, disordered = 0, nextSeq = 0;
link.on('message', (down) => {
  if (down.op !== 'msg') return;
  const msg = down.msg;
  switch (msg.type) {
    case 'b.ping':
      link.postMessage({ op: 'reply', to: msg.from, id: msg.id, result: { ok: true, value: null } });
      return;
    case 'b.msg':
      if (msg.seq !== nextSeq) disordered++;
      nextSeq = msg.seq + 1;
      received++;
      return;
    case 'b.count':
      link.postMessage({ op: 'reply', to: msg.from, id: msg.id, result: { ok: true, value: { received, disordered } } });
      received = 0; disordered = 0; nextSeq = 0;
      return;
  }
});
`;

/**
 * The \`a\` side: runs commands from the main thread ({ cmd: 'pingpong' | 'flood' }) and
 * talks to \`b\` over \`workerData.port\` (ww) or through the main thread (relay, over
 * parentPort, with the Up shapes a component sends the kernel).
 */
const DRIVER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const direct = Boolean(workerData.port);
const link = workerData.port || parentPort;
let nextId = 1;
let waiter = null;
const call = (msg) => new Promise((resolve) => {
  waiter = resolve;
  const id = nextId++;
  if (direct) { msg.id = id; msg.from = 8; link.postMessage({ op: 'msg', msg }); }
  else link.postMessage({ op: 'call', to: 'b', id, msg });
});
const send = (msg) => {
  if (direct) { msg.id = 0; msg.from = 8; link.postMessage({ op: 'msg', msg }); }
  else link.postMessage({ op: 'send', to: 'b', msg });
};
const onLink = (m) => {
  if (m.op === 'reply' && waiter) { const w = waiter; waiter = null; w(m.result); }
};
const yieldToLoop = () => new Promise((r) => setImmediate(r));
async function pingpong(n, warmup) {
  for (let i = 0; i < warmup; i++) await call({ type: 'b.ping' });
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call({ type: 'b.ping' });
    samples[i] = (performance.now() - t0) * 1000;
  }
  return { samples };
}
async function flood(m, burst) {
  const t0 = performance.now();
  let seq = 0;
  while (seq < m) {
    const end = Math.min(m, seq + burst);
    for (; seq < end; seq++) send({ type: 'b.msg', seq });
    if (seq < m) await yieldToLoop();
  }
  const r = await call({ type: 'b.count' });
  return { ms: performance.now() - t0, ...r.value };
}
const onCommand = async (c) => {
  const value = c.cmd === 'pingpong' ? await pingpong(c.n, c.warmup) : await flood(c.m, c.burst);
  parentPort.postMessage({ op: 'result', value });
};
if (direct) {
  link.on('message', onLink);
  parentPort.on('message', (c) => { if (c.cmd) void onCommand(c); });
} else {
  parentPort.on('message', (m) => { if (m.cmd) void onCommand(m); else onLink(m); });
}
`;

const RESOURCE_LIMITS = {
  maxOldGenerationSizeMb: DEFAULT_LIMITS.memoryMb,
  maxYoungGenerationSizeMb: Math.max(4, Math.min(32, Math.floor(DEFAULT_LIMITS.memoryMb / 4))),
};

function spawn(src: string, name: string, port?: MessagePort): Worker {
  return new Worker(src, {
    eval: true,
    name,
    resourceLimits: RESOURCE_LIMITS,
    workerData: port ? { port } : {},
    transferList: port ? [port] : [],
  });
}

/** Wait for the next `{ op: 'result' }` from a driver. */
function result<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { op?: string; value?: T }) => {
      if (m.op !== 'result') return;
      w.off('message', onMessage);
      w.off('error', reject);
      resolve(m.value as T);
    };
    w.on('message', onMessage);
    w.once('error', reject);
  });
}

export class RawWorkers {
  private constructor(
    private readonly ww: { driver: Worker; echo: Worker },
    private readonly relay: { driver: Worker; echo: Worker },
    private readonly mwEcho: Worker,
  ) {}

  static async start(): Promise<RawWorkers> {
    const { port1, port2 } = new MessageChannel();
    const ww = { driver: spawn(DRIVER_SRC, 'raw-ww-a', port1), echo: spawn(ECHO_SRC, 'raw-ww-b', port2) };
    const relay = { driver: spawn(DRIVER_SRC, 'raw-relay-a'), echo: spawn(ECHO_SRC, 'raw-relay-b') };
    // The relay: forward as a kernel would, minus everything a kernel checks or records.
    relay.driver.on('message', (up: { op: string; to?: string; id?: number; msg?: Record<string, unknown> }) => {
      if (up.op === 'call' || up.op === 'send') {
        const msg = up.msg!;
        msg.from = 8;
        msg.id = up.op === 'call' ? up.id : 0;
        relay.echo.postMessage({ op: 'msg', msg });
      }
    });
    relay.echo.on('message', (up: { op: string; id: number; result: unknown }) => {
      if (up.op === 'reply') relay.driver.postMessage({ op: 'reply', id: up.id, result: up.result });
    });
    const mwEcho = spawn(ECHO_SRC, 'raw-mw-b');
    const all = [ww.driver, ww.echo, relay.driver, relay.echo, mwEcho];
    await Promise.all(all.map((w) => new Promise((r) => w.once('online', r))));
    return new RawWorkers(ww, relay, mwEcho);
  }

  /** Round-trip samples (µs), measured inside the driver worker. */
  async pingpong(kind: RawKind, n: number, warmup: number): Promise<number[]> {
    const { driver } = kind === 'ww' ? this.ww : this.relay;
    const r = result<{ samples: number[] }>(driver);
    driver.postMessage({ cmd: 'pingpong', n, warmup });
    return (await r).samples;
  }

  /** Round-trip samples (µs), main thread ↔ echo worker, measured on the main thread. */
  async mainPingpong(n: number, warmup: number): Promise<number[]> {
    const w = this.mwEcho;
    let nextId = 1;
    let waiter: ((v: unknown) => void) | null = null;
    const onMessage = (m: { op: string; result: unknown }) => {
      if (m.op === 'reply' && waiter) {
        const r = waiter;
        waiter = null;
        r(m.result);
      }
    };
    w.on('message', onMessage);
    const call = () =>
      new Promise((resolve) => {
        waiter = resolve;
        w.postMessage({ op: 'msg', msg: { type: 'b.ping', id: nextId++, from: 1 } });
      });
    try {
      for (let i = 0; i < warmup; i++) await call();
      const samples = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await call();
        samples[i] = (performance.now() - t0) * 1000;
      }
      return samples;
    } finally {
      w.off('message', onMessage);
    }
  }

  /** One-way flood of `m` messages and a count barrier, timed inside the driver. */
  async flood(kind: RawKind, m: number, burst: number): Promise<FloodResult> {
    const { driver } = kind === 'ww' ? this.ww : this.relay;
    const r = result<FloodResult>(driver);
    driver.postMessage({ cmd: 'flood', m, burst });
    return r;
  }

  async stop(): Promise<void> {
    const all = [this.ww.driver, this.ww.echo, this.relay.driver, this.relay.echo, this.mwEcho];
    await Promise.all(all.map((w) => w.terminate()));
  }
}
