/**
 * The shell's pure parts: tokenizer, parser (pipelines, redirections, lists, background,
 * quoting, incomplete input), word expansion, pathname patterns, fd planning for
 * pipelines and redirections, and list evaluation (`;`, `&&`, `||`, `&`).
 */
import { describe, expect, it, vi } from 'vitest';

// Programs import `libc` (a path alias for the bundler); here it is the real module.
vi.mock('libc', () => import('../../src/lib/libc/index.js'));
vi.mock('libc/format', () => import('../../src/lib/libc/format.js'));

import {
  commandCandidates, echoText, expandGlob, expandWord, globToRegExp, literalText, parse, pipelineBase, planRedirs, runList, shellQuote, tokenize,
  type AndOr, type Command, type ExpandEnv, type ListItem, type Pipeline, type Word,
} from '../../src/user/bin/sh.js';

function list(src: string): ListItem[] {
  const p = parse(src);
  if (!p.ok) throw new Error(p.incomplete ? 'incomplete' : p.error);
  return p.list;
}

/** A command as plain data: its words (literal text), assignments and redirections. */
function shape(c: Command) {
  return {
    words: c.words.map((w) => literalText(w) ?? '<expansion>'),
    ...(c.assigns.length ? { assigns: c.assigns.map((a) => `${a.name}=${literalText(a.value)}`) } : {}),
    ...(c.redirs.length ? { redirs: c.redirs.map((r) => `${r.fd}${r.op}${literalText(r.target)}`) } : {}),
  };
}

const pipe = (p: Pipeline) => ({ negate: p.negate, commands: p.commands.map(shape) });

function env(vars: Record<string, string>, params: string[] = []): ExpandEnv {
  return { get: (n) => vars[n], params, set: (n, v) => (vars[n] = v) };
}

const word = (src: string): Word => {
  const c = list(`x ${src}`)[0]!.andOr.first.commands[0]!;
  return c.words[1]!;
};
const expand = (src: string, vars: Record<string, string> = {}, params: string[] = []) => expandWord(word(src), env(vars, params)).map((f) => f.text);

describe('sh tokenizer', () => {
  it('splits words and operators, and takes a leading digit string before < or > as an fd', () => {
    const t = tokenize('a|b&&c||d;e&f 2>err 2>&1 >>out <in x2>y');
    if (!t.ok) throw new Error('tokenize failed');
    const kinds = t.tokens.map((k) => (k.kind === 'word' ? `w:${literalText(k.word)}` : k.kind === 'op' ? k.op : k.kind === 'redir' ? `${k.fd ?? ''}${k.op}` : 'nl'));
    expect(kinds).toEqual(['w:a', '|', 'w:b', '&&', 'w:c', '||', 'w:d', ';', 'w:e', '&', 'w:f', '2>', 'w:err', '2>&', 'w:1', '>>', 'w:out', '<', 'w:in', 'w:x2', '>', 'w:y']);
  });

  it('keeps quoting: single quotes literal, double quotes with escapes, backslash outside', () => {
    expect(expand(`'a b $X'`)).toEqual(['a b $X']);
    expect(expand(`"a \\"b\\" \\$X \\n"`)).toEqual(['a "b" $X \\n']);
    expect(expand(`a\\ b`)).toEqual(['a b']);
    expect(expand(`'it'\\''s'`)).toEqual(["it's"]);
    expect(expand(`"" ''`.split(' ')[0]!)).toEqual(['']);
  });

  it('treats # as a comment only at the start of a word', () => {
    expect(list('echo a#b # comment').map((i) => pipe(i.andOr.first))).toEqual([{ negate: false, commands: [{ words: ['echo', 'a#b'] }] }]);
  });
});

