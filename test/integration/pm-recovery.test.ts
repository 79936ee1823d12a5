/**
 * CuriOS in pm: the process table survives crashes of pm (its clients' server state
 * regions, the kernel's reports and endpoint table): running processes, zombies with
 * their exit status, a parent's wait in progress (given again by the kernel), pids never
 * reused. Under stateless-restart the table is gone (the baseline).
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProcInfo } from '../../src/servers/pm/protocol.js';
import { bootOs, fixture, until, type TestSystem } from '../helpers/system.js';

const boot = (mode: 'ssr-restart' | 'stateless-restart'): Promise<TestSystem> => bootOs({ root: 'tmpfs', policy: { label: 'pm', mode } });

describe('pm recovers its process table (server state regions)', () => {
  let sys: TestSystem | null = null;
  afterEach(async () => {
    await sys?.stop();
    sys = null;
  });
  const call = <T = unknown>(msg: Record<string, unknown> & { type: string }) => sys!.kernel.call(msg.type.split('.')[0]!, msg, 30_000) as Promise<{ ok: true; value: T } | { ok: false; code: string }>;
  const must = async <T = unknown>(msg: Record<string, unknown> & { type: string }) => {
    const r = await call<T>(msg);
    if (!r.ok) throw new Error(`${msg.type}: ${r.code}`);
    return r.value;
  };
  const pmInc = () => sys!.kernel.endpointTable().find((e) => e.label === 'pm')?.incarnation ?? null;
  async function crashPm(): Promise<void> {
    const before = pmInc();
    await must({ type: 'rs.fi', label: 'pm', kind: 'crash', at: 'pm.ps' });
    await call({ type: 'pm.ps' }); // hits the fault; given again to the recovered pm
    await until(() => pmInc() !== before && pmInc() !== null, 10_000, 'pm to come back');
  }
  async function start(): Promise<{ sleeper: number; done: number }> {
    const fd = await must<number>({ type: 'vfs.open', path: '/sleeper.ts', flags: 'w' });
    await must({ type: 'vfs.write', fd, data: new TextEncoder().encode(await readFile(fixture('programs/sleeper.ts'), 'utf8')) });
    await must({ type: 'vfs.close', fd });
    const sleeper = await must<number>({ type: 'pm.spawn', path: '/sleeper.ts', argv: ['sleeper', '60000'] });
    const done = await must<number>({ type: 'pm.spawn', path: '/bin/false.ts', argv: ['false'] });
    await until(async () => (await must<ProcInfo[]>({ type: 'pm.ps' })).find((p) => p.pid === done)?.state === 'zombie', 10_000, 'false to end');
    return { sleeper, done };
  }

  it('ssr-restart: running processes, a zombie\'s status and a wait in progress survive crashes of pm', async () => {
    sys = await boot('ssr-restart');
    const { sleeper, done } = await start();
    const waiting = call<{ pid: number; status: number }>({ type: 'pm.wait', pid: sleeper });
    await crashPm();
    const table = await must<ProcInfo[]>({ type: 'pm.ps' });
    expect(table.find((p) => p.pid === sleeper)).toMatchObject({ argv: ['sleeper', '60000'], state: 'running' });
    expect(table.find((p) => p.pid === done)).toMatchObject({ state: 'zombie', status: 1 });
    expect(await must({ type: 'pm.wait', pid: done })).toEqual({ pid: done, status: 1 });
    await crashPm();
    // A new process gets a new pid; the sleeper can still be signalled; the wait begun before the crashes answers.
    const next = await must<number>({ type: 'pm.spawn', path: '/bin/true.ts', argv: ['true'] });
    expect(next).toBeGreaterThan(Math.max(sleeper, done));
    await must({ type: 'pm.kill', pid: sleeper, signal: 'KILL' });
    expect(await waiting).toEqual({ ok: true, value: { pid: sleeper, status: 137 } });
    expect(await must({ type: 'pm.wait', pid: next })).toEqual({ pid: next, status: 0 });
  });

  it('stateless-restart (the baseline): the table is lost — the wait fails, the zombie is gone', async () => {
    sys = await boot('stateless-restart');
    const { sleeper, done } = await start();
    const waiting = call({ type: 'pm.wait', pid: sleeper });
    await crashPm();
    expect(await waiting).toMatchObject({ ok: false, code: 'EDEADEP' });
    expect(await call({ type: 'pm.wait', pid: done })).toMatchObject({ ok: false, code: 'ECHILD' });
  });
});
