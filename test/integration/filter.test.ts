/**
 * Integration: interface filters and endpoint rebinding — the kernel mechanism a live
 * update is built on. A manager component (test fixture standing in for rs's update
 * manager) installs a filter on `counter`; matching messages are held, not delivered;
 * the endpoint is rebound to a new incarnation; the filter is released and the held
 * messages reach the NEW incarnation, in order, none lost. Senders the filter does not
 * match pass straight through meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outgoing, Result, TraceEvent } from '../../src/kernel/abi.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

type Entry = { type: string; tag: string; seq: number; from: number };
type CounterView = { incarnation: number; log: Entry[] };

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

const counterPrivileges = { to: [], types: [], kcalls: [] };
const sender = (label: string) => ({
  label,
  source: fixture('prober.ts'),
  privileges: { to: ['counter'], types: ['counter.*'], kcalls: [] },
});

describe('interface filter and rebinding', () => {
  let sys: TestSystem;
  const entry = (label: string) => sys.kernel.endpointTable().find((e) => e.label === label)!;
  const counter = async () => value<CounterView>(await sys.kernel.call('counter', { type: 'counter.get' }));
  const mgr = async <T = unknown>(msg: Outgoing) => value<T>(await sys.kernel.call('manager', msg));
  const burst = (from: string, tag: string, count: number, msgType = 'counter.hit') =>
    sys.kernel.call(from, { type: 'probe.burst', to: 'counter', msgType, tag, count }).then((r) => value<number>(r));
  const seqs = (log: Entry[], tag: string) => log.filter((e) => e.tag === tag).map((e) => e.seq);

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        { label: 'counter', source: fixture('counter.ts'), privileges: counterPrivileges },
        {
          label: 'manager',
          source: fixture('manager.ts'),
          privileges: { to: [], types: [], kcalls: ['filter', 'unfilter', 'spawn', 'bind', 'kill'] },
        },
        sender('alice'),
        sender('bob'),
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  describe('hold, rebind, release', () => {
    const N = 40;
    let filter: number;
    let oldInc: number;
    let newInc: number;

    it('holds the matched sender’s messages while a filter is installed; others pass', async () => {
      oldInc = (await counter()).incarnation;
      expect(entry('counter').incarnation).toBe(oldInc);
      filter = await mgr<number>({ type: 'mgr.filter', label: 'counter', senders: [entry('alice').endpoint] });
      expect(sys.trace.some((e) => e.ev === 'filter.installed' && e.filter === filter && e.label === 'counter')).toBe(true);
      expect(entry('counter').filters).toBe(1);

      expect(await burst('alice', 'a', N)).toBe(N);
      expect(await burst('bob', 'b', 5)).toBe(5);
      // bob is not matched: his messages are delivered at once.
      const view = await until(async () => {
        const v = await counter();
        return seqs(v.log, 'b').length === 5 ? v : null;
      }, 5_000, 'bob’s messages');
      expect(seqs(view.log, 'b')).toEqual([0, 1, 2, 3, 4]);
      // alice's are held: the counter did not move for them.
      expect(seqs(view.log, 'a')).toEqual([]);
      expect(entry('counter').held).toBe(N);
      const held = sys.trace.filter((e) => e.ev === 'msg.held' && e.from === entry('alice').endpoint);
      expect(held).toHaveLength(N);
    });

    it('spawns a new incarnation unbound: the old one still serves and nothing held moves', async () => {
      const r = await mgr<{ incarnation: number; endpoint: number }>({
        type: 'mgr.spawn', label: 'counter', source: fixture('counter.ts'), privileges: counterPrivileges,
      });
      newInc = r.incarnation;
      expect(newInc).not.toBe(oldInc);
      expect(r.endpoint).toBe(entry('counter').endpoint);
      const v = await counter();
      expect(v.incarnation).toBe(oldInc);
      expect(seqs(v.log, 'a')).toEqual([]);
      expect(entry('counter')).toMatchObject({ incarnation: oldInc, held: N });
    });

    it('rebinds the endpoint to the new incarnation; held messages stay held while the filter is in place', async () => {
      const endpoint = entry('counter').endpoint;
      expect(await mgr({ type: 'mgr.bind', label: 'counter', incarnation: newInc })).toBeNull();
      expect(entry('counter')).toMatchObject({ endpoint, incarnation: newInc, status: 'bound', held: N });
      const v = await counter();
      expect(v).toEqual({ incarnation: newInc, log: [] });
    });

    it('releasing the filter delivers every held message to the new incarnation, in order', async () => {
      expect(await mgr({ type: 'mgr.unfilter', filter })).toBeNull();
      const v = await until(async () => {
        const x = await counter();
        return x.log.length >= N ? x : null;
      }, 5_000, 'released messages');
      expect(v.incarnation).toBe(newInc);
      expect(v.log.map((e) => `${e.tag}${e.seq}`)).toEqual([...Array(N).keys()].map((i) => `a${i}`));
      expect(v.log.every((e) => e.from === entry('alice').endpoint)).toBe(true);
      expect(entry('counter')).toMatchObject({ held: 0, filters: 0 });
      const released = sys.trace.find((e): e is Extract<TraceEvent, { ev: 'filter.released' }> => e.ev === 'filter.released' && e.filter === filter);
      expect(released?.released).toBe(N);
      // Not one of them reached the old incarnation.
      const toOld = sys.trace.filter((e) => e.ev === 'msg.delivered' && e.incarnation === oldInc && e.from === entry('alice').endpoint);
      expect(toOld).toEqual([]);
    });

    it('the old incarnation can then be ended without a fault; later messages go to the new one', async () => {
      expect(await mgr({ type: 'mgr.kill', incarnation: oldInc })).toBeNull();
      await until(() => sys.trace.some((e) => e.ev === 'incarnation.ended' && e.incarnation === oldInc), 5_000, 'old incarnation ended');
      expect(sys.trace.some((e) => e.ev === 'incarnation.crashed' && e.incarnation === oldInc)).toBe(false);
      await burst('alice', 'c', 3);
      const v = await until(async () => {
        const x = await counter();
        return seqs(x.log, 'c').length === 3 ? x : null;
      }, 5_000, 'post-release messages');
      expect(v.incarnation).toBe(newInc);
      expect(seqs(v.log, 'c')).toEqual([0, 1, 2]);
      expect(entry('counter')).toMatchObject({ incarnation: newInc, status: 'bound' });
    });
  });

  describe('per-sender order under a type filter', () => {
    it('once a sender has a message held, its later messages wait behind it whatever their type', async () => {
      const base = (await counter()).log.length;
      const filter = await mgr<number>({ type: 'mgr.filter', label: 'counter', types: ['counter.hit'] });
      // alice: hit (held by the filter), then notes (not matched, but must not overtake the hit).
      await burst('alice', 'h', 1, 'counter.hit');
      await burst('alice', 'n', 3, 'counter.note');
      // bob sends only notes: nothing of his is held, so they are delivered now.
      await burst('bob', 'bn', 2, 'counter.note');
      const v = await until(async () => {
        const x = await counter();
        return seqs(x.log, 'bn').length === 2 ? x : null;
      }, 5_000, 'bob’s notes');
      expect(v.log.slice(base).map((e) => e.tag)).toEqual(['bn', 'bn']);
      expect(entry('counter').held).toBe(4);

      expect(await mgr({ type: 'mgr.unfilter', filter })).toBeNull();
      const after = await until(async () => {
        const x = await counter();
        return x.log.length >= base + 6 ? x : null;
      }, 5_000, 'released');
      expect(after.log.slice(base).map((e) => `${e.type}:${e.tag}${e.seq}`)).toEqual([
        'counter.note:bn0', 'counter.note:bn1',
        'counter.hit:h0', 'counter.note:n0', 'counter.note:n1', 'counter.note:n2',
      ]);
    });

    it('a filter on an unknown label or an unknown filter id is ENOENT', async () => {
      expect(await sys.kernel.call('manager', { type: 'mgr.filter', label: 'nonesuch', types: ['*'] })).toMatchObject({ ok: false, code: 'ENOENT' });
      expect(await sys.kernel.call('manager', { type: 'mgr.unfilter', filter: 99_999 })).toMatchObject({ ok: false, code: 'ENOENT' });
    });
  });
});
