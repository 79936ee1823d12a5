/**
 * End to end, the edges of booting: the control socket must answer as soon as it
 * exists (a script that waits for the socket and then runs `molt service list` must
 * see the whole system), and a home whose socket path is too long for a Unix socket
 * must fail clearly without leaving files outside the home.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/cli/client.js';
import type { ServiceRow } from '../../src/servers/rs/protocol.js';
import { cleanup, molt, socketPath, startMolt, STACK_LINE, tempDir, waitFor, BOOT_IMAGE_LABELS, BOOT_LABELS } from '../helpers/cli.js';

afterEach(cleanup);

describe('booting', () => {
  it('once molt.sock exists, the system answers: service list sees the whole boot image running', async () => {
    const home = await tempDir(); // fresh home: nothing cached, so boot takes its longest
    const sys = startMolt(['boot', '--home', home]);
    // What `molt service list` sends, sent the moment the socket appears (as a script would).
    await waitFor(() => {
      if (!sys.running) throw new Error(`boot exited early: ${sys.stderr}`);
      return existsSync(socketPath(home));
    }, 15_000, 'the socket');
    const r = await controlRequest(home, { verb: 'call', to: 'rs', msg: { type: 'rs.list' } });
    expect(r).toMatchObject({ ok: true });
    const rows = (r.ok ? r.value : []) as ServiceRow[];
    // The boot image runs; the daemons come a moment later, when init has run /etc/rc.
    const image = rows.filter((x) => BOOT_IMAGE_LABELS.includes(x.label));
    expect(image.map((x) => x.label).sort()).toEqual(BOOT_IMAGE_LABELS);
    expect(image.every((x) => x.status === 'running')).toBe(true);
    await waitFor(async () => {
      const l = await controlRequest(home, { verb: 'call', to: 'rs', msg: { type: 'rs.list' } });
      const all = (l.ok ? l.value : []) as ServiceRow[];
      return all.map((x) => x.label).sort().join() === BOOT_LABELS.join() && all.every((x) => x.status === 'running');
    }, 15_000, 'the daemons of /etc/rc');
    sys.endInput();
    expect((await sys.waitForExit(10_000)).code).toBe(0);
  });

  it('a home too long for a Unix socket path fails clearly (or works), and leaves nothing outside the home', async () => {
    const base = await tempDir();
    const home = join(base, 'h'.repeat(120)); // <home>/molt.sock is well over the 107-byte limit of sun_path
    const r = await molt(['boot', '--home', home], { input: 'service list\n' });
    if (r.code === 0) {
      expect(r.stdout).toMatch(/^LABEL/);
    } else {
      expect(r.stderr).toMatch(/too long/i);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
    // Node truncates an over-long socket path silently: no socket may appear beside the home.
    expect(readdirSync(base).filter((f) => f !== basename(home))).toEqual([]);
  });
});
