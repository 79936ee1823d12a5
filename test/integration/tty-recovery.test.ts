/**
 * CuriOS in tty: console input typed but not yet read, and the foreground process,
 * survive crashes of tty; a console read waiting in tty is asked for again by vfs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTY_USER, osServices } from '../../src/boot/os.js';
import { bootSystem, until, type TestSystem } from '../helpers/system.js';

describe('tty recovers unread input and the foreground process (server state regions)', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await bootSystem({
      config: (c) => ({
        ...c,
        services: [...c.services.map((s) => (s.label === 'tty' ? { ...s, ...TTY_USER, policy: { ...TTY_USER.policy, backoffBaseMs: 1 } } : s)), ...osServices({ root: 'tmpfs', init: null })],
      }),
    });
  });
  afterAll(() => sys.stop());
  const call = (to: string, msg: Record<string, unknown>) => sys.kernel.call(to, msg as { type: string }, 20_000);
  const ttyInc = () => sys.kernel.endpointTable().find((e) => e.label === 'tty')?.incarnation ?? null;
  const dec = (r: { ok: boolean; value?: unknown }) => new TextDecoder().decode(r.value as Uint8Array);

  it('typed lines not yet read are read after a crash; a read waiting across a crash gets the next line', async () => {
    // Input from the console (the kernel's console device sends these; the host may too, in tests).
    await call('tty', { type: 'console.input', line: 'first' });
    await call('tty', { type: 'console.input', line: 'second' });
    const before = ttyInc();
    await call('rs', { type: 'rs.fi', label: 'tty', kind: 'crash', at: 'tty.info' });
    await call('tty', { type: 'tty.info' }); // hits the fault; given again to the recovered tty
    await until(() => ttyInc() !== before && ttyInc() !== null, 10_000, 'tty to come back');
    expect(dec(await call('vfs', { type: 'vfs.read', fd: 0, length: 100 }))).toBe('first\n');
    expect(dec(await call('vfs', { type: 'vfs.read', fd: 0, length: 100 }))).toBe('second\n');
    // A read that waits while tty crashes: vfs asks again; the next typed line answers it.
    const waiting = call('vfs', { type: 'vfs.read', fd: 0, length: 100 });
    await new Promise((r) => setTimeout(r, 100));
    const b2 = ttyInc();
    await call('rs', { type: 'rs.fi', label: 'tty', kind: 'throw', at: 'tty.info' });
    await call('tty', { type: 'tty.info' });
    await until(() => ttyInc() !== b2 && ttyInc() !== null, 10_000, 'tty to come back again');
    await call('tty', { type: 'console.input', line: 'third' });
    expect(dec(await waiting)).toBe('third\n');
  });
});
