/**
 * End to end: the operating system as a user meets it — commands piped into
 * `molt boot` run by the shell over the file system on the disk image.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, molt, REPO_ROOT, run, STACK_LINE, tempDir } from '../helpers/cli.js';

afterAll(cleanup);

const boot = (home: string, lines: string[]) => molt(['boot', '--home', home], { input: lines.join('\n') + '\n', timeoutMs: 60_000 });

describe('the shell and the file system, through molt boot', () => {
  it('mkdir, a redirection and cat print "hi", and the file is still there after a reboot on the same disk', async () => {
    const home = await tempDir();
    const r = await run('npx', ['--no-install', 'molt', 'boot', '--home', home], {
      cwd: REPO_ROOT, input: 'mkdir /tmp/a\necho hi > /tmp/a/f\ncat /tmp/a/f\n', timeoutMs: 60_000,
    });
    expect(r.stderr).not.toMatch(/molt:|Error/); // (npm may warn about its own configuration)
    expect(r.stdout).toBe('hi\n');
    expect(r.code).toBe(0);
    const again = await boot(home, ['cat /tmp/a/f', 'ls /tmp/a']);
    expect(again.stdout).toBe('hi\nf\n');
    expect(again.code).toBe(0);
  });

  it('pipelines, redirections and exit statuses behave as in a POSIX shell', async () => {
    const home = await tempDir();
    const r = await boot(home, [
      'mkdir /w',
      'touch /w/a /w/b /w/c',
      'ls /w | wc -l',
      'printf_missing 2>/dev/null; echo status $?',
      'echo one > /w/f',
      'echo two >> /w/f',
      'cat < /w/f > /w/g',
      'cat /w/g',
      'grep -c o /w/g',
      'true && echo and-ran',
      'false && echo not-printed',
      'false || echo or-ran',
      'cat /w/nope; echo status $?',
      'echo piped | cat | cat',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual(['3', 'status 127', 'one', 'two', '2', 'and-ran', 'or-ran', 'status 1', 'piped', '']);
    expect(r.stderr).toMatch(/cat: \/w\/nope: ENOENT/);
  });

  it('a hostile program gets errors, not the host; a loop and a memory bomb are ended and the shell carries on', async () => {
    const home = await tempDir();
    const r = await boot(home, [
      // Programs are .ts files on the Molt file system, built when they run.
      `echo 'import { call } from "libc"; export default async function main() { for (const [s, t] of [["rs", "rs.list"], ["disk", "disk.info"]]) { try { await call(s, t); console.log(s + ":allowed"); } catch (e) { console.log(s + ":" + (e as { code: string }).code); } } return 0; }' > /tmp/probe.ts`,
      '/tmp/probe.ts',
      `echo 'import { readFileSync } from "node:fs"; export default async function main() { return readFileSync("/etc/passwd").length; }' > /tmp/host.ts`,
      '/tmp/host.ts; echo host-status $?',
      `echo 'export default async function main() { for (;;) {} }' > /tmp/spin.ts`,
      '/tmp/spin.ts; echo spin-status $?',
      `echo 'export default async function main() { const a = []; for (;;) a.push(new Array(65536).fill(a.length)); }' > /tmp/bomb.ts`,
      '/tmp/bomb.ts; echo bomb-status $?',
      'echo still here',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rs:EPERM\ndisk:EPERM\n/); // a root program too: only /bin/service may manage services
    expect(r.stdout).toMatch(/host-status 126\n/);
    expect(r.stdout).toMatch(/spin-status 137\n/);
    expect(r.stdout).toMatch(/bomb-status 137\n/);
    expect(r.stdout).toMatch(/still here\n$/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 90_000);
});
