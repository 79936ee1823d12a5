/**
 * Integration: fault detection and reincarnation. A component that throws in a
 * handler, exits, runs out of memory or spins forever is detected by the kernel
 * (`incarnation.crashed` with the fault's kind), restarted by rs behind the same
 * endpoint (new incarnation, restart counted), and every caller waiting on it gets
 * EDEADEP instead of hanging. Other components keep serving. A component that keeps
 * failing in its own init is given up on after `maxInitFailures`, and its callers get
 * EDEADEP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultKind, Outgoing, Result, TraceEvent } from '../../src/kernel/abi.js';
import type { ServiceRow } from '../../src/servers/rs/protocol.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

type Crashed = Extract<TraceEvent, { ev: 'incarnation.crashed' }>;

const quickRestart = { backoffBaseMs: 20, backoffMaxMs: 200, maxFaults: 5, windowMs: 60_000 };
const victim = (label: string, limits: Record<string, number> = {}) => ({
  label,
  source: fixture('faulty.ts'),
  privileges: { to: [], types: [], kcalls: [] },
  limits,
  policy: quickRestart,
});

async function rows(sys: TestSystem): Promise<ServiceRow[]> {
  return value<ServiceRow[]>(await sys.kernel.call('rs', { type: 'rs.list' }));
}
async function row(sys: TestSystem, label: string): Promise<ServiceRow> {
  const r = (await rows(sys)).find((x) => x.label === label);
  if (!r) throw new Error(`rs has no row for ${label}`);
  return r;
}

describe('faults and restarts', () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        { label: 'echo', source: fixture('echo.ts'), privileges: { to: [], types: [], kcalls: [] } },
        {
          label: 'caller',
          source: fixture('prober.ts'),
          privileges: { to: ['crash-throw', 'crash-exit', 'crash-oom', 'crash-spin', 'crash-twice', 'echo'], types: ['faulty.*', 'echo.*'], kcalls: [] },
        },
        victim('crash-throw'),
        // A slower backoff, so that a message sent after its crash finds it down.
        { ...victim('crash-exit'), policy: { ...quickRestart, backoffBaseMs: 200 } },
        victim('crash-oom', { memoryMb: 32 }),
        // Spin detection: pinged every 50 ms, ended after 1 s without an answer (the margin
        // lets the test see echo answer while it is still spinning, even on a loaded machine).
        victim('crash-spin', { heartbeatMs: 50, hangMs: 1000 }),
        // Given up on after its second fault within the window.
        { ...victim('crash-twice'), policy: { ...quickRestart, maxFaults: 1 } },
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  /**
   * The common script: 1. note the row; 2. park a call from another component;
   * 3. trigger the fault with a host call; 4. check both callers got EDEADEP; 5. check
   * the kernel saw the fault; 6. wait for rs to bring it back behind the same endpoint.
   */
  async function faultAndRecover(
    label: string,
    trigger: Outgoing,
    kind: FaultKind,
    during?: (crashingSettled: () => boolean) => Promise<void>,
  ) {
    const before = await row(sys, label);
    expect(before.status).toBe('running');
    const endpoint = sys.kernel.endpointTable().find((e) => e.label === label)!.endpoint;
    expect(before.endpoint).toBe(endpoint);
    const oldInc = before.incarnation!;
    expect(value<{ incarnation: number }>(await sys.kernel.call(label, { type: 'faulty.ping' })).incarnation).toBe(oldInc);

    // 2. A component caller waiting on a parked (deferred) call.
    const parked = sys.kernel.call('caller', { type: 'probe.sendrec', to: label, msg: { type: 'faulty.park' }, timeoutMs: 20_000 }, 25_000);
    await until(async () => value<{ parked: number }>(await sys.kernel.call(label, { type: 'faulty.ping' })).parked === 1, 5_000, 'parked call');

    // 3. The request that kills it (the host waits on it).
    let settled = false;
    const crashing = sys.kernel.call(label, trigger, 20_000).finally(() => (settled = true));
    if (during) await during(() => settled);

    // 4. Nobody hangs: both callers are answered EDEADEP.
    expect(await crashing).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(value<Result>(await parked)).toMatchObject({ ok: false, code: 'EDEADEP' });

    // 5. The kernel classified the fault.
    const crash = sys.trace.find((e): e is Crashed => e.ev === 'incarnation.crashed' && e.label === label && e.incarnation === oldInc);
    expect(crash?.kind).toBe(kind);

    // 6. rs restarts it: a new incarnation behind the same endpoint, one more restart.
    const after = await until(async () => {
      const r = await row(sys, label);
      return r.status === 'running' && r.incarnation !== null && r.incarnation !== oldInc ? r : null;
    }, 15_000, `${label} restarted`);
    expect(after.endpoint).toBe(endpoint);
    expect(after.incarnation!).toBeGreaterThan(oldInc);
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.lastFault?.kind).toBe(kind);
    const eps = sys.kernel.endpointTable().find((e) => e.label === label)!;
    expect(eps).toMatchObject({ endpoint, status: 'bound', incarnation: after.incarnation });
    // The new incarnation serves, from a fresh state.
    expect(value(await sys.kernel.call(label, { type: 'faulty.ping' }))).toEqual({ incarnation: after.incarnation, parked: 0 });
    const viaCaller = value<Result>(await sys.kernel.call('caller', { type: 'probe.sendrec', to: label, msg: { type: 'faulty.ping' } }));
    expect(viaCaller).toMatchObject({ ok: true, value: { incarnation: after.incarnation } });
  }

  async function echoServes(tag: string) {
    const r = await sys.kernel.call('echo', { type: 'echo.echo', payload: tag });
    expect(value<{ payload: unknown }>(r).payload).toBe(tag);
    const viaCaller = value<Result>(await sys.kernel.call('caller', { type: 'probe.sendrec', to: 'echo', msg: { type: 'echo.echo', payload: tag } }));
    expect(viaCaller).toMatchObject({ ok: true, value: { payload: tag } });
  }

  it('a handler that throws', async () => {
    await faultAndRecover('crash-throw', { type: 'faulty.throw' }, 'throw');
    await echoServes('after throw');
  });

  it('a handler that calls process.exit', async () => {
    await faultAndRecover('crash-exit', { type: 'faulty.exit', code: 3 }, 'exit');
    await echoServes('after exit');
  });

  it('a handler that exceeds the memory limit', async () => {
    await faultAndRecover('crash-oom', { type: 'faulty.oom' }, 'oom');
    await echoServes('after oom');
  });

  it('a handler that spins forever (missed heartbeats)', async () => {
    await faultAndRecover('crash-spin', { type: 'faulty.spin' }, 'hang', async (crashingSettled) => {
      // While it spins (its caller still waiting), the rest of the system serves.
      await echoServes('during spin');
      expect(crashingSettled()).toBe(false);
      expect(sys.kernel.endpointTable().find((e) => e.label === 'crash-spin')!.status).toBe('bound');
    });
    await echoServes('after spin');
  });

  it('a restarted component can fault and be restarted again', async () => {
    await faultAndRecover('crash-throw', { type: 'faulty.throw' }, 'throw');
    expect((await row(sys, 'crash-throw')).restarts).toBe(2);
  });

  it('messages sent while it is down are held and reach the new incarnation', async () => {
    const before = await row(sys, 'crash-exit');
    sys.kernel.send('crash-exit', { type: 'faulty.exit', code: 0 });
    await until(() => sys.trace.some((e) => e.ev === 'incarnation.crashed' && e.incarnation === before.incarnation), 10_000, 'crash');
    // Sent while no incarnation is bound (rs is backing off): held, then answered by the new one.
    expect(sys.kernel.endpointTable().find((e) => e.label === 'crash-exit')!.status).toBe('unbound');
    const heldBefore = sys.trace.filter((e) => e.ev === 'msg.held' && e.type === 'faulty.ping').length;
    const reply = sys.kernel.call('crash-exit', { type: 'faulty.ping' }, 15_000);
    expect(sys.trace.filter((e) => e.ev === 'msg.held' && e.type === 'faulty.ping')).toHaveLength(heldBefore + 1);
    const r = await reply;
    const now = await row(sys, 'crash-exit');
    expect(value(r)).toEqual({ incarnation: now.incarnation, parked: 0 });
    expect(now.incarnation).not.toBe(before.incarnation);
  });

  it('a component that faults more than maxFaults times in the window is given up on', async () => {
    await faultAndRecover('crash-twice', { type: 'faulty.throw' }, 'throw');
    const before = await row(sys, 'crash-twice');
    const parked = sys.kernel.call('caller', { type: 'probe.sendrec', to: 'crash-twice', msg: { type: 'faulty.park' }, timeoutMs: 20_000 }, 25_000);
    await until(async () => value<{ parked: number }>(await sys.kernel.call('crash-twice', { type: 'faulty.ping' })).parked === 1, 5_000, 'parked call');
    expect(await sys.kernel.call('crash-twice', { type: 'faulty.throw' }, 20_000)).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(value<Result>(await parked)).toMatchObject({ ok: false, code: 'EDEADEP' });
    const failed = await until(async () => {
      const r = await row(sys, 'crash-twice');
      return r.status === 'failed' ? r : null;
    }, 10_000, 'crash-twice failed');
    expect(failed).toMatchObject({ incarnation: null, restarts: before.restarts, endpoint: before.endpoint });
    expect(failed.lastFault?.kind).toBe('throw');
    expect(sys.kernel.endpointTable().find((e) => e.label === 'crash-twice')!.status).toBe('failed');
    // Callers are answered at once, not held.
    expect(await sys.kernel.call('crash-twice', { type: 'faulty.ping' }, 20_000)).toMatchObject({ ok: false, code: 'EDEADEP' });
    const viaCaller = value<Result>(await sys.kernel.call('caller', { type: 'probe.sendrec', to: 'crash-twice', msg: { type: 'faulty.ping' }, timeoutMs: 20_000 }, 25_000));
    expect(viaCaller).toMatchObject({ ok: false, code: 'EDEADEP' });
    await echoServes('after give-up');
  });

  it('no other component was restarted', async () => {
    const all = await rows(sys);
    for (const label of ['echo', 'caller', 'ds', 'tty']) expect(all.find((r) => r.label === label)).toMatchObject({ restarts: 0, status: 'running' });
    const victims = new Set(['crash-throw', 'crash-exit', 'crash-oom', 'crash-spin', 'crash-twice']);
    expect(sys.trace.filter((e) => e.ev === 'incarnation.crashed' && !victims.has(e.label))).toEqual([]);
  });
});

