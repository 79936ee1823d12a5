/**
 * `npm start`'s guided demo (`molt boot --demo`) without a terminal: it boots the default
 * image, runs the tour (an mfs live update with a state-layout change, a crash of vfs
 * recovered with its clients' state, an update that rolls back) under a kvd and a file
 * workload, checks that no client noticed, and shuts down with status 0.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, molt, tempDir } from '../helpers/cli.js';

describe('npm start: the guided demo', () => {
  afterAll(cleanup);

  it('tells the story with timings and ends with nothing lost, then exits (stdin is not a terminal)', async () => {
    const home = await tempDir();
    const r = await molt(['boot', '--demo', '--home', home], { timeoutMs: 150_000 });
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Molt booted in \d+ ms/m);
    expect(out).toMatch(/kvd serves on 127\.0\.0\.1:\d+/);
    expect(out).toMatch(/mfs → test\/corpus\/mfs\/v2\.ts: committed in \d+ ms, requests held \d+ ms/);
    expect(out).toMatch(/vfs crashed in .*ssr-restart: running again after \d+ ms/);
    expect(out).toMatch(/kvd lists → test\/corpus\/kvd\/lists-broken\.ts \(objects\): rolled-back in transfer: .*cannot hold poison/);
    expect(out).toMatch(/kvd: \d+ requests, 0 failed, .* acknowledged: exact/);
    expect(out).toMatch(/file: \d+ lines appended, 0 failed writes; read back: every line in order/);
    expect(out).toMatch(/no client noticed anything: no error, nothing lost\./);
  }, 180_000);
});
