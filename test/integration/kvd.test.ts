/**
 * Integration: kvd, the Redis-protocol daemon, booted with the whole OS (vfs over mfs on a
 * disk image, net) and driven by real Redis clients over loopback: ioredis (every
 * command, pipelines, error replies, binary values), redis-cli, a raw socket (inline
 * requests, protocol errors, QUIT), redis-benchmark; then a live update to version 2
 * (test/corpus/kvd/v2.ts, another database layout) and back while a pipelined workload
 * runs on an open connection; then BGREWRITEAOF, and a reboot on the same disk that
 * finds every key again.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVD, NET } from '../../src/boot/os.js';
import type { UpdateResult } from '../../src/servers/rs/protocol.js';
import type { KvdStatsReply } from '../../src/user/kvd/protocol.js';
import { bootOs, until, type TestSystem } from '../helpers/system.js';

const run = promisify(execFile);
const V2 = fileURLToPath(new URL('../corpus/kvd/v2.ts', import.meta.url));
const V1 = fileURLToPath(new URL('../../src/user/kvd/main.ts', import.meta.url));
const NET_V2 = fileURLToPath(new URL('../corpus/net/v2.ts', import.meta.url));
const LISTS_V2 = fileURLToPath(new URL('../corpus/kvd/lists-v2.ts', import.meta.url));
const LISTS_BROKEN = fileURLToPath(new URL('../corpus/kvd/lists-broken.ts', import.meta.url));
const PATCH = fileURLToPath(new URL('../corpus/kvd/patch-info.ts', import.meta.url));
const PATCH_BAD = fileURLToPath(new URL('../corpus/kvd/patch-bad.ts', import.meta.url));

async function bootKvd(image: string): Promise<{ sys: TestSystem; port: number }> {
  const sys = await bootOs({ root: 'mfs', kernel: { disk: image, diskBlocks: 16_384 }, extra: [NET, { ...KVD, args: { ...KVD.args, port: 0 } }] });
  const stats = await until(async () => {
    const r = await sys.kernel.call('kvd', { type: 'kvd.stats' });
    return r.ok && (r.value as KvdStatsReply).phase === 'serving' ? (r.value as KvdStatsReply) : null;
  }, 30_000, 'kvd serving');
  return { sys, port: stats.port };
}

function client(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 2, retryStrategy: () => null, connectTimeout: 10_000 });
}

/** Send raw bytes on a fresh connection; collect what comes back until the server closes (or `ms`). */
function raw(port: number, input: string, ms = 3000): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ reply, closed: false });
    }, ms);
    sock.on('data', (d) => (reply += d.toString('latin1')));
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, closed: true });
    });
    sock.write(Buffer.from(input, 'latin1'));
  });
}

/** Everything a client sees: per database, each key's type, value and whether it expires. */
async function dump(r: Redis): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (let db = 0; db < 16; db++) {
    await r.select(db);
    for (const key of (await r.keys('*')).sort()) {
      const type = await r.type(key);
      const ttl = await r.pttl(key);
      const value =
        type === 'string' ? await r.get(key)
        : type === 'list' ? await r.lrange(key, 0, -1)
        : type === 'hash' ? Object.entries(await r.hgetall(key)).sort()
        : (await r.smembers(key)).sort();
      out[`${db}/${key}`] = [type, value, ttl > 0];
    }
  }
  await r.select(0);
  return out;
}

