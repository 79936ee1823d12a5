/**
 * The guided demo (`npm start`, i.e. `molt boot --demo`): on the freshly booted default
 * image, with kvd and a file workload running, it shows what Molt is for — and says what
 * happens, with timings, as it happens:
 *
 *   1. a workload starts: a Redis client (INCR + RPUSH, pipelined) against kvd, and a
 *      writer appending numbered lines to a file through vfs;
 *   2. mfs, the file system server, is live-updated to a version with another state
 *      layout (test/corpus/mfs/v2.ts) while both run;
 *   3. a crash is injected into vfs: it dies on its next request and comes back holding
 *      its clients' state (ssr-restart) — the writer does not notice;
 *   4. an update that cannot transfer its state (kvd's lists, test/corpus/kvd/lists-broken.ts)
 *      rolls back, kvd serving throughout on its old code;
 *   5. the workload stops and everything is checked: every request answered, the counter,
 *      the list and the file exactly as the model says.
 *
 * The console is attached only afterwards (the shell's first prompt waits), or, when
 * stdin is not a terminal, the system shuts down.
 *
 * Entry point: `runDemo(kernel, say) → DemoSummary`.
 */
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Result } from '../kernel/abi.js';
import type { Kernel } from '../kernel/kernel.js';
import type { FaultRow, UpdateResult } from '../servers/rs/protocol.js';

const corpus = (p: string) => fileURLToPath(new URL(`../../test/corpus/${p}`, import.meta.url));
const MFS_V2 = corpus('mfs/v2.ts');
const LISTS_BROKEN = corpus('kvd/lists-broken.ts');
const DEMO_FILE = '/tmp/molt-demo.log';

export interface DemoSummary {
  kvdRequests: number;
  kvdFailed: number;
  fileLines: number;
  fileFailed: number;
  verified: boolean;
  steps: Array<{ step: string; ok: boolean; ms: number; detail: string }>;
}

