/**
 * End to end: the `molt` verbs against a running system, through its control socket.
 * One system is booted in the background (`molt boot --home H`, stdin kept open) and
 * each test runs the CLI against it as a user would, in order: service list (table,
 * --json, MOLT_HOME), status, the socket's mode, trace, service restart, the console
 * after its server restarts, and finally shutdown.
 */
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/kernel/abi.js';
import type { ServiceRow } from '../../src/servers/rs/protocol.js';
import { bootBackground, cleanup, molt, parseTable, socketPath, startMolt, STACK_LINE, tempDir, type Background, BOOT_LABELS } from '../helpers/cli.js';

describe('molt against a running system', () => {
  let home: string;
  let sys: Background;

  const list = async (): Promise<ServiceRow[]> => {
    const r = await molt(['service', 'list', '--json', '--home', home]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as ServiceRow[];
  };
  const row = (rows: ServiceRow[], label: string) => {
    const found = rows.find((r) => r.label === label);
    if (!found) throw new Error(`no row for ${label} in ${JSON.stringify(rows)}`);
    return found;
  };

  beforeAll(async () => {
    home = await tempDir();
    sys = await bootBackground(home);
  });
  afterAll(cleanup);

  it('service list prints the table', async () => {
    const r = await molt(['service', 'list', '--home', home]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^LABEL\s+ENDPOINT\s+INC\s+VERSION\s+STATUS\s+RESTARTS\s+UPTIME\s+MSGS$/);
    const rows = parseTable(r.stdout);
    expect(rows.map((x) => x.LABEL).sort()).toEqual(BOOT_LABELS);
    expect(rows.every((x) => x.STATUS === 'running')).toBe(true);
  });

  it('service list --json prints an array of rows with label, endpoint, incarnation, version, status, restarts', async () => {
    const rows = await list();
    expect(Array.isArray(rows)).toBe(true);
    expect(rows.map((x) => x.label).sort()).toEqual(BOOT_LABELS);
    for (const r of rows) {
      expect(r).toMatchObject({
        label: expect.any(String),
        endpoint: expect.any(Number),
        incarnation: expect.any(Number),
        version: expect.any(String),
        status: 'running',
        restarts: 0,
      });
    }
    // Endpoints and incarnations are distinct per component.
    expect(new Set(rows.map((r) => r.endpoint)).size).toBe(BOOT_LABELS.length);
    expect(new Set(rows.map((r) => r.incarnation)).size).toBe(BOOT_LABELS.length);
  });

  it('finds the system through MOLT_HOME when --home is not given', async () => {
    const r = await molt(['service', 'list'], { env: { MOLT_HOME: home } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseTable(r.stdout).map((x) => x.LABEL).sort()).toEqual(BOOT_LABELS);
  });

  it('status names the pid of the booted process and its home', async () => {
    const r = await molt(['status', '--home', home]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /^running: pid (\d+), home (.+), up [\d.]+ s$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBe(sys.pid);
    expect(m![2]).toBe(home);
  });

  it('the control socket is a socket with mode 0600', () => {
    const st = statSync(socketPath(home));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('trace streams JSON lines, including msg.delivered for a service list run meanwhile', async () => {
    const trace = startMolt(['trace', '--home', home], { timeoutMs: 30_000 });
    const rsEndpoint = row(await list(), 'rs').endpoint;
    const deliveredList = (out: string) =>
      out.split('\n').some((l) => l.includes('"msg.delivered"') && l.includes('"rs.list"'));
    // The trace subscription has no acknowledgement: run `service list` until one shows up (bounded).
    for (let i = 0; i < 10 && !deliveredList(trace.stdout); i++) {
      const r = await molt(['service', 'list', '--home', home]);
      expect(r.code).toBe(0);
      await trace.waitForStdout(deliveredList, 1_000).catch(() => undefined);
    }
    expect(trace.running, trace.stderr).toBe(true);
    const lines = trace.stdout.split('\n').filter((l) => l !== '');
    const complete = trace.stdout.endsWith('\n') ? lines : lines.slice(0, -1);
    const events = complete.map((l) => JSON.parse(l) as TraceEvent); // every line is one JSON object
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(typeof e.ev).toBe('string');
    const delivered = events.find((e) => e.ev === 'msg.delivered' && e.type === 'rs.list');
    expect(delivered).toMatchObject({ ev: 'msg.delivered', type: 'rs.list', to: rsEndpoint, incarnation: expect.any(Number) });

    trace.signal('SIGINT');
    const end = await trace.waitForExit(5_000);
    expect(end.code).toBe(0);
    expect(end.stderr).toBe('');
  });

  it('service restart ds: a new incarnation behind the same endpoint, restarts 1', async () => {
    const before = row(await list(), 'ds');
    const r = await molt(['service', 'restart', 'ds', '--home', home]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('restarted ds\n');
    const after = row(await list(), 'ds');
    expect(after.endpoint).toBe(before.endpoint);
    expect(after.incarnation).not.toBe(before.incarnation);
    expect(after.restarts).toBe(1);
    expect(after.status).toBe('running');
  });

  it('service restart of an unknown label fails clearly', async () => {
    const r = await molt(['service', 'restart', 'nosuch', '--home', home]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/nosuch/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('the console keeps taking commands after its server (tty) restarts', async () => {
    sys.write('echo before restart\n');
    await sys.waitForStdout(/before restart\n/, 5_000);
    const r = await molt(['service', 'restart', 'tty', '--home', home]);
    expect(r.code).toBe(0);
    expect(row(await list(), 'tty').restarts).toBe(1);
    sys.write('echo after restart\n');
    await sys.waitForStdout(/after restart\n/, 5_000);
  });

  it('shutdown stops the system: the boot process exits 0 and the socket is gone', async () => {
    const r = await molt(['shutdown', '--home', home]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const end = await sys.waitForExit(10_000);
    expect(end.code).toBe(0);
    expect(end.stderr).toBe('');
    expect(existsSync(socketPath(home))).toBe(false);
    const after = await molt(['status', '--home', home]);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/no Molt system is running/);
  });
});
