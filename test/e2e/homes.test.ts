/**
 * End to end: a system is found by its home. No system → a clear message (and how to
 * start one), no stack trace; two systems with different homes answer independently;
 * a second boot on a home in use is refused and leaves the first running; a system
 * killed outright leaves a stale socket that neither confuses the CLI nor blocks the
 * next boot.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceRow } from '../../src/servers/rs/protocol.js';
import { bootBackground, cleanup, molt, socketPath, STACK_LINE, tempDir } from '../helpers/cli.js';

afterEach(cleanup);

const pidOf = async (home: string): Promise<number> => {
  const r = await molt(['status', '--home', home]);
  expect(r.code, r.stderr).toBe(0);
  const m = /pid (\d+)/.exec(r.stdout);
  if (!m) throw new Error(`no pid in ${JSON.stringify(r.stdout)}`);
  return Number(m[1]);
};

const listJson = async (home: string): Promise<ServiceRow[]> => {
  const r = await molt(['service', 'list', '--json', '--home', home]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ServiceRow[];
};

function expectNotRunning(r: { code: number | null; stdout: string; stderr: string }, home: string): void {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/no Molt system is running/);
  expect(r.stderr).toContain(home);
  expect(r.stderr).toContain(`molt boot --home ${home}`); // how to start one
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
}

describe('no system running', () => {
  it('service list on an empty home exits non-zero saying no system is running and how to start one', async () => {
    const empty = await tempDir();
    expectNotRunning(await molt(['service', 'list', '--home', empty]), empty);
  });

  it('every client verb says the same, and a missing home is not created', async () => {
    const base = await tempDir();
    const missing = join(base, 'does-not-exist');
    const verbs = [['service', 'list', '--json'], ['service', 'restart', 'ds'], ['status'], ['shutdown'], ['trace']];
    const results = await Promise.all(verbs.map((v) => molt([...v, '--home', missing])));
    for (const r of results) expectNotRunning(r, missing);
    expect(existsSync(missing)).toBe(false);
  });

  it('MOLT_HOME and the default ./.molt are named in the message', async () => {
    const cwd = await tempDir();
    const viaEnv = join(cwd, 'env-home');
    expectNotRunning(await molt(['status'], { cwd, env: { MOLT_HOME: viaEnv } }), viaEnv);
    expectNotRunning(await molt(['status'], { cwd }), join(cwd, '.molt'));
  });
});

describe('systems side by side', () => {
  it('two systems with different homes answer independently', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const [sysA, sysB] = await Promise.all([bootBackground(a), bootBackground(b)]);
    const [pidA, pidB] = await Promise.all([pidOf(a), pidOf(b)]);
    expect(pidA).toBe(sysA.pid);
    expect(pidB).toBe(sysB.pid);
    expect(pidA).not.toBe(pidB);

    // A restart in one is not seen in the other.
    const r = await molt(['service', 'restart', 'ds', '--home', a]);
    expect(r.code, r.stderr).toBe(0);
    const [rowsA, rowsB] = await Promise.all([listJson(a), listJson(b)]);
    expect(rowsA.find((x) => x.label === 'ds')!.restarts).toBe(1);
    expect(rowsB.find((x) => x.label === 'ds')!.restarts).toBe(0);

    // Shutting one down leaves the other running.
    expect((await molt(['shutdown', '--home', a])).code).toBe(0);
    expect((await sysA.waitForExit(10_000)).code).toBe(0);
    expect(sysB.running).toBe(true);
    expect(await pidOf(b)).toBe(sysB.pid);
    expect((await molt(['shutdown', '--home', b])).code).toBe(0);
    expect((await sysB.waitForExit(10_000)).code).toBe(0);
  });

  it('a second boot on a home in use fails clearly and leaves the first running', async () => {
    const home = await tempDir();
    const first = await bootBackground(home);
    const second = await molt(['boot', '--home', home], { input: 'echo from the second\n' });
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(/already running/);
    expect(second.stderr).toContain(home);
    expect(second.stderr).not.toMatch(STACK_LINE);

    expect(first.running).toBe(true);
    expect(existsSync(socketPath(home))).toBe(true);
    expect(await pidOf(home)).toBe(first.pid);
    expect((await listJson(home)).every((x) => x.status === 'running')).toBe(true);
    expect((await molt(['shutdown', '--home', home])).code).toBe(0);
    expect((await first.waitForExit(10_000)).code).toBe(0);
  });

  it('a system killed outright (SIGKILL) leaves a stale socket: the CLI says not running, and the next boot works', async () => {
    const home = await tempDir();
    const sys = await bootBackground(home);
    sys.signal('SIGKILL');
    await sys.waitForExit(5_000);
    expect(existsSync(socketPath(home))).toBe(true); // nobody removed it

    expectNotRunning(await molt(['service', 'list', '--home', home]), home);
    const again = await molt(['boot', '--home', home], { input: 'service list\n' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^LABEL/);
    expect(readdirSync(home)).not.toContain('molt.sock');
  });

  it('SIGTERM stops a booted system cleanly: the socket is removed', async () => {
    const home = await tempDir();
    const sys = await bootBackground(home);
    sys.signal('SIGTERM');
    const end = await sys.waitForExit(10_000);
    expect(end.code).toBe(143);
    expect(end.stderr).not.toMatch(STACK_LINE);
    expect(existsSync(socketPath(home))).toBe(false);
  });
});
