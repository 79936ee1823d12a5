/**
 * The main job end to end: `molt boot` on the default image, whose /etc/rc (installed
 * on the new disk) brings up kvd and httpd; Debian's redis-cli and Node's fetch reach
 * them over real TCP; kvd's data is back after a reboot on the same disk; `molt service
 * down/up` from the host.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bootBackground, cleanup, molt, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/system.js';

const run = promisify(execFile);


const redis = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 })).stdout.trim();

describe('the default image: kvd and httpd from /etc/rc', () => {
  afterAll(cleanup);

  it('redis-cli and fetch reach them; kvd keeps its data across a reboot; service down/up from the host', async () => {
    const home = await tempDir();
    const kvd = await freePort();
    const http = await freePort();
    const config = join(home, 'boot.json');
    await writeFile(config, JSON.stringify({ extends: 'default', daemons: [{ label: 'kvd', args: { port: kvd } }, { label: 'httpd', args: { port: http } }] }));
    let sys = await bootBackground(home, { args: ['--config', config] });
    expect(await redis(kvd, 'PING')).toBe('PONG');
    expect(await redis(kvd, 'SET', 'greeting', 'hello from molt')).toBe('OK');
    expect(await redis(kvd, 'RPUSH', 'l', 'a', 'b', 'c')).toBe('3');
    const page = await fetch(`http://127.0.0.1:${http}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('It works');
    expect((await fetch(`http://127.0.0.1:${http}/nope`)).status).toBe(404);
    // The rc file init installed on the new disk is there to edit.
    sys.write('cat /etc/rc\n');
    await sys.waitForStdout(/service up kvd\nservice up httpd\n/, 10_000);

    // down: kvd makes its data durable and stops; up: it comes back on the same port with its data.
    expect((await molt(['service', 'down', 'kvd', '--home', home])).code).toBe(0);
    await expect(redis(kvd, 'PING')).rejects.toThrow();
    expect((await molt(['service', 'up', 'kvd', '--home', home])).code).toBe(0);
    expect(await redis(kvd, 'GET', 'greeting')).toBe('hello from molt');
    const bad = await molt(['service', 'up', 'nosuch', '--home', home]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/ENOENT.*no daemon nosuch/);

    // A clean shutdown, then a reboot on the same disk: the AOF brings the data back.
    expect(await redis(kvd, 'INCR', 'boots')).toBe('1');
    sys.endInput();
    expect((await sys.waitForExit(20_000)).code).toBe(0);
    sys = await bootBackground(home, { args: ['--config', config] });
    expect(await redis(kvd, 'GET', 'greeting')).toBe('hello from molt');
    expect(await redis(kvd, 'LRANGE', 'l', '0', '-1')).toBe('a\nb\nc');
    expect(await redis(kvd, 'INCR', 'boots')).toBe('2');
    sys.endInput();
    expect((await sys.waitForExit(20_000)).code).toBe(0);
  });
});