describe('a component that always fails in init', () => {
  let sys: TestSystem;
  const maxInitFailures = 3;

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        { label: 'echo', source: fixture('echo.ts'), privileges: { to: [], types: [], kcalls: [] } },
        {
          label: 'caller',
          source: fixture('prober.ts'),
          privileges: { to: ['init-fail'], types: ['*'], kcalls: [] },
        },
        {
          label: 'init-fail',
          source: fixture('init-fail.ts'),
          privileges: { to: [], types: [], kcalls: [] },
          policy: { maxInitFailures, backoffBaseMs: 150, backoffMaxMs: 1000 },
        },
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  const starts = () => sys.trace.filter((e) => e.ev === 'incarnation.started' && e.label === 'init-fail');

  it('the boot completes without it, and calls made while rs retries are held, then answered EDEADEP', async () => {
    // rs is backing off between attempts: these are held, not lost and not hung.
    const host = sys.kernel.call('init-fail', { type: 'initfail.ping' }, 20_000);
    const fromCaller = sys.kernel.call('caller', { type: 'probe.sendrec', to: 'init-fail', msg: { type: 'initfail.ping' }, timeoutMs: 20_000 }, 25_000);
    expect(await host).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(value<Result>(await fromCaller)).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(sys.trace.some((e) => e.ev === 'msg.held' && e.type === 'initfail.ping')).toBe(true);
  });

  it('rs gives up after maxInitFailures attempts and marks it failed', async () => {
    const r = await until(async () => {
      const x = value<ServiceRow[]>(await sys.kernel.call('rs', { type: 'rs.list' })).find((y) => y.label === 'init-fail');
      return x?.status === 'failed' ? x : null;
    }, 10_000, 'init-fail marked failed');
    expect(r).toMatchObject({ status: 'failed', incarnation: null, restarts: 0 });
    expect(r.lastFault?.kind).toBe('init');
    expect(sys.kernel.endpointTable().find((e) => e.label === 'init-fail')!.status).toBe('failed');
    expect(sys.trace.some((e) => e.ev === 'endpoint.failed' && e.label === 'init-fail')).toBe(true);
    const crashes = sys.trace.filter((e) => e.ev === 'incarnation.crashed' && e.label === 'init-fail');
    expect(crashes.every((e) => e.ev === 'incarnation.crashed' && e.kind === 'init')).toBe(true);
    expect(starts()).toHaveLength(maxInitFailures);
  });

  it('is not respawned afterwards', async () => {
    // Longer than the next backoff step would have been.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(starts()).toHaveLength(maxInitFailures);
  });

  it('later callers get EDEADEP at once', async () => {
    expect(await sys.kernel.call('init-fail', { type: 'initfail.ping' }, 5_000)).toMatchObject({ ok: false, code: 'EDEADEP' });
    const viaCaller = value<Result>(await sys.kernel.call('caller', { type: 'probe.sendrec', to: 'init-fail', msg: { type: 'initfail.ping' }, timeoutMs: 5_000 }));
    expect(viaCaller).toMatchObject({ ok: false, code: 'EDEADEP' });
  });

  it('the rest of the system serves', async () => {
    expect(value(await sys.kernel.call('echo', { type: 'echo.echo', payload: 'ok' }))).toMatchObject({ payload: 'ok' });
  });
});