export async function runDemo(kernel: Kernel, say: (line: string) => void): Promise<DemoSummary> {
  const t0 = performance.now();
  const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s]`;
  const log = (s: string) => say(`${stamp()} ${s}`);
  const steps: DemoSummary['steps'] = [];
  const call = async <T>(to: string, msg: Record<string, unknown>, ms = 60_000): Promise<T> => {
    const r = (await kernel.call(to, msg as { type: string }, ms)) as Result<T>;
    if (!r.ok) throw new Error(`${to} ${String(msg.type)}: ${r.code}${r.message ? ` ${r.message}` : ''}`);
    return r.value;
  };

  log('Molt is up. A guided tour: live updates and a crash under a running workload.');
  // 1. The workload.
  const port = await kvdPort(kernel);
  const kv = port === null ? null : await RespLoad.start(port);
  if (kv) log(`kvd serves on 127.0.0.1:${port}; a client starts INCR + RPUSH, 20 per round trip`);
  else log('kvd is not serving (is its port taken?): the tour goes on with the file workload only');
  const files = new FileLoad(kernel);
  files.start();
  log(`a writer starts appending numbered lines to ${DEMO_FILE} through vfs`);
  await sleep(1_000);

  const update = async (title: string, msg: Record<string, unknown>, expect: UpdateResult['outcome']) => {
    const before = performance.now();
    const r = await call<UpdateResult>('rs', { type: 'rs.update', ...msg }, 120_000);
    const ms = performance.now() - before;
    const ok = r.outcome === expect;
    const detail = r.outcome === 'committed'
      ? `committed in ${r.totalMs} ms, requests held ${r.heldMs} ms (phases: ${Object.entries(r.timings).map(([k, v]) => `${k} ${v}`).join(', ')} ms)`
      : `${r.outcome} in ${r.phase}: ${r.reason ?? ''}`;
    steps.push({ step: title, ok, ms, detail });
    log(`${title}: ${detail}`);
    return r;
  };

  // 2. A file system server live-updated to another state layout.
  log('live-updating mfs (the file system server) to a version with another state layout (building it — bundle and type metadata — is most of the time; requests are held only for the hand-over) …');
  // mfs hands over when no operation runs or waits (its declared protocol-free mode); under
  // the writer on a busy machine that can take longer than rs's default 2 s.
  await update('mfs → test/corpus/mfs/v2.ts', { items: [{ label: 'mfs', source: MFS_V2 }], maxtime: 10_000 }, 'committed');
  await sleep(1_000);

  // 3. A crash in vfs, recovered with its clients' state.
  const faultsBefore = (await call<FaultRow[]>('rs', { type: 'rs.faults', label: 'vfs' })).length;
  log('injecting a crash into vfs: it dies on its next request …');
  const crashAt = performance.now();
  await call('rs', { type: 'rs.fi', label: 'vfs', kind: 'crash' });
  const fault = await until(async () => {
    const rows = await call<FaultRow[]>('rs', { type: 'rs.faults', label: 'vfs' });
    const f = rows[faultsBefore];
    return f && f.recoveredMs !== null ? f : null;
  }, 20_000);
  const crashDetail = fault
    ? `vfs crashed in ${fault.requests.join(', ') || 'a request'} (${fault.kind}), ${fault.action}: running again after ${fault.recoveredMs} ms; the interrupted request was given to the new incarnation`
    : 'the crash did not show up in rs\'s fault log within 20 s';
  steps.push({ step: 'crash vfs', ok: Boolean(fault), ms: performance.now() - crashAt, detail: crashDetail });
  log(crashDetail);
  await sleep(1_000);

  // 4. An update whose state transfer fails: rolled back whole.
  if (kv) {
    await kv.command(['RPUSH', 'demo:poison', 'poison']);
    log('updating kvd\'s lists in place to a version that cannot hold one of them …');
    await update('kvd lists → test/corpus/kvd/lists-broken.ts (objects)', { items: [{ label: 'kvd', source: LISTS_BROKEN }], mode: 'objects' }, 'rolled-back');
  }

  // 5. Stop and check.
  const kvr = kv ? await kv.stop() : null;
  const fr = await files.stop();
  let verified = fr.verified;
  if (kvr) {
    const counter = Number(await kvr.check(['GET', 'demo:counter']));
    const len = Number(await kvr.check(['LLEN', 'demo:log']));
    const okKv = counter === kvr.acked && len === kvr.acked;
    verified &&= okKv;
    log(`kvd: ${kvr.requests} requests, ${kvr.failed} failed, slowest round trip ${kvr.maxMs.toFixed(1)} ms; counter ${counter} and list length ${len} vs ${kvr.acked} acknowledged: ${okKv ? 'exact' : 'MISMATCH'}`);
    kvr.close();
  }
  log(`file: ${fr.lines} lines appended, ${fr.failed} failed writes; read back: ${fr.verified ? 'every line in order' : `MISMATCH (${fr.problem})`}`);
  const allOk = verified && steps.every((s) => s.ok) && (kvr?.failed ?? 0) === 0 && fr.failed === 0;
  log(allOk ? 'no client noticed anything: no error, nothing lost.' : 'something went wrong: see above.');
  return { kvdRequests: kvr?.requests ?? 0, kvdFailed: kvr?.failed ?? 0, fileLines: fr.lines, fileFailed: fr.failed, verified, steps };
}

async function kvdPort(kernel: Kernel): Promise<number | null> {
  const r = await until(async () => {
    const s = await kernel.call('kvd', { type: 'kvd.stats' }, 5_000);
    const v = s.ok ? (s.value as { phase: string; port: number }) : null;
    return v && v.phase === 'serving' ? v.port : null;
  }, 15_000);
  return r ?? null;
}

async function until<T>(fn: () => Promise<T | null | undefined>, ms: number): Promise<T | null> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== null && v !== undefined) return v;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Redis client over one connection: rounds of pipelined INCR + RPUSH until stopped; counts replies. */
class RespLoad {
  requests = 0;
  failed = 0;
  acked = 0;
  maxMs = 0;
  private running = true;
  private buf = '';
  private waiters: Array<(reply: string) => void> = [];
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (;;) {
        const end = replyEnd(this.buf);
        if (end < 0) break;
        const reply = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        this.waiters.shift()?.(reply);
      }
    });
  }

  static start(port: number): Promise<RespLoad> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('error', reject);
      sock.once('connect', () => {
        const load = new RespLoad(sock);
        load.loop = load.run();
        resolve(load);
      });
    });
  }

  command(argv: string[]): Promise<string> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.sock.write(encode(argv), 'latin1');
    });
  }

  private async run(): Promise<void> {
    let i = 0;
    while (this.running) {
      const t = performance.now();
      const replies: Array<Promise<string>> = [];
      for (let k = 0; k < 10; k++, i++) {
        replies.push(this.command(['INCR', 'demo:counter']));
        replies.push(this.command(['RPUSH', 'demo:log', String(i)]));
      }
      for (const r of await Promise.all(replies)) {
        this.requests++;
        if (r.startsWith('-')) this.failed++;
      }
      this.acked += 10;
      this.maxMs = Math.max(this.maxMs, performance.now() - t);
      await sleep(5);
    }
  }

  async stop(): Promise<this & { check(argv: string[]): Promise<string>; close(): void }> {
    this.running = false;
    await this.loop;
    const self = this as this & { check(argv: string[]): Promise<string>; close(): void };
    self.check = async (argv) => {
      const r = await this.command(argv);
      return r.startsWith(':') ? r.slice(1).trim() : r.startsWith('$') ? r.split('\r\n')[1] ?? '' : r.trim();
    };
    self.close = () => this.sock.destroy();
    return self;
  }
}

function encode(argv: string[]): string {
  return `*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`;
}

/** Where the first complete RESP reply in `s` ends, or -1 (simple replies and bulk strings: what this client gets). */
function replyEnd(s: string): number {
  const nl = s.indexOf('\r\n');
  if (nl < 0) return -1;
  if (s[0] !== '$') return nl + 2;
  const n = Number(s.slice(1, nl));
  if (n < 0) return nl + 2;
  const end = nl + 2 + n + 2;
  return s.length >= end ? end : -1;
}

/** Appends numbered lines to a file through vfs (open/write/close per line, as a short-lived client would). */
class FileLoad {
  lines = 0;
  failed = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private readonly enc = new TextEncoder();

  constructor(private readonly kernel: Kernel) {}

  start(): void {
    this.loop = (async () => {
      const first = await this.kernel.call('vfs', { type: 'vfs.open', path: DEMO_FILE, flags: 'w' }, 30_000);
      if (first.ok) await this.kernel.call('vfs', { type: 'vfs.close', fd: first.value as number }, 30_000);
      while (this.running) {
        const open = await this.kernel.call('vfs', { type: 'vfs.open', path: DEMO_FILE, flags: 'a' }, 30_000);
        if (!open.ok) {
          this.failed++;
        } else {
          const fd = open.value as number;
          const w = await this.kernel.call('vfs', { type: 'vfs.write', fd, data: this.enc.encode(`line ${this.lines}\n`) }, 30_000);
          const c = await this.kernel.call('vfs', { type: 'vfs.close', fd }, 30_000);
          if (w.ok && c.ok) this.lines++;
          else this.failed++;
        }
        await sleep(10);
      }
    })();
  }

  async stop(): Promise<{ lines: number; failed: number; verified: boolean; problem: string }> {
    this.running = false;
    await this.loop;
    const open = await this.kernel.call('vfs', { type: 'vfs.open', path: DEMO_FILE, flags: 'r' }, 30_000);
    if (!open.ok) return { lines: this.lines, failed: this.failed, verified: false, problem: `cannot open it: ${open.code}` };
    const fd = open.value as number;
    let text = '';
    const dec = new TextDecoder();
    for (;;) {
      const r = await this.kernel.call('vfs', { type: 'vfs.read', fd, length: 65536 }, 30_000);
      if (!r.ok) return { lines: this.lines, failed: this.failed, verified: false, problem: `read: ${r.code}` };
      const chunk = r.value as Uint8Array;
      if (chunk.length === 0) break;
      text += dec.decode(chunk, { stream: true });
    }
    await this.kernel.call('vfs', { type: 'vfs.close', fd }, 30_000);
    const expected = Array.from({ length: this.lines }, (_, i) => `line ${i}\n`).join('');
    return { lines: this.lines, failed: this.failed, verified: text === expected, problem: text === expected ? '' : `${text.length} bytes read, ${expected.length} expected` };
  }
}
