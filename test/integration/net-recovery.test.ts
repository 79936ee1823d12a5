/**
 * CuriOS in the network stack: net and kvd crash (injected faults: crash and throw)
 * under open connections.
 *
 * - net (ssr-restart): each owner's sockets come back from its server state region,
 *   checked against the kernel's TCP device (src/servers/net/ssr.ts). An ioredis
 *   connection to kvd runs a pipelined workload with known answers across several crashes
 *   of net — no error, every key there after — and new connections are accepted after
 *   each; a Molt program's blocking socket (`nc -l -k -e`, an echo server) keeps echoing.
 * - kvd (ssr-restart): replies wait for the AOF (group commit) and the device delivers
 *   again what the crashed kvd had not answered (acknowledged delivery); the session's
 *   database comes back from kvd's region. The same workload runs across crashes of kvd.
 * - The baseline: net under stateless-restart forgets every socket and closes the host
 *   sockets it no longer accounts for — kvd's listener (new connections are refused) and
 *   connections, the program's connection.
 *
 * net is given the `tcp-delegate` privilege here (the data fast path kvd's acknowledged
 * delivery rides on).
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/kernel/abi.js';
import { KVD, NET, TTY_USER, osServices } from '../../src/boot/os.js';
import type { KvdStatsReply } from '../../src/user/kvd/protocol.js';
import { bootSystem, hostConnect, freePort, until, type TestSystem } from '../helpers/system.js';

type Mode = 'ssr-restart' | 'stateless-restart';

const NET_FAST: ServiceConfig = { ...NET, privileges: { ...NET.privileges, kcalls: [...NET.privileges.kcalls, 'tcp-delegate'] as ServiceConfig['privileges']['kcalls'] } };

async function boot(netMode: Mode, withKvd = true): Promise<{ sys: TestSystem; port: number }> {
  const sys = await bootSystem({
    config: (c) => ({
      ...c,
      services: [
        ...c.services.map((s) => (s.label === 'tty' ? { ...s, ...TTY_USER } : s)),
        ...osServices({ root: 'mfs', init: null }),
        { ...NET_FAST, policy: { ...NET_FAST.policy, mode: netMode, backoffBaseMs: 1 } },
        ...(withKvd ? [{ ...KVD, policy: { ...KVD.policy, backoffBaseMs: 1 }, args: { ...KVD.args, port: 0 } }] : []),
      ],
    }),
  });
  if (!withKvd) return { sys, port: 0 };
  const stats = await until(async () => {
    const r = await sys.kernel.call('kvd', { type: 'kvd.stats' });
    return r.ok && (r.value as KvdStatsReply).phase === 'serving' ? (r.value as KvdStatsReply) : null;
  }, 30_000, 'kvd serving');
  return { sys, port: stats.port };
}

async function client(port: number): Promise<Redis> {
  const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 20_000, enableOfflineQueue: false, lazyConnect: true });
  r.on('error', () => undefined); // failures show in the commands' results
  await r.connect();
  return r;
}

/**
 * A pipelined workload with known answers on one connection (in the database it selected):
 * rounds of SET/GET/INCR/RPUSH. Every reply is checked; what differs goes to `errors`.
 */
async function workload(r: Redis, tag: string, rounds: number, errors: string[], stop: () => boolean = () => false): Promise<number> {
  let done = 0;
  for (let i = 0; i < rounds && !stop(); i++) {
    const p = r.pipeline();
    const per = 20;
    for (let j = 0; j < per; j++) {
      const k = `${tag}:${i}:${j}`;
      p.set(k, `v${i}.${j}`);
      p.get(k);
      p.incr(`${tag}:n`);
      p.rpush(`${tag}:l`, `${i}.${j}`);
    }
    let res: Array<[Error | null, unknown]> | null;
    try {
      res = await p.exec();
    } catch (e) {
      errors.push(`round ${i}: ${(e as Error).message}`);
      return done;
    }
    for (let j = 0; j < per; j++) {
      const n = i * per + j + 1;
      const want: unknown[] = ['OK', `v${i}.${j}`, n, n];
      for (let x = 0; x < 4; x++) {
        const [e, v] = res![j * 4 + x]!;
        if (e) errors.push(`round ${i}.${j}.${x}: ${e.message}`);
        else if (v !== want[x]) errors.push(`round ${i}.${j}.${x}: ${JSON.stringify(v)} ≠ ${JSON.stringify(want[x])}`);
      }
    }
    done++;
  }
  return done;
}

