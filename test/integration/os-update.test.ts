/**
 * Live update of the OS servers while a program keeps reading and writing files: each
 * of vfs, pm, tty, tmpfs and bootfs is updated to its version 2 (a changed state layout,
 * test/corpus/<server>/v2.ts) and rolled back, mid-run; the program's files and checks
 * come out exactly as in a run without updates.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTY_USER, osServices } from '../../src/boot/os.js';
import { bootSystem, fixture, type TestSystem } from '../helpers/system.js';

const corpus = (server: string) => fileURLToPath(new URL(`../corpus/${server}/v2.ts`, import.meta.url));
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

describe.each([
  { root: 'tmpfs' as const, servers: ['vfs', 'tmpfs', 'pm', 'tty', 'bootfs'], back: ['vfs', 'tmpfs'] },
  { root: 'mfs' as const, servers: ['vfs', 'mfs', 'disk', 'pm', 'tty'], back: ['vfs', 'pm'] },
])('live update of the OS servers under a file workload (root on $root)', ({ root, servers, back }) => {
  let sys: TestSystem;
  const call = async <T = unknown>(to: string, msg: Record<string, unknown>) => {
    const r = await sys.kernel.call(to, msg as { type: string }, 60_000);
    if (!r.ok) throw new Error(`${to} ${String(msg.type)}: ${r.code} ${r.message ?? ''}`);
    return r.value as T;
  };
  const readAll = async (path: string) => {
    const fd = await call<number>('vfs', { type: 'vfs.open', path, flags: 'r' });
    let s = '';
    for (;;) {
      const c = await call<Uint8Array>('vfs', { type: 'vfs.read', fd, length: 65536 });
      if (c.length === 0) break;
      s += dec(c);
    }
    await call('vfs', { type: 'vfs.close', fd });
    return s;
  };

  beforeAll(async () => {
    sys = await bootSystem({
      config: (c) => ({
        ...c,
        services: [...c.services.map((s) => (s.label === 'tty' ? { ...s, ...TTY_USER } : s)), ...osServices({ root, init: null })],
      }),
    });
    const fd = await call<number>('vfs', { type: 'vfs.open', path: '/churn.ts', flags: 'w' });
    await call('vfs', { type: 'vfs.write', fd, data: enc(await readFile(fixture('programs/churn.ts'), 'utf8')) });
    await call('vfs', { type: 'vfs.close', fd });
  });
  afterAll(() => sys.stop());

  it(`${servers.join(', ')} are updated (and ${back.join(', ')} rolled back) while the program runs; its files are as without updates`, async () => {
    const lines = 300;
    const pid = await call<number>('pm', { type: 'pm.spawn', path: '/churn.ts', argv: ['churn', String(lines), '/churn.log'] });
    const waited = call<{ pid: number; status: number }>('pm', { type: 'pm.wait', pid });
    const outcomes: string[] = [];
    for (const server of servers) {
      const up = await call<{ outcome: string; reason: string | null }>('rs', { type: 'rs.update', items: [{ label: server, source: corpus(server) }] });
      outcomes.push(`${server}:${up.outcome}${up.reason ? ` ${up.reason}` : ''}`);
    }
    for (const server of back) {
      const rolled = await call<{ outcome: string; reason: string | null }>('rs', { type: 'rs.rollback', label: server });
      outcomes.push(`${server}-back:${rolled.outcome}${rolled.reason ? ` ${rolled.reason}` : ''}`);
    }
    expect(outcomes).toEqual([...servers.map((x) => `${x}:committed`), ...back.map((x) => `${x}-back:committed`)]);
    expect(await waited).toEqual({ pid, status: 0 });
    const expected = Array.from({ length: lines }, (_, i) => `line ${i}\n`).join('');
    expect(await readAll('/churn.log')).toBe(expected);
    expect(await readAll('/churn.log.result')).toBe(`${lines} 0\n`);
    // The updates were real: rs lists new incarnations with the version 2 hashes, then v1 again for the rolled-back ones.
    const history = await call<{ updates: Array<{ outcome: string }> }>('rs', { type: 'rs.history', label: 'vfs' });
    expect(history.updates.map((u) => u.outcome)).toEqual(['committed', 'committed']);
  });
});
