/**
 * The in-system `service` program's argument handling (the same verbs, options and
 * usage statuses as `molt service`), and init's reading of /etc/rc.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('libc', () => import('../../src/lib/libc/index.js'));
vi.mock('libc/format', () => import('../../src/lib/libc/format.js'));

import { parseServiceArgs } from '../../src/user/bin/service.js';
import { parseRc, rcCommand } from '../../src/user/bin/init.js';
import { UPDATE_USAGE } from '../../src/lib/service-args.js';

describe('service arguments', () => {
  it('list [--json]', () => {
    expect(parseServiceArgs(['list'])).toEqual({ verb: 'list', json: false });
    expect(parseServiceArgs(['list', '--json'])).toEqual({ verb: 'list', json: true });
    expect(parseServiceArgs(['list', '--home', '/x', '--json'])).toEqual({ verb: 'list', json: true });
    expect(parseServiceArgs(['list', 'extra'])).toMatchObject({ verb: 'error', status: 1 });
    expect(parseServiceArgs(['list', '--bogus'])).toMatchObject({ verb: 'error', status: 1, message: "error: unknown option '--bogus'" });
  });

  it('restart / rollback / history LABEL', () => {
    expect(parseServiceArgs(['restart', 'vfs'])).toEqual({ verb: 'restart', label: 'vfs' });
    expect(parseServiceArgs(['rollback', 'vfs', '--json'])).toEqual({ verb: 'rollback', label: 'vfs', json: true });
    expect(parseServiceArgs(['history', 'pm'])).toEqual({ verb: 'history', label: 'pm', json: false });
    expect(parseServiceArgs(['restart'])).toEqual({ verb: 'error', status: 1, message: "error: missing required argument 'label'" });
    expect(parseServiceArgs(['history', 'a', 'b'])).toMatchObject({ verb: 'error', status: 1 });
  });

  it('update LABEL FILE with every option, as rs.update', () => {
    const p = parseServiceArgs(['update', 'vfs', '/src/vfs-v2.ts', '--prepare', 'request-free', '--block', 'vfs:vfs.read,pm', '--maxtime=500', '--init-maxtime', '9000', '--dry-run', '--json']);
    expect(p).toEqual({
      verb: 'update',
      json: true,
      request: {
        type: 'rs.update',
        items: [{ label: 'vfs', source: '/src/vfs-v2.ts' }],
        prepare: 'request-free',
        block: [{ label: 'vfs', type: 'vfs.read' }, { label: 'pm' }],
        maxtime: 500,
        initMaxtime: 9000,
        dryRun: true,
      },
    });
  });

  it('--state implies the state prepare mode', () => {
    expect(parseServiceArgs(['update', 'mfs', 'm.ts', '--state', 'state.dirty === 0'])).toMatchObject({
      verb: 'update',
      request: { prepare: 'state', state: 'state.dirty === 0', items: [{ label: 'mfs', source: 'm.ts' }] },
    });
  });

  it('update --mode objects [--lazy]: an object-level update; --lazy alone is a usage error', () => {
    expect(parseServiceArgs(['update', 'kvd', '/l.ts', '--mode', 'objects', '--lazy'])).toMatchObject({
      verb: 'update',
      request: { items: [{ label: 'kvd', source: '/l.ts' }], mode: 'objects', lazy: true },
    });
    expect(parseServiceArgs(['update', 'kvd', '/l.ts', '--lazy'])).toMatchObject({ verb: 'error', status: 2, message: expect.stringMatching(/--lazy needs --mode objects/) });
    expect(parseServiceArgs(['update', 'kvd', '/l.ts', '--mode', 'threads'])).toMatchObject({ verb: 'error', status: 2, message: expect.stringMatching(/--mode takes process\|objects/) });
  });

  it('update --batch LABEL=FILE …', () => {
    expect(parseServiceArgs(['update', '--batch', 'vfs=/a.ts', 'mfs=/b.ts'])).toMatchObject({
      verb: 'update',
      request: { items: [{ label: 'vfs', source: '/a.ts' }, { label: 'mfs', source: '/b.ts' }] },
    });
  });

  it('update usage errors exit 2 with the CLI usage text', () => {
    expect(parseServiceArgs(['update', 'vfs'])).toEqual({ verb: 'error', status: 2, message: UPDATE_USAGE });
    expect(parseServiceArgs(['update', '--batch', 'vfs'])).toMatchObject({ verb: 'error', status: 2 });
    expect(parseServiceArgs(['update', 'a', 'b', '--prepare', 'never'])).toMatchObject({ verb: 'error', status: 2 });
    expect(parseServiceArgs(['update', 'a', 'b', '--maxtime', 'soon'])).toMatchObject({ verb: 'error', status: 2 });
    expect(parseServiceArgs(['update', 'a', 'b', '--nope'])).toMatchObject({ verb: 'error', status: 2 });
    expect(parseServiceArgs(['update'])).toMatchObject({ verb: 'error', status: 1 });
  });

  it('help, and unknown verbs', () => {
    expect(parseServiceArgs([])).toEqual({ verb: 'help' });
    expect(parseServiceArgs(['--help'])).toEqual({ verb: 'help' });
    expect(parseServiceArgs(['frobnicate'])).toEqual({ verb: 'error', status: 1, message: "error: unknown command 'frobnicate'" });
  });
});

describe('init: /etc/rc', () => {
  it('takes one command per line, skipping comments and blank lines; a trailing & marks a background one', () => {
    expect(parseRc('# daemons\n\nkvd --port 7000 &\n  httpd\n#off\nlogger a&&b\n')).toEqual([
      { line: 3, text: 'kvd --port 7000', background: true },
      { line: 4, text: 'httpd', background: false },
      { line: 6, text: 'logger a&&b', background: false },
    ]);
    expect(parseRc('')).toEqual([]);
  });

  it('starts plain commands directly from PATH, shell syntax through sh -c', () => {
    expect(rcCommand('kvd --port 7000')).toEqual({ path: '/bin/kvd.ts', argv: ['kvd', '--port', '7000'] });
    expect(rcCommand('/home/d.ts x')).toEqual({ path: '/home/d.ts', argv: ['/home/d.ts', 'x'] });
    expect(rcCommand('/home/d')).toEqual({ path: '/home/d.ts', argv: ['/home/d'] });
    expect(rcCommand('kvd', '/usr/bin:/bin')).toEqual({ path: '/usr/bin/kvd.ts', argv: ['kvd'] });
    expect(rcCommand('kvd > /tmp/kvd.log')).toEqual({ path: '/bin/sh.ts', argv: ['sh', '-c', 'kvd > /tmp/kvd.log'] });
    expect(rcCommand('A=1 kvd')).toEqual({ path: '/bin/sh.ts', argv: ['sh', '-c', 'A=1 kvd'] });
  });
});