describe('sh parser', () => {
  it('parses a pipeline', () => {
    const [item] = list('ls / | grep -v x | wc -l');
    expect(pipe(item!.andOr.first)).toEqual({ negate: false, commands: [{ words: ['ls', '/'] }, { words: ['grep', '-v', 'x'] }, { words: ['wc', '-l'] }] });
    expect(item!.background).toBe(false);
  });

  it('parses redirections with their default fds, in order', () => {
    const [item] = list('cat < f > g 2>> log 2>&1 3<> rw 4>&-');
    expect(shape(item!.andOr.first.commands[0]!)).toEqual({ words: ['cat'], redirs: ['0<f', '1>g', '2>>log', '2>&1', '3<>rw', '4>&-'] });
  });

  it('parses redirections anywhere among the words', () => {
    const [item] = list('> out echo a 2>/dev/null b');
    expect(shape(item!.andOr.first.commands[0]!)).toEqual({ words: ['echo', 'a', 'b'], redirs: ['1>out', '2>/dev/null'] });
  });

  it('parses lists: ; newline && || and & with the background flag and the source text', () => {
    const items = list('a; b && c || d & e\nf &');
    expect(items.map((i) => [i.andOr.text, i.background])).toEqual([['a', false], ['b && c || d', true], ['e', false], ['f', true]]);
    expect(items[1]!.andOr.rest.map((r) => r.op)).toEqual(['&&', '||']);
  });

  it('parses assignments before the command name only', () => {
    const [a] = list('A=1 B="x y" cmd C=3');
    expect(shape(a!.andOr.first.commands[0]!)).toEqual({ words: ['cmd', 'C=3'], assigns: ['A=1', 'B=x y'] });
    const [b] = list('X=1');
    expect(shape(b!.andOr.first.commands[0]!)).toEqual({ words: [], assigns: ['X=1'] });
  });

  it('parses ! as negation at the start of a pipeline', () => {
    expect(list('! grep x f')[0]!.andOr.first.negate).toBe(true);
    expect(list("'!' x")[0]!.andOr.first.negate).toBe(false);
  });

  it('says when input is incomplete (to read another line)', () => {
    for (const src of ['echo "abc', "echo 'abc", 'ls |', 'a &&', 'b ||', 'echo \\', 'echo ${X', 'a |\n']) {
      expect(parse(src)).toEqual({ ok: false, incomplete: true });
    }
    expect(list('ls |\n wc -l').length).toBe(1);
    expect(list('echo "a\nb"').length).toBe(1);
  });

  it('reports syntax errors', () => {
    for (const src of ['| a', 'a ;; b', 'echo >', 'a && && b', '; a', 'a > | b', 'echo $(ls)', '(a)', 'cat <<EOF']) {
      const p = parse(src);
      expect(p.ok).toBe(false);
      if (!p.ok) expect(p.incomplete).toBe(false);
    }
  });

  it('accepts empty input and blank lines', () => {
    expect(list('')).toEqual([]);
    expect(list('\n\n  \n# only a comment\n')).toEqual([]);
  });
});

