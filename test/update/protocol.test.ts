/**
 * The live-update protocol itself (DESIGN.md §3), observed as a user observes it —
 * through `rs.update` / `rs.rollback` / `rs.history` / `rs.list` and the components'
 * replies: quiescence (request-free, work-free, state filters, protocol-free), deferred
 * replies answered across an update, interface filters that hold only what
 * `--block label:type` names, deadlines, hot rollback with the state transferred back,
 * the history of outcomes with phase timings, dry runs that change nothing, refusals,
 * and rs updating itself.
 *
 * One system for the whole file; every test uses labels of its own (corpus components:
 * counter, holder, waiter — deferred replies — and client, which calls others so that a
 * request can come from a label).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Result, ServiceConfig } from '../../src/kernel/abi.js';
import type { ServiceRow, UpdateResult } from '../../src/servers/rs/protocol.js';
import type { TransferPlan } from '../../src/update/plan.js';
import { bootSystem, until, type TestSystem } from '../helpers/system.js';

type Msg = { type: string } & Record<string, unknown>;
type Dump = { count: string; adds: string[]; waited: number | null; unit: string | null };
type AddReply = { tag: string; count: string; inc: number };

const corpus = (path: string) => fileURLToPath(new URL(`../corpus/${path}.ts`, import.meta.url));
const RS_SOURCE = fileURLToPath(new URL('../../src/servers/rs/main.ts', import.meta.url));
const NONE = { to: [], types: [], kcalls: [] };

const COUNTERS = ['rf', 'wf', 'sf', 'sfbad', 'blk', 'pf', 'dl', 'dlt', 'rb', 'hist', 'dry', 'ref', 'after-rs'];
const SERVICES: ServiceConfig[] = [
  ...COUNTERS.map((label) => ({ label, source: corpus('counter/v1'), privileges: NONE })),
  { label: 'dryh', source: corpus('holder/v1'), privileges: NONE },
  { label: 'waiter', source: corpus('waiter/v1'), privileges: NONE },
  // Clients that call counters: `--block cli1:counter.add` names one of them.
  { label: 'cli1', source: corpus('client/v1'), privileges: { to: ['*'], types: ['counter.*'], kcalls: [] } },
  { label: 'cli2', source: corpus('client/v1'), privileges: { to: ['*'], types: ['counter.*'], kcalls: [] } },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the live-update protocol', () => {
  let sys: TestSystem;

  const call = async <T = unknown>(to: string, msg: Msg, timeoutMs = 30_000): Promise<T> => {
    const r = await sys.kernel.call(to, msg, timeoutMs);
    if (!r.ok) throw new Error(`${to} ${msg.type}: ${r.code} ${r.message ?? ''}`);
    return r.value as T;
  };
  const update = (msg: Record<string, unknown>) => call<UpdateResult>('rs', { type: 'rs.update', ...msg }, 60_000);
  const row = async (label: string) => (await call<ServiceRow[]>('rs', { type: 'rs.list' })).find((r) => r.label === label)!;
  const dump = (label: string) => call<Dump>(label, { type: 'counter.dump' });
  const add = (label: string, tag: string, n = 1) => call<AddReply>(label, { type: 'counter.add', tag, n });

  /**
   * Fire `count` adds at `label` while `during` runs (a burst, then a stream); every add
   * must get exactly one reply, its own. Returns the replies in the order sent.
   */
  async function addsDuring<T>(label: string, prefix: string, during: Promise<T>, count = 50): Promise<{ result: T; replies: AddReply[] }> {
    const sent: Array<Promise<Result>> = [];
    for (let k = 0; k < count; k++) {
      sent.push(sys.kernel.call(label, { type: 'counter.add', tag: `${prefix}${k}`, n: 1 }, 60_000));
      if (k >= 10) await sleep(2);
    }
    const result = await during;
    const got = await Promise.all(sent);
    expect(got.map((r) => (r.ok ? (r.value as AddReply).tag : `${r.code}`))).toEqual(sent.map((_, k) => `${prefix}${k}`));
    return { result, replies: got.map((r) => (r as { value: AddReply }).value) };
  }

  interface Wait {
    done: Promise<{ waited: number }>;
    startedAt: number;
    doneAt: number;
    ms: number;
  }
  /**
   * Start a `counter.wait` of `ms` and return once its handler runs (a later request was
   * answered meanwhile). `warm` is built first (a dry run), so the update that follows
   * spends little time in build before its prepare.
   */
  async function startWait(label: string, ms: number, warm: string): Promise<Wait> {
    expect((await update({ items: [{ label, source: warm }], dryRun: true })).outcome).toBe('dry-run');
    const w: Wait = { done: Promise.resolve({ waited: 0 }), startedAt: Date.now(), doneAt: 0, ms };
    w.done = call<{ waited: number }>(label, { type: 'counter.wait', ms }).then((v) => ((w.doneAt = Date.now()), v));
    await dump(label);
    return w;
  }
  /**
   * How long the wait still had to run when the update's prepare began (build and spawn
   * come first and take what they take on a loaded machine), less a little slack.
   */
  const stillRunning = (w: Wait, r: UpdateResult) => w.startedAt + w.ms - (r.startedAt + (r.timings.build ?? 0) + (r.timings.spawn ?? 0)) - 50;

  beforeAll(async () => {
    sys = await bootSystem({
      config: (c) => ({ ...c, services: [...c.services.filter((s) => s.label === 'ds'), ...SERVICES] }),
    });
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
  });

  describe('quiescence', () => {
    it('request-free waits for a handler in flight to finish, then transfers what it wrote', async () => {
      await add('rf', 'x', 5);
      const was = await row('rf');
      const wait = await startWait('rf', 1_500, corpus('counter/v2'));
      let updatedAt = 0;
      const upd = update({ items: [{ label: 'rf', source: corpus('counter/v2') }], prepare: 'request-free' });
      const { result, replies } = await addsDuring('rf', 'a', upd.then((r) => ((updatedAt = Date.now()), r)));
      expect(result.outcome).toBe('committed');
      // Prepare lasted until the handler finished...
      expect(result.timings.prepare).toBeGreaterThanOrEqual(stillRunning(wait, result));
      expect(await wait.done).toEqual({ waited: 1 });
      expect(wait.doneAt).toBeLessThanOrEqual(updatedAt);
      // ...so its write is in the new version's state, with every add exactly once.
      const d = await dump('rf');
      expect(d.waited).toBe(1);
      expect(d.adds).toEqual(['x', ...replies.map((r) => r.tag)]);
      expect(d.count).toBe(String(5 + 50));
      expect((await row('rf')).incarnation).not.toBe(was.incarnation);
    });

    it('work-free (the default) does not wait: a write made after the handover stays with the old incarnation', async () => {
      const wait = await startWait('wf', 1_500, corpus('counter/v2'));
      const result = await update({ items: [{ label: 'wf', source: corpus('counter/v2') }] });
      expect(result.outcome).toBe('committed');
      expect(stillRunning(wait, result)).toBeGreaterThan(0); // (else this test proves nothing)
      expect(result.timings.prepare!).toBeLessThan(stillRunning(wait, result));
      // The old incarnation finishes the handler and answers it (it is drained before it ends)...
      expect(await wait.done).toEqual({ waited: 1 });
      // ...but the state had already moved: that is what request-free is for.
      expect((await dump('wf')).waited).toBe(0);
    });

    it('a state filter waits until the expression over the state holds', async () => {
      const wait = await startWait('sf', 1_000, corpus('counter/v2'));
      const result = await update({ items: [{ label: 'sf', source: corpus('counter/v2') }], prepare: 'state', state: 'state.waited >= 1 && state.adds.length === 0' });
      expect(result.outcome).toBe('committed');
      expect(result.timings.prepare).toBeGreaterThanOrEqual(stillRunning(wait, result));
      await wait.done;
      expect((await dump('sf')).waited).toBe(1);
    });

    it('a state filter that does not parse, or is missing, is refused; the old version keeps running', async () => {
      const was = await row('sfbad');
      const bad = await update({ items: [{ label: 'sfbad', source: corpus('counter/v2') }], prepare: 'state', state: 'state.count >' });
      expect(bad).toMatchObject({ outcome: 'rolled-back', phase: 'prepare' });
      expect(bad.reason).toMatch(/state filter does not parse/);
      const missing = await update({ items: [{ label: 'sfbad', source: corpus('counter/v2') }], prepare: 'state' });
      expect(missing).toMatchObject({ outcome: 'refused', phase: 'build' });
      expect(missing.reason).toMatch(/needs --state/);
      expect(await row('sfbad')).toMatchObject({ incarnation: was.incarnation, version: was.version });
      expect((await add('sfbad', 'still')).inc).toBe(was.incarnation);
    });

    it('protocol-free on a component that defines no predicate rolls back, naming it', async () => {
      const was = await row('pf');
      const r = await update({ items: [{ label: 'pf', source: corpus('counter/v2') }], prepare: 'protocol-free' });
      expect(r).toMatchObject({ outcome: 'rolled-back', phase: 'prepare' });
      expect(r.reason).toMatch(/defines no protocol-free predicate/);
      expect((await row('pf')).incarnation).toBe(was.incarnation);
    });
  });

  describe('deferred replies', () => {
    it('a call left waiting (its reply token in the state) is answered by the new version', async () => {
      const waiting = ['w1', 'w2'].map((tag) => sys.kernel.call('waiter', { type: 'waiter.wait', tag }, 20_000));
      await until(async () => (await call<string[]>('waiter', { type: 'waiter.dump' })).length === 2, 5_000, 'two waiting calls');
      const result = await update({ items: [{ label: 'waiter', source: corpus('waiter/v2') }], prepare: 'request-free' });
      expect(result.outcome).toBe('committed');
      expect(await call<string[]>('waiter', { type: 'waiter.dump' })).toEqual(['w1', 'w2']);
      // The old incarnation is retired meanwhile (it has nothing in flight): the calls must not die with it.
      await sleep(300);
      expect(await call('waiter', { type: 'waiter.fire' })).toBe(2);
      const newInc = (await row('waiter')).incarnation;
      expect(await Promise.all(waiting)).toEqual([
        { ok: true, value: { tag: 'w1', by: 'v2', inc: newInc } },
        { ok: true, value: { tag: 'w2', by: 'v2', inc: newInc } },
      ]);
    });
  });

  describe('interface filters', () => {
    it('--block label:type holds only the matching requests; the old version serves the others during prepare', async () => {
      const oldInc = (await row('blk')).incarnation!;
      const cli1 = sys.kernel.endpointTable().find((e) => e.label === 'cli1')!.endpoint;
      const t0 = Date.now();
      // Prepare waits for `waited >= 1`; only cli1's counter.add is blocked meanwhile.
      const upd = update({
        items: [{ label: 'blk', source: corpus('counter/v2') }],
        prepare: 'state', state: 'state.waited >= 1', block: [{ label: 'cli1', type: 'counter.add' }], maxtime: 10_000,
      });
      await until(() => sys.trace.some((e) => e.ev === 'filter.installed' && e.label === 'blk' && e.t >= t0), 10_000, 'the interface filter');
      const via = (client: string, msg: Msg) => call<Result<AddReply>>(client, { type: 'client.call', to: 'blk', msg });

      let c1Answered = false;
      const c1 = via('cli1', { type: 'counter.add', tag: 'c1', n: 1 }).then((r) => ((c1Answered = true), r));
      const c2 = await via('cli2', { type: 'counter.add', tag: 'c2', n: 1 });
      const host = await add('blk', 'host');
      const dumpViaCli2 = await via('cli2', { type: 'counter.dump' });
      // Served now, by the old incarnation, while cli1's add waits behind the filter.
      expect(c2).toMatchObject({ ok: true, value: { tag: 'c2', inc: oldInc } });
      expect(host.inc).toBe(oldInc);
      expect(dumpViaCli2).toMatchObject({ ok: true, value: { adds: ['c2', 'host'] } });
      await sleep(50);
      expect(c1Answered).toBe(false);
      expect(sys.trace.some((e) => e.ev === 'msg.held' && e.from === cli1 && e.type === 'counter.add' && e.t >= t0)).toBe(true);

      // Let the old version quiesce: the update commits and the held add reaches the new version.
      await call('blk', { type: 'counter.wait', ms: 1 });
      const result = await upd;
      expect(result.outcome).toBe('committed');
      const newInc = (await row('blk')).incarnation;
      expect(newInc).not.toBe(oldInc);
      expect(await c1).toMatchObject({ ok: true, value: { tag: 'c1', inc: newInc } });
      expect((await dump('blk')).adds).toEqual(['c2', 'host', 'c1']);
    });
  });

  describe('deadlines', () => {
    it('maxtime: a prepare that does not finish in time is cancelled; held requests go to the old version', async () => {
      const was = await row('dl');
      const upd = update({ items: [{ label: 'dl', source: corpus('counter/v2') }], prepare: 'state', state: 'state.count < 0', maxtime: 250 });
      const { result, replies } = await addsDuring('dl', 'd', upd);
      expect(result).toMatchObject({ outcome: 'cancelled', phase: 'prepare' });
      expect(result.reason).toMatch(/within 250 ms/);
      expect(result.timings.prepare).toBeGreaterThanOrEqual(250);
      expect(result.timings.prepare).toBeLessThan(2_000);
      expect(replies.every((r) => r.inc === was.incarnation)).toBe(true);
      expect(await row('dl')).toMatchObject({ incarnation: was.incarnation, version: was.version });
      expect((await dump('dl')).adds).toEqual(replies.map((r) => r.tag));
    });

    it('initMaxtime: a transfer that does not finish in time rolls back', async () => {
      const was = await row('dlt');
      await add('dlt', 'before');
      const upd = update({ items: [{ label: 'dlt', source: corpus('counter/v11') }], initMaxtime: 400 });
      const { result, replies } = await addsDuring('dlt', 'd', upd);
      expect(result).toMatchObject({ outcome: 'rolled-back', phase: 'transfer' });
      expect(result.reason).toMatch(/did not finish within 400 ms/);
      expect(result.timings.transfer).toBeLessThan(1_500);
      expect(replies.every((r) => r.inc === was.incarnation)).toBe(true);
      expect(await row('dlt')).toMatchObject({ incarnation: was.incarnation, version: was.version });
      expect((await dump('dlt')).adds).toEqual(['before', ...replies.map((r) => r.tag)]);
    });
  });

  describe('rollback and history', () => {
    it('rs.rollback returns to the previous version with the state transferred back', async () => {
      const v1 = await row('rb');
      await add('rb', 'one', 5);
      const up = await update({ items: [{ label: 'rb', source: corpus('counter/v2') }] });
      expect(up.outcome).toBe('committed');
      const v2 = await row('rb');
      expect(v2.version).not.toBe(v1.version);
      await add('rb', 'two', 7);
      const back = await addsDuring('rb', 'r', call<UpdateResult>('rs', { type: 'rs.rollback', label: 'rb' }, 60_000));
      expect(back.result).toMatchObject({ outcome: 'committed', versions: [{ label: 'rb', from: v2.version, to: v1.version }] });
      expect(back.result.reports.rb).toMatchObject({ converted: { 'CounterState.count: bigint → number': 1 } });
      const now = await row('rb');
      expect(now.version).toBe(v1.version);
      expect(now.incarnation).not.toBe(v2.incarnation);
      expect(now.incarnation).not.toBe(v1.incarnation);
      const d = await dump('rb');
      expect(d.adds).toEqual(['one', 'two', ...back.replies.map((r) => r.tag)]);
      expect(d.count).toBe(String(5 + 7 + 50));
      // The version stack was popped, not grown: there is nothing further back.
      const h = await call<{ versions: Array<{ version: string }>; updates: UpdateResult[] }>('rs', { type: 'rs.history', label: 'rb' });
      expect(h.versions.map((v) => v.version)).toEqual([v1.version]);
      expect(h.updates.map((u) => u.outcome)).toEqual(['committed', 'committed']);
      const again = await call<UpdateResult>('rs', { type: 'rs.rollback', label: 'rb' });
      expect(again.outcome).toBe('refused');
      expect(again.reason).toMatch(/no previous version/);
      expect((await row('rb')).incarnation).toBe(now.incarnation);
    });

    it('rs.history records every outcome with its phase timings (dry runs and refusals before the build excepted)', async () => {
      const t0 = Date.now();
      const ok = await update({ items: [{ label: 'hist', source: corpus('counter/v2') }] });
      const bad = await update({ items: [{ label: 'hist', source: corpus('counter/v6') }] });
      const slow = await update({ items: [{ label: 'hist', source: corpus('counter/v1') }], prepare: 'state', state: 'false', maxtime: 200 });
      await update({ items: [{ label: 'hist', source: corpus('counter/v4') }], dryRun: true });
      await update({ items: [{ label: 'hist', source: corpus('counter/v1') }, { label: 'hist', source: corpus('counter/v2') }] });
      expect([ok.outcome, bad.outcome, slow.outcome]).toEqual(['committed', 'rolled-back', 'cancelled']);

      const h = await call<{ label: string; versions: Array<{ version: string }>; updates: UpdateResult[] }>('rs', { type: 'rs.history', label: 'hist' });
      expect(h.label).toBe('hist');
      expect(h.versions).toHaveLength(2);
      expect(h.updates.map((u) => [u.id, u.outcome, u.phase])).toEqual([
        [ok.id, 'committed', 'commit'],
        [bad.id, 'rolled-back', 'transfer'],
        [slow.id, 'cancelled', 'prepare'],
      ]);
      const phases = (u: UpdateResult) => Object.keys(u.timings).sort();
      expect(phases(h.updates[0]!)).toEqual(['build', 'commit', 'prepare', 'spawn', 'transfer']);
      expect(phases(h.updates[1]!)).toEqual(['build', 'prepare', 'spawn', 'transfer']);
      expect(phases(h.updates[2]!)).toEqual(['build', 'prepare', 'spawn']);
      for (const u of h.updates) {
        for (const ms of Object.values(u.timings)) expect(ms).toBeGreaterThanOrEqual(0);
        expect(u.totalMs).toBeGreaterThanOrEqual(Object.values(u.timings).reduce((a, b) => a + b, 0) - 5);
        expect(u.startedAt).toBeGreaterThanOrEqual(t0 - 1_000);
      }
      expect(h.updates[2]!.timings.prepare).toBeGreaterThanOrEqual(200);
      expect(h.updates[1]!.reason).toMatch(/afterTransfer refuses/);
      // Each phase of the committed update is also in the trace, start and end.
      for (const phase of ['build', 'spawn', 'prepare', 'transfer', 'commit']) {
        for (const status of ['start', 'end']) {
          expect(sys.trace.some((e) => e.ev === 'update.phase' && e.update === ok.id && e.phase === phase && e.status === status)).toBe(true);
        }
      }
      expect((await sys.kernel.call('rs', { type: 'rs.history', label: 'nope' })).ok).toBe(false);
    });

    it('refusals: an unknown label or a source that does not build change nothing', async () => {
      const was = await row('ref');
      const unknown = await update({ items: [{ label: 'no-such-label', source: corpus('counter/v2') }] });
      expect(unknown).toMatchObject({ outcome: 'refused', phase: 'build' });
      expect(unknown.reason).toMatch(/unknown label no-such-label/);
      const missing = await update({ items: [{ label: 'ref', source: corpus('counter/v-does-not-exist') }] });
      expect(missing).toMatchObject({ outcome: 'refused', phase: 'build' });
      expect(missing.reason).toMatch(/v-does-not-exist/);
      expect(await row('ref')).toMatchObject({ incarnation: was.incarnation, version: was.version });
    });
  });

  describe('dry run', () => {
    it('returns the plan — fields added, removed, converted, refused — and changes nothing', async () => {
      await add('dry', 'x', 3);
      const was = await row('dry');
      const before = await dump('dry');
      const plan = async (label: string, source: string) => {
        const r = await update({ items: [{ label, source: corpus(source) }], dryRun: true });
        expect(r.outcome).toBe('dry-run');
        return r.plans![label] as TransferPlan;
      };

      const p4 = await plan('dry', 'counter/v4');
      expect(p4.fieldsAdded).toEqual([expect.stringMatching(/^CounterState\.unit\b/)]);
      expect(p4.fieldsRemoved).toEqual(['CounterState.waited']);
      expect(p4.converted).toEqual([]);
      expect(p4.refused).toEqual([]);

      const p2 = await plan('dry', 'counter/v2');
      expect(p2.converted).toEqual([expect.stringMatching(/^CounterState\.count: number → bigint/)]);
      expect(p2.fieldsAdded).toEqual([]);
      expect(p2.fieldsRemoved).toEqual([]);

      const h2 = await plan('dryh', 'holder/v2');
      expect(h2.converted).toEqual(expect.arrayContaining([
        expect.stringMatching(/^HolderState\.pair: \[number, string\] → \[number, string, number\]/),
        expect.stringMatching(/^HolderState\.triple: \[string, number, boolean\] → \[string, number\]/),
        expect.stringMatching(/^HolderState\.big: bigint → number/),
      ]));
      expect(h2.refused).toEqual([]);
      const h3 = await plan('dryh', 'holder/v3');
      expect(h3.refused).toEqual([expect.stringMatching(/^HolderState\.when: Date → number/)]);

      // Nothing changed: same incarnation, same version, same state, no history.
      expect(await row('dry')).toMatchObject({ incarnation: was.incarnation, version: was.version });
      expect(await dump('dry')).toEqual(before);
      const h = await call<{ updates: UpdateResult[] }>('rs', { type: 'rs.history', label: 'dry' });
      expect(h.updates).toEqual([]);
    });
  });

  describe('rs updates itself', () => {
    it('commits, keeps its endpoint, keeps answering rs.list — and the new rs carries on updating', async () => {
      const before = await row('rs');
      const t0 = Date.now();
      const upd = update({ items: [{ label: 'rs', source: RS_SOURCE }] });
      // Clients keep asking rs while it is replaced: each gets one answer.
      const lists: Array<Promise<Result>> = [];
      for (let k = 0; k < 20; k++) {
        lists.push(sys.kernel.call('rs', { type: 'rs.list' }, 30_000));
        await sleep(3);
      }
      const result = await upd;
      expect(result).toMatchObject({ outcome: 'committed', labels: ['rs'] });
      const answers = await Promise.all(lists);
      expect(answers.every((r) => r.ok && Array.isArray(r.value))).toBe(true);

      const after = await row('rs');
      expect(after.endpoint).toBe(before.endpoint);
      expect(after.incarnation).not.toBe(before.incarnation);
      expect(after.status).toBe('running');
      expect(sys.trace.some((e) => e.ev === 'endpoint.bound' && e.label === 'rs' && e.incarnation === after.incarnation && e.t >= t0)).toBe(true);
      // The new rs knows what the old one knew (the service table came across) ...
      const rows = await call<ServiceRow[]>('rs', { type: 'rs.list' });
      expect(rows.map((r) => r.label)).toEqual(expect.arrayContaining(['rs', 'ds', ...COUNTERS]));
      expect(rows.find((r) => r.label === 'rb')!.version).toBe((await row('rb')).version);
      const h = await call<{ updates: UpdateResult[] }>('rs', { type: 'rs.history', label: 'rs' });
      expect(h.updates.map((u) => u.outcome)).toEqual(['committed']);
      // ... and carries on: another component's update through the new rs.
      const { result: next } = await addsDuring('after-rs', 'n', update({ items: [{ label: 'after-rs', source: corpus('counter/v3') }] }));
      expect(next.outcome).toBe('committed');
      expect((await dump('after-rs')).adds).toHaveLength(50);
    });
  });
});
