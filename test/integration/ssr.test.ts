/**
 * Server state regions and transparent recovery (DESIGN.md §5, CuriOS), at the level of
 * the mechanism: a server keeps each client's session in a region the kernel holds;
 * a crash in the middle of a request leaves every region as before the request; under
 * ssr-restart the request is given again to the recovered incarnation (built by
 * `recover` from the regions) and the client sees no error; past the retries it gets
 * EIO; under stateless-restart the client gets EDEADEP and its session is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/kernel/abi.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

const server = (label: string, policy: ServiceConfig['policy']): ServiceConfig => ({
  label, source: fixture('ssr-sessions.ts'), privileges: { to: [], types: [], kcalls: [] }, policy,
});

describe('server state regions: recovery that keeps client state', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        server('sess', { mode: 'ssr-restart', retries: 1, backoffBaseMs: 1 }),
        server('sess0', { mode: 'ssr-restart', retries: 0, backoffBaseMs: 1 }),
        server('sessx', { mode: 'stateless-restart', backoffBaseMs: 1 }),
        { label: 'relay', source: fixture('ssr-relay.ts'), privileges: { to: ['sess', 'sess0', 'sessx'], types: ['sess.*'], kcalls: [] } },
      ],
    });
  });
  afterAll(() => sys.stop());
  const call = (to: string, msg: Record<string, unknown>) => sys.kernel.call(to, msg as { type: string }, 20_000);
  const viaRelay = (to: string, msg: Record<string, unknown>) => sys.kernel.call('relay', { type: 'relay.call', to, msg } as { type: string }, 20_000);
  const incarnation = async (label: string) => sys.kernel.endpointTable().find((e) => e.label === label)?.incarnation ?? null;

  it('ssr-restart: a request that crashes the server mid-way is given again to the recovered incarnation; no client sees an error or loses state', async () => {
    expect(await call('sess', { type: 'sess.add', n: 5 })).toEqual({ ok: true, value: 5 });
    expect(await viaRelay('sess', { type: 'sess.add', n: 7 })).toEqual({ ok: true, value: 7 });
    const before = await incarnation('sess');
    // Changes the host's region to 5+2 and crashes before completing: the region stays 5;
    // the recovered incarnation runs the request again: 7, exactly once.
    expect(await call('sess', { type: 'sess.add', n: 2, crash: 'first' })).toEqual({ ok: true, value: 7 });
    expect(await incarnation('sess')).not.toBe(before);
    expect(await call('sess', { type: 'sess.get' })).toEqual({ ok: true, value: { total: 7, adds: [5, 2] } });
    // The other client's region is untouched, and the internal state was rebuilt from the regions.
    expect(await viaRelay('sess', { type: 'sess.get' })).toEqual({ ok: true, value: { total: 7, adds: [7] } });
    expect(await viaRelay('sess', { type: 'sess.internal' })).toEqual({ ok: true, value: { total: 7, recovered: true } });
  });

  it('a request that crashes every incarnation is answered EIO after the retries; the regions are as before it', async () => {
    expect(await call('sess', { type: 'sess.add', n: 100, crash: 'always' })).toMatchObject({ ok: false, code: 'EIO' });
    await until(async () => (await call('sess', { type: 'sess.get' })).ok, 10_000, 'sess to be back');
    expect(await call('sess', { type: 'sess.get' })).toEqual({ ok: true, value: { total: 7, adds: [5, 2] } });
    // With no retries, the first crash answers EIO.
    expect(await call('sess0', { type: 'sess.add', n: 3 })).toEqual({ ok: true, value: 3 });
    expect(await call('sess0', { type: 'sess.add', n: 1, crash: 'first' })).toMatchObject({ ok: false, code: 'EIO' });
    await until(async () => (await call('sess0', { type: 'sess.get' })).ok, 10_000, 'sess0 to be back');
    expect(await call('sess0', { type: 'sess.get' })).toEqual({ ok: true, value: { total: 3, adds: [3] } });
  });

  it('stateless-restart (the baseline): the caller gets EDEADEP and every session is lost', async () => {
    expect(await call('sessx', { type: 'sess.add', n: 4 })).toEqual({ ok: true, value: 4 });
    expect(await viaRelay('sessx', { type: 'sess.add', n: 9 })).toEqual({ ok: true, value: 9 });
    expect(await call('sessx', { type: 'sess.add', n: 1, crash: 'first' })).toMatchObject({ ok: false, code: 'EDEADEP' });
    await until(async () => (await call('sessx', { type: 'sess.get' })).ok, 10_000, 'sessx to be back');
    expect(await call('sessx', { type: 'sess.get' })).toEqual({ ok: true, value: { total: 0, adds: [] } });
    expect(await viaRelay('sessx', { type: 'sess.get' })).toEqual({ ok: true, value: { total: 0, adds: [] } });
  });

  it('a client that says goodbye has its region removed', async () => {
    expect(await viaRelay('sess', { type: 'sess.bye' })).toEqual({ ok: true, value: null });
    expect(await viaRelay('sess', { type: 'sess.get' })).toEqual({ ok: true, value: { total: 0, adds: [] } });
  });
});