describe('heartbeats: healthy components are not ended as hung', () => {
  let sys: TestSystem;

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        {
          // init takes 800 ms (allowed: initMs is 10 s); once ready it answers every ping.
          label: 'slow-init',
          source: fixture('slow-init.ts'),
          privileges: { to: [], types: [], kcalls: [] },
          limits: { heartbeatMs: 50, hangMs: 400, initMs: 10_000 },
          policy: { maxFaults: 1, backoffBaseMs: 20 },
          args: { delayMs: 800 },
        },
        {
          // Pinged every 400 ms, and answers every ping at once: it never leaves a ping
          // unanswered for 200 ms, so it is never hung (Limits.hangMs: "has not answered a
          // ping for this long").
          label: 'sparse-heartbeat',
          source: fixture('slow-init.ts'),
          privileges: { to: [], types: [], kcalls: [] },
          limits: { heartbeatMs: 400, hangMs: 200 },
          policy: { maxFaults: 1, backoffBaseMs: 20 },
        },
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('is not ended as hung for the time it spent in init', async () => {
    // Several heartbeat periods and more than hangMs after it became ready.
    await new Promise((r) => setTimeout(r, 600));
    const hangs = sys.trace.filter((e) => e.ev === 'incarnation.crashed' && e.label === 'slow-init');
    expect(hangs).toEqual([]);
    const r = await sys.kernel.call('slow-init', { type: 'slow.ping' }, 5_000);
    expect(r).toMatchObject({ ok: true, value: { startedAfterMs: 800 } });
  });

  it('is not ended as hung between pings when hangMs is shorter than heartbeatMs', async () => {
    const inc = sys.kernel.endpointTable().find((e) => e.label === 'sparse-heartbeat')!.incarnation;
    // Three heartbeat periods.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(sys.trace.filter((e) => e.ev === 'incarnation.crashed' && e.label === 'sparse-heartbeat')).toEqual([]);
    expect(await sys.kernel.call('sparse-heartbeat', { type: 'slow.ping' }, 5_000)).toMatchObject({ ok: true, value: { incarnation: inc } });
  });
});