describe('kvd: a Redis-protocol daemon on Molt', () => {
  let dir: string;
  let image: string;
  let sys: TestSystem;
  let port: number;
  let redis: Redis;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'molt-kvd-'));
    image = join(dir, 'disk.img');
    ({ sys, port } = await bootKvd(image));
    redis = client(port);
    await redis.ping();
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await sys?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers ioredis: strings, keyspace and expiry commands', async () => {
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.echo('hello')).toBe('hello');
    expect(await redis.set('str', 'v1')).toBe('OK');
    expect(await redis.get('str')).toBe('v1');
    expect(await redis.set('str', 'v2', 'NX')).toBeNull();
    expect(await redis.set('str', 'v3', 'XX', 'GET')).toBe('v1');
    expect(await redis.set('ttl', 'x', 'EX', 100)).toBe('OK');
    expect(await redis.ttl('ttl')).toBe(100);
    expect(await redis.set('ttl', 'y', 'KEEPTTL')).toBe('OK');
    expect(await redis.pttl('ttl')).toBeGreaterThan(98_000);
    expect(await redis.persist('ttl')).toBe(1);
    expect(await redis.ttl('ttl')).toBe(-1);
    expect(await redis.expire('ttl', 3600)).toBe(1); // long enough to outlive the whole file's run (the later tests compare dumps)
    expect(await redis.setnx('str', 'no')).toBe(0);
    expect(await redis.getset('str', 'v4')).toBe('v3');
    expect(await redis.mset('m1', 'a', 'm2', 'b')).toBe('OK');
    expect(await redis.mget('m1', 'm2', 'nope')).toEqual(['a', 'b', null]);
    expect(await redis.incr('n')).toBe(1);
    expect(await redis.incrby('n', 41)).toBe(42);
    expect(await redis.decr('n')).toBe(41);
    expect(await redis.decrby('n', 40)).toBe(1);
    expect(await redis.append('str', '!')).toBe(3);
    expect(await redis.strlen('str')).toBe(3);
    expect(await redis.exists('str', 'm1', 'nope')).toBe(2);
    expect(await redis.type('str')).toBe('string');
    expect((await redis.keys('m*')).sort()).toEqual(['m1', 'm2']);
    expect(await redis.del('m1', 'm2', 'nope')).toBe(2);
    expect(await redis.select(3)).toBe('OK');
    expect(await redis.dbsize()).toBe(0);
    await redis.set('in3', 'x');
    expect(await redis.dbsize()).toBe(1);
    expect(await redis.flushdb()).toBe('OK');
    expect(await redis.select(0)).toBe('OK');
    expect(await redis.get('str')).toBe('v4!');
    // Expiry over real time: lazily on access, and by the sweep for keys no one reads.
    await redis.set('short', 'x', 'PX', 100);
    await redis.select(7);
    // One pipeline, and room to spare: a loaded machine must not expire them before DBSIZE counts them.
    const sweep = redis.pipeline();
    for (let i = 0; i < 20; i++) sweep.set(`sweep${i}`, 'x', 'PX', 1000);
    sweep.dbsize();
    const counted = (await sweep.exec())!;
    expect(counted.at(-1)).toEqual([null, 20]);
    await until(async () => (await redis.dbsize()) === 0, 5000, 'the sweep to remove expired keys');
    await redis.select(0);
    await new Promise((r) => setTimeout(r, 150));
    expect(await redis.get('short')).toBeNull();
  });

  it('answers ioredis: lists, hashes, sets', async () => {
    expect(await redis.lpush('list', 'a', 'b')).toBe(2);
    expect(await redis.rpush('list', 'c')).toBe(3);
    expect(await redis.lrange('list', 0, -1)).toEqual(['b', 'a', 'c']);
    expect(await redis.lindex('list', -1)).toBe('c');
    expect(await redis.llen('list')).toBe(3);
    expect(await redis.lpop('list')).toBe('b');
    expect(await redis.rpop('list')).toBe('c');
    expect(await redis.lpop('list', 5)).toEqual(['a']);
    expect(await redis.exists('list')).toBe(0);
    expect(await redis.hset('hash', 'f1', 'v1', 'f2', 'v2')).toBe(2);
    expect(await redis.hset('hash', { f3: 'v3' })).toBe(1);
    expect(await redis.hget('hash', 'f1')).toBe('v1');
    expect(await redis.hgetall('hash')).toEqual({ f1: 'v1', f2: 'v2', f3: 'v3' });
    expect(await redis.hlen('hash')).toBe(3);
    expect(await redis.hexists('hash', 'f2')).toBe(1);
    expect(await redis.hdel('hash', 'f2', 'zz')).toBe(1);
    expect(await redis.hincrby('hash', 'cnt', 7)).toBe(7);
    expect(await redis.sadd('set', 'x', 'y', 'x')).toBe(2);
    expect(await redis.sismember('set', 'y')).toBe(1);
    expect(await redis.scard('set')).toBe(2);
    expect((await redis.smembers('set')).sort()).toEqual(['x', 'y']);
    expect(await redis.srem('set', 'x')).toBe(1);
    expect(await redis.type('set')).toBe('set');
    expect(await redis.type('hash')).toBe('hash');
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.info('server')).toContain('redis_version:7.0.0');
    expect(await redis.client('SETNAME', 'tester')).toBe('OK');
    expect(await redis.client('GETNAME')).toBe('tester');
    expect(await redis.call('COMMAND', 'DOCS')).toEqual([]);
  });

  it('replies with Redis errors (unknown command, arity, WRONGTYPE, not an integer, overflow) and goes on', async () => {
    await expect(redis.call('NOSUCH', 'a', 'b')).rejects.toThrow("ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ");
    await expect(redis.call('GET')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    await expect(redis.lpush('str', 'x')).rejects.toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
    await expect(redis.incr('str')).rejects.toThrow('ERR value is not an integer or out of range');
    await redis.set('max', '9223372036854775807');
    await expect(redis.incr('max')).rejects.toThrow('ERR increment or decrement would overflow');
    await expect(redis.set('k', 'v', 'EX', 0)).rejects.toThrow("ERR invalid expire time in 'set' command");
    await expect(redis.select(16)).rejects.toThrow('ERR DB index is out of range');
    expect(await redis.ping()).toBe('PONG');
  });

  it('pipelines: a thousand commands in one pipeline, replies in order, errors as values', async () => {
    const p = redis.pipeline();
    for (let i = 0; i < 1000; i++) {
      p.set(`p:${i}`, String(i));
      p.incr('p:count');
      if (i % 100 === 0) p.lpush('str', 'x'); // WRONGTYPE, in its place
    }
    p.mget('p:0', 'p:999');
    const res = (await p.exec())!;
    expect(res.length).toBe(2011);
    let count = 0;
    for (const [err, v] of res.slice(0, -1)) {
      if (err) expect(err.message).toMatch(/^WRONGTYPE/);
      else if (v !== 'OK') expect(v).toBe(++count);
    }
    expect(count).toBe(1000);
    expect(res.at(-1)).toEqual([null, ['0', '999']]);
  });

  it('stores binary values byte for byte', async () => {
    const key = Buffer.from([0, 1, 2, 255, 13, 10]);
    const value = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    expect(await redis.set(key, value)).toBe('OK');
    expect(Buffer.compare((await redis.getBuffer(key))!, value)).toBe(0);
    expect(await redis.strlen(key)).toBe(70_000);
    await redis.rpush('binlist', Buffer.from([0xff, 0x00]), Buffer.from('\r\n'));
    expect(await redis.lrangeBuffer('binlist', 0, -1)).toEqual([Buffer.from([0xff, 0x00]), Buffer.from('\r\n')]);
    // A value bigger than one network chunk, and bigger than one net.send.
    const big = Buffer.alloc(3 * 1024 * 1024, 'abc');
    await redis.set('big', big);
    expect(Buffer.compare((await redis.getBuffer('big'))!, big)).toBe(0);
  });

  it('answers redis-cli, inline requests on a raw socket, QUIT, and closes only a connection that breaks the protocol', async () => {
    const cli = async (...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 })).stdout.trim();
    expect(await cli('SET', 'cli', 'hello world')).toBe('OK');
    expect(await cli('GET', 'cli')).toBe('hello world');
    expect(await cli('INCRBY', 'clinum', '5')).toBe('5');
    expect(await cli('RPUSH', 'clilist', 'a', 'b')).toBe('2');
    expect(await cli('LRANGE', 'clilist', '0', '-1')).toBe('a\nb');
    expect(await cli('NOSUCH')).toMatch(/ERR unknown command 'NOSUCH'/);
    // Inline requests (as telnet sends them), pipelined on one connection.
    const inline = await raw(port, 'SET inl "two words"\r\nGET inl\r\nPING\r\nQUIT\r\n');
    expect(inline).toEqual({ reply: '+OK\r\n$9\r\ntwo words\r\n+PONG\r\n+OK\r\n', closed: true });
    // A protocol error: the error, then that connection (only) is closed.
    const bad = await raw(port, 'PING\r\n*1\r\n$x\r\n');
    expect(bad).toEqual({ reply: '+PONG\r\n-ERR Protocol error: invalid bulk length\r\n', closed: true });
    expect(await raw(port, '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n')).toEqual({ reply: "-ERR Protocol error: expected '$', got 'f'\r\n", closed: true });
    expect(await redis.get('inl')).toBe('two words');
  });

  it('completes redis-benchmark (set, get, incr, lpush) with no errors', async () => {
    const { stdout, stderr } = await run('redis-benchmark', ['-q', '-n', '2000', '-t', 'set,get,incr,lpush', '-p', String(port)], { timeout: 60_000 });
    const lines = stdout.split(/\r|\n/).filter((l) => /requests per second/.test(l)).map((l) => l.trim());
    expect(lines.map((l) => l.split(':')[0])).toEqual(['SET', 'GET', 'INCR', 'LPUSH']);
    expect(`${stdout}${stderr}`).not.toMatch(/ERR|rror/);
    console.log(`kvd redis-benchmark -n 2000:\n${lines.join('\n')}`);
  }, 90_000);

  /**
   * Run `updates` one after another while a pipelined workload runs on the one open
   * ioredis connection (five batches before, between and after them): no command fails,
   * nothing is lost, the data from before is intact.
   */
  async function underWorkload(tag: string, updates: Array<() => Promise<unknown>>): Promise<void> {
    const before = await dump(redis);
    let stop = false;
    let batches = 0;
    let incrs = 0;
    const errors: string[] = [];
    const work = (async () => {
      while (!stop) {
        const p = redis.pipeline();
        for (let i = 0; i < 50; i++) {
          p.incr(`${tag}:count`);
          p.rpush(`${tag}:log`, String(incrs + i));
          p.set(`${tag}:k${(incrs + i) % 100}`, String(incrs + i), 'PX', 600_000);
          p.hincrby(`${tag}:hash`, `f${i % 5}`, 1);
        }
        p.get(`${tag}:count`);
        const res = (await p.exec())!;
        for (const [err] of res) if (err) errors.push(err.message);
        incrs += 50;
        expect(res.at(-1)![1]).toBe(String(incrs));
        batches++;
      }
    })();
    await until(() => batches >= 5, 10_000, 'the workload to run');
    for (const update of updates) {
      await update();
      const mark = batches;
      await until(() => batches >= mark + 5, 10_000, 'the workload to run after the update');
    }
    stop = true;
    await work;
    expect(errors).toEqual([]);
    expect(await redis.get(`${tag}:count`)).toBe(String(incrs));
    expect(await redis.llen(`${tag}:log`)).toBe(incrs);
    expect(await redis.lrange(`${tag}:log`, 0, -1)).toEqual(Array.from({ length: incrs }, (_, i) => String(i)));
    expect(Object.values(await redis.hgetall(`${tag}:hash`)).reduce((n: number, v) => n + Number(v), 0)).toBe(incrs);
    expect(await redis.pttl(`${tag}:k0`)).toBeGreaterThan(500_000);
    const after = await dump(redis);
    for (const [k, v] of Object.entries(before)) expect([k, after[k]]).toEqual([k, v]);
  }

  const update = (label: string, source: string) => async () => {
    const r = await sys.kernel.call('rs', { type: 'rs.update', items: [{ label, source }] }, 60_000);
    expect(r).toMatchObject({ ok: true, value: { reason: null, outcome: 'committed' } });
  };

  it('is live-updated to version 2 (a new state layout) and back under a pipelined workload on an open connection: no error, nothing lost', async () => {
    await underWorkload('up', [update('kvd', V2), update('kvd', V1)]);
  }, 120_000);

  it('its lists (updatable objects) get a new representation in place, eagerly then lazily, under the workload: no error, nothing lost', async () => {
    // Many small lists besides the workload's: the state an object-level update converts.
    const p = redis.pipeline();
    for (let i = 0; i < 2000; i++) p.rpush(`objs:l${i}`, 'a', String(i));
    await p.exec();
    const incarnation = async () => ((await sys.kernel.call('rs', { type: 'rs.list' })) as { value: Array<{ label: string; incarnation: number }> }).value.find((s) => s.label === 'kvd')!.incarnation;
    const objects = (lazy: boolean) => async () => {
      const inc = await incarnation();
      const r = await sys.kernel.call('rs', { type: 'rs.update', items: [{ label: 'kvd', source: LISTS_V2 }], mode: 'objects', ...(lazy ? { lazy: true } : {}) }, 60_000);
      expect(r).toMatchObject({ ok: true, value: { reason: null, outcome: 'committed' } });
      const report = (r as { value: { reports: { kvd: { mode: string; classes: Array<{ name: string; action: string; instances: number; converted: number }> } } } }).value.reports.kvd;
      const list = report.classes.find((c) => c.name === 'List')!;
      expect(list.instances).toBeGreaterThanOrEqual(2000);
      if (lazy) expect(list).toMatchObject({ action: 'marked', converted: 0 });
      else expect(list).toMatchObject({ action: 'swapped', converted: list.instances });
      expect(await incarnation()).toBe(inc); // in place: the same incarnation, no new worker
    };
    // … and a process-level update to the same version, whose state names its own List.
    await underWorkload('objs', [objects(false), update('kvd', V1), objects(true), update('kvd', LISTS_V2)]);
    expect(await redis.lrange('objs:l1234', 0, -1)).toEqual(['a', '1234']);
    // Back to version 1 for the tests that follow.
    await update('kvd', V1)();
  }, 120_000);

  it('an object-level update whose transfer fails for one list rolls back whole; one to a version without objects is refused', async () => {
    await redis.rpush('bad:a', 'x', 'y');
    await redis.rpush('bad:b', 'poison');
    const r = await sys.kernel.call('rs', { type: 'rs.update', items: [{ label: 'kvd', source: LISTS_BROKEN }], mode: 'objects' }, 60_000);
    expect(r).toMatchObject({ ok: true, value: { outcome: 'rolled-back', reason: expect.stringMatching(/every class kept its old implementation.*cannot hold poison/) } });
    // Every list still works on version 1's code (LPUSH onto a deque's front, LRANGE across both arrays).
    await redis.lpush('bad:a', 'w');
    expect(await redis.lrange('bad:a', 0, -1)).toEqual(['w', 'x', 'y']);
    expect(await redis.lrange('bad:b', 0, -1)).toEqual(['poison']);
    const none = await sys.kernel.call('rs', { type: 'rs.update', items: [{ label: 'kvd', source: fileURLToPath(new URL('../../src/user/httpd/main.ts', import.meta.url)) }], mode: 'objects' }, 60_000);
    expect(none).toMatchObject({ ok: true, value: { outcome: 'refused', reason: expect.stringMatching(/declares no updatable classes/) } });
    const hist = await sys.kernel.call('rs', { type: 'rs.history', label: 'kvd' });
    expect((hist as { value: { versions: Array<{ source: string }> } }).value.versions.at(-1)!.source).not.toBe(LISTS_BROKEN);
  }, 60_000);

  it('function patches: applied and undone under the workload, listed; a bad one refused; applied again after a restart, dropped by a process-level update', async () => {
    type Row = { id: number; label: string; info: { status: string; functions: string[]; data: string[]; applyUs: number } };
    const patch = async (msg: Record<string, unknown>) => sys.kernel.call('rs', { type: 'rs.patch', ...msg }, 60_000);
    let id = 0;
    await underWorkload('patch', [
      async () => {
        const r = await patch({ op: 'apply', label: 'kvd', source: PATCH });
        expect(r).toMatchObject({ ok: true, value: { label: 'kvd', info: { status: 'complete', functions: ['echo', 'info'], data: ['server'] } } });
        id = (r as { value: Row }).value.id;
        expect(await redis.echo('hello')).toBe('HELLO');
        expect(await redis.info('server')).toMatch(/redis_version:7\.0\.0-patched\r\n/);
      },
      async () => {
        const list = await patch({ op: 'list', label: 'kvd' });
        expect((list as { value: Row[] }).value.map((r) => [r.id, r.info.status])).toEqual([[id, 'complete']]);
        // A patch naming a function the table lacks: refused with the reason, nothing changed.
        const bad = await patch({ op: 'apply', label: 'kvd', source: PATCH_BAD });
        expect(bad).toMatchObject({ ok: false, code: 'EINVAL', message: expect.stringMatching(/nosuchcommand/) });
        expect(await redis.echo('still')).toBe('STILL');
      },
      async () => {
        const r = await patch({ op: 'undo', patch: id });
        expect(r).toMatchObject({ ok: true, value: { id, info: { status: 'undone' } } });
        expect(await redis.echo('hello')).toBe('hello');
        expect(await redis.info('server')).toMatch(/redis_version:7\.0\.0\r\n/);
      },
    ]);
    expect(await patch({ op: 'undo', patch: 999 })).toMatchObject({ ok: false, code: 'ENOENT' });
    // A restart (as after a crash) starts the version's code: rs applies the patches again.
    expect(await patch({ op: 'apply', label: 'kvd', source: PATCH })).toMatchObject({ ok: true });
    expect(await sys.kernel.call('rs', { type: 'rs.restart', label: 'kvd' }, 30_000)).toMatchObject({ ok: true });
    await until(async () => {
      try {
        return (await redis.echo('again')) === 'AGAIN';
      } catch {
        return false;
      }
    }, 20_000, 'the patch applied again after the restart');
    // A process-level update replaces the code: the patches go with the old version.
    await update('kvd', V1)();
    expect(await redis.echo('gone')).toBe('gone');
    expect((await patch({ op: 'list' }) as { value: Row[] }).value).toEqual([]);
  }, 120_000);

  it('net is live-updated (and rolled back) under the same workload: the connection and its data carry on', async () => {
    await underWorkload('net', [
      update('net', NET_V2),
      async () => expect(await sys.kernel.call('rs', { type: 'rs.rollback', label: 'net' }, 60_000)).toMatchObject({ ok: true, value: { outcome: 'committed' } }),
    ]);
  }, 120_000);

  it('after a restart (rs.restart, as after a crash) the port is the same, open connections keep working, the data is back from the AOF', async () => {
    await redis.set('before-restart', 'kept');
    const before = await dump(redis);
    await new Promise((r) => setTimeout(r, 300)); // past the flush timer (appendfsync everysec loses at most that)
    const r = await sys.kernel.call('rs', { type: 'rs.restart', label: 'kvd' }, 30_000);
    expect(r).toMatchObject({ ok: true });
    await until(async () => {
      const s = await sys.kernel.call('kvd', { type: 'kvd.stats' });
      return s.ok && (s.value as KvdStatsReply).phase === 'serving';
    }, 30_000, 'kvd serving again');
    expect(((await sys.kernel.call('kvd', { type: 'kvd.stats' })) as { value: KvdStatsReply }).value.port).toBe(port);
    // The same ioredis connection (never reconnected: its retry strategy would give up).
    expect(await redis.get('before-restart')).toBe('kept');
    expect(await dump(redis)).toEqual(before);
    expect(await redis.incr('after-restart')).toBe(1);
  }, 60_000);

  it('BGREWRITEAOF compacts the file and keeps the data; after a reboot on the same disk every key is back', async () => {
    // The big values of an earlier test go: what is left is small, the file is not.
    expect(await redis.del('big', Buffer.from([0, 1, 2, 255, 13, 10]))).toBe(2);
    for (let round = 0; round < 20; round++) {
      const p = redis.pipeline();
      for (let i = 0; i < 200; i++) p.set(`churn${i}`, `${round}:${'x'.repeat(100)}`);
      await p.exec();
    }
    const sizeOf = async () => Number(/aof_current_size:(\d+)/.exec(await redis.info('persistence'))![1]);
    await until(async () => (await sizeOf()) > 400_000, 5000, 'the AOF to be written');
    const grown = await sizeOf();
    const rewrites = async () => Number(/aof_rewrites:(\d+)/.exec(await redis.info('persistence'))![1]);
    const done = await rewrites();
    expect(await redis.bgrewriteaof()).toBe('Background append only file rewriting started');
    await until(async () => (await rewrites()) > done, 20_000, 'the rewrite');
    expect(await sizeOf()).toBeLessThan(grown / 4);
    await redis.set('after-rewrite', 'yes');
    await redis.select(9);
    await redis.hset('db9hash', 'a', '1');
    await redis.select(0);
    const before = await dump(redis);
    expect(before['0/after-rewrite']).toEqual(['string', 'yes', false]);
    expect(before['9/db9hash']).toEqual(['hash', [['a', '1']], false]);
    expect(Object.keys(before).length).toBeGreaterThan(200);

    redis.disconnect();
    await sys.kernel.shutdown(0);
    await rm(sys.home, { recursive: true, force: true });
    ({ sys, port } = await bootKvd(image));
    redis = client(port);
    expect(await dump(redis)).toEqual(before);
    const stats = await sys.kernel.call('kvd', { type: 'kvd.stats' });
    expect(stats).toMatchObject({ ok: true, value: { aof: { loadNote: '', lastError: '' } } });
  }, 120_000);
});
