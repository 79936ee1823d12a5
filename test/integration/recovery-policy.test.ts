/**
 * Integration: recovery policies as data, every fault recorded, fault injection
 * (DESIGN.md §5). A fixture server (fi-echo) gets each kind of injected fault through
 * `rs.fi` — crash, throw, hang (short heartbeat), oom (small heap), corrupt (seeded) — and
 * the test checks what rs recorded (kind, the request it hit, the action, the time to
 * recover), that the service runs again, that `after` lets the first requests through,
 * that a seed makes a corruption repeatable. `rs.policy` changes the recovery mode and the
 * kernel honours it: under ssr-restart the call a crash interrupted is given to the next
 * incarnation (the client sees no error), with no retries left it gets EIO, stateless it
 * gets EDEADEP. A component whose restarts keep failing in init is given up on (callers
 * get EDEADEP) while the rest keeps running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Outgoing, Result } from '../../src/kernel/abi.js';
import type { FaultRow, FiResult, PolicyView, ServiceRow } from '../../src/servers/rs/protocol.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

const quick = { backoffBaseMs: 20, backoffMaxMs: 200, maxFaults: 100, windowMs: 60_000 };
const none = { to: [], types: [], kcalls: [] };

describe('recovery policies, the fault log and fault injection', () => {
  let sys: TestSystem;
  const rs = (msg: Outgoing) => sys.kernel.call('rs', msg, 20_000);
  const echo = (msg: Outgoing) => sys.kernel.call('fi-echo', msg, 20_000);
  const row = async (label: string) => value<ServiceRow[]>(await rs({ type: 'rs.list' })).find((r) => r.label === label)!;
  const faults = async (label?: string) => value<FaultRow[]>(await rs({ type: 'rs.faults', ...(label ? { label } : {}) }));
  const fi = async (plan: Record<string, unknown>) => value<FiResult>(await rs({ type: 'rs.fi', label: 'fi-echo', ...plan }));
  const policy = async (change: Record<string, unknown>) => value<PolicyView>(await rs({ type: 'rs.policy', label: 'fi-echo', ...change }));

  /** The next fault of fi-echo after `n` recorded ones, once rs has it running again. */
  async function nextFault(n: number): Promise<FaultRow> {
    return until(async () => {
      const f = (await faults('fi-echo'))[n];
      return f && f.recoveredMs !== null && (await row('fi-echo')).status === 'running' ? f : null;
    }, 15_000, 'fi-echo to fault and recover');
  }

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        {
          label: 'fi-echo', source: fixture('fi-echo.ts'), privileges: none,
          // A hang is found within ~1 s; 32 MiB of heap runs out fast.
          limits: { heartbeatMs: 50, hangMs: 1000, memoryMb: 32 },
          policy: quick,
        },
        { label: 'fi-fragile', source: fixture('fi-fragile.ts'), privileges: none, policy: { ...quick, maxInitFailures: 3 } },
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('defaults: stateless-restart, one retry; the boot configuration sets the rest', async () => {
    expect(await policy({})).toEqual({ label: 'fi-echo', mode: 'stateless-restart', retries: 1, maxInitFailures: 3, ...quick });
    expect(await faults('fi-echo')).toEqual([]);
  });

  for (const [kind, faultKind] of [['crash', 'exit'], ['throw', 'throw'], ['hang', 'hang'], ['oom', 'oom']] as const) {
    it(`${kind}: recorded as ${faultKind} on the request it hit, restarted, running again`, async () => {
      const before = await row('fi-echo');
      const n = (await faults('fi-echo')).length;
      expect(await fi({ kind, at: 'fi.echo' })).toMatchObject({ label: 'fi-echo', incarnation: before.incarnation, plan: { kind, at: 'fi.echo' } });
      // Not every request: a fi.get goes through.
      value(await echo({ type: 'fi.get' }));
      expect(await echo({ type: 'fi.echo', payload: kind })).toMatchObject({ ok: false, code: 'EDEADEP' });
      const f = await nextFault(n);
      expect(f).toMatchObject({ label: 'fi-echo', incarnation: before.incarnation, kind: faultKind, requests: ['fi.echo'], action: 'restart', injected: kind });
      expect(f.recoveredMs).toBeGreaterThanOrEqual(0);
      const after = await row('fi-echo');
      expect(after).toMatchObject({ status: 'running', endpoint: before.endpoint, restarts: before.restarts + 1 });
      expect(after.incarnation).not.toBe(before.incarnation);
      expect(value(await echo({ type: 'fi.echo', payload: 'back' }))).toEqual({ payload: 'back', incarnation: after.incarnation });
    });
  }

  it('--after N lets the first N matching requests through', async () => {
    const n = (await faults('fi-echo')).length;
    value(await echo({ type: 'fi.reset' }));
    await fi({ kind: 'throw', at: 'fi.add', after: 2 });
    expect(value(await echo({ type: 'fi.add', n: 1 }))).toMatchObject({ counter: 1 });
    value(await echo({ type: 'fi.echo', payload: 'not counted' }));
    expect(value(await echo({ type: 'fi.add', n: 1 }))).toMatchObject({ counter: 2 });
    expect(await echo({ type: 'fi.add', n: 1 })).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(await nextFault(n)).toMatchObject({ kind: 'throw', requests: ['fi.add'], action: 'restart', injected: 'throw' });
    // A stateless restart: the counter starts over.
    expect(value(await echo({ type: 'fi.add', n: 5 }))).toMatchObject({ counter: 5 });
  });

  it('--clear disarms', async () => {
    await fi({ kind: 'throw', at: 'fi.echo' });
    expect(await fi({ clear: true })).toMatchObject({ plan: null });
    value(await echo({ type: 'fi.echo', payload: 'safe' }));
  });

  it('corrupt: the same seed twice gives the same corruption; the server catches it as a throw', async () => {
    const corrupted = async (seed: number) => {
      value(await echo({ type: 'fi.reset' }));
      await fi({ kind: 'corrupt', at: 'fi.get', seed });
      const { incarnation: _i, ...state } = value<{ core: unknown; shadow: string; incarnation: number }>(await echo({ type: 'fi.get' }));
      return state;
    };
    value(await echo({ type: 'fi.reset' }));
    const { incarnation: _i, ...clean } = value<Record<string, unknown>>(await echo({ type: 'fi.get' }));
    const a = await corrupted(7);
    const b = await corrupted(7);
    expect(a).not.toEqual(clean);
    expect(b).toEqual(a);
    // Nothing crashed so far: a corruption is silent until something checks.
    const n = (await faults('fi-echo')).length;
    expect(await echo({ type: 'fi.add', n: 1 })).toMatchObject({ ok: false, code: 'EDEADEP' });
    const f = await nextFault(n);
    expect(f).toMatchObject({ kind: 'throw', requests: ['fi.add'], injected: 'corrupt' });
    expect(f.message).toContain('state corrupted');
    // After the restart the state is whole again.
    expect(value(await echo({ type: 'fi.add', n: 2 }))).toMatchObject({ counter: 2 });
  });

  it('ssr-restart with retries 1: the interrupted call is given to the next incarnation and succeeds', async () => {
    expect(await policy({ mode: 'ssr-restart', retries: 1 })).toMatchObject({ mode: 'ssr-restart', retries: 1, backoffBaseMs: 20 });
    const before = await row('fi-echo');
    const n = (await faults('fi-echo')).length;
    await fi({ kind: 'throw', at: 'fi.echo' });
    const r = value<{ payload: string; incarnation: number }>(await echo({ type: 'fi.echo', payload: 'retried' }));
    expect(r.payload).toBe('retried');
    expect(r.incarnation).not.toBe(before.incarnation);
    expect(await nextFault(n)).toMatchObject({ kind: 'throw', requests: ['fi.echo'], action: 'ssr-restart' });
  });

  it('ssr-restart with retries 0: EIO', async () => {
    expect(await policy({ retries: 0 })).toMatchObject({ mode: 'ssr-restart', retries: 0 });
    const n = (await faults('fi-echo')).length;
    await fi({ kind: 'throw', at: 'fi.echo' });
    expect(await echo({ type: 'fi.echo', payload: 'lost' })).toMatchObject({ ok: false, code: 'EIO' });
    expect(await nextFault(n)).toMatchObject({ action: 'ssr-restart' });
  });

  it('back to stateless-restart: EDEADEP', async () => {
    expect(await policy({ mode: 'stateless-restart', retries: 1 })).toMatchObject({ mode: 'stateless-restart' });
    const n = (await faults('fi-echo')).length;
    await fi({ kind: 'throw', at: 'fi.echo' });
    expect(await echo({ type: 'fi.echo', payload: 'x' })).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(await nextFault(n)).toMatchObject({ action: 'restart' });
  });

  it('policy and fi refuse what they should', async () => {
    const bad = await rs({ type: 'rs.policy', label: 'fi-echo', mode: 'reboot', retries: -1 });
    expect(bad).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(!bad.ok && bad.message).toMatch(/mode: .*; retries: /);
    expect(await policy({})).toMatchObject({ mode: 'stateless-restart', retries: 1 }); // unchanged
    expect(await rs({ type: 'rs.policy', label: 'nope' })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await rs({ type: 'rs.policy', label: 'rs', retries: 2 })).toMatchObject({ ok: false, code: 'EPERM' });
    expect(await rs({ type: 'rs.fi', label: 'fi-echo', kind: 'explode' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await rs({ type: 'rs.fi', label: 'fi-echo' })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await rs({ type: 'rs.fi', label: 'fi-echo', kind: 'throw', after: -1 })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await rs({ type: 'rs.fi', label: 'nope', kind: 'throw' })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await rs({ type: 'rs.fi', label: 'rs', kind: 'throw' })).toMatchObject({ ok: false, code: 'EPERM' });
    expect(await rs({ type: 'rs.faults', label: 'nope' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('restarts failing in init three times: given up on, callers get EDEADEP, the rest keeps running', async () => {
    const before = await row('fi-fragile');
    await rs({ type: 'rs.fi', label: 'fi-fragile', kind: 'crash' });
    expect(await sys.kernel.call('fi-fragile', { type: 'fragile.ping' }, 20_000)).toMatchObject({ ok: false, code: 'EDEADEP' });
    // A call made while rs retries is held, then answered EDEADEP when rs gives up.
    const held = sys.kernel.call('fi-fragile', { type: 'fragile.ping' }, 20_000);
    await until(async () => (await row('fi-fragile')).status === 'failed', 15_000, 'fi-fragile marked failed');
    expect(await held).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(await sys.kernel.call('fi-fragile', { type: 'fragile.ping' }, 5_000)).toMatchObject({ ok: false, code: 'EDEADEP' });
    const fs = await faults('fi-fragile');
    expect(fs.map((f) => [f.kind, f.action])).toEqual([['exit', 'restart'], ['init', 'restart'], ['init', 'restart'], ['init', 'give-up']]);
    expect(fs[0]).toMatchObject({ incarnation: before.incarnation, requests: ['fragile.ping'], injected: 'crash', recoveredMs: null });
    expect(fs.slice(1).every((f) => f.message.includes('cannot come back') && f.recoveredMs === null)).toBe(true);
    expect(fs[1]!.incarnation).toEqual(expect.any(Number));
    // Not running: nothing to inject into.
    expect(await rs({ type: 'rs.fi', label: 'fi-fragile', kind: 'throw' })).toMatchObject({ ok: false, code: 'ESRCH' });
    // The rest runs on.
    value(await echo({ type: 'fi.echo', payload: 'still here' }));
    value(await sys.kernel.call('ds', { type: 'ds.lookup', label: 'fi-echo' }));
    // All faults, oldest first, across services.
    const all = await faults();
    expect(all.map((f) => f.label)).toEqual(expect.arrayContaining(['fi-echo', 'fi-fragile']));
    expect(all.every((f, i) => i === 0 || all[i - 1]!.at <= f.at)).toBe(true);
  });
});