describe('sh expansion', () => {
  it('expands $VAR, ${VAR}, $?, $$, $#, $1 and defaults', () => {
    const vars = { X: 'x', '?': '3', $: '42', '#': '2', '1': 'one' };
    expect(expand('$X${X}y$?-$$-$#-$1', vars)).toEqual(['xxy3-42-2-one']);
    expect(expand('${NOPE:-dflt}', {})).toEqual(['dflt']);
    expect(expand('${X:+set}', { X: 'v' })).toEqual(['set']);
    expect(expand('${#X}', { X: 'four' })).toEqual(['4']);
    const v: Record<string, string> = {};
    expect(expand('${N:=init}', v)).toEqual(['init']);
    expect(v.N).toBe('init');
    expect(expand('$', {})).toEqual(['$']);
  });

  it('splits unquoted expansions into fields, not quoted ones', () => {
    expect(expand('$X', { X: 'a  b\tc' })).toEqual(['a', 'b', 'c']);
    expect(expand('"$X"', { X: 'a  b' })).toEqual(['a  b']);
    expect(expand('pre$X', { X: 'a b' })).toEqual(['prea', 'b']);
    expect(expand("'$X'", { X: 'a b' })).toEqual(['$X']);
  });

  it('drops an empty unquoted expansion but keeps an empty quoted word', () => {
    expect(expand('$NOPE', {})).toEqual([]);
    expect(expand('"$NOPE"', {})).toEqual(['']);
    expect(expand('""', {})).toEqual(['']);
  });

  it('expands "$@" to one field per parameter and $* joined', () => {
    expect(expand('"$@"', {}, ['a b', 'c'])).toEqual(['a b', 'c']);
    expect(expand('"$*"', {}, ['a b', 'c'])).toEqual(['a b c']);
    expect(expand('"$@"', {}, [])).toEqual([]);
  });

  it('expands ~ to HOME at the start of a word', () => {
    expect(expand('~/x', { HOME: '/home/me' })).toEqual(['/home/me/x']);
    expect(expand('a~', { HOME: '/h' })).toEqual(['a~']);
  });

  it('marks unquoted glob characters for pathname expansion, quoted ones not', () => {
    expect(expandWord(word('*.ts'), env({}))).toEqual([{ text: '*.ts', pattern: '*.ts' }]);
    expect(expandWord(word('"*".ts'), env({}))).toEqual([{ text: '*.ts', pattern: null }]);
    expect(expandWord(word('"a*"*'), env({}))).toEqual([{ text: 'a**', pattern: 'a\\**' }]);
  });

  it('matches glob patterns against names', () => {
    expect(globToRegExp('*.ts').test('sh.ts')).toBe(true);
    expect(globToRegExp('*.ts').test('sh.js')).toBe(false);
    expect(globToRegExp('?at').test('cat')).toBe(true);
    expect(globToRegExp('[cb]at').test('bat')).toBe(true);
    expect(globToRegExp('[!cb]at').test('bat')).toBe(false);
    expect(globToRegExp('a\\*').test('ab')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });

  it('expands a pattern over directories (hidden names only for a leading dot), sorted', async () => {
    const tree: Record<string, string[]> = { '/': ['bin', 'etc'], '/bin': ['sh.ts', 'ls.ts', '.hidden.ts', 'notes'], '.': ['a.txt', 'b.txt'] };
    const ls = async (d: string) => tree[d] ?? null;
    expect(await expandGlob('/bin/*.ts', ls)).toEqual(['/bin/ls.ts', '/bin/sh.ts']);
    expect(await expandGlob('/*/sh.ts', ls)).toEqual(['/bin/sh.ts']);
    expect(await expandGlob('*.txt', ls)).toEqual(['a.txt', 'b.txt']);
    expect(await expandGlob('/bin/.*', ls)).toEqual(['/bin/.hidden.ts']);
    expect(await expandGlob('/nope/*', ls)).toEqual([]);
  });
});

describe('sh fd planning', () => {
  const files = (p: ReturnType<typeof planRedirs>) => {
    if (!p.ok) throw new Error(p.error);
    return Object.fromEntries([...p.fds].map(([fd, s]) => [fd, s.kind === 'file' ? `${s.flags}:${s.path}#${s.id}` : s.kind === 'inherit' ? `fd${s.fd}` : s.kind === 'pipe' ? `pipe${s.index}.${s.end}` : 'empty']));
  };

  it('wires a three-command pipeline through two pipes', () => {
    const wire = (i: number) => Object.fromEntries([...pipelineBase(3, i)].map(([fd, s]) => [fd, s.kind === 'pipe' ? `pipe${s.index}.${s.end}` : s.kind === 'inherit' ? `fd${s.fd}` : s.kind]));
    expect(wire(0)).toEqual({ 0: 'fd0', 1: 'pipe0.w', 2: 'fd2' });
    expect(wire(1)).toEqual({ 0: 'pipe0.r', 1: 'pipe1.w', 2: 'fd2' });
    expect(wire(2)).toEqual({ 0: 'pipe1.r', 1: 'fd1', 2: 'fd2' });
  });

  it('gives a background job an empty stdin', () => {
    expect(pipelineBase(1, 0, { background: true }).get(0)).toEqual({ kind: 'empty' });
    expect(pipelineBase(2, 1, { background: true }).get(0)).toEqual({ kind: 'pipe', index: 0, end: 'r' });
  });

  it('applies redirections in order: > f 2>&1 sends both to f; 2>&1 > f only stdout', () => {
    const base = pipelineBase(1, 0);
    expect(files(planRedirs(base, [{ fd: 1, op: '>', target: 'f' }, { fd: 2, op: '>&', target: '1' }]))).toEqual({ 0: 'fd0', 1: 'w:f#1', 2: 'w:f#1' });
    expect(files(planRedirs(base, [{ fd: 2, op: '>&', target: '1' }, { fd: 1, op: '>', target: 'f' }]))).toEqual({ 0: 'fd0', 1: 'w:f#1', 2: 'fd1' });
  });

  it('plans <, >>, <>, closing, and opens every file in order', () => {
    const p = planRedirs(pipelineBase(2, 0), [
      { fd: 0, op: '<', target: 'in' },
      { fd: 1, op: '>>', target: 'log' },
      { fd: 1, op: '>', target: 'out' },
      { fd: 3, op: '<>', target: 'rw' },
      { fd: 2, op: '>&', target: '-' },
    ]);
    expect(files(p)).toEqual({ 0: 'r:in#1', 1: 'w:out#3', 3: 'r+:rw#4' });
    if (p.ok) expect(p.opens.map((o) => o.path)).toEqual(['in', 'log', 'out', 'rw']);
  });

  it('redirections override the pipe ends', () => {
    expect(files(planRedirs(pipelineBase(2, 0), [{ fd: 1, op: '>', target: 'f' }]))).toEqual({ 0: 'fd0', 1: 'w:f#1', 2: 'fd2' });
  });

  it('reads /dev/null as an empty input', () => {
    expect(files(planRedirs(pipelineBase(1, 0), [{ fd: 0, op: '<', target: '/dev/null' }]))).toMatchObject({ 0: 'empty' });
  });

  it('refuses a duplication of a closed or bad fd', () => {
    expect(planRedirs(pipelineBase(1, 0), [{ fd: 1, op: '>&', target: '7' }])).toEqual({ ok: false, error: '7: bad file descriptor' });
    expect(planRedirs(pipelineBase(1, 0), [{ fd: 1, op: '>&', target: 'file' }]).ok).toBe(false);
  });
});

describe('sh lists', () => {
  /** Run a list with pipelines that "succeed" unless their first word is false/fail; record what ran. */
  async function trace(src: string, initial = 0) {
    const ran: string[] = [];
    const bg: string[] = [];
    const status = await runList(
      list(src),
      {
        pipeline: async (p) => {
          const words = p.commands.map((c) => c.words.map((w) => literalText(w)).join(' '));
          ran.push(words.join(' | '));
          const last = words[words.length - 1]!;
          const s = last.startsWith('false') ? 1 : last.startsWith('exit') ? Number(last.split(' ')[1]) : 0;
          return p.negate ? (s === 0 ? 1 : 0) : s;
        },
        background: async (ao: AndOr) => void bg.push(ao.text),
        stopped: () => ran.some((r) => r.startsWith('exit')),
      },
      initial,
    );
    return { ran, bg, status };
  }

  it('runs ; in order and returns the last status', async () => {
    expect(await trace('a; false; b')).toEqual({ ran: ['a', 'false', 'b'], bg: [], status: 0 });
    expect(await trace('a; false')).toMatchObject({ status: 1 });
  });

  it('&& runs on success, || on failure, left to right', async () => {
    expect(await trace('false && a || b')).toEqual({ ran: ['false', 'b'], bg: [], status: 0 });
    expect(await trace('a && false || b && c')).toEqual({ ran: ['a', 'false', 'b', 'c'], bg: [], status: 0 });
    expect(await trace('a || b && c')).toEqual({ ran: ['a', 'c'], bg: [], status: 0 });
    expect(await trace('false || false')).toMatchObject({ status: 1 });
    expect(await trace('! false && a')).toMatchObject({ ran: ['false', 'a'], status: 0 });
  });

  it('starts & items in the background with status 0 and goes on', async () => {
    expect(await trace('false & a && b &\nc')).toEqual({ ran: ['c'], bg: ['false', 'a && b'], status: 0 });
  });

  it('stops after exit', async () => {
    expect(await trace('a; exit 3; b')).toEqual({ ran: ['a', 'exit 3'], bg: [], status: 3 });
  });

  it('keeps the previous status for an empty list', async () => {
    expect(await trace('', 5)).toMatchObject({ status: 5 });
  });
});

describe('sh helpers', () => {
  it('resolves command names through PATH to .ts files, paths as given', () => {
    expect(commandCandidates('ls', '/bin')).toEqual(['/bin/ls.ts']);
    expect(commandCandidates('ls', '/usr/bin:/bin/:')).toEqual(['/usr/bin/ls.ts', '/bin/ls.ts', './ls.ts']);
    expect(commandCandidates('./prog', '/bin')).toEqual(['./prog', './prog.ts']);
    expect(commandCandidates('/x/y.ts', '/bin')).toEqual(['/x/y.ts']);
  });

  it('echo: -n, -e escapes, and words joined by spaces', () => {
    expect(echoText(['a', 'b'])).toBe('a b\n');
    expect(echoText(['-n', 'a'])).toBe('a');
    expect(echoText(['-e', 'a\\tb\\n'])).toBe('a\tb\n\n');
    expect(echoText(['-e', 'a\\cb'])).toBe('a');
    expect(echoText(['-x'])).toBe('-x\n');
    expect(echoText([])).toBe('\n');
  });

  it('quotes values for reuse as input', () => {
    expect(shellQuote('/bin')).toBe('/bin');
    expect(shellQuote("it's x")).toBe(`'it'\\''s x'`);
  });
});
