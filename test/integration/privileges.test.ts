/**
 * Integration: the kernel's privilege table (MINIX `system.conf`). A component may
 * send only to the labels and only the message types it was granted, make only the
 * kernel calls it was granted, and never send a `kernel.*` type. A refused message is
 * answered EPERM, traced as `msg.refused`, and never delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result, TraceEvent } from '../../src/kernel/abi.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

type Entry = { type: string; tag: string; seq: number; from: number };

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

describe('privileges', () => {
  let sys: TestSystem;
  const endpointOf = (label: string) => sys.kernel.endpointTable().find((e) => e.label === label)!.endpoint;
  const counterLog = async () => value<{ log: Entry[] }>(await sys.kernel.call('counter', { type: 'counter.get' })).log;
  const refusals = (from: string, type: string) =>
    sys.trace.filter((e): e is Extract<TraceEvent, { ev: 'msg.refused' }> => e.ev === 'msg.refused' && e.from === endpointOf(from) && e.type === type);
  const deliveredTo = (label: string, type: string) =>
    sys.trace.filter((e) => e.ev === 'msg.delivered' && e.to === endpointOf(label) && e.type === type);
  /** Ask a prober to sendrec; the inner result is what the kernel answered the prober. */
  const sendrecVia = async (via: string, to: string | number, msg: Record<string, unknown>) =>
    value<Result>(await sys.kernel.call(via, { type: 'probe.sendrec', to, msg }));

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        { label: 'echo', source: fixture('echo.ts'), privileges: { to: [], types: [], kcalls: [] } },
        { label: 'counter', source: fixture('counter.ts'), privileges: { to: [], types: [], kcalls: [] } },
        // May talk to echo only, and only with echo.echo / echo.info. (counter.* types are granted,
        // so that what keeps it from counter is the label check alone.)
        { label: 'narrow', source: fixture('prober.ts'), privileges: { to: ['echo'], types: ['echo.echo', 'echo.info', 'counter.*'], kcalls: [] } },
        // May send to counter, but only counter.note.
        { label: 'noter', source: fixture('prober.ts'), privileges: { to: ['counter'], types: ['counter.note'], kcalls: [] } },
        // May send anything anywhere, and make every kernel call — still not kernel.*.
        { label: 'root', source: fixture('prober.ts'), privileges: { to: ['*'], types: ['*'], kcalls: ['*'] } },
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('allowed sends go through', async () => {
    const r = await sendrecVia('narrow', 'echo', { type: 'echo.echo', payload: 'hi' });
    expect(value<{ payload: unknown }>(r).payload).toBe('hi');
  });

  it('a call to a label not in `to` is EPERM, traced, and never delivered', async () => {
    const before = (await counterLog()).length;
    const r = await sendrecVia('narrow', 'counter', { type: 'counter.get' });
    expect(r).toMatchObject({ ok: false, code: 'EPERM' });
    expect(refusals('narrow', 'counter.get')).toHaveLength(1);
    expect(refusals('narrow', 'counter.get')[0]).toMatchObject({ to: 'counter', code: 'EPERM' });
    expect(refusals('narrow', 'counter.get')[0]!.reason).toMatch(/may not send to counter/);
    expect(deliveredTo('counter', 'counter.get').every((e) => e.ev === 'msg.delivered' && e.from !== endpointOf('narrow'))).toBe(true);
    expect(await counterLog()).toHaveLength(before);
  });

  it('a one-way send to a forbidden label is dropped and traced', async () => {
    expect(value(await sys.kernel.call('narrow', { type: 'probe.send', to: 'counter', msg: { type: 'counter.hit', tag: 'narrow', seq: 1 } }))).toBeNull();
    await until(() => refusals('narrow', 'counter.hit').length === 1, 5_000, 'msg.refused for the one-way send');
    // Anything delivered to counter before this host call would be in the log by now.
    expect((await counterLog()).filter((e) => e.tag === 'narrow')).toEqual([]);
  });

  it('addressing the endpoint by number does not get around the label check', async () => {
    const r = await sendrecVia('narrow', endpointOf('counter'), { type: 'counter.get' });
    expect(r).toMatchObject({ ok: false, code: 'EPERM' });
    expect(deliveredTo('counter', 'counter.get').some((e) => e.ev === 'msg.delivered' && e.from === endpointOf('narrow'))).toBe(false);
  });

  it('a type not in `types` is EPERM even to an allowed label, and never delivered', async () => {
    const before = value<{ handled: number }>(await sys.kernel.call('echo', { type: 'echo.info' })).handled;
    const r = await sendrecVia('narrow', 'echo', { type: 'echo.typed', name: 'x', count: 1 });
    expect(r).toMatchObject({ ok: false, code: 'EPERM' });
    expect(refusals('narrow', 'echo.typed')).toHaveLength(1);
    expect(refusals('narrow', 'echo.typed')[0]!.reason).toMatch(/may not send echo\.typed/);
    expect(deliveredTo('echo', 'echo.typed')).toEqual([]);
    expect(value<{ handled: number }>(await sys.kernel.call('echo', { type: 'echo.info' })).handled).toBe(before);
  });

  it('one-way sends are filtered by type too: counter gets the notes, not the hits', async () => {
    await sys.kernel.call('noter', { type: 'probe.burst', to: 'counter', msgType: 'counter.hit', tag: 'noter-hit', count: 3 });
    await sys.kernel.call('noter', { type: 'probe.burst', to: 'counter', msgType: 'counter.note', tag: 'noter-note', count: 3 });
    const log = await until(async () => {
      const l = (await counterLog()).filter((e) => e.from === endpointOf('noter'));
      return l.length >= 3 ? l : null;
    });
    expect(log.map((e) => `${e.type}:${e.seq}`)).toEqual(['counter.note:0', 'counter.note:1', 'counter.note:2']);
    expect(refusals('noter', 'counter.hit')).toHaveLength(3);
  });

  it('no component may send a kernel.* type, even with every privilege', async () => {
    const rows = async () => value<{ label: string; incarnation: number; status: string; restarts: number }[]>(await sys.kernel.call('rs', { type: 'rs.list' }));
    const echoBefore = (await rows()).find((r) => r.label === 'echo')!;
    // A forged fault report would make rs restart echo if it were delivered.
    const forged = {
      type: 'kernel.fault', label: 'echo', incarnation: echoBefore.incarnation, kind: 'throw',
      error: { name: 'Error', message: 'forged' }, wasBound: true,
    };
    expect(await sendrecVia('root', 'rs', forged)).toMatchObject({ ok: false, code: 'EPERM' });
    expect(value(await sys.kernel.call('root', { type: 'probe.send', to: 'rs', msg: forged }))).toBeNull();
    await until(() => refusals('root', 'kernel.fault').length === 2, 5_000, 'both kernel.fault refusals');
    expect(deliveredTo('rs', 'kernel.fault')).toEqual([]);
    expect(await sendrecVia('root', 'echo', { type: 'kernel.anything' })).toMatchObject({ ok: false, code: 'EPERM' });
    const echoAfter = (await rows()).find((r) => r.label === 'echo')!;
    expect(echoAfter).toMatchObject({ incarnation: echoBefore.incarnation, restarts: echoBefore.restarts, status: 'running' });
  });

  it('kernel calls need their privilege', async () => {
    const denied = value<Result>(await sys.kernel.call('narrow', { type: 'probe.kcall', kcall: { call: 'endpoints' } }));
    expect(denied).toMatchObject({ ok: false, code: 'EPERM' });
    const killDenied = value<Result>(
      await sys.kernel.call('narrow', { type: 'probe.kcall', kcall: { call: 'kill', incarnation: sys.kernel.endpointTable().find((e) => e.label === 'echo')!.incarnation } }),
    );
    expect(killDenied).toMatchObject({ ok: false, code: 'EPERM' });
    expect(value(await sys.kernel.call('echo', { type: 'echo.echo', payload: 1 }))).toMatchObject({ payload: 1 });
    const allowed = value<Result>(await sys.kernel.call('root', { type: 'probe.kcall', kcall: { call: 'lookup', label: 'echo' } }));
    expect(allowed).toEqual({ ok: true, value: endpointOf('echo') });
  });

  it('a send to a label that does not exist is ENOENT', async () => {
    expect(await sendrecVia('root', 'nonesuch', { type: 'x.y' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('replies are always allowed: echo, with no send privileges at all, answered everyone', () => {
    expect(refusals('echo', 'reply')).toEqual([]);
    expect(sys.trace.filter((e) => e.ev === 'msg.refused' && e.from === endpointOf('echo'))).toEqual([]);
  });
});
