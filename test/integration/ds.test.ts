/**
 * Integration: ds, the data store — publish / retrieve / delete, key ownership (only the
 * publishing endpoint may change a key), subscriptions (`ds.changed` notices), and
 * naming (label → endpoint, kept up to date by rs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/kernel/abi.js';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

function value<T>(r: Result): T {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message ?? ''}`);
  return r.value as T;
}

type Notice = { key: string; value?: unknown; deleted: boolean };
const client = (label: string) => ({
  label,
  source: fixture('prober.ts'),
  privileges: { to: ['ds'], types: ['ds.*'], kcalls: [] },
});

describe('ds', () => {
  let sys: TestSystem;
  const endpointOf = (label: string) => sys.kernel.endpointTable().find((e) => e.label === label)!.endpoint;
  /** What ds answered `who`. */
  const ds = async (who: string, msg: Record<string, unknown>) =>
    value<Result>(await sys.kernel.call(who, { type: 'probe.sendrec', to: 'ds', msg }));
  const inbox = async (who: string) => value<Notice[]>(await sys.kernel.call(who, { type: 'probe.inbox' }));

  beforeAll(async () => {
    sys = await bootSystem({
      services: [
        client('alice'),
        client('bob'),
        { label: 'echo', source: fixture('echo.ts'), privileges: { to: [], types: [], kcalls: [] } },
      ],
    });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('publish, retrieve, overwrite by the owner', async () => {
    expect(await ds('alice', { type: 'ds.publish', key: 'cfg.color', value: { rgb: [255, 0, 0] } })).toEqual({ ok: true, value: null });
    expect(await ds('bob', { type: 'ds.retrieve', key: 'cfg.color' })).toEqual({ ok: true, value: { rgb: [255, 0, 0] } });
    expect(await ds('alice', { type: 'ds.publish', key: 'cfg.color', value: 'blue' })).toEqual({ ok: true, value: null });
    expect(await ds('bob', { type: 'ds.retrieve', key: 'cfg.color' })).toEqual({ ok: true, value: 'blue' });
    expect(await ds('bob', { type: 'ds.retrieve', key: 'cfg.nonesuch' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('another endpoint cannot overwrite or delete a key it does not own', async () => {
    expect(await ds('bob', { type: 'ds.publish', key: 'cfg.color', value: 'green' })).toMatchObject({ ok: false, code: 'EPERM' });
    expect(await ds('bob', { type: 'ds.delete', key: 'cfg.color' })).toMatchObject({ ok: false, code: 'EPERM' });
    // Nor can the host: ownership is by endpoint, and the host is endpoint 1.
    expect(await sys.kernel.call('ds', { type: 'ds.publish', key: 'cfg.color', value: 'host' })).toMatchObject({ ok: false, code: 'EPERM' });
    expect(await ds('alice', { type: 'ds.retrieve', key: 'cfg.color' })).toEqual({ ok: true, value: 'blue' });
  });

  it('service.* keys belong to rs', async () => {
    expect(await ds('alice', { type: 'ds.publish', key: 'service.echo', value: { endpoint: 1 } })).toMatchObject({ ok: false, code: 'EPERM' });
    expect(await ds('alice', { type: 'ds.service', label: 'echo', endpoint: 1, status: 'running' })).toMatchObject({ ok: false, code: 'EPERM' });
    const echo = await until(async () => {
      const r = await ds('alice', { type: 'ds.retrieve', key: 'service.echo' });
      return r.ok ? r : null;
    });
    expect(echo.value).toEqual({ endpoint: endpointOf('echo'), status: 'running' });
  });

  it('the owner can delete; then the key is gone', async () => {
    expect(await ds('alice', { type: 'ds.publish', key: 'tmp.x', value: 1 })).toMatchObject({ ok: true });
    expect(await ds('alice', { type: 'ds.delete', key: 'tmp.x' })).toEqual({ ok: true, value: null });
    expect(await ds('bob', { type: 'ds.retrieve', key: 'tmp.x' })).toMatchObject({ ok: false, code: 'ENOENT' });
    expect(await ds('alice', { type: 'ds.delete', key: 'tmp.x' })).toMatchObject({ ok: false, code: 'ENOENT' });
    // Once deleted, anyone may publish it afresh (and then owns it).
    expect(await ds('bob', { type: 'ds.publish', key: 'tmp.x', value: 2 })).toMatchObject({ ok: true });
    expect(await ds('alice', { type: 'ds.publish', key: 'tmp.x', value: 3 })).toMatchObject({ ok: false, code: 'EPERM' });
  });

  it('keys lists matching keys, sorted', async () => {
    await ds('alice', { type: 'ds.publish', key: 'cfg.b', value: 1 });
    await ds('alice', { type: 'ds.publish', key: 'cfg.a', value: 1 });
    expect(await ds('bob', { type: 'ds.keys', pattern: 'cfg.*' })).toEqual({ ok: true, value: ['cfg.a', 'cfg.b', 'cfg.color'] });
  });

  it('a subscriber is sent ds.changed for every change to a matching key, in order', async () => {
    expect(await ds('bob', { type: 'ds.subscribe', pattern: 'watch.*' })).toEqual({ ok: true, value: null });
    await ds('alice', { type: 'ds.publish', key: 'watch.one', value: 1 });
    await ds('alice', { type: 'ds.publish', key: 'other.key', value: 'ignored' });
    await ds('alice', { type: 'ds.publish', key: 'watch.one', value: 2 });
    await ds('bob', { type: 'ds.publish', key: 'watch.two', value: 'mine' });
    // A refused write changes nothing and notifies nobody.
    expect(await ds('bob', { type: 'ds.publish', key: 'watch.one', value: 'stolen' })).toMatchObject({ ok: false, code: 'EPERM' });
    await ds('alice', { type: 'ds.delete', key: 'watch.one' });
    const got = await until(async () => {
      const x = await inbox('bob');
      return x.length >= 4 ? x : null;
    }, 5_000, 'ds.changed notices');
    expect(got).toEqual([
      { key: 'watch.one', value: 1, deleted: false },
      { key: 'watch.one', value: 2, deleted: false },
      { key: 'watch.two', value: 'mine', deleted: false },
      { key: 'watch.one', value: undefined, deleted: true },
    ]);
    expect(await inbox('alice')).toEqual([]);
  });

  it('unsubscribing stops the notices', async () => {
    expect(await ds('bob', { type: 'ds.unsubscribe', pattern: 'watch.*' })).toEqual({ ok: true, value: null });
    expect(await ds('bob', { type: 'ds.unsubscribe', pattern: 'watch.*' })).toMatchObject({ ok: false, code: 'ENOENT' });
    const before = (await inbox('bob')).length;
    await ds('alice', { type: 'ds.publish', key: 'watch.three', value: 3 });
    // Notices are sent before ds replies, so one would already be ahead of this call.
    await ds('bob', { type: 'ds.retrieve', key: 'watch.three' });
    expect(await inbox('bob')).toHaveLength(before);
  });

  it('lookup of a label returns its endpoint', async () => {
    for (const label of ['echo', 'alice', 'rs', 'ds']) {
      expect(await ds('bob', { type: 'ds.lookup', label })).toEqual({ ok: true, value: endpointOf(label) });
    }
    expect(await ds('bob', { type: 'ds.lookup', label: 'nonesuch' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });

  it('a restart keeps the endpoint; rs tells ds and ds tells subscribers', async () => {
    const endpoint = endpointOf('echo');
    const oldInc = sys.kernel.endpointTable().find((e) => e.label === 'echo')!.incarnation;
    expect(await ds('alice', { type: 'ds.subscribe', pattern: 'service.echo' })).toEqual({ ok: true, value: null });
    const r = value<{ incarnation: number }>(await sys.kernel.call('rs', { type: 'rs.restart', label: 'echo' }));
    expect(r.incarnation).not.toBe(oldInc);
    const notices = await until(async () => {
      const x = (await inbox('alice')).filter((n) => n.key === 'service.echo');
      return x.length > 0 ? x : null;
    }, 5_000, 'service.echo notice');
    expect(notices.at(-1)).toEqual({ key: 'service.echo', value: { endpoint, status: 'running' }, deleted: false });
    expect(await ds('bob', { type: 'ds.lookup', label: 'echo' })).toEqual({ ok: true, value: endpoint });
    expect(value(await sys.kernel.call('echo', { type: 'echo.info' }))).toMatchObject({ incarnation: r.incarnation });
  });

  it('malformed requests are EINVAL and ds keeps serving', async () => {
    const r = await ds('alice', { type: 'ds.publish', value: 1 });
    expect(r).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(!r.ok && r.message).toMatch(/\bkey\b/);
    expect(await ds('alice', { type: 'ds.publish', key: '', value: 1 })).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(await ds('alice', { type: 'ds.nonesuch' })).toMatchObject({ ok: false, code: 'ENOSYS' });
    expect(await ds('bob', { type: 'ds.retrieve', key: 'cfg.color' })).toEqual({ ok: true, value: 'blue' });
    expect(sys.trace.some((e) => e.ev === 'incarnation.crashed')).toBe(false);
  });
});
