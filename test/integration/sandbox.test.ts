/**
 * The user-process sandbox: a program runs in its own worker inside a vm context with
 * no Node built-ins; it reaches only the servers its privileges allow; loops and memory
 * bombs are ended; the system keeps running.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSystem, fixture, until, type TestSystem } from '../helpers/system.js';

const program = (name: string) => readFile(fixture(`programs/${name}`), 'utf8');

interface LauncherState {
  reports: Record<string, unknown>;
  exits: Array<{ label: string; status: number; error?: string }>;
  faults: Array<{ label: string; kind: string }>;
}

describe('user-process sandbox', () => {
  let sys: TestSystem;
  const state = async () => {
    const r = await sys.kernel.call('launcher', { type: 'test.state' });
    if (!r.ok) throw new Error(r.message);
    return r.value as LauncherState;
  };
  const exec = async (label: string, name: string, extra: Record<string, unknown> = {}) =>
    sys.kernel.call('launcher', {
      type: 'test.exec', label, name, text: await program(name), argv: [name], to: ['launcher'], types: ['test.report'], ...extra,
    });

  beforeAll(async () => {
    sys = await bootSystem({
      services: [{ label: 'launcher', source: fixture('launcher.ts'), privileges: { to: ['*'], types: ['*'], kcalls: ['exec'] } }],
    });
  });
  afterAll(() => sys.stop());

  it('gives a program no way out: no process, require or Buffer; Function constructors stay inside; dynamic import fails', async () => {
    expect(await exec('p-escape', 'escape.ts')).toMatchObject({ ok: true });
    const s = await until(async () => {
      const st = await state();
      return st.reports.done ? st : null;
    });
    expect(s.reports).toMatchObject({
      process: 'undefined',
      require: 'undefined',
      Buffer: 'undefined',
      fnctor: 'undefined',
      bridgector: 'undefined',
      evalproc: 'undefined',
      deep: 'undefined',
    });
    expect(String(s.reports.dynimport)).toMatch(/^rejected/);
    // Only what its privileges allow: rs, disk and ds are refused.
    expect(s.reports['send-rs']).toBe('EPERM');
    expect(s.reports['send-ds']).toBe('EPERM');
    expect(['EPERM', 'ENOENT']).toContain(s.reports['send-disk']);
    await until(async () => (await state()).exits.some((e) => e.label === 'p-escape' && e.status === 7), 5000, 'exit status 7');
    // The process is gone once it exited.
    await until(async () => {
      const eps = await sys.kernel.endpointTable();
      return eps.find((e) => e.label === 'p-escape')?.status === 'unbound';
    }, 5000, 'the process to end');
  });

  it('refuses a program that imports a Node built-in before it runs', async () => {
    const r = await exec('p-fs', 'needs-fs.ts');
    expect(r).toMatchObject({ ok: false, code: 'ENOEXEC' });
    expect((r as { message: string }).message).toMatch(/may import only "libc"/);
  });

  it('reports an uncaught error in user code as exit status 1 with the message', async () => {
    expect(await exec('p-throws', 'throws.ts')).toMatchObject({ ok: true });
    const exit = await until(async () => (await state()).exits.find((e) => e.error?.includes('boom in user code')));
    expect(exit.status).toBe(1);
  });

  it('ends an infinite loop and a memory bomb; the system keeps serving', async () => {
    expect(await exec('p-spin', 'spin.ts', { limits: { heartbeatMs: 50, hangMs: 500 } })).toMatchObject({ ok: true });
    expect(await exec('p-bomb', 'bomb.ts', { limits: { memoryMb: 32 } })).toMatchObject({ ok: true });
    const s = await until(async () => {
      const st = await state();
      return st.faults.length >= 2 ? st : null;
    }, 20_000, 'both faults');
    expect(s.faults).toEqual(expect.arrayContaining([{ label: 'p-spin', kind: 'hang' }, { label: 'p-bomb', kind: 'oom' }]));
    // rs was not involved and everything else still answers.
    const list = await sys.kernel.call('rs', { type: 'rs.list' });
    expect(list.ok).toBe(true);
    expect((list as { value: Array<{ label: string; status: string }> }).value.every((r) => r.status === 'running')).toBe(true);
  });
});