/** What the workload leaves: every key and the counters, read on another connection. */
async function verify(port: number, db: number, tag: string, rounds: number): Promise<void> {
  const r = await client(port);
  try {
    await r.select(db);
    expect(await r.get(`${tag}:n`)).toBe(String(rounds * 20));
    const list = await r.lrange(`${tag}:l`, 0, -1);
    expect(list.length).toBe(rounds * 20);
    expect(list).toEqual(Array.from({ length: rounds * 20 }, (_, n) => `${Math.floor(n / 20)}.${n % 20}`));
    const keys = Array.from({ length: rounds * 20 }, (_, n) => `${tag}:${Math.floor(n / 20)}:${n % 20}`);
    expect(await r.mget(...keys)).toEqual(keys.map((_, n) => `v${Math.floor(n / 20)}.${n % 20}`));
  } finally {
    r.disconnect();
  }
}

const incarnation = (sys: TestSystem, label: string) => sys.kernel.endpointTable().find((e) => e.label === label)?.incarnation ?? null;

async function call<T = unknown>(sys: TestSystem, msg: Record<string, unknown> & { type: string }, to = msg.type.split('.')[0]!): Promise<T> {
  const r = await sys.kernel.call(to, msg, 30_000);
  if (!r.ok) throw new Error(`${msg.type}: ${r.code} ${r.message ?? ''}`);
  return r.value as T;
}

/** Arm a fault in `label`, make something trigger it (`poke`, repeated), wait until a new incarnation serves. */
async function crash(sys: TestSystem, label: string, kind: string, at: string, after: number, poke?: () => Promise<unknown>): Promise<void> {
  const before = incarnation(sys, label);
  await call(sys, { type: 'rs.fi', label, kind, at, after, times: 1 });
  await until(async () => {
    const now = incarnation(sys, label);
    if (now !== before && now !== null) return true;
    if (poke) await poke().catch(() => undefined);
    return false;
  }, 20_000, `${label} to crash (${kind} at ${at}) and come back`);
}


/** Connect, PING, QUIT on a fresh connection (accept and close events for net). */
async function shortLived(port: number): Promise<string> {
  const r = await client(port);
  try {
    return await r.ping();
  } finally {
    r.disconnect();
  }
}

