/**
 * Integration: the kernel survives whatever a component hands it. A component is
 * untrusted: typed code cannot send a message that is not an object, but `ctx.send(to,
 * null)` is one cast away. The kernel must refuse such a message like any other bad one
 * (EINVAL, `msg.refused`), and neither the kernel nor the sender may die of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/kernel/abi.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

describe('malformed traffic from a component', () => {
  let sys: TestSystem;
  const endpointOf = (label: string) => sys.kernel.endpointTable().find((e) => e.label === label)!.endpoint;
  const incarnationOf = (label: string) => sys.kernel.endpointTable().find((e) => e.label === label)!.incarnation;

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        { label: 'echo', source: fixture('echo.ts'), privileges: { to: [], types: [], kcalls: [] } },
        { label: 'alice', source: fixture('prober.ts'), privileges: { to: ['echo'], types: ['*'], kcalls: ['*'] } },
        { label: 'rogue', source: fixture('rogue.ts'), privileges: { to: ['echo'], types: ['*'], kcalls: [] }, policy: { backoffBaseMs: 20 } },
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('messages that are objects without a usable type are EINVAL (control case)', async () => {
    for (const msg of [42, 'echo.echo', {}, { type: 7 }]) {
      const inner = value<Result>(await sys.kernel.call('alice', { type: 'probe.sendrec', to: 'echo', msg, timeoutMs: 2_000 }));
      expect(inner).toMatchObject({ ok: false, code: 'EINVAL' });
    }
  });

  for (const [what, msg] of [['null', null], ['undefined', undefined]] as const) {
    it(`a one-way ${what} message is refused (EINVAL, traced); the kernel and the sender keep running`, async () => {
      const alice = incarnationOf('alice');
      const refused = () =>
        sys.trace.filter((e) => e.ev === 'msg.refused' && e.from === endpointOf('alice') && e.code === 'EINVAL').length;
      const before = refused();
      // The runtime's send passes the message through untouched: this is the kernel's to refuse.
      expect(await sys.kernel.call('alice', { type: 'probe.send', to: 'echo', msg }, 5_000)).toEqual({ ok: true, value: null });
      await until(() => refused() === before + 1, 2_000, 'msg.refused for the bad message');
      expect(incarnationOf('alice')).toBe(alice);
      expect(value(await sys.kernel.call('echo', { type: 'echo.echo', payload: what }))).toMatchObject({ payload: what });
    });
  }

  it('malformed kernel calls are refused, not fatal', async () => {
    for (const kcall of [{ call: 'filter', label: 'echo' }, { call: 'spawn' }, { call: 'nonesuch' }, { call: 'bind', label: 'echo' }]) {
      const inner = value<Result>(await sys.kernel.call('alice', { type: 'probe.kcall', kcall }, 5_000));
      expect(inner.ok).toBe(false);
    }
  });

  it('raw values that are not kernel operations do not escape the kernel as exceptions', async () => {
    // In a real `molt boot` an exception escaping the kernel's worker listener ends the whole system.
    const escaped: unknown[] = [];
    const onUncaught = (e: unknown) => escaped.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      for (const up of [null, 42, { op: 'send', to: 'echo', msg: null }, { op: 'call', to: 'echo', id: 1, msg: undefined }]) {
        // The rogue may be ended for it (its own fault) — then this call is EDEADEP — but the kernel goes on.
        await sys.kernel.call('rogue', { type: 'rogue.post', up }, 5_000);
        await new Promise((r) => setTimeout(r, 50));
        expect(value(await sys.kernel.call('echo', { type: 'echo.echo', payload: 'after' }))).toMatchObject({ payload: 'after' });
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(escaped.map(String)).toEqual([]);
  });

  it('nothing crashed but the rogue, and everyone still serves', async () => {
    expect(sys.trace.filter((e) => e.ev === 'incarnation.crashed' && e.label !== 'rogue')).toEqual([]);
    expect(value(await sys.kernel.call('echo', { type: 'echo.echo', payload: 'alive' }))).toMatchObject({ payload: 'alive' });
    const viaAlice = value<Result>(await sys.kernel.call('alice', { type: 'probe.sendrec', to: 'echo', msg: { type: 'echo.echo', payload: 1 } }));
    expect(viaAlice).toMatchObject({ ok: true, value: { payload: 1 } });
  });
});
