/**
 * sh: the Molt shell. A POSIX-like command language: words with '…' and "…" quoting and
 * backslash escapes; `$VAR`, `${VAR}`, `${VAR:-word}`, `$?`, `$$`, `$!`, `$#`, `$0`…`$9`,
 * `$@`, `~` and `*`/`?`/`[…]` pathname expansion; pipelines `a | b`, `! a`; redirections
 * `< f`, `> f`, `>> f`, `<> f`, `n> f`, `n>&m`, `n>&-`; lists with `;`, newline, `&&`, `||`
 * and `&`; builtins (cd, pwd, exit, export, unset, echo, true, false, :, type, wait, jobs,
 * source/., set, help). Commands resolve through PATH (default /bin) to `<dir>/<name>.ts`.
 *
 * Usage: `sh` (commands from fd 0; a prompt when fd 0 is a terminal), `sh -c 'LIST' [NAME
 * [ARG…]]`, `sh FILE [ARG…]`.
 *
 * The pure parts (tokenizer, parser, word expansion, redirection and pipeline planning,
 * list evaluation) are exported so that they can be tested without a running system;
 * `Shell` carries them out with libc.
 *
 * Entry points: default `main(argv, env)`; `tokenize`, `parse`, `expandWord`,
 * `globToRegExp`, `planRedirs`, `pipelineBase`, `runList`, `commandCandidates`.
 */
import {
  chdir, close, decodeUtf8, encodeUtf8, exit, fstat, getcwd, getpid, isatty, kill, lseek, onSignal, open, pipe, ps, read, readdir, readFile,
  setForeground, sleep, spawn, stat, SysError, wait, write,
} from 'libc';

// ───────────────────────────── words and tokens ─────────────────────────────

/** Parameter-expansion operators: `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V:=w}`, `${V=w}`, `${#V}`. */
export type VarOp = ':-' | '-' | ':+' | '+' | ':=' | '=' | '#';

export type Part =
  | { kind: 'lit'; text: string; quoted: boolean }
  | { kind: 'var'; name: string; quoted: boolean; op?: VarOp; arg?: string }
  | { kind: 'tilde' };

export interface Word {
  parts: Part[];
}

export type RedirOp = '<' | '>' | '>>' | '<>' | '>&' | '<&' | '>|';
export type ListOp = '&&' | '||' | '|' | '&' | ';' | '(' | ')';

export type Token =
  | { kind: 'word'; word: Word; start: number; end: number }
  | { kind: 'op'; op: ListOp; start: number; end: number }
  | { kind: 'redir'; fd: number | null; op: RedirOp; start: number; end: number }
  | { kind: 'newline'; start: number; end: number };

export type TokenizeResult = { ok: true; tokens: Token[] } | { ok: false; incomplete: true } | { ok: false; incomplete: false; error: string };