describe('net and kvd recover under open connections (server state regions)', () => {
  let sys: TestSystem | null = null;
  let redis: Redis | null = null;
  afterEach(async () => {
    redis?.disconnect();
    redis = null;
    await sys?.stop();
    sys = null;
  });

  it('net (ssr-restart) crashes five times under a pipelined ioredis workload: no error, every key there; new connections still accepted', async () => {
    const b = await boot('ssr-restart');
    sys = b.sys;
    redis = await client(b.port);
    expect(await redis.select(5)).toBe('OK');
    const errors: string[] = [];
    let stop = false;
    const run = workload(redis, 'n', 400, errors, () => stop);
    // Faults on what net does while the workload runs: accepting and closing connections, netstat.
    await crash(sys, 'net', 'crash', 'kernel.tcp', 1, () => shortLived(b.port));
    await crash(sys, 'net', 'throw', 'kernel.tcp', 0, () => shortLived(b.port));
    await crash(sys, 'net', 'crash', 'net.list', 0, () => call(sys!, { type: 'net.list' }));
    await crash(sys, 'net', 'throw', 'net.close', 0, () => shortLived(b.port));
    await crash(sys, 'net', 'crash', 'net.list', 0, () => call(sys!, { type: 'net.list' }));
    stop = true;
    const rounds = await run;
    expect(errors).toEqual([]);
    expect(rounds).toBeGreaterThan(0);
    await verify(b.port, 5, 'n', rounds);
    // The open connection is still in database 5 and still works; a new one is accepted.
    expect(await redis.dbsize()).toBe(rounds * 20 + 2);
    expect(await shortLived(b.port)).toBe('PONG');
    const faults = await call<Array<{ label: string }>>(sys, { type: 'rs.faults', label: 'net' });
    expect(faults.filter((f) => f.label === 'net').length).toBe(5);
    // net's table: kvd's listener and its connection(s), as before.
    const rows = await call<Array<{ owner: string; state: string }>>(sys, { type: 'net.list' });
    expect(rows.filter((r) => r.owner === 'kvd' && r.state === 'listening').length).toBe(1);
    expect(rows.some((r) => r.owner === 'kvd' && r.state === 'connected')).toBe(true);
  }, 120_000);

  it('kvd (ssr-restart) crashes eight times under the workload on two connections: no error, nothing lost or run twice, each session keeps its database', async () => {
    const b = await boot('ssr-restart');
    sys = b.sys;
    redis = await client(b.port);
    const r2 = await client(b.port);
    try {
      expect(await redis.select(3)).toBe('OK');
      expect(await r2.select(4)).toBe('OK');
      const errors: string[] = [];
      let stop = false;
      // Two connections: a crash often comes while the other one's batch is being written to the AOF.
      const runs = [workload(redis, 'a', 400, errors, () => stop), workload(r2, 'b', 400, errors, () => stop)];
      const plan = [20, 1, 7, 3, 12, 2, 5, 9];
      for (let i = 0; i < plan.length; i++) await crash(sys, 'kvd', i % 2 ? 'throw' : 'crash', 'net.event', plan[i]!);
      stop = true;
      const [ra, rb] = await Promise.all(runs);
      expect(errors).toEqual([]);
      expect(ra).toBeGreaterThan(0);
      expect(rb).toBeGreaterThan(0);
      await verify(b.port, 3, 'a', ra!);
      await verify(b.port, 4, 'b', rb!);
      expect(await redis.dbsize()).toBe(ra! * 20 + 2);
      expect(await r2.dbsize()).toBe(rb! * 20 + 2);
      const faults = await call<Array<{ label: string }>>(sys, { type: 'rs.faults', label: 'kvd' });
      expect(faults.filter((f) => f.label === 'kvd').length).toBe(plan.length);
    } finally {
      r2.disconnect();
    }
  }, 120_000);

  it('a Molt program\'s blocking sockets (nc -l -k -e, an echo server) keep echoing across crashes of net', async () => {
    const b = await boot('ssr-restart', false);
    sys = b.sys;
    const port = await freePort();
    await call(sys, { type: 'pm.spawn', path: '/bin/nc.ts', argv: ['nc', '-l', '-k', '-e', '127.0.0.1', String(port)] });
    const c = await until(async () => hostConnect(port).catch(() => null), 10_000, 'the echo server to listen');
    let expected = '';
    const say = async (line: string) => {
      expected += line;
      c.sock.write(line);
      await until(() => c.got() === expected, 10_000, `the echo of ${JSON.stringify(line)}`);
    };
    await say('before\n');
    // The program sits in net.recv (a call net deferred): the crash hits it, the kernel gives it again.
    await crash(sys, 'net', 'crash', 'net.list', 0, () => call(sys!, { type: 'net.list' }));
    await say('after a crash\n');
    // A throw on the echo's own net.send: the send is given again, the line still comes back.
    const before = incarnation(sys, 'net');
    await call(sys, { type: 'rs.fi', label: 'net', kind: 'throw', at: 'net.send', after: 0, times: 1 });
    await say('through a throw\n');
    expect(incarnation(sys, 'net')).not.toBe(before);
    await say('x'.repeat(100_000) + '\n');
    // A second connection is accepted by the same program after the crashes.
    const c2 = await hostConnect(port);
    c.sock.end();
    await until(() => c.closed(), 10_000, 'the first connection to close');
    c2.sock.write('second\n');
    await until(() => c2.got() === 'second\n', 10_000, 'the second connection echo');
    c2.sock.destroy();
  }, 60_000);

  it('stateless-restart (the baseline): a crash of net forgets every socket — kvd\'s listener and connections, the program\'s', async () => {
    const b = await boot('stateless-restart');
    sys = b.sys;
    const port = await freePort();
    await call(sys, { type: 'pm.spawn', path: '/bin/nc.ts', argv: ['nc', '-l', '-k', '-e', '127.0.0.1', String(port)] });
    const c = await until(async () => hostConnect(port).catch(() => null), 10_000, 'the echo server to listen');
    c.sock.write('before\n');
    await until(() => c.got() === 'before\n', 10_000, 'the echo');
    redis = await client(b.port);
    expect(await redis.set('x', '1')).toBe('OK');
    await crash(sys, 'net', 'crash', 'net.list', 0, () => call(sys!, { type: 'net.list' }));
    // No region survives: net's table is empty, and the host sockets nobody accounts for
    // any more are closed by the new net — kvd's port refuses connections, its open
    // connection and the program's are closed.
    expect(await call<unknown[]>(sys, { type: 'net.list' })).toEqual([]);
    await expect(shortLived(b.port)).rejects.toThrow();
    await until(() => redis!.status === 'end' || redis!.status === 'close', 10_000, 'kvd\'s client to be disconnected');
    await until(() => c.closed(), 10_000, 'the program\'s connection to be closed');
    expect(c.got()).toBe('before\n');
    // kvd still runs, but unreachable: it does not know net forgot its listener.
    const stats = await call<KvdStatsReply>(sys, { type: 'kvd.stats' });
    expect(stats.phase).toBe('serving');
  }, 60_000);
});
