/**
 * The coreutils' pure logic: wc counting and layout, head's line and byte cuts, grep's
 * options, matching and line splitting, ls -l formatting, and the argument handling of
 * the others (rm, mkdir, cp/mv, kill, ps, df, mount, env, sleep, cat -n).
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('libc', () => import('../../src/lib/libc/index.js'));
vi.mock('libc/format', () => import('../../src/lib/libc/format.js'));

import { encodeUtf8, decodeUtf8, type ProcInfo, type Stat } from '../../src/lib/libc/index.js';
import { Counter, count, formatCounts, parseWcArgs } from '../../src/user/bin/wc.js';
import { parseHeadArgs, takeBytes, takeLines } from '../../src/user/bin/head.js';
import { LineSplitter, grepText, makeMatcher, parseGrepArgs } from '../../src/user/bin/grep.js';
import { formatLong, formatTime, joinPath, modeString, parseLsArgs } from '../../src/user/bin/ls.js';
import { numberLines } from '../../src/user/bin/cat.js';
import { echoText } from '../../src/user/bin/echo.js';
import { parseRmArgs, refusedPath } from '../../src/user/bin/rm.js';
import { prefixes } from '../../src/user/bin/mkdir.js';
import { basename, targetPath } from '../../src/user/bin/cp.js';
import { isCrossDevice } from '../../src/user/bin/mv.js';
import { parseKillArgs, signalName } from '../../src/user/bin/kill.js';
import { formatPs } from '../../src/user/bin/ps.js';
import { formatDf, humanSize } from '../../src/user/bin/df.js';
import { formatMounts } from '../../src/user/bin/mount.js';
import { commandCandidates, formatEnv, parseEnvArgs } from '../../src/user/bin/env.js';
import { parseDuration } from '../../src/user/bin/sleep.js';
import { lastLines, parseTailArgs } from '../../src/user/bin/tail.js';
import { SysError } from 'libc';

const bytes = (s: string) => encodeUtf8(s);

describe('wc', () => {
  it('counts lines (newlines), words and bytes', () => {
    expect(count(bytes('one two\nthree\n'))).toEqual({ lines: 2, words: 3, bytes: 14 });
    expect(count(bytes('no newline'))).toEqual({ lines: 0, words: 2, bytes: 10 });
    expect(count(bytes(''))).toEqual({ lines: 0, words: 0, bytes: 0 });
    expect(count(bytes('  \t\n  '))).toEqual({ lines: 1, words: 0, bytes: 6 });
    expect(count(bytes('héllo\n')).bytes).toBe(7);
  });

  it('counts a word split across chunks once', () => {
    const c = new Counter();
    c.add(bytes('hel'));
    c.add(bytes('lo wor'));
    c.add(bytes('ld\n'));
    expect(c.counts).toEqual({ lines: 1, words: 2, bytes: 12 });
  });

  it('chooses counts by -l -w -c, all three by default', () => {
    expect(parseWcArgs([])).toMatchObject({ lines: true, words: true, bytes: true, files: [] });
    expect(parseWcArgs(['-l', 'f'])).toMatchObject({ lines: true, words: false, bytes: false, files: ['f'] });
    expect(parseWcArgs(['-lc'])).toMatchObject({ lines: true, words: false, bytes: true });
    expect(parseWcArgs(['-x'])).toHaveProperty('error');
  });

  it('prints one count of one input bare (ls | wc -l), otherwise aligned, names after', () => {
    const one = { lines: true, words: false, bytes: false };
    const all = { lines: true, words: true, bytes: true };
    expect(formatCounts([{ counts: { lines: 5, words: 9, bytes: 40 } }], one)).toBe('5\n');
    expect(formatCounts([{ counts: { lines: 2, words: 3, bytes: 14 }, name: 'g' }], all)).toBe(' 2  3 14 g\n');
    expect(formatCounts([
      { counts: { lines: 1, words: 2, bytes: 3 }, name: 'a' },
      { counts: { lines: 10, words: 20, bytes: 300 }, name: 'b' },
      { counts: { lines: 11, words: 22, bytes: 303 }, name: 'total' },
    ], one)).toBe(' 1 a\n10 b\n11 total\n');
  });
});

describe('head', () => {
  it('takes lines through their newline and says how many are still wanted', () => {
    const r = takeLines(bytes('a\nb\nc\n'), 2);
    expect(decodeUtf8(r.out)).toBe('a\nb\n');
    expect(r.remaining).toBe(0);
    const r2 = takeLines(bytes('a\nb'), 3);
    expect(decodeUtf8(r2.out)).toBe('a\nb');
    expect(r2.remaining).toBe(2);
    expect(takeLines(bytes('x\n'), 0).out.length).toBe(0);
  });

  it('takes bytes', () => {
    expect(decodeUtf8(takeBytes(bytes('abcdef'), 4).out)).toBe('abcd');
    expect(takeBytes(bytes('ab'), 4)).toMatchObject({ remaining: 2 });
  });

  it('parses -n N, -nN, -N and -c N; default 10 lines', () => {
    expect(parseHeadArgs([])).toEqual({ lines: 10, bytes: null, files: [] });
    expect(parseHeadArgs(['-n', '3', 'f'])).toEqual({ lines: 3, bytes: null, files: ['f'] });
    expect(parseHeadArgs(['-n5'])).toMatchObject({ lines: 5 });
    expect(parseHeadArgs(['-2', 'a', 'b'])).toEqual({ lines: 2, bytes: null, files: ['a', 'b'] });
    expect(parseHeadArgs(['-c', '7'])).toMatchObject({ bytes: 7 });
    expect(parseHeadArgs(['-n', 'x'])).toHaveProperty('error');
    expect(parseHeadArgs(['-n'])).toHaveProperty('error');
  });
});

describe('tail', () => {
  it('keeps the last lines, with or without a final newline', () => {
    const last = (s: string, n: number) => decodeUtf8(lastLines(bytes(s), n));
    expect(last('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(last('a\nb\nc', 2)).toBe('b\nc');
    expect(last('a\nb\n', 5)).toBe('a\nb\n');
    expect(last('a\n', 0)).toBe('');
    expect(last('', 3)).toBe('');
  });

  it('parses -n N and -N', () => {
    expect(parseTailArgs(['-n', '3', 'f'])).toEqual({ lines: 3, files: ['f'] });
    expect(parseTailArgs(['-4'])).toEqual({ lines: 4, files: [] });
    expect(parseTailArgs(['-n', 'x'])).toHaveProperty('error');
  });
});

describe('grep', () => {
  const lines = ['alpha', 'Beta', 'gamma', 'delta'];
  const run = (args: string[]) => {
    const o = parseGrepArgs(args);
    if ('error' in o) throw new Error(o.error);
    const m = makeMatcher(o);
    if (typeof m !== 'function') throw new Error(m.error);
    return grepText(lines, m, o, '');
  };

  it('selects matching lines with a JavaScript pattern', () => {
    expect(run(['a$'])).toEqual({ out: 'alpha\nBeta\ngamma\ndelta\n', selected: 4 });
    expect(run(['^[gd]'])).toEqual({ out: 'gamma\ndelta\n', selected: 2 });
  });

  it('-v inverts, -i ignores case, -n numbers, -c counts only', () => {
    expect(run(['-v', 'l']).out).toBe('Beta\ngamma\n');
    expect(run(['-i', 'beta']).out).toBe('Beta\n');
    expect(run(['beta']).selected).toBe(0);
    expect(run(['-n', 'mm']).out).toBe('3:gamma\n');
    expect(run(['-c', 'a'])).toEqual({ out: '', selected: 4 });
    expect(run(['-vic', 'BETA'])).toEqual({ out: '', selected: 3 });
  });

  it('-F takes the pattern literally; a bad pattern is an error', () => {
    const o = parseGrepArgs(['-F', 'a.b']);
    if ('error' in o) throw new Error();
    const m = makeMatcher(o) as (l: string) => boolean;
    expect(m('a.b')).toBe(true);
    expect(m('axb')).toBe(false);
    expect(makeMatcher({ pattern: '(', ignoreCase: false, invert: false, fixed: false })).toHaveProperty('error');
  });

  it('parses options, -e, pattern and files', () => {
    expect(parseGrepArgs(['-e', '-x', 'f'])).toMatchObject({ pattern: '-x', files: ['f'] });
    expect(parseGrepArgs(['-nH', 'p', 'a', 'b'])).toMatchObject({ number: true, withName: true, pattern: 'p', files: ['a', 'b'] });
    expect(parseGrepArgs([])).toHaveProperty('error');
    expect(parseGrepArgs(['-Z', 'p'])).toHaveProperty('error');
  });

  it('prefixes file names and line numbers', () => {
    const m = makeMatcher({ pattern: 'a', ignoreCase: false, invert: false, fixed: false }) as (l: string) => boolean;
    expect(grepText(['x', 'a'], m, { number: true, count: false, filesOnly: false, quiet: false }, 'f:', 10).out).toBe('f:11:a\n');
  });

  it('splits bytes into lines across chunks without cutting a character', () => {
    const s = new LineSplitter();
    const all = bytes('héllo\nwör');
    expect(s.push(all.subarray(0, 2))).toEqual([]);
    expect(s.push(all.subarray(2, 8))).toEqual(['héllo']);
    expect(s.push(all.subarray(8))).toEqual([]);
    expect(s.push(bytes('ld\n\nx'))).toEqual(['wörld', '']);
    expect(s.end()).toEqual(['x']);
    expect(s.end()).toEqual([]);
  });
});

describe('ls', () => {
  const st = (over: Partial<Stat>): Stat => ({ dev: 'mfs', ino: 5, type: 'file', mode: 0o644, uid: 0, size: 12, nlink: 1, mtime: Date.UTC(2024, 4, 1, 12, 34), ctime: 0, ...over });

  it('renders type and permission bits', () => {
    expect(modeString('dir', 0o755)).toBe('drwxr-xr-x');
    expect(modeString('file', 0o644)).toBe('-rw-r--r--');
    expect(modeString('file', 0o555)).toBe('-r-xr-xr-x');
    expect(modeString('pipe', 0o620)).toBe('prw--w----');
    expect(modeString('tty', 0o620)).toBe('crw--w----');
  });

  it('formats times as YYYY-MM-DD HH:MM', () => {
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4), true)).toBe('2024-01-02 03:04');
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4))).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });

  it('formats long lines: mode, links, uid, size (aligned right), time, name', () => {
    const out = formatLong([
      { name: 'bin', st: st({ type: 'dir', mode: 0o555, nlink: 2, size: 24 }) },
      { name: 'big', st: st({ size: 123456, uid: 1000 }) },
      { name: 'gone', st: null },
    ], { utc: true });
    expect(out.split('\n')).toEqual([
      'dr-xr-xr-x 2    0     24 2024-05-01 12:34 bin',
      '-rw-r--r-- 1 1000 123456 2024-05-01 12:34 big',
      '?????????? ?    ?      ? ????-??-?? ??:?? gone',
      '',
    ]);
  });

  it('parses -l -a -A -d and paths (default .)', () => {
    expect(parseLsArgs([])).toEqual({ long: false, all: false, almostAll: false, directory: false, paths: ['.'] });
    expect(parseLsArgs(['-la', '/bin', '/'])).toMatchObject({ long: true, all: true, paths: ['/bin', '/'] });
    expect(parseLsArgs(['-q'])).toHaveProperty('error');
    expect(joinPath('/', 'x')).toBe('/x');
    expect(joinPath('/a', 'x')).toBe('/a/x');
  });
});

describe('the other coreutils', () => {
  it('cat -n numbers lines across chunks', () => {
    const state = { line: 1, atStart: true };
    expect(numberLines('a\nb', state) + numberLines('c\nd\n', state)).toBe('     1\ta\n     2\tbc\n     3\td\n');
  });

  it('echo', () => {
    expect(echoText(['-n', 'x', 'y'])).toBe('x y');
    expect(echoText(['hi'])).toBe('hi\n');
  });

  it('rm: -r -f, never / . ..', () => {
    expect(parseRmArgs(['-rf', 'a', 'b'])).toEqual({ recursive: true, force: true, paths: ['a', 'b'] });
    expect(parseRmArgs(['-R', '--', '-x'])).toEqual({ recursive: true, force: false, paths: ['-x'] });
    expect(parseRmArgs(['-z'])).toHaveProperty('error');
    expect(['/', '//', '.', '..', 'a/..', 'a/.'].every(refusedPath)).toBe(true);
    expect(refusedPath('/tmp/a')).toBe(false);
  });

  it('mkdir -p makes each prefix', () => {
    expect(prefixes('/a/b/c')).toEqual(['/a', '/a/b', '/a/b/c']);
    expect(prefixes('a//b/')).toEqual(['a', 'a/b']);
  });

  it('cp and mv: where a source goes, and a move across file systems', () => {
    expect(basename('/a/b/')).toBe('b');
    expect(basename('f')).toBe('f');
    expect(targetPath('/a/f', '/tmp', true)).toBe('/tmp/f');
    expect(targetPath('/a/f', '/tmp/', true)).toBe('/tmp/f');
    expect(targetPath('/a/f', '/tmp/g', false)).toBe('/tmp/g');
    expect(isCrossDevice(new SysError('EINVAL', 'rename across file systems (EXDEV)'))).toBe(true);
    expect(isCrossDevice(new SysError('EXDEV'))).toBe(true);
    expect(isCrossDevice(new SysError('EINVAL', 'bad'))).toBe(false);
  });

  it('kill: signals by name or number, TERM by default', () => {
    expect(parseKillArgs(['12'])).toEqual({ list: false, signal: 'TERM', pids: [12] });
    expect(parseKillArgs(['-9', '1', '2'])).toEqual({ list: false, signal: 'KILL', pids: [1, 2] });
    expect(parseKillArgs(['-INT', '3'])).toMatchObject({ signal: 'INT' });
    expect(parseKillArgs(['-s', 'sigterm', '3'])).toMatchObject({ signal: 'TERM' });
    expect(parseKillArgs(['-2', '3'])).toMatchObject({ signal: 'INT' });
    expect(parseKillArgs(['-l'])).toEqual({ list: true });
    expect(parseKillArgs(['-HUP', '3'])).toHaveProperty('error');
    expect(parseKillArgs(['abc'])).toHaveProperty('error');
    expect(parseKillArgs([])).toHaveProperty('error');
    expect(signalName('15')).toBe('TERM');
  });

  it('ps: PID PPID UID STAT CMD', () => {
    const p = (pid: number, ppid: number, argv: string[], state: ProcInfo['state'] = 'running'): ProcInfo => ({ pid, ppid, uid: 0, argv, state, status: null, startedAt: 0, label: `p${pid}` });
    expect(formatPs([p(2, 1, ['sh']), p(1, 0, ['init']), p(7, 2, ['sleep', '5'], 'zombie'), p(8, 2, [])])).toBe(
      'PID  PPID  UID  STAT  CMD\n1    0     0    R     init\n2    1     0    R     sh\n7    2     0    Z     sleep 5\n8    2     0    R     [p8]\n',
    );
  });

  it('df: sizes in 1K blocks or human-readable, use %, inodes', () => {
    const rows = [{ mount: '/', server: 'mfs', blockSize: 4096, blocks: 1000, freeBlocks: 750, inodes: 100, freeInodes: 90 }];
    expect(formatDf(rows)).toBe('FILESYSTEM  1K-BLOCKS  USED  AVAIL  USE%  MOUNTED ON\nmfs         4000       1000  3000   25%   /\n');
    expect(formatDf(rows, { human: true })).toContain('3.9M');
    expect(formatDf(rows, { inodes: true })).toContain('100     10     90     10%');
    expect(humanSize(512)).toBe('512B');
    expect(humanSize(1536)).toBe('1.5K');
    expect(humanSize(256 * 1024 * 1024)).toBe('256M');
  });

  it('mount: SERVER on PATH (rw|ro)', () => {
    expect(formatMounts([{ path: '/', server: 'mfs', readonly: false }, { path: '/bin', server: 'bootfs', readonly: true }])).toBe('mfs on / (rw)\nbootfs on /bin (ro)\n');
  });

  it('env: -i, -u, NAME=VALUE, then a command', () => {
    expect(parseEnvArgs(['A=1', 'ls', 'B=2'], { PATH: '/bin' })).toEqual({ env: { PATH: '/bin', A: '1' }, command: ['ls', 'B=2'] });
    expect(parseEnvArgs(['-i', 'A=1'], { PATH: '/bin' })).toEqual({ env: { A: '1' }, command: [] });
    expect(parseEnvArgs(['-u', 'PATH'], { PATH: '/bin', X: 'y' })).toEqual({ env: { X: 'y' }, command: [] });
    expect(formatEnv({ A: '1', B: 'x y' })).toBe('A=1\nB=x y\n');
    expect(commandCandidates('ls', '/bin:/usr/bin')).toEqual(['/bin/ls.ts', '/usr/bin/ls.ts']);
  });

  it('sleep: seconds, fractions and suffixes', () => {
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('0.25')).toBe(250);
    expect(parseDuration('.5')).toBe(500);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('x')).toBeNull();
    expect(parseDuration('-1')).toBeNull();
  });
});