const WORD_END = new Set([' ', '\t', '\r', '\n', '|', '&', ';', '<', '>', '(', ')']);
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_PARAMS = new Set(['?', '$', '!', '#', '@', '*', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

class Incomplete {}
class SyntaxError_ {
  constructor(readonly message: string) {}
}

/** Split command text into tokens: words (with their quoting kept), operators, redirections, newlines. */
export function tokenize(src: string): TokenizeResult {
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;

  /** `$…` at src[i] → a part (or a literal `$`); advances i. */
  const dollar = (quoted: boolean): Part => {
    const c = src[i + 1];
    if (c === '{') {
      const close = src.indexOf('}', i + 2);
      if (close < 0) throw new Incomplete();
      const body = src.slice(i + 2, close);
      i = close + 1;
      if (body.startsWith('#') && body.length > 1) {
        const name = body.slice(1);
        if (!isParamName(name)) throw new SyntaxError_(`\${${body}}: bad substitution`);
        return { kind: 'var', name, quoted, op: '#' };
      }
      const m = /^([A-Za-z_][A-Za-z0-9_]*|[?$!#@*0-9])(?:(:-|-|:\+|\+|:=|=)([\s\S]*))?$/.exec(body);
      if (!m) throw new SyntaxError_(`\${${body}}: bad substitution`);
      return m[2] !== undefined ? { kind: 'var', name: m[1]!, quoted, op: m[2] as VarOp, arg: m[3] ?? '' } : { kind: 'var', name: m[1]!, quoted };
    }
    if (c !== undefined && NAME_START.test(c)) {
      let j = i + 1;
      while (j < n && NAME_CHAR.test(src[j]!)) j++;
      const name = src.slice(i + 1, j);
      i = j;
      return { kind: 'var', name, quoted };
    }
    if (c !== undefined && SPECIAL_PARAMS.has(c)) {
      i += 2;
      return { kind: 'var', name: c, quoted };
    }
    if (c === '(') throw new SyntaxError_(src[i + 2] === '(' ? 'arithmetic expansion $((…)) is not supported' : 'command substitution $(…) is not supported');
    i++;
    return { kind: 'lit', text: '$', quoted };
  };

  const readWord = (): Word => {
    const parts: Part[] = [];
    const lit = (text: string, quoted: boolean) => {
      const last = parts[parts.length - 1];
      if (last && last.kind === 'lit' && last.quoted === quoted && text !== '') last.text += text;
      else parts.push({ kind: 'lit', text, quoted });
    };
    while (i < n && !WORD_END.has(src[i]!)) {
      const c = src[i]!;
      if (c === "'") {
        const close = src.indexOf("'", i + 1);
        if (close < 0) throw new Incomplete();
        lit(src.slice(i + 1, close), true);
        i = close + 1;
      } else if (c === '"') {
        i++;
        lit('', true); // "" alone is an empty word, not none
        for (;;) {
          if (i >= n) throw new Incomplete();
          const d = src[i]!;
          if (d === '"') {
            i++;
            break;
          }
          if (d === '\\') {
            const e = src[i + 1];
            if (e === undefined) throw new Incomplete();
            if (e === '\n') i += 2;
            else if (e === '$' || e === '`' || e === '"' || e === '\\') {
              lit(e, true);
              i += 2;
            } else {
              lit('\\', true);
              i++;
            }
          } else if (d === '$') {
            parts.push(dollar(true));
          } else if (d === '`') {
            throw new SyntaxError_('command substitution `…` is not supported');
          } else {
            lit(d, true);
            i++;
          }
        }
      } else if (c === '\\') {
        const e = src[i + 1];
        if (e === undefined) throw new Incomplete();
        if (e !== '\n') lit(e, true);
        i += 2;
      } else if (c === '$') {
        parts.push(dollar(false));
      } else if (c === '`') {
        throw new SyntaxError_('command substitution `…` is not supported');
      } else if (c === '~' && parts.length === 0 && (i + 1 >= n || src[i + 1] === '/' || WORD_END.has(src[i + 1]!))) {
        parts.push({ kind: 'tilde' });
        i++;
      } else {
        lit(c, false);
        i++;
      }
    }
    return { parts };
  };

  const redirOp = (): RedirOp => {
    const two = src.slice(i, i + 2);
    if (two === '<<') throw new SyntaxError_('here-documents (<<) are not supported');
    for (const op of ['>>', '>&', '>|', '<&', '<>'] as const) {
      if (two === op) {
        i += 2;
        return op;
      }
    }
    return src[i++] as '<' | '>';
  };

  try {
    while (i < n) {
      const c = src[i]!;
      const start = i;
      if (c === ' ' || c === '\t' || c === '\r') {
        i++;
      } else if (c === '\\' && src[i + 1] === '\n') {
        i += 2;
      } else if (c === '\n') {
        i++;
        tokens.push({ kind: 'newline', start, end: i });
      } else if (c === '#') {
        while (i < n && src[i] !== '\n') i++;
      } else if (src.startsWith('&&', i) || src.startsWith('||', i)) {
        i += 2;
        tokens.push({ kind: 'op', op: src.slice(start, i) as ListOp, start, end: i });
      } else if (c === '|' || c === '&' || c === ';' || c === '(' || c === ')') {
        if (src.startsWith(';;', i)) throw new SyntaxError_("syntax error near unexpected token ';;'");
        i++;
        tokens.push({ kind: 'op', op: c, start, end: i });
      } else if (c === '<' || c === '>') {
        const op = redirOp();
        tokens.push({ kind: 'redir', fd: null, op, start, end: i });
      } else {
        const m = /^\d+(?=[<>])/.exec(src.slice(i, i + 12));
        if (m) {
          i += m[0].length;
          const op = redirOp();
          tokens.push({ kind: 'redir', fd: Number(m[0]), op, start, end: i });
        } else {
          const word = readWord();
          tokens.push({ kind: 'word', word, start, end: i });
        }
      }
    }
  } catch (e) {
    if (e instanceof Incomplete) return { ok: false, incomplete: true };
    if (e instanceof SyntaxError_) return { ok: false, incomplete: false, error: e.message };
    throw e;
  }
  return { ok: true, tokens };
}

function isParamName(s: string): boolean {
  return /^([A-Za-z_][A-Za-z0-9_]*|[?$!#@*0-9])$/.test(s);
}

// ───────────────────────────── the grammar ─────────────────────────────

export interface Redir {
  fd: number;
  op: RedirOp;
  target: Word;
}

export interface Assign {
  name: string;
  value: Word;
}

export interface Command {
  assigns: Assign[];
  words: Word[];
  redirs: Redir[];
}

export interface Pipeline {
  negate: boolean;
  commands: Command[];
}

export interface AndOr {
  first: Pipeline;
  rest: Array<{ op: '&&' | '||'; pipeline: Pipeline }>;
  /** The source text of this and-or list (to run it in a background shell). */
  text: string;
}

export interface ListItem {
  andOr: AndOr;
  background: boolean;
}

export type ParseResult = { ok: true; list: ListItem[] } | { ok: false; incomplete: true } | { ok: false; incomplete: false; error: string };

const describe = (t: Token | undefined): string =>
  t === undefined ? 'newline' : t.kind === 'newline' ? 'newline' : t.kind === 'op' ? t.op : t.kind === 'redir' ? t.op : 'word';

/** The literal text of a word made only of plain (unquoted, unexpanded) text, else null. */
export function plainText(w: Word): string | null {
  let s = '';
  for (const p of w.parts) {
    if (p.kind !== 'lit' || p.quoted) return null;
    s += p.text;
  }
  return s;
}

/** The text of a word when it has no expansions (quotes removed), else null. */
export function literalText(w: Word): string | null {
  let s = '';
  for (const p of w.parts) {
    if (p.kind !== 'lit') return null;
    s += p.text;
  }
  return s;
}

function assignmentOf(w: Word): Assign | null {
  const first = w.parts[0];
  if (!first || first.kind !== 'lit' || first.quoted) return null;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (!m) return null;
  const rest = first.text.slice(m[0].length);
  const parts: Part[] = [...(rest ? [{ kind: 'lit' as const, text: rest, quoted: false }] : []), ...w.parts.slice(1)];
  return { name: m[1]!, value: { parts } };
}

/** Parse command text into a list of and-or lists. Incomplete input (an open quote, a trailing `|`, `&&` …) says so. */
export function parse(src: string): ParseResult {
  const t = tokenize(src);
  if (!t.ok) return t;
  const tokens = t.tokens;
  let k = 0;
  const peek = () => tokens[k];
  const skipNewlines = () => {
    while (peek()?.kind === 'newline') k++;
  };
  const fail = (tok: Token | undefined): never => {
    throw new SyntaxError_(`syntax error near unexpected token '${describe(tok)}'`);
  };

  const command = (): Command => {
    const cmd: Command = { assigns: [], words: [], redirs: [] };
    for (;;) {
      const tok = peek();
      if (tok?.kind === 'word') {
        k++;
        const a = cmd.words.length === 0 ? assignmentOf(tok.word) : null;
        if (a) cmd.assigns.push(a);
        else cmd.words.push(tok.word);
      } else if (tok?.kind === 'redir') {
        k++;
        const target = peek();
        if (target?.kind !== 'word') fail(target);
        k++;
        const fd = tok.fd ?? (tok.op === '<' || tok.op === '<&' || tok.op === '<>' ? 0 : 1);
        cmd.redirs.push({ fd, op: tok.op, target: (target as Extract<Token, { kind: 'word' }>).word });
      } else {
        break;
      }
    }
    if (cmd.assigns.length === 0 && cmd.words.length === 0 && cmd.redirs.length === 0) {
      const tok = peek();
      if (tok?.kind === 'op' && (tok.op === '(' || tok.op === ')')) throw new SyntaxError_('subshells ( … ) are not supported');
      fail(tok);
    }
    return cmd;
  };

  const pipeline = (): Pipeline => {
    let negate = false;
    const first = peek();
    if (first?.kind === 'word' && plainText(first.word) === '!') {
      negate = true;
      k++;
    }
    const commands = [command()];
    for (;;) {
      const tok = peek();
      if (tok?.kind !== 'op' || tok.op !== '|') break;
      k++;
      skipNewlines();
      if (k >= tokens.length) throw new Incomplete();
      commands.push(command());
    }
    return { negate, commands };
  };

  const andOr = (): AndOr => {
    const start = peek()!.start;
    const first = pipeline();
    const rest: AndOr['rest'] = [];
    for (;;) {
      const tok = peek();
      if (tok?.kind !== 'op' || (tok.op !== '&&' && tok.op !== '||')) break;
      k++;
      skipNewlines();
      if (k >= tokens.length) throw new Incomplete();
      rest.push({ op: tok.op, pipeline: pipeline() });
    }
    const end = tokens[k - 1]!.end;
    return { first, rest, text: src.slice(start, end) };
  };

  try {
    const list: ListItem[] = [];
    for (;;) {
      skipNewlines();
      if (k >= tokens.length) break;
      const ao = andOr();
      const sep = peek();
      let background = false;
      if (sep?.kind === 'op' && (sep.op === ';' || sep.op === '&')) {
        background = sep.op === '&';
        k++;
      } else if (sep !== undefined && sep.kind !== 'newline') {
        fail(sep);
      }
      list.push({ andOr: ao, background });
    }
    return { ok: true, list };
  } catch (e) {
    if (e instanceof Incomplete) return { ok: false, incomplete: true };
    if (e instanceof SyntaxError_) return { ok: false, incomplete: false, error: e.message };
    throw e;
  }
}

// ───────────────────────────── expansion ─────────────────────────────

/** What expansion reads: variables (and the special parameters), positional parameters, HOME. */
export interface ExpandEnv {
  /** A variable or special parameter (`?`, `$`, `!`, `#`, `0`, `1` …) → its value, or undefined if unset. */
  get(name: string): string | undefined;
  /** `$1`…: the positional parameters (for `$@`, `$*`). */
  params: readonly string[];
  /** `${V:=w}`: set a variable. */
  set?(name: string, value: string): void;
}

/** One field after expansion: its text, and — when it has unquoted glob characters — its pattern (quoted characters escaped). */
export interface Field {
  text: string;
  pattern: string | null;
}

const IFS_WS = new Set([' ', '\t', '\n']);
const GLOB_CHARS = /[*?[]/;
const escapeGlob = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

export class ExpandError extends Error {}

function paramValue(p: Extract<Part, { kind: 'var' }>, env: ExpandEnv): string | undefined {
  if (p.name === '@' || p.name === '*') return env.params.length > 0 ? env.params.join(' ') : undefined;
  const v = env.get(p.name);
  switch (p.op) {
    case undefined:
      return v;
    case '#':
      return String((v ?? '').length);
    case ':-':
      return v === undefined || v === '' ? p.arg : v;
    case '-':
      return v === undefined ? p.arg : v;
    case ':+':
      return v === undefined || v === '' ? '' : p.arg;
    case '+':
      return v === undefined ? '' : p.arg;
    case ':=':
    case '=':
      if (v === undefined || (p.op === ':=' && v === '')) {
        if (!/^[A-Za-z_]/.test(p.name)) throw new ExpandError(`\${${p.name}${p.op}…}: cannot assign in this way`);
        env.set?.(p.name, p.arg ?? '');
        return p.arg;
      }
      return v;
  }
}

/**
 * Expand one word into fields: parameters, `~`, quote removal, and — with `split` —
 * field splitting of unquoted expansions (on spaces, tabs and newlines). Fields that
 * hold unquoted `*`, `?` or `[` carry a pattern for pathname expansion.
 */
export function expandWord(word: Word, env: ExpandEnv, opts: { split: boolean } = { split: true }): Field[] {
  const fields: Field[] = [];
  let text = '';
  let pat = '';
  let glob = false;
  let started = false;
  // An empty quoted string ("") is a field of its own — unless it only opened a "$@"
  // that had no parameters (which is no field at all).
  let emptyQuote = false;
  let emptyAt = false;
  const endField = () => {
    if (!started && emptyQuote && !emptyAt) started = true;
    emptyQuote = false;
    if (started) fields.push({ text, pattern: glob ? pat : null });
    text = '';
    pat = '';
    glob = false;
    started = false;
  };
  const quoted = (s: string) => {
    if (s === '') {
      emptyQuote = true;
      return;
    }
    text += s;
    pat += escapeGlob(s);
    started = true;
  };
  const unquoted = (s: string) => {
    if (s === '') return;
    text += s;
    pat += s.replace(/\\/g, '\\\\');
    if (GLOB_CHARS.test(s)) glob = true;
    started = true;
  };
  const splittable = (s: string) => {
    if (!opts.split) return unquoted(s);
    let run = '';
    for (const ch of s) {
      if (IFS_WS.has(ch)) {
        unquoted(run);
        run = '';
        endField();
      } else {
        run += ch;
      }
    }
    unquoted(run);
  };
  for (const p of word.parts) {
    if (p.kind === 'lit') {
      if (p.quoted) quoted(p.text);
      else unquoted(p.text);
    } else if (p.kind === 'tilde') {
      quoted(env.get('HOME') ?? '/');
    } else if (p.name === '@' && p.op === undefined && p.quoted && opts.split) {
      // "$@": one field per parameter.
      if (env.params.length === 0) emptyAt = true;
      env.params.forEach((v, idx) => {
        if (idx > 0) endField();
        if (v === '') started = true;
        quoted(v);
      });
    } else if (p.name === '@' && p.op === undefined && !p.quoted && opts.split) {
      env.params.forEach((v, idx) => {
        if (idx > 0) endField();
        splittable(v);
      });
    } else {
      const v = paramValue(p, env) ?? '';
      if (p.quoted) quoted(v);
      else splittable(v);
    }
  }
  endField();
  return fields;
}

/** A glob pattern component (`*`, `?`, `[…]`, `\x` literal) → an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      re += escapeRe(pattern[++i]!);
    } else if (c === '*') {
      re += '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (x) => `\\${x}`)}]`;
      i = close;
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(`${re}$`, 's');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, (c) => `\\${c}`);

/** Whether a pattern component has an active (unescaped) glob character. */
export function hasGlob(component: string): boolean {
  for (let i = 0; i < component.length; i++) {
    const c = component[i]!;
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** A pattern component without escapes (its literal text). */
export function unescapeGlob(component: string): string {
  return component.replace(/\\(.)/g, '$1');
}

/**
 * Pathname expansion of `pattern` (components split on `/`), with `list(dir)` giving a
 * directory's entry names (null: not a directory). Names starting with `.` match only a
 * pattern starting with `.`. → the sorted matches (none: the caller keeps the word).
 */
export async function expandGlob(pattern: string, list: (dir: string) => Promise<string[] | null>): Promise<string[]> {
  const absolute = pattern.startsWith('/');
  const comps = pattern.split('/').filter((c, i) => c !== '' || i === 0);
  if (absolute) comps.shift();
  let paths = [absolute ? '/' : ''];
  for (const [idx, comp] of comps.entries()) {
    const last = idx === comps.length - 1;
    const next: string[] = [];
    const join = (base: string, name: string) => (base === '' ? name : base.endsWith('/') ? base + name : `${base}/${name}`);
    if (!hasGlob(comp)) {
      const name = unescapeGlob(comp);
      for (const p of paths) next.push(join(p, name));
      if (last) {
        // The final literal component must exist.
        const kept: string[] = [];
        for (const p of next) {
          const slash = p.lastIndexOf('/');
          const dir = slash < 0 ? '.' : slash === 0 ? '/' : p.slice(0, slash);
          const names = await list(dir);
          if (names?.includes(p.slice(slash + 1))) kept.push(p);
        }
        paths = kept;
      } else {
        paths = next;
      }
      continue;
    }
    const re = globToRegExp(comp);
    const dotOk = comp.startsWith('.') || comp.startsWith('\\.');
    for (const p of paths) {
      const names = await list(p === '' ? '.' : p);
      if (!names) continue;
      for (const name of names) {
        if (name.startsWith('.') && !dotOk) continue;
        if (re.test(name)) next.push(join(p, name));
      }
    }
    paths = next;
    if (paths.length === 0) break;
  }
  return paths.sort();
}

// ───────────────────────────── planning fds ─────────────────────────────

/** Where one of a command's fds comes from. */
export type FdSource =
  | { kind: 'inherit'; fd: number }
  | { kind: 'pipe'; index: number; end: 'r' | 'w' }
  /** At end of input at once (a background job's stdin). */
  | { kind: 'empty' }
  | { kind: 'file'; id: number; path: string; flags: 'r' | 'w' | 'a' | 'r+' };

export interface ExpandedRedir {
  fd: number;
  op: RedirOp;
  target: string;
}

export type FdPlan = Map<number, FdSource>;

/** The fds of command `i` of an `n`-command pipeline before its own redirections. */
export function pipelineBase(n: number, i: number, opts: { background?: boolean } = {}): FdPlan {
  const m: FdPlan = new Map();
  m.set(0, i > 0 ? { kind: 'pipe', index: i - 1, end: 'r' } : opts.background ? { kind: 'empty' } : { kind: 'inherit', fd: 0 });
  m.set(1, i < n - 1 ? { kind: 'pipe', index: i, end: 'w' } : { kind: 'inherit', fd: 1 });
  m.set(2, { kind: 'inherit', fd: 2 });
  return m;
}

/**
 * Apply redirections in order to `base` → the command's fds, and the files to open (in
 * order: all of them are opened, as in POSIX, even one a later redirection replaces).
 */
export function planRedirs(base: FdPlan, redirs: ExpandedRedir[], firstId = 1): { ok: true; fds: FdPlan; opens: Array<Extract<FdSource, { kind: 'file' }>> } | { ok: false; error: string } {
  const fds: FdPlan = new Map(base);
  const opens: Array<Extract<FdSource, { kind: 'file' }>> = [];
  let id = firstId;
  for (const r of redirs) {
    if (r.fd < 0 || r.fd > 9) return { ok: false, error: `${r.fd}: bad file descriptor` };
    if (r.op === '>&' || r.op === '<&') {
      if (r.target === '-') {
        fds.delete(r.fd);
        continue;
      }
      if (!/^\d$/.test(r.target)) return { ok: false, error: `${r.target}: bad file descriptor` };
      const src = fds.get(Number(r.target));
      if (!src) return { ok: false, error: `${r.target}: bad file descriptor` };
      fds.set(r.fd, src);
      continue;
    }
    if (r.target === '') return { ok: false, error: 'ambiguous redirect' };
    if (r.op === '<' && r.target === '/dev/null') {
      // No device files: reading /dev/null is an input at its end at once.
      fds.set(r.fd, { kind: 'empty' });
      continue;
    }
    const flags = r.op === '<' ? 'r' : r.op === '>>' ? 'a' : r.op === '<>' ? 'r+' : 'w';
    const f = { kind: 'file' as const, id: id++, path: r.target, flags: flags as 'r' | 'w' | 'a' | 'r+' };
    opens.push(f);
    fds.set(r.fd, f);
  }
  return { ok: true, fds, opens };
}

// ───────────────────────────── lists ─────────────────────────────

export interface ListHooks {
  /** Run one pipeline in the foreground → its exit status. */
  pipeline(p: Pipeline): Promise<number>;
  /** Start an and-or list in the background. */
  background(ao: AndOr): Promise<void>;
  /** True once the shell must stop (exit, a fatal signal). */
  stopped(): boolean;
}

/** Evaluate a list: `;` in order, `&&`/`||` by the previous status, `&` in the background → the last status. */
export async function runList(list: ListItem[], hooks: ListHooks, status = 0): Promise<number> {
  for (const item of list) {
    if (hooks.stopped()) break;
    if (item.background) {
      await hooks.background(item.andOr);
      status = 0;
      continue;
    }
    status = await hooks.pipeline(item.andOr.first);
    for (const { op, pipeline } of item.andOr.rest) {
      if (hooks.stopped()) break;
      if ((op === '&&' && status === 0) || (op === '||' && status !== 0)) status = await hooks.pipeline(pipeline);
    }
  }
  return status;
}

/** The files a command name may be, in order: a path as given (and with `.ts`), or `<dir>/<name>.ts` for each PATH dir. */
export function commandCandidates(name: string, path: string): string[] {
  if (name.includes('/')) return name.endsWith('.ts') ? [name] : [name, `${name}.ts`];
  const out: string[] = [];
  for (const d of path.split(':')) {
    const dir = d === '' ? '.' : d.replace(/\/+$/, '');
    out.push(name.endsWith('.ts') ? `${dir}/${name}` : `${dir}/${name}.ts`);
  }
  return out;
}

/** Argument words of `echo`: `-n` (no newline), `-e` (backslash escapes), `-E`. */
export function echoText(args: readonly string[]): string {
  let newline = true;
  let escapes = false;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (!/^-[neE]+$/.test(a)) break;
    for (const f of a.slice(1)) {
      if (f === 'n') newline = false;
      else if (f === 'e') escapes = true;
      else escapes = false;
    }
  }
  let text = args.slice(i).join(' ');
  if (escapes) {
    const cut = text.indexOf('\\c');
    if (cut >= 0) {
      text = text.slice(0, cut);
      newline = false;
    }
    text = text.replace(/\\([\\abefnrtv0])/g, (_m, c: string) => ({ '\\': '\\', a: '\x07', b: '\b', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', 0: '\0' })[c] ?? c);
  }
  return newline ? `${text}\n` : text;
}

/** `NAME='value'` with the value quoted for reuse as shell input. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

// ───────────────────────────── reading input ─────────────────────────────

const codeOf = (e: unknown): string => (e instanceof SysError ? e.code : 'EIO');

/**
 * Lines from an fd, buffered across partial reads; end of input is an empty read. On a
 * pipe it reads one byte at a time and on a file it seeks back over what it read ahead,
 * so that the commands it runs see the rest of the input (as POSIX asks of a shell).
 */
class LineReader {
  private buf = new Uint8Array(0);
  private eof = false;

  constructor(
    private readonly fd: number,
    private readonly mode: 'line' | 'byte' | 'seek',
  ) {}

  async readLine(): Promise<string | null> {
    for (;;) {
      const nl = this.buf.indexOf(10);
      if (nl >= 0) {
        const line = decodeUtf8(this.buf.subarray(0, nl));
        this.buf = this.buf.slice(nl + 1);
        if (this.mode === 'seek' && this.buf.length > 0) {
          const back = this.buf.length;
          this.buf = new Uint8Array(0);
          await lseek(this.fd, -back, 'cur').catch(() => undefined);
        }
        return line;
      }
      if (this.eof) {
        if (this.buf.length === 0) return null;
        const line = decodeUtf8(this.buf);
        this.buf = new Uint8Array(0);
        return line;
      }
      let chunk: Uint8Array;
      try {
        chunk = await read(this.fd, this.mode === 'byte' ? 1 : 4096);
      } catch (e) {
        if (codeOf(e) === 'ETIMEDOUT') continue; // a long wait for input: ask again
        throw e;
      }
      if (chunk.length === 0) {
        this.eof = true;
        continue;
      }
      const joined = new Uint8Array(this.buf.length + chunk.length);
      joined.set(this.buf);
      joined.set(chunk, this.buf.length);
      this.buf = joined;
    }
  }
}

/**
 * A wait that outlived the system-call deadline (ETIMEDOUT) stays queued in pm and takes
 * the child's exit when it comes, so asking again would wait forever. Instead: watch the
 * process table, and reap the child once it shows as a zombie. If the stale wait took
 * the exit, the status is lost (0 is assumed).
 */
export async function waitByPolling(pid: number, intervalMs = 200): Promise<number> {
  for (;;) {
    let procs: Array<{ pid: number; state: string; status: number | null }>;
    try {
      procs = await ps();
    } catch {
      await sleep(intervalMs);
      continue;
    }
    const p = procs.find((x) => x.pid === pid);
    if (p === undefined) return 0;
    if (p.state === 'zombie') {
      try {
        return (await wait(pid)).status;
      } catch {
        return p.status ?? 0;
      }
    }
    await sleep(intervalMs);
  }
}

// ───────────────────────────── the shell ─────────────────────────────

interface Job {
  pids: number[];
  text: string;
  done: Promise<number>;
  finished: boolean;
}

type Io = { fds: Map<number, number> };

const BUILTINS = ['cd', 'pwd', 'exit', 'export', 'unset', 'echo', 'true', 'false', ':', 'type', 'wait', 'jobs', 'source', '.', 'set', 'help'] as const;
type Builtin = (typeof BUILTINS)[number];
const isBuiltin = (name: string): name is Builtin => (BUILTINS as readonly string[]).includes(name);
/** Builtins that change the shell itself: in a multi-command pipeline they run as in a subshell (no effect). */
const STATEFUL = new Set<string>(['cd', 'exit', 'export', 'unset', 'source', '.', 'wait']);

const SIGNAL_NUMBERS: Record<string, number> = { INT: 2, KILL: 9, TERM: 15 };

const HELP = `Molt sh: a POSIX-like shell.
  a | b | c          pipeline (! a: negate the status)
  a ; b    a && b    a || b    a &      lists, background
  < f  > f  >> f  2> f  2>&1  n>&-    redirections
  'x' "x" \\x          quoting;  $VAR \${VAR} \${VAR:-default} $? $$ $! $# $1 $@  ~  * ? [..]
  NAME=value [cmd]   set a variable (for cmd only, when given)
builtins: ${BUILTINS.join(' ')}
programs: every <name>.ts in PATH (default /bin); see ls /bin
`;

export class Shell {
  readonly vars = new Map<string, string>();
  readonly exported = new Set<string>();
  status = 0;
  pid = 0;
  uid = 0;
  lastBg = 0;
  name = 'sh';
  params: string[] = [];
  interactive = false;
  /** Set by `exit`: the status to end with. */
  exitStatus: number | null = null;
  /** A fatal signal arrived (non-interactive shell): end once the job is done. */
  pendingSignal: string | null = null;
  private readonly jobs = new Map<number, Job>();
  private fgPids: number[] = [];
  private atPrompt = false;
  private pendingInput = '';

  constructor(env: Readonly<Record<string, string>>) {
    for (const [k, v] of Object.entries(env)) {
      this.vars.set(k, v);
      this.exported.add(k);
    }
    if (!this.vars.has('PATH')) {
      this.vars.set('PATH', '/bin');
      this.exported.add('PATH');
    }
    if (!this.vars.has('HOME')) this.vars.set('HOME', '/');
  }

  // ── variables ──

  private expandEnv(): ExpandEnv {
    return {
      get: (name) => {
        switch (name) {
          case '?':
            return String(this.status);
          case '$':
            return String(this.pid);
          case '!':
            return this.lastBg ? String(this.lastBg) : '';
          case '#':
            return String(this.params.length);
          case '0':
            return this.name;
          default:
            if (/^\d$/.test(name)) return this.params[Number(name) - 1];
            return this.vars.get(name);
        }
      },
      params: this.params,
      set: (name, value) => this.vars.set(name, value),
    };
  }

  private childEnv(extra: Array<[string, string]> = []): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of this.exported) {
      const v = this.vars.get(k);
      if (v !== undefined) env[k] = v;
    }
    for (const [k, v] of extra) env[k] = v;
    return env;
  }

  private async fields(words: Word[]): Promise<string[]> {
    const out: string[] = [];
    const env = this.expandEnv();
    for (const w of words) {
      for (const f of expandWord(w, env)) {
        if (f.pattern !== null) {
          const matches = await expandGlob(f.pattern, async (dir) => {
            try {
              return (await readdir(dir)).map((e) => e.name);
            } catch {
              return null;
            }
          });
          if (matches.length > 0) {
            out.push(...matches);
            continue;
          }
        }
        out.push(f.text);
      }
    }
    return out;
  }

  private one(w: Word): string {
    return expandWord(w, this.expandEnv(), { split: false }).map((f) => f.text).join('');
  }

  // ── output helpers ──

  private async say(fd: number | undefined, text: string): Promise<void> {
    if (fd === undefined) return;
    try {
      await write(fd, text);
    } catch {
      // EPIPE, EBADF: nobody to tell
    }
  }

  private err(text: string): Promise<void> {
    return this.say(2, text);
  }

  // ── running ──

  /** Run command text (a whole script, `-c` text, or one complete input); → status. */
  async runText(src: string): Promise<number> {
    const p = parse(src);
    if (!p.ok) {
      await this.err(`${this.name}: ${p.incomplete ? 'syntax error: unexpected end of input' : p.error}\n`);
      this.status = 2;
      return 2;
    }
    return this.runParsed(p.list);
  }

  private async runParsed(list: ListItem[]): Promise<number> {
    this.status = await runList(
      list,
      {
        pipeline: async (pl) => {
          this.status = await this.runPipeline(pl);
          return this.status;
        },
        background: (ao) => this.startBackground(ao),
        stopped: () => this.exitStatus !== null || this.pendingSignal !== null,
      },
      this.status,
    );
    return this.status;
  }

  /** Expand, set up fds, start, wait: one pipeline in the foreground → its status. */
  private async runPipeline(pl: Pipeline): Promise<number> {
    let status: number;
    try {
      status = await this.execPipeline(pl, false);
    } catch (e) {
      // A system call failed where no command was to blame (no pipe, no fd): say so, go on.
      if (!(e instanceof SysError)) throw e;
      await this.err(`${this.name}: ${e.message}\n`);
      return 1;
    }
    return pl.negate ? (status === 0 ? 1 : 0) : status;
  }

  private async startBackground(ao: AndOr): Promise<void> {
    try {
      if (ao.rest.length > 0 || ao.first.negate) {
        // An and-or list in the background: a shell of its own runs it.
        const pid = await this.spawnShell(ao.text);
        if (pid !== null) await this.addJob([pid], ao.text);
        return;
      }
      await this.execPipeline(ao.first, true, ao.text);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      await this.err(`${this.name}: ${e.message}\n`);
    }
  }

  private async spawnShell(text: string): Promise<number | null> {
    const [r, w] = await pipe();
    await close(w);
    try {
      return await spawn('/bin/sh.ts', ['sh', '-c', text], { env: this.childEnv(), fds: [[0, r], [1, 1], [2, 2]] });
    } catch (e) {
      await this.err(`${this.name}: cannot start a background shell: ${codeOf(e)}\n`);
      return null;
    } finally {
      await close(r).catch(() => undefined);
    }
  }

  private async addJob(pids: number[], text: string): Promise<void> {
    const last = pids[pids.length - 1]!;
    this.lastBg = last;
    const job: Job = { pids, text, finished: false, done: Promise.resolve(0) };
    job.done = Promise.all(pids.map((p) => this.waitFor(p, 1000))).then((st) => {
      job.finished = true;
      const s = st[st.length - 1] ?? 0;
      if (this.interactive) void this.err(`[${last}] ${s === 0 ? 'Done' : `Exit ${s}`}  ${text}\n`).then(() => this.reprompt());
      return s;
    });
    this.jobs.set(last, job);
    await this.err(`[${last}]\n`);
  }

  /** A child's exit status (`pollMs`: how often to look once a wait has outlived its deadline). */
  private async waitFor(pid: number, pollMs = 200): Promise<number> {
    try {
      return (await wait(pid)).status;
    } catch (e) {
      const code = codeOf(e);
      if (code !== 'ETIMEDOUT') return code === 'ECHILD' ? 0 : 1;
    }
    return waitByPolling(pid, pollMs);
  }

  private async execPipeline(pl: Pipeline, background: boolean, text = ''): Promise<number> {
    const n = pl.commands.length;
    // 1. expand every command's words, assignments and redirection targets
    const expanded: Array<{ argv: string[]; assigns: Array<[string, string]>; redirs: ExpandedRedir[] } | { error: string }> = [];
    for (const c of pl.commands) {
      try {
        const argv = await this.fields(c.words);
        const assigns = c.assigns.map((a): [string, string] => [a.name, this.one(a.value)]);
        const redirs: ExpandedRedir[] = [];
        for (const r of c.redirs) {
          if (r.op === '>&' || r.op === '<&') {
            redirs.push({ fd: r.fd, op: r.op, target: this.one(r.target) });
            continue;
          }
          const f = await this.fields([r.target]);
          if (f.length !== 1) throw new ExpandError(`${this.one(r.target) || '""'}: ambiguous redirect`);
          redirs.push({ fd: r.fd, op: r.op, target: f[0]! });
        }
        expanded.push({ argv, assigns, redirs });
      } catch (e) {
        if (!(e instanceof ExpandError)) throw e;
        expanded.push({ error: e.message });
      }
    }

    // 2. a lone command that runs in the shell: assignments only, or a builtin
    const only = expanded[0]!;
    if (n === 1 && !background && !('error' in only)) {
      if (only.argv.length === 0) {
        for (const [k, v] of only.assigns) this.vars.set(k, v);
        return this.withRedirs(only.redirs, async () => 0);
      }
      if (isBuiltin(only.argv[0]!)) return this.withRedirs(only.redirs, (io) => this.builtin(only.argv, io, false));
    }

    // 3. pipes, fds, and the processes
    const pipes: Array<[number, number]> = [];
    const owned = new Set<number>(); // the shell's own copies, closed once the children have theirs
    const statuses: Array<number | null> = new Array<number | null>(n).fill(null);
    const pids: Array<number | null> = new Array<number | null>(n).fill(null);
    const builtins: Array<{ i: number; argv: string[]; io: Io }> = [];
    try {
      for (let i = 0; i < n - 1; i++) {
        const p = await pipe();
        pipes.push(p);
        owned.add(p[0]).add(p[1]);
      }
      let empty: number | null = null;
      for (let i = 0; i < n; i++) {
        const ex = expanded[i]!;
        if ('error' in ex) {
          await this.err(`${this.name}: ${ex.error}\n`);
          statuses[i] = 1;
          continue;
        }
        const plan = planRedirs(pipelineBase(n, i, { background }), ex.redirs);
        if (!plan.ok) {
          await this.err(`${this.name}: ${plan.error}\n`);
          statuses[i] = 1;
          continue;
        }
        const opened = await this.openAll(plan.opens);
        if (opened === null) {
          statuses[i] = 1;
          continue;
        }
        for (const fd of opened.values()) owned.add(fd);
        const fds = new Map<number, number>();
        for (const [child, src] of plan.fds) {
          if (src.kind === 'inherit') fds.set(child, src.fd);
          else if (src.kind === 'pipe') fds.set(child, pipes[src.index]![src.end === 'r' ? 0 : 1]);
          else if (src.kind === 'file') fds.set(child, opened.get(src.id)!);
          else {
            if (empty === null) {
              const [r, w] = await pipe();
              await close(w);
              empty = r;
              owned.add(r);
            }
            fds.set(child, empty);
          }
        }
        if (ex.argv.length === 0) {
          statuses[i] = 0;
          continue;
        }
        const name = ex.argv[0]!;
        if (isBuiltin(name)) {
          builtins.push({ i, argv: ex.argv, io: { fds } });
          continue;
        }
        const found = await this.resolve(name);
        if ('status' in found) {
          await this.err(found.message);
          statuses[i] = found.status;
          continue;
        }
        try {
          pids[i] = await spawn(found.path, ex.argv, { env: this.childEnv(ex.assigns), fds: [...fds] });
        } catch (e) {
          let code = codeOf(e);
          if (code === 'ENOEXEC' && !found.path.endsWith('.ts')) {
            // Not a program: a shell script, as POSIX shells run such a file.
            try {
              pids[i] = await spawn('/bin/sh.ts', ['sh', found.path, ...ex.argv.slice(1)], { env: this.childEnv(ex.assigns), fds: [...fds] });
              continue;
            } catch (e2) {
              code = codeOf(e2);
              e = e2;
            }
          }
          await this.err(`${this.name}: ${name}: ${code === 'ENOENT' ? 'command not found' : `cannot execute: ${e instanceof Error ? e.message : code}`}\n`);
          statuses[i] = code === 'ENOENT' ? 127 : 126;
        }
      }

      // 4. builtins inside a pipeline: after the processes started (they may read what
      // a builtin writes), with every fd no builtin needs already closed.
      const needed = new Map<number, number>();
      for (const b of builtins) for (const fd of new Set(b.io.fds.values())) if (owned.has(fd)) needed.set(fd, (needed.get(fd) ?? 0) + 1);
      for (const fd of owned) {
        if (!needed.has(fd)) {
          owned.delete(fd);
          await close(fd).catch(() => undefined);
        }
      }
      for (const b of builtins) {
        statuses[b.i] = await this.builtin(b.argv, b.io, n > 1 || background);
        for (const fd of new Set(b.io.fds.values())) {
          const left = (needed.get(fd) ?? 0) - 1;
          needed.set(fd, left);
          if (left <= 0 && owned.has(fd)) {
            owned.delete(fd);
            await close(fd).catch(() => undefined);
          }
        }
      }
    } finally {
      for (const fd of owned) await close(fd).catch(() => undefined);
    }

    const started = pids.filter((p): p is number => p !== null);
    if (background) {
      if (started.length > 0) await this.addJob(started, text);
      return 0;
    }

    // 5. wait, with the first process in the console's foreground (it gets ^C)
    let interrupted = false;
    if (started.length > 0) {
      this.fgPids = started;
      if (this.interactive) await setForeground(started[0]!).catch(() => undefined);
      try {
        await Promise.all(
          pids.map(async (pid, i) => {
            if (pid === null) return;
            const s = await this.waitFor(pid);
            statuses[i] = s;
            // ^C ended one of them: it ends the whole job, as a process group would.
            if (s === 128 + SIGNAL_NUMBERS.INT!) {
              interrupted = true;
              for (const other of this.fgPids) if (other !== pid) await kill(other, 'INT').catch(() => undefined);
            }
          }),
        );
      } finally {
        this.fgPids = [];
        if (this.interactive) await setForeground(this.pid).catch(() => undefined);
      }
    }
    // A job ^C ended, ended as a whole (the others may have seen their input end first).
    return interrupted ? 128 + SIGNAL_NUMBERS.INT! : (statuses[n - 1] ?? 0);
  }

  /** Open a plan's files in order; an error is reported and closes what was opened (→ null). */
  private async openAll(opens: Array<Extract<FdSource, { kind: 'file' }>>): Promise<Map<number, number> | null> {
    const opened = new Map<number, number>();
    for (const f of opens) {
      try {
        opened.set(f.id, await open(f.path, f.flags));
      } catch (e) {
        await this.err(`${this.name}: ${f.path}: ${codeOf(e)}\n`);
        for (const fd of opened.values()) await close(fd).catch(() => undefined);
        return null;
      }
    }
    return opened;
  }

  /** Run `body` with the redirections applied to the shell's own fds 0, 1, 2 (for builtins). */
  private async withRedirs(redirs: ExpandedRedir[], body: (io: Io) => Promise<number>): Promise<number> {
    const plan = planRedirs(pipelineBase(1, 0), redirs);
    if (!plan.ok) {
      await this.err(`${this.name}: ${plan.error}\n`);
      return 1;
    }
    const opened = await this.openAll(plan.opens);
    if (opened === null) return 1;
    const fds = new Map<number, number>();
    for (const [child, src] of plan.fds) {
      if (src.kind === 'inherit') fds.set(child, src.fd);
      else if (src.kind === 'file') fds.set(child, opened.get(src.id)!);
    }
    try {
      return await body({ fds });
    } finally {
      for (const fd of opened.values()) await close(fd).catch(() => undefined);
    }
  }

  /** A command name → the program file, or the status and message when there is none. */
  private async resolve(name: string): Promise<{ path: string } | { status: number; message: string }> {
    const byPath = name.includes('/');
    let dir = false;
    for (const c of commandCandidates(name, this.vars.get('PATH') ?? '/bin')) {
      try {
        const st = await stat(c);
        if (st.type === 'file') return { path: c };
        if (st.type === 'dir') dir = true;
      } catch (e) {
        const code = codeOf(e);
        if (byPath && code !== 'ENOENT' && code !== 'ENOTDIR') return { status: 126, message: `${this.name}: ${name}: ${code}\n` };
      }
    }
    if (byPath && dir) return { status: 126, message: `${this.name}: ${name}: is a directory\n` };
    return { status: 127, message: byPath ? `${this.name}: ${name}: ENOENT\n` : `${this.name}: ${name}: command not found\n` };
  }

  // ── builtins ──

  private async builtin(argv: string[], io: Io, subshell: boolean): Promise<number> {
    const out = (s: string) => this.say(io.fds.get(1), s);
    const err = (s: string) => this.say(io.fds.get(2), s);
    const name = argv[0] as Builtin;
    const args = argv.slice(1);
    const listing = name === 'export' && (args.length === 0 || args[0] === '-p');
    if (subshell && STATEFUL.has(name) && !listing) {
      // As in a subshell: check what can be checked, change nothing.
      if (name === 'exit') return args[0] !== undefined ? Number(args[0]) & 255 : this.status;
      return 0;
    }
    try {
      switch (name) {
        case ':':
        case 'true':
          return 0;
        case 'false':
          return 1;
        case 'echo':
          await out(echoText(args));
          return 0;
        case 'pwd':
          await out(`${await getcwd()}\n`);
          return 0;
        case 'cd': {
          let target = args[0] ?? this.vars.get('HOME') ?? '/';
          if (target === '-') target = this.vars.get('OLDPWD') ?? '/';
          const old = await getcwd();
          try {
            await chdir(target);
          } catch (e) {
            await err(`cd: ${target}: ${codeOf(e)}\n`);
            return 1;
          }
          const now = await getcwd();
          this.vars.set('OLDPWD', old);
          this.vars.set('PWD', now);
          if (args[0] === '-') await out(`${now}\n`);
          return 0;
        }
        case 'exit': {
          const code = args[0] === undefined ? this.status : Number(args[0]);
          if (!Number.isInteger(code)) {
            await err(`exit: ${args[0]}: numeric argument required\n`);
            this.exitStatus = 2;
            return 2;
          }
          this.exitStatus = code & 255;
          return this.exitStatus;
        }
        case 'export':
        case 'unset': {
          if (name === 'export' && (args.length === 0 || args[0] === '-p')) {
            const names = [...this.exported].filter((k) => this.vars.has(k)).sort();
            await out(names.map((k) => `export ${k}=${shellQuote(this.vars.get(k)!)}\n`).join(''));
            return 0;
          }
          let status = 0;
          for (const a of args) {
            const eq = a.indexOf('=');
            const key = eq < 0 ? a : a.slice(0, eq);
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
              await err(`${name}: ${a}: not a valid name\n`);
              status = 1;
              continue;
            }
            if (name === 'unset') {
              this.vars.delete(key);
              this.exported.delete(key);
            } else {
              if (eq >= 0) this.vars.set(key, a.slice(eq + 1));
              this.exported.add(key);
            }
          }
          return status;
        }
        case 'set': {
          const names = [...this.vars.keys()].sort();
          await out(names.map((k) => `${k}=${shellQuote(this.vars.get(k)!)}\n`).join(''));
          return 0;
        }
        case 'type': {
          let status = 0;
          for (const a of args) {
            if (isBuiltin(a)) {
              await out(`${a} is a shell builtin\n`);
              continue;
            }
            const f = await this.resolve(a);
            if ('path' in f) await out(`${a} is ${f.path}\n`);
            else {
              await err(`type: ${a}: not found\n`);
              status = 1;
            }
          }
          return status;
        }
        case 'jobs': {
          for (const [pid, job] of this.jobs) if (!job.finished) await out(`[${pid}] Running  ${job.text}\n`);
          return 0;
        }
        case 'wait': {
          if (args.length === 0) {
            for (const job of [...this.jobs.values()]) await job.done;
            this.jobs.clear();
            return 0;
          }
          let status = 0;
          for (const a of args) {
            const pid = Number(a);
            const job = this.jobs.get(pid) ?? [...this.jobs.values()].find((j) => j.pids.includes(pid));
            if (!job) {
              await err(`wait: ${a}: no such job\n`);
              status = 127;
              continue;
            }
            status = await job.done;
          }
          return status;
        }
        case 'source':
        case '.': {
          const file = args[0];
          if (!file) {
            await err(`${name}: usage: ${name} FILE\n`);
            return 2;
          }
          let text: string;
          try {
            text = decodeUtf8(await readFile(file));
          } catch (e) {
            await err(`${name}: ${file}: ${codeOf(e)}\n`);
            return 1;
          }
          return this.runText(text);
        }
        case 'help': {
          let progs = '';
          try {
            progs = (await readdir('/bin')).filter((e) => e.name.endsWith('.ts')).map((e) => e.name.slice(0, -3)).join(' ');
          } catch {
            // no /bin
          }
          await out(HELP + (progs ? `in /bin: ${progs}\n` : ''));
          return 0;
        }
      }
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      await err(`${name}: ${e.code}\n`);
      return 1;
    }
    return 0;
  }

  // ── signals and the prompt ──

  private prompt(): string {
    return this.pendingInput ? '> ' : this.uid === 0 ? '# ' : '$ ';
  }

  private reprompt(): void {
    if (this.interactive && this.atPrompt) void this.err(this.prompt());
  }

  onSignal(name: string): void {
    if (this.interactive) {
      // An interactive shell is not ended by ^C or TERM: at the prompt, ^C drops the line.
      if (name === 'INT') {
        for (const pid of this.fgPids) void kill(pid, 'INT').catch(() => undefined);
        if (this.atPrompt) {
          this.pendingInput = '';
          void this.err(this.prompt());
        }
      }
      return;
    }
    // Not interactive: pass it on to the running job, then end as it did.
    const sig = name === 'KILL' ? 'KILL' : name === 'INT' ? 'INT' : 'TERM';
    for (const pid of this.fgPids) void kill(pid, sig).catch(() => undefined);
    this.pendingSignal = name;
    if (this.fgPids.length === 0) exit(128 + (SIGNAL_NUMBERS[name] ?? 15));
  }

  // ── the three ways to run ──

  /** Read commands from fd 0 until end of input (or `exit`) → the last status. */
  async repl(): Promise<number> {
    let mode: 'line' | 'byte' | 'seek' = 'line';
    try {
      const st = await fstat(0);
      mode = st.type === 'pipe' ? 'byte' : st.type === 'file' ? 'seek' : 'line';
    } catch {
      // no stdin: reads will say so
    }
    const reader = new LineReader(0, mode);
    if (this.interactive) await setForeground(this.pid).catch(() => undefined);
    for (;;) {
      if (this.interactive) {
        this.reapNotices();
        this.atPrompt = true;
        await this.err(this.prompt());
      }
      let line: string | null;
      try {
        line = await reader.readLine();
      } catch (e) {
        await this.err(`${this.name}: reading input: ${codeOf(e)}\n`);
        line = null;
      } finally {
        this.atPrompt = false;
      }
      if (line === null) {
        if (this.pendingInput) {
          await this.err(`${this.name}: syntax error: unexpected end of input\n`);
          this.status = 2;
        }
        if (this.interactive) await this.err('\n');
        return this.status;
      }
      const src = this.pendingInput + line + '\n';
      const p = parse(src);
      if (!p.ok && p.incomplete) {
        this.pendingInput = src;
        continue;
      }
      this.pendingInput = '';
      if (!p.ok) {
        await this.err(`${this.name}: ${p.error}\n`);
        this.status = 2;
        continue;
      }
      await this.runParsed(p.list);
      if (this.exitStatus !== null) return this.exitStatus;
      if (this.pendingSignal !== null) return 128 + (SIGNAL_NUMBERS[this.pendingSignal] ?? 15);
    }
  }

  private reapNotices(): void {
    for (const [pid, job] of this.jobs) if (job.finished) this.jobs.delete(pid);
  }

  async main(args: readonly string[]): Promise<number> {
    try {
      const me = await getpid();
      this.pid = me.pid;
      this.uid = me.uid;
    } catch {
      // keep 0
    }
    onSignal((name) => this.onSignal(name));
    try {
      const cwd = await getcwd();
      this.vars.set('PWD', cwd);
    } catch {
      // no cwd: leave PWD as given
    }
    let i = 0;
    let command: string | null = null;
    while (i < args.length && args[i]!.startsWith('-') && args[i] !== '-') {
      const a = args[i++]!;
      if (a === '--') break;
      if (a === '-c') {
        command = args[i++] ?? null;
        if (command === null) {
          await this.err(`${this.name}: -c: option requires an argument\n`);
          return 2;
        }
        break;
      }
      if (a === '-i') this.interactive = true;
      else if (a === '-s') break;
      else {
        await this.err(`${this.name}: ${a}: unknown option\nusage: sh [-c 'COMMANDS' [NAME [ARG…]]] [FILE [ARG…]]\n`);
        return 2;
      }
    }
    const finish = (s: number) => (this.exitStatus !== null ? this.exitStatus : this.pendingSignal !== null ? 128 + (SIGNAL_NUMBERS[this.pendingSignal] ?? 15) : s);
    if (command !== null) {
      if (args[i] !== undefined) this.name = args[i++]!;
      this.params = args.slice(i);
      return finish(await this.runText(command));
    }
    if (i < args.length) {
      const file = args[i]!;
      this.name = file;
      this.params = args.slice(i + 1);
      let text: string;
      try {
        text = decodeUtf8(await readFile(file));
      } catch (e) {
        await this.err(`sh: ${file}: ${codeOf(e)}\n`);
        return codeOf(e) === 'ENOENT' ? 127 : 126;
      }
      return finish(await this.runText(text));
    }
    if (!this.interactive) this.interactive = await isatty(0).catch(() => false);
    return this.repl();
  }
}

export default async function main(argv: readonly string[], env: Readonly<Record<string, string>>): Promise<number> {
  const shell = new Shell(env);
  try {
    return await shell.main(argv.slice(1));
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    await write(2, encodeUtf8(`sh: ${e.code}${e.message && e.message !== e.code ? ` (${e.message})` : ''}\n`)).catch(() => undefined);
    return 2;
  }
}
