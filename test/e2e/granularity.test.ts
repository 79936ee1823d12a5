/**
 * The finer-grained updates from the host, end to end: `molt patch apply | list | undo`
 * against kvd's command table, and `molt service update … --mode objects --lazy` of
 * kvd's lists, on the default image booted by the real CLI, reached with redis-cli.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bootBackground, cleanup, molt, parseTable, REPO_ROOT, tempDir } from '../helpers/cli.js';
import { freePort } from '../helpers/system.js';

const run = promisify(execFile);
const redis = async (port: number, ...args: string[]) => (await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 })).stdout.trim();
const PATCH = join(REPO_ROOT, 'test', 'corpus', 'kvd', 'patch-info.ts');
const LISTS_V2 = join(REPO_ROOT, 'test', 'corpus', 'kvd', 'lists-v2.ts');

describe('molt patch and service update --mode objects', () => {
  afterAll(cleanup);

  it('patches kvd from the host, lists and undoes the patch, and updates its lists in place', async () => {
    const home = await tempDir();
    const kvd = await freePort();
    const config = join(home, 'boot.json');
    await writeFile(config, JSON.stringify({ extends: 'default', daemons: [{ label: 'kvd', args: { port: kvd } }, { label: 'httpd', args: { port: 0 } }] }));
    const sys = await bootBackground(home, { args: ['--config', config] });
    expect(await redis(kvd, 'ECHO', 'hello')).toBe('hello');

    const applied = await molt(['patch', 'apply', 'kvd', PATCH, '--home', home]);
    expect(applied.code).toBe(0);
    expect(parseTable(applied.stdout)).toEqual([expect.objectContaining({ ID: '1', LABEL: 'kvd', STATUS: 'complete', FUNCTIONS: 'echo,info', DATA: 'server' })]);
    expect(await redis(kvd, 'ECHO', 'hello')).toBe('HELLO');
    const listed = await molt(['patch', 'list', '--home', home]);
    expect(parseTable(listed.stdout).map((r) => [r.ID, r.STATUS])).toEqual([['1', 'complete']]);
    const json = JSON.parse((await molt(['patch', 'list', 'kvd', '--json', '--home', home])).stdout) as Array<{ info: { applyUs: number } }>;
    expect(json[0]!.info.applyUs).toBeGreaterThan(0);

    const undone = await molt(['patch', 'undo', '1', '--home', home]);
    expect(undone.code).toBe(0);
    expect(parseTable(undone.stdout)[0]).toMatchObject({ STATUS: 'undone' });
    expect(await redis(kvd, 'ECHO', 'hello')).toBe('hello');
    const missing = await molt(['patch', 'undo', '7', '--home', home]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no patch 7/);
    const broken = await molt(['patch', 'apply', 'kvd', join(home, 'nope.ts'), '--home', home]);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(/no such file/);

    expect(await redis(kvd, 'RPUSH', 'l', 'a', 'b')).toBe('2');
    const upd = await molt(['service', 'update', 'kvd', LISTS_V2, '--mode', 'objects', '--lazy', '--home', home]);
    expect(upd.code).toBe(0);
    expect(upd.stdout).toMatch(/^committed: kvd .* → [0-9a-f]{12} in \d+ ms/m);
    expect(upd.stdout).toMatch(/kvd: lazy object update/);
    expect(upd.stdout).toMatch(/List: marked, \d+ instances/);
    expect(await redis(kvd, 'LRANGE', 'l', '0', '-1')).toBe('a\nb');
    expect(await redis(kvd, 'LPUSH', 'l', 'z')).toBe('3');
    const lazyAlone = await molt(['service', 'update', 'kvd', LISTS_V2, '--lazy', '--home', home]);
    expect(lazyAlone.code).toBe(2);
    expect(lazyAlone.stderr).toMatch(/--lazy needs --mode objects/);

    sys.endInput();
    expect((await sys.waitForExit(20_000)).code).toBe(0);
  }, 120_000);
});
