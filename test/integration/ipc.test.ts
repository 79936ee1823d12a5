/**
 * Integration: message passing between components through the kernel — per-sender
 * order, reply correlation, deadlines, unforgeable headers, and servers that answer
 * bad input with an error instead of crashing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result, TraceEvent } from '../../src/kernel/abi.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

type Entry = { type: string; tag: string; seq: number; from: number };
type CounterView = { incarnation: number; log: Entry[] };

const client = (label: string) => ({
  label,
  source: fixture('prober.ts'),
  privileges: { to: ['echo', 'counter'], types: ['echo.*', 'counter.*'], kcalls: [] },
});

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

describe('ipc', () => {
  let sys: TestSystem;
  const endpointOf = (label: string) => sys.kernel.endpointTable().find((e) => e.label === label)!.endpoint;
  const counterLog = async () => value<CounterView>(await sys.kernel.call('counter', { type: 'counter.get' })).log;
  const crashed = (label: string) => sys.trace.filter((e) => e.ev === 'incarnation.crashed' && e.label === label);

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        { label: 'echo', source: fixture('echo.ts'), privileges: { to: [], types: [], kcalls: [] } },
        { label: 'counter', source: fixture('counter.ts'), privileges: { to: [], types: [], kcalls: [] } },
        client('alice'),
        client('bob'),
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  describe('ordering and correlation', () => {
    it('delivers one sender’s one-way messages in the order they were sent', async () => {
      const N = 300;
      expect(value(await sys.kernel.call('alice', { type: 'probe.burst', to: 'counter', msgType: 'counter.hit', tag: 'a', count: N }))).toBe(N);
      const log = await until(async () => {
        const l = (await counterLog()).filter((e) => e.tag === 'a');
        return l.length >= N ? l : null;
      }, 10_000, `${N} messages at counter`);
      expect(log.map((e) => e.seq)).toEqual([...Array(N).keys()]);
      expect(new Set(log.map((e) => e.from))).toEqual(new Set([endpointOf('alice')]));
    });

    it('keeps each sender’s order when two senders interleave', async () => {
      const N = 200;
      const before = (await counterLog()).length;
      const [ra, rb] = await Promise.all([
        sys.kernel.call('alice', { type: 'probe.burst', to: 'counter', msgType: 'counter.hit', tag: 'x', count: N }),
        sys.kernel.call('bob', { type: 'probe.burst', to: 'counter', msgType: 'counter.hit', tag: 'y', count: N }),
      ]);
      expect(ra.ok && rb.ok).toBe(true);
      const log = await until(async () => {
        const l = (await counterLog()).slice(before);
        return l.length >= 2 * N ? l : null;
      }, 10_000, 'both bursts at counter');
      expect(log).toHaveLength(2 * N);
      const seqs = (tag: string) => log.filter((e) => e.tag === tag).map((e) => e.seq);
      expect(seqs('x')).toEqual([...Array(N).keys()]);
      expect(seqs('y')).toEqual([...Array(N).keys()]);
      expect(log.filter((e) => e.tag === 'x').every((e) => e.from === endpointOf('alice'))).toBe(true);
      expect(log.filter((e) => e.tag === 'y').every((e) => e.from === endpointOf('bob'))).toBe(true);
    });

    it('delivers the host’s one-way messages in order too', async () => {
      const N = 100;
      for (let seq = 0; seq < N; seq++) sys.kernel.send('counter', { type: 'counter.hit', tag: 'host', seq });
      // The host's own later call is routed after its sends, so it sees all of them.
      const log = (await counterLog()).filter((e) => e.tag === 'host');
      expect(log.map((e) => e.seq)).toEqual([...Array(N).keys()]);
      expect(log.every((e) => e.from === 1)).toBe(true);
    });

    it('correlates many concurrent host calls that complete out of order', async () => {
      const N = 100;
      const results = await Promise.all(
        [...Array(N).keys()].map((i) =>
          sys.kernel.call('echo', { type: 'echo.echo', payload: { i, s: `payload-${i}` }, delayMs: (i * 37) % 50 }),
        ),
      );
      results.forEach((r, i) => expect(value<{ payload: unknown }>(r).payload).toEqual({ i, s: `payload-${i}` }));
    });

    it('correlates many concurrent sendrecs from one component', async () => {
      const N = 150;
      const answers = value<Result<{ payload: { i: number; tag: string } }>[]>(
        await sys.kernel.call('alice', { type: 'probe.fanout', to: 'echo', count: N, maxDelayMs: 40 }),
      );
      expect(answers).toHaveLength(N);
      answers.forEach((a, i) => expect(value<{ payload: unknown }>(a).payload).toEqual({ i, tag: `p${i}` }));
    });

    it('correlates calls from two components to the same server at once', async () => {
      const N = 60;
      const [a, b] = await Promise.all([
        sys.kernel.call('alice', { type: 'probe.fanout', to: 'echo', count: N, maxDelayMs: 30 }),
        sys.kernel.call('bob', { type: 'probe.fanout', to: 'echo', count: N, maxDelayMs: 30 }),
      ]);
      for (const answers of [value<Result[]>(a), value<Result[]>(b)]) {
        answers.forEach((x, i) => expect(value<{ payload: unknown }>(x).payload).toEqual({ i, tag: `p${i}` }));
      }
    });
  });

  describe('deadlines', () => {
    it('a host call to a handler that never replies ends ETIMEDOUT after its timeout', async () => {
      const r = await sys.kernel.call('echo', { type: 'echo.never' }, 300);
      expect(r).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
    });

    it('a component’s sendrec to a handler that never replies ends ETIMEDOUT', async () => {
      const inner = value<Result>(
        await sys.kernel.call('alice', { type: 'probe.sendrec', to: 'echo', msg: { type: 'echo.never' }, timeoutMs: 300 }),
      );
      expect(inner).toMatchObject({ ok: false, code: 'ETIMEDOUT' });
    });

    it('keeps working after deadlines fired, and a late reply to a timed-out call goes nowhere', async () => {
      const info = value<{ incarnation: number; parked: number }>(await sys.kernel.call('echo', { type: 'echo.info' }));
      expect(info.parked).toBeGreaterThanOrEqual(2);
      // Answer the parked calls now: their callers gave up, so the kernel drops the replies.
      expect(value(await sys.kernel.call('echo', { type: 'echo.release' }))).toBe(info.parked);
      const again = value<{ incarnation: number; parked: number }>(await sys.kernel.call('echo', { type: 'echo.info' }));
      expect(again).toMatchObject({ incarnation: info.incarnation, parked: 0 });
      const r = await sys.kernel.call('echo', { type: 'echo.echo', payload: 'still here' });
      expect(value<{ payload: unknown }>(r).payload).toBe('still here');
      const viaAlice = value<Result>(await sys.kernel.call('alice', { type: 'probe.sendrec', to: 'echo', msg: { type: 'echo.echo', payload: 7 } }));
      expect(value<{ payload: unknown }>(viaAlice).payload).toBe(7);
      expect(crashed('echo')).toEqual([]);
    });

    it('a deferred call answered in time resolves with the late reply', async () => {
      const pending = sys.kernel.call('echo', { type: 'echo.never' }, 5_000);
      await until(async () => value<{ parked: number }>(await sys.kernel.call('echo', { type: 'echo.info' })).parked === 1);
      expect(value(await sys.kernel.call('echo', { type: 'echo.release' }))).toBe(1);
      expect(await pending).toEqual({ ok: true, value: 'late' });
    });
  });

  describe('headers cannot be forged', () => {
    it('the kernel stamps `from`; a sender’s own `from` and `id` are overwritten', async () => {
      const r = value<Result<{ from: number; id: number }>>(
        await sys.kernel.call('alice', { type: 'probe.sendrec', to: 'echo', msg: { type: 'echo.whoami', from: 9999, id: 4242 } }),
      );
      const who = value<{ from: number; id: number }>(r);
      expect(who.from).toBe(endpointOf('alice'));
      expect(who.id).not.toBe(4242);
    });

    it('only the callee can answer a call: a reply with a stolen token is ignored', async () => {
      const pending = sys.kernel.call('echo', { type: 'echo.never' }, 5_000);
      const [token] = await until(async () => {
        const toks = value<{ to: number; id: number }[]>(await sys.kernel.call('echo', { type: 'echo.tokens' }));
        return toks.length === 1 ? toks : null;
      });
      expect(value(await sys.kernel.call('bob', { type: 'probe.forge', token, result: { ok: true, value: 'forged' } }))).toBeNull();
      // The genuine answer still reaches the caller, so the forged one did not.
      expect(value(await sys.kernel.call('echo', { type: 'echo.release' }))).toBe(1);
      expect(await pending).toEqual({ ok: true, value: 'late' });
    });
  });

  describe('malformed and unknown messages', () => {
    let incarnation: number;
    beforeAll(async () => {
      incarnation = value<{ incarnation: number }>(await sys.kernel.call('echo', { type: 'echo.info' })).incarnation;
    });

    it('an unknown type is ENOSYS', async () => {
      expect(await sys.kernel.call('echo', { type: 'echo.nonesuch' })).toMatchObject({ ok: false, code: 'ENOSYS' });
    });

    it('inherited property names are not handlers (ENOSYS, not a crash)', async () => {
      for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
        expect(await sys.kernel.call('echo', { type })).toMatchObject({ ok: false, code: 'ENOSYS' });
      }
    });

    it('a payload that fails the schema is EINVAL naming the field', async () => {
      const r1 = await sys.kernel.call('echo', { type: 'echo.typed', name: 42, count: 1 });
      expect(r1).toMatchObject({ ok: false, code: 'EINVAL' });
      expect(!r1.ok && r1.message).toMatch(/\bname\b/);
      const r2 = await sys.kernel.call('echo', { type: 'echo.typed', name: 'n', count: 1.5 });
      expect(r2).toMatchObject({ ok: false, code: 'EINVAL' });
      expect(!r2.ok && r2.message).toMatch(/\bcount\b/);
      const r3 = await sys.kernel.call('echo', { type: 'echo.typed', name: 'n' });
      expect(r3).toMatchObject({ ok: false, code: 'EINVAL' });
      expect(!r3.ok && r3.message).toMatch(/\bcount\b/);
    });

    it('a message without a type is refused by the kernel (EINVAL)', async () => {
      expect(await sys.kernel.call('echo', { type: '' })).toMatchObject({ ok: false, code: 'EINVAL' });
      expect(await sys.kernel.call('echo', { type: 17 } as unknown as { type: string })).toMatchObject({ ok: false, code: 'EINVAL' });
    });

    it('bad one-way messages and bad calls from a component do not crash the server', async () => {
      sys.kernel.send('echo', { type: 'echo.typed', name: null, count: 'x' });
      sys.kernel.send('echo', { type: 'echo.nonesuch' });
      const viaAlice = value<Result>(await sys.kernel.call('alice', { type: 'probe.sendrec', to: 'echo', msg: { type: 'echo.typed', count: 2 } }));
      expect(viaAlice).toMatchObject({ ok: false, code: 'EINVAL' });
    });

    it('keeps serving afterwards, in the same incarnation', async () => {
      expect(value(await sys.kernel.call('echo', { type: 'echo.typed', name: 'ok', count: 3 }))).toBe('ok×3');
      expect(value<{ incarnation: number }>(await sys.kernel.call('echo', { type: 'echo.info' })).incarnation).toBe(incarnation);
      expect(crashed('echo')).toEqual([]);
      const rows = value<{ label: string; incarnation: number; restarts: number }[]>(await sys.kernel.call('rs', { type: 'rs.list' }));
      expect(rows.find((r) => r.label === 'echo')).toMatchObject({ incarnation, restarts: 0 });
    });
  });

  it('the trace saw every routed message sent and delivered', () => {
    const kinds = new Set(sys.trace.map((e: TraceEvent) => e.ev));
    expect(kinds.has('msg.sent')).toBe(true);
    expect(kinds.has('msg.delivered')).toBe(true);
  });
});
