/**
 * The `net` experiment: Molt's network stack and daemons under real load generators,
 * each against a native baseline measured in the same run.
 *
 *  1. `redis-benchmark -q -n N -t set,get,incr,lpush` (50 clients), without and with
 *     `-P 16` pipelining, against kvd (host → kernel TCP device → net → kvd and back)
 *     vs a real `redis-server` on the same machine (persistence off: the fastest Redis,
 *     a conservative baseline; kvd keeps its append-only file, flushed every second).
 *     Target: ≥ 25 % of Redis's requests/s without pipelining.
 *  2. HTTP requests/s for a small file with keep-alive (`wrk`, 1 thread, 16
 *     connections) against httpd vs Node's own `http` server serving the same bytes
 *     from a separate process.
 *
 * The Debian tools (`redis-tools`, `redis-server`, `wrk`) are installed if missing and
 * this runs as root; otherwise the figures they would give are reported as skipped.
 *
 * Entry point: `net` (an Experiment).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { HTTPD, KVD } from '../src/boot/os.js';
import type { Result } from '../src/kernel/abi.js';
import { BenchScratch } from './lib/system.js';
import { figure } from './lib/report.js';
import type { Experiment, ExperimentOptions, ExperimentResult, Figure } from './lib/types.js';

const run = promisify(execFile);

const FULL = { requests: 100_000, clients: 50, httpSeconds: 5 };
const QUICK = { requests: 5_000, clients: 20, httpSeconds: 1 };
const TESTS = ['set', 'get', 'incr', 'lpush'] as const;

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Install the Debian packages the experiment needs (root only); returns what is available. */
function ensureTools(log: (l: string) => void): { redis: boolean; redisServer: boolean; wrk: boolean } {
  const want: string[] = [];
  if (!have('redis-benchmark')) want.push('redis-tools');
  if (!have('redis-server')) want.push('redis-server');
  if (!have('wrk')) want.push('wrk');
  if (want.length > 0 && process.getuid?.() === 0) {
    log(`net: installing ${want.join(' ')} (apt-get)`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', ...want], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return { redis: have('redis-benchmark'), redisServer: have('redis-server'), wrk: have('wrk') };
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function waitForPort(port: number, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** redis-benchmark --csv → requests/s by test name (upper case, e.g. SET). */
async function redisBenchmark(port: number, p: typeof FULL, pipeline: number): Promise<Record<string, number>> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-n', String(p.requests), '-c', String(p.clients), '-t', TESTS.join(','), '--csv'];
  if (pipeline > 1) args.push('-P', String(pipeline));
  const { stdout } = await run('redis-benchmark', args, { timeout: 600_000, maxBuffer: 1 << 20 });
  const out: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const m = /^"([A-Z]+)[^"]*","([\d.]+)"/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** wrk → requests/s. */
async function wrk(url: string, seconds: number): Promise<number> {
  const { stdout } = await run('wrk', ['-t1', '-c16', `-d${seconds}s`, url], { timeout: (seconds + 30) * 1000 });
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(stdout);
  if (!m) throw new Error(`wrk printed no rate:\n${stdout}`);
  if (errors) throw new Error(`wrk saw errors: ${errors[0]}`);
  return Number(m[1]);
}

function must<T>(r: Result, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.code} ${r.message ?? ''}`);
  return r.value as T;
}

const SMALL_FILE = '<!doctype html><title>molt</title><p>Hello from the Molt file system.</p>\n'.repeat(4);

export const net: Experiment = {
  name: 'net',
  description: 'network: redis-benchmark against kvd vs redis-server (plain and -P 16); HTTP keep-alive requests/s against httpd vs node:http',
  async run(opts: ExperimentOptions): Promise<ExperimentResult> {
    const p = opts.quick ? QUICK : FULL;
    const tools = ensureTools(opts.log);
    const figures: Figure[] = [];
    const scratch = await BenchScratch.create();
    const children: ChildProcess[] = [];
    try {
      const kvdPort = await freePort();
      const httpPort = await freePort();
      // The default image, with its daemons on ports of this run (init's /etc/rc brings them up).
      const sys = await scratch.boot({
        config: (c) => ({
          ...c,
          daemons: [{ ...KVD, args: { ...KVD.args, port: kvdPort } }, { ...HTTPD, args: { ...HTTPD.args, port: httpPort } }],
        }),
      });
      const k = sys.kernel;
      await waitForPort(kvdPort);
      await waitForPort(httpPort);

      if (tools.redis && tools.redisServer) {
        const redisPort = await freePort();
        const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
        children.push(redis);
        await waitForPort(redisPort);
        for (const pipeline of [1, 16]) {
          const tag = pipeline > 1 ? ` -P ${pipeline}` : '';
          opts.log(`net: redis-benchmark${tag} against redis-server (${p.requests} requests × ${TESTS.length} tests)`);
          const base = await redisBenchmark(redisPort, p, pipeline);
          opts.log(`net: redis-benchmark${tag} against kvd`);
          const molt = await redisBenchmark(kvdPort, p, pipeline);
          for (const t of TESTS) {
            const name = t.toUpperCase();
            const v = molt[name] ?? 0;
            const b = base[name] ?? 0;
            if (b <= 0) throw new Error(`redis-benchmark printed no ${name} rate for redis-server`);
            figures.push(figure({
              name: `kvd ${name}${tag} requests/s`, value: v, unit: 'req/s', baseline: { name: 'redis-server', value: b },
              ...(pipeline === 1 ? { target: { ratio: 0.25 }, better: 'higher' as const } : { better: 'higher' as const }),
              note: `${p.clients} clients, -n ${p.requests}`,
            }));
          }
        }
      } else {
        figures.push({ name: 'kvd vs redis-server', value: 0, unit: 'req/s', note: 'skipped: redis-benchmark/redis-server not installed (apt-get install redis-tools redis-server)' });
      }

      // HTTP: the same small file from httpd (Molt FS) and from node:http (another process).
      const vfs = async <T>(type: string, fields: Record<string, unknown>) => must<T>(await k.call('vfs', { type: `vfs.${type}`, ...fields }, 30_000), type);
      await vfs('mkdir', { path: '/var/www/bench' }).catch(() => undefined);
      const fd = await vfs<number>('open', { path: '/var/www/bench/small.html', flags: 'w' });
      await vfs('write', { fd, data: new TextEncoder().encode(SMALL_FILE) });
      await vfs('close', { fd });
      if (tools.wrk) {
        const nodePort = await freePort();
        const script = `const b=Buffer.from(${JSON.stringify(SMALL_FILE)});require('http').createServer((q,r)=>{r.writeHead(200,{'content-type':'text/html','content-length':b.length});r.end(b)}).listen(${nodePort},'127.0.0.1')`;
        const node = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
        children.push(node);
        await waitForPort(nodePort);
        opts.log(`net: wrk ${p.httpSeconds}s against node:http`);
        const base = await wrk(`http://127.0.0.1:${nodePort}/bench/small.html`, p.httpSeconds);
        opts.log(`net: wrk ${p.httpSeconds}s against httpd`);
        const v = await wrk(`http://127.0.0.1:${httpPort}/bench/small.html`, p.httpSeconds);
        figures.push(figure({
          name: `httpd small file (${SMALL_FILE.length} B), keep-alive`, value: v, unit: 'req/s', baseline: { name: 'node:http (own process)', value: base },
          better: 'higher', note: 'wrk -t1 -c16',
        }));
      } else {
        figures.push({ name: 'httpd vs node:http', value: 0, unit: 'req/s', note: 'skipped: wrk not installed (apt-get install wrk)' });
      }
      await sys.stop();
    } finally {
      for (const c of children) c.kill('SIGKILL');
      await scratch.cleanup();
    }
    return { figures, params: { ...p, tests: TESTS } };
  },
};
