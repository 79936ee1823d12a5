/**
 * End to end: `molt dashboard` against a running system, seen in a real browser
 * (Debian's headless Chromium, driven by playwright-core). A system is booted through
 * the CLI, `molt dashboard --port 0` serves the page on 127.0.0.1, and the test:
 * checks the page is self-contained and refused to other Host names; sees the component
 * table with the boot image's labels (and a rate sparkline each); runs a live update
 * from the CLI and sees it on the page's timeline — running, then its phases and
 * `committed` — without reloading; and stops the dashboard with SIGTERM.
 *
 * Chromium is required: CI installs it (.ci/run). Without it this suite fails, loudly.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateResult } from '../../src/servers/rs/protocol.js';
import { BOOT_LABELS, bootBackground, cleanup, molt, REPO_ROOT, startMolt, tempDir, type Background } from '../helpers/cli.js';

const CHROMIUM = process.env.MOLT_CHROMIUM || '/usr/bin/chromium';

/** GET `url` with a given Host header (fetch cannot set one): status, content type, body. */
function get(url: string, host?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(url, { headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}

describe('molt dashboard', () => {
  let home: string;
  let dash: Background;
  let url: string;
  let browser: Browser | null = null;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`headless Chromium not found at ${CHROMIUM}: the dashboard test needs it (Debian: apt-get install chromium; .ci/run installs it), or set MOLT_CHROMIUM to a Chromium binary`);
    }
    home = await tempDir();
    await bootBackground(home);
    dash = startMolt(['dashboard', '--home', home, '--port', '0'], { timeoutMs: 240_000 });
    const out = await dash.waitForStdout(/http:\/\/127\.0\.0\.1:\d+\//, 15_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)![0];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
    page = await browser.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await cleanup();
  });

  it('serves one self-contained page on 127.0.0.1, and nothing to another Host name', async () => {
    const r = await get(url);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/html/);
    expect(r.body).toMatch(/<table id="components">/);
    // Everything inline: no external script, stylesheet or image.
    expect(r.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const port = new URL(url).port;
    expect((await get(url, `evil.example:${port}`)).status).toBe(403);
    expect((await get(new URL('/nosuch', url).href)).status).toBe(404);
  });

  it('shows the component table: every component of the boot image, running, with its heap and a rate sparkline', async () => {
    await page.goto(url);
    const services = page.locator('#components tbody tr[data-kind="service"]');
    // (Locators, not waitForFunction: the page's CSP forbids the eval that would need.)
    await services.nth(BOOT_LABELS.length - 1).waitFor({ timeout: 15_000 });
    expect((await services.locator('td.label').allTextContents()).sort()).toEqual(BOOT_LABELS);
    expect(new Set(await services.locator('td.status').allTextContents())).toEqual(new Set(['running']));
    expect(await services.locator('svg.spark').count()).toBe(BOOT_LABELS.length);
    // Heap figures arrive with the snapshots (a component may miss one deadline; not all of them, every time).
    await services.locator('td.heap').filter({ hasText: /[KM]iB$/ }).first().waitFor({ timeout: 15_000 });
    expect(await page.locator('#status').textContent()).toBe('live');
  });

  it('a live update from the CLI appears on the timeline while it runs, then with its phases and committed, without a reload', async () => {
    await page.evaluate('window.__sameDocument = true');
    const before = (await page.locator('#components tr[data-label="sched"] td.mono').textContent())?.trim();
    const update = molt(['service', 'update', 'sched', join(REPO_ROOT, 'test/corpus/sched/v2.ts'), '--json', '--home', home], { timeoutMs: 120_000 });
    // While it runs: its phase events reach the page as they happen, through the
    // dashboard's event stream (not only at the next poll).
    const running = page.locator('#timeline li.update[data-label="sched"][data-outcome="running"]');
    const sawRunning = await Promise.race([
      running.first().waitFor({ timeout: 110_000 }).then(() => true, () => false),
      update.then(() => false),
    ]);

    const r = await update;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as UpdateResult;
    expect(result.outcome).toBe('committed');
    const to = result.versions[0]?.to;
    expect(to).toMatch(/^[0-9a-f]{12}$/);
    // Its build phase (a bundle and the state's type metadata) took seconds: long enough
    // to be seen running (a build that fast is not something a page must catch).
    if ((result.timings.build ?? 0) >= 2_000) expect(sawRunning, `build took ${result.timings.build} ms`).toBe(true);

    const done = page.locator('#timeline li.update[data-label="sched"][data-outcome="committed"]');
    await done.waitFor({ timeout: 15_000 });
    expect(await done.count()).toBe(1);
    const phases = done.locator('[data-phase]');
    const names: Array<string | null> = [];
    for (let i = 0; i < (await phases.count()); i++) names.push(await phases.nth(i).getAttribute('data-phase'));
    expect(names).toEqual(['build', 'spawn', 'prepare', 'transfer', 'commit']);
    // Every phase has its timing (none still running).
    for (const text of await phases.allTextContents()) expect(text).toMatch(/^\w+ \d+(\.\d)? (ms|s)$/);
    expect(await done.locator('.outcome').textContent()).toBe('committed');
    expect(await done.textContent()).toMatch(/update #\d+ sched/);

    // The table follows: sched runs the new version (same endpoint, not a restart).
    await page.locator('#components tr[data-label="sched"] td.mono').filter({ hasText: to! }).waitFor({ timeout: 15_000 });
    expect(to).not.toBe(before);
    expect(await page.locator('#components tr[data-label="sched"] td.restarts').textContent()).toBe('0');
    expect(await page.locator('#updates [data-label="sched"]').count()).toBe(0);
    // All of it without leaving the page.
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  }, 180_000);

  it('stops on SIGTERM (exit 0); the page says it lost the dashboard', async () => {
    dash.signal('SIGTERM');
    const end = await dash.waitForExit(10_000);
    expect(end.code).toBe(0);
    expect(end.stderr).toBe('');
    await page.locator('#status').filter({ hasText: /^disconnected/ }).waitFor({ timeout: 10_000 });
  });
});
