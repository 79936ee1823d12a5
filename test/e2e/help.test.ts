/**
 * End to end: `--help` on every verb exits 0 with a usage text naming the verb's
 * options, without needing a running system.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, molt, tempDir } from '../helpers/cli.js';

afterAll(cleanup);

/** verb (as typed) → what its usage must mention. */
const cases: Array<[string[], Array<string | RegExp>]> = [
  [[], [/^Usage: molt /m, 'boot', 'service', 'shutdown', 'status', 'trace']],
  [['boot'], [/^Usage: molt boot/m, '--home <dir>', '--config <file>', 'MOLT_HOME']],
  [['service'], [/^Usage: molt service/m, 'list', 'restart']],
  [['service', 'list'], [/^Usage: molt service list/m, '--home <dir>', '--json']],
  [['service', 'restart'], [/^Usage: molt service restart .*<label>/m, '--home <dir>']],
  [['shutdown'], [/^Usage: molt shutdown/m, '--home <dir>']],
  [['status'], [/^Usage: molt status/m, '--home <dir>']],
  [['trace'], [/^Usage: molt trace/m, '--home <dir>']],
];

describe('molt --help', () => {
  it.each(cases)('molt %j --help', async (verb, mentions) => {
    const cwd = await tempDir(); // help must not need (or create) a home
    const r = await molt([...verb, '--help'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const m of mentions) {
      if (typeof m === 'string') expect(r.stdout).toContain(m);
      else expect(r.stdout).toMatch(m);
    }
    expect(r.stdout).toMatch(/-h, --help/);
    expect(existsSync(join(cwd, '.molt'))).toBe(false);
  });

  it('molt help VERB is the same as molt VERB --help', async () => {
    const [a, b] = await Promise.all([molt(['help', 'status']), molt(['status', '--help'])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });
});
