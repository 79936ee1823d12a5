/**
 * End to end: `molt boot` with commands piped into its console — lines run in order,
 * the system shuts down by itself at end of input and exits 0; the same through the
 * package bin (`npx molt`); the default home (./.molt in the working directory).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, molt, parseTable, REPO_ROOT, run, STACK_LINE, tempDir, BOOT_LABELS } from '../helpers/cli.js';

afterAll(cleanup);

function expectServiceTable(text: string): void {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  expect(lines[0]).toMatch(/^LABEL\s+ENDPOINT\s+INC\s+VERSION\s+STATUS\s+RESTARTS\s+UPTIME\s+MSGS$/);
  const rows = parseTable(text);
  expect(rows.map((r) => r.LABEL).sort()).toEqual(BOOT_LABELS);
  for (const r of rows) {
    expect(r.STATUS).toBe('running');
    expect(r.ENDPOINT).toMatch(/^\d+$/);
    expect(r.INC).toMatch(/^#\d+$/);
    expect(r.RESTARTS).toBe('0');
  }
}

describe('molt boot with commands on stdin', () => {
  it('prints the service table for `service list` and exits 0 at end of input', async () => {
    const home = await tempDir();
    const r = await molt(['boot', '--home', home], { input: 'service list\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectServiceTable(r.stdout);
    expect(existsSync(join(home, 'molt.sock'))).toBe(false); // the socket goes with the system
  });

  it('runs several lines in order (echo, service list --json, an unknown command) and still exits 0', async () => {
    const home = await tempDir();
    const input = ['echo first line', 'service list --json', 'frobnicate now', 'echo last line', ''].join('\n');
    const r = await molt(['boot', '--home', home], { input });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(STACK_LINE);
    // The in-system `service list --json` prints what the host CLI prints (indented JSON).
    const out = r.stdout;
    expect(out.startsWith('first line\n')).toBe(true);
    expect(out.endsWith('last line\n')).toBe(true);
    const rows = JSON.parse(out.slice('first line\n'.length, out.length - 'last line\n'.length)) as Array<{ label: string; status: string }>;
    expect(rows.map((x) => x.label).sort()).toEqual(BOOT_LABELS);
    expect(rows.every((x) => x.status === 'running')).toBe(true);
    expect(r.stderr).toMatch(/frobnicate: command not found/);
  });

  it('exits 0 on an empty input, printing nothing', async () => {
    const home = await tempDir();
    const r = await molt(['boot', '--home', home], { input: '' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  it('without --home or MOLT_HOME uses ./.molt in the working directory', async () => {
    const cwd = await tempDir();
    const r = await molt(['boot'], { cwd, input: 'service list\n' });
    expect(r.code).toBe(0);
    expectServiceTable(r.stdout);
    expect(existsSync(join(cwd, '.molt'))).toBe(true);
  });

  it('works the same through the package bin: npx --no-install molt boot', async () => {
    const home = await tempDir();
    const r = await run('npx', ['--no-install', 'molt', 'boot', '--home', home], { cwd: REPO_ROOT, input: 'service list\n', timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expectServiceTable(r.stdout);
  }, 40_000);
});
