/**
 * Daemons: services the boot configuration lists under `daemons` start only on
 * `service up` (as /etc/rc does), with argument overrides; they are then services like
 * any other; `service down` stops one (callers get EDEADEP) and it can come up again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSystem, fixture, type TestSystem } from '../helpers/system.js';

describe('service up / down: daemons of the boot configuration', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await bootSystem({
      config: (c) => ({
        ...c,
        daemons: [{ label: 'counterd', source: fixture('counter.ts'), privileges: { to: [], types: [], kcalls: [] }, args: { a: 1 } }],
      }),
    });
  });
  afterAll(() => sys.stop());
  const rs = (msg: Record<string, unknown>) => sys.kernel.call('rs', msg as { type: string });
  const labels = async () => ((await rs({ type: 'rs.list' })) as { value: Array<{ label: string; status: string }> }).value;

  it('a daemon is not running until it is brought up; then it serves and is listed', async () => {
    expect((await labels()).some((r) => r.label === 'counterd')).toBe(false);
    const up = await rs({ type: 'rs.up', label: 'counterd', args: { b: 2 } });
    expect(up.ok).toBe(true);
    expect((await labels()).find((r) => r.label === 'counterd')?.status).toBe('running');
    sys.kernel.call('counterd', { type: 'counter.hit', tag: 'x', seq: 1 });
    const got = await sys.kernel.call('counterd', { type: 'counter.get' });
    expect(got).toMatchObject({ ok: true, value: { log: [{ tag: 'x' }] } });
    expect(await rs({ type: 'rs.up', label: 'counterd' })).toMatchObject({ ok: false, code: 'EEXIST' });
  });

  it('down stops it: callers get EDEADEP; up brings a fresh one back', async () => {
    expect(await rs({ type: 'rs.down', label: 'counterd' })).toMatchObject({ ok: true });
    expect(await sys.kernel.call('counterd', { type: 'counter.get' })).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect((await labels()).some((r) => r.label === 'counterd')).toBe(false);
    expect(await rs({ type: 'rs.up', label: 'counterd' })).toMatchObject({ ok: true });
    expect(await sys.kernel.call('counterd', { type: 'counter.get' })).toMatchObject({ ok: true, value: { log: [] } });
  });

  it('unknown daemons and boot-image services are refused with reasons', async () => {
    expect(await rs({ type: 'rs.up', label: 'nope' })).toMatchObject({ ok: false, code: 'ENOENT' });
    const r = await rs({ type: 'rs.down', label: 'mfs' });
    expect(r).toMatchObject({ ok: false, code: 'EPERM' });
    expect(await rs({ type: 'rs.down', label: 'nope' })).toMatchObject({ ok: false, code: 'ENOENT' });
  });
});
