/**
 * CuriOS in vfs: a program keeps one file open for writing and another for reading
 * while vfs crashes under it (injected faults: crash and throw, mid-run). With vfs's
 * ssr-restart policy its fds and offsets come back from its server state region and the
 * request that hit the fault is given again: the program never notices, and its file is
 * exactly what a run without faults writes. With stateless-restart (the baseline) the
 * same faults lose the program's fds: it sees errors.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { bootOs, fixture, until, type TestSystem } from '../helpers/system.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

const boot = (mode: 'ssr-restart' | 'stateless-restart'): Promise<TestSystem> => bootOs({ root: 'mfs', policy: { label: 'vfs', mode } });

describe('vfs recovers with its clients\' state (server state regions)', () => {
  let sys: TestSystem | null = null;
  afterEach(async () => {
    await sys?.stop();
    sys = null;
  });
  const call = async <T = unknown>(msg: Record<string, unknown> & { type: string }, to = msg.type.split('.')[0]!) => {
    const r = await sys!.kernel.call(to, msg, 60_000);
    if (!r.ok) throw new Error(`${msg.type}: ${r.code} ${r.message ?? ''}`);
    return r.value as T;
  };
  const put = async (path: string, text: string) => {
    const fd = await call<number>({ type: 'vfs.open', path, flags: 'w' });
    await call({ type: 'vfs.write', fd, data: enc(text) });
    await call({ type: 'vfs.close', fd });
  };
  const get = async (path: string) => {
    const fd = await call<number>({ type: 'vfs.open', path, flags: 'r' });
    let s = '';
    for (;;) {
      const c = await call<Uint8Array>({ type: 'vfs.read', fd, length: 65536 });
      if (c.length === 0) break;
      s += dec(c);
    }
    await call({ type: 'vfs.close', fd });
    return s;
  };
  const vfsIncarnation = () => sys!.kernel.endpointTable().find((e) => e.label === 'vfs')?.incarnation ?? null;

  /** Run churn (N lines) and inject each fault into vfs while it runs; → its exit status. */
  async function churnUnderFaults(lines: number, faults: Array<{ kind: string; at: string; after: number }>): Promise<number> {
    await put('/churn.ts', await readFile(fixture('programs/churn.ts'), 'utf8'));
    const pid = await call<number>({ type: 'pm.spawn', path: '/churn.ts', argv: ['churn', String(lines), '/churn.log'] });
    const waited = call<{ status: number }>({ type: 'pm.wait', pid });
    for (const f of faults) {
      const before = vfsIncarnation();
      await call({ type: 'rs.fi', label: 'vfs', ...f });
      await until(() => vfsIncarnation() !== before && vfsIncarnation() !== null, 20_000, `vfs to crash (${f.kind}) and come back`);
    }
    return (await waited).status;
  }

  it('ssr-restart: the program keeps its fds and offsets across crashes of vfs; its file is as without faults', async () => {
    sys = await boot('ssr-restart');
    const status = await churnUnderFaults(300, [
      { kind: 'crash', at: 'vfs.write', after: 30 },
      { kind: 'throw', at: 'vfs.read', after: 30 },
      { kind: 'crash', at: 'vfs.read', after: 10 },
    ]);
    expect(status).toBe(0);
    expect(await get('/churn.log.result')).toBe('300 0\n');
    expect(await get('/churn.log')).toBe(Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join(''));
    const faults = await call<Array<{ label: string; action: string }>>({ type: 'rs.faults', label: 'vfs' });
    expect(faults.filter((f) => f.label === 'vfs').length).toBe(3);
  });

  it('mfs, and vfs and mfs in turn: mfs comes back from the disk and its journal, the requests it was running given again; the file is as without faults', async () => {
    sys = await boot('ssr-restart');
    await put('/churn.ts', await readFile(fixture('programs/churn.ts'), 'utf8'));
    const pid = await call<number>({ type: 'pm.spawn', path: '/churn.ts', argv: ['churn', '300', '/churn2.log'] });
    const waited = call<{ status: number }>({ type: 'pm.wait', pid });
    const incOf = (label: string) => sys!.kernel.endpointTable().find((e) => e.label === label)?.incarnation ?? null;
    for (const [label, kind, at] of [['mfs', 'crash', 'mfs.write'], ['vfs', 'crash', 'vfs.write'], ['mfs', 'throw', 'mfs.read'], ['vfs', 'throw', 'vfs.read']] as const) {
      const before = incOf(label);
      await call({ type: 'rs.fi', label, kind, at, after: 15 });
      await until(() => incOf(label) !== before && incOf(label) !== null, 20_000, `${label} to crash (${kind}) and come back`);
    }
    expect((await waited).status).toBe(0);
    expect(await get('/churn2.log.result')).toBe('300 0\n');
    expect(await get('/churn2.log')).toBe(Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join(''));
  });

  it('stateless-restart (the baseline): the same faults lose the program\'s fds', async () => {
    sys = await boot('stateless-restart');
    const status = await churnUnderFaults(300, [{ kind: 'crash', at: 'vfs.write', after: 30 }]);
    expect(status).not.toBe(0);
  });
});
