/**
 * grep: print the lines that match a pattern (a JavaScript regular expression source).
 * `-v` the lines that do not match; `-i` ignore case; `-c` print only a count; `-n`
 * prefix line numbers; `-l` print only the names of files with a match; `-q` print
 * nothing (the status says); `-F` the pattern is a fixed string; `-e PATTERN`; `-H`/`-h`
 * with/without file names (default: with, when there are several files).
 *
 * Usage: `grep [-vicnlqFHh] [-e] PATTERN [FILE…]`. Exit status 0 if a line was
 * selected, 1 if none, 2 on an error (a bad pattern, an unreadable file).
 *
 * Entry points: default `main(argv)`; `parseGrepArgs`, `makeMatcher`, `LineSplitter`, `grepText`.
 */
import { close, decodeUtf8, eprint, open, read, SysError, write } from 'libc';

export interface GrepOptions {
  pattern: string;
  invert: boolean;
  ignoreCase: boolean;
  count: boolean;
  number: boolean;
  filesOnly: boolean;
  quiet: boolean;
  fixed: boolean;
  /** null: decide by the number of files. */
  withName: boolean | null;
  files: string[];
}

export function parseGrepArgs(args: readonly string[]): GrepOptions | { error: string } {
  const o: GrepOptions = { pattern: '', invert: false, ignoreCase: false, count: false, number: false, filesOnly: false, quiet: false, fixed: false, withName: null, files: [] };
  let pattern: string | null = null;
  let opts = true;
  const usage = 'usage: grep [-vicnlqFHh] [-e] PATTERN [FILE…]';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (opts && a === '--') {
      opts = false;
      continue;
    }
    if (opts && a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const f = a[j]!;
        if (f === 'v') o.invert = true;
        else if (f === 'i') o.ignoreCase = true;
        else if (f === 'c') o.count = true;
        else if (f === 'n') o.number = true;
        else if (f === 'l') o.filesOnly = true;
        else if (f === 'q' || f === 's') o.quiet ||= f === 'q';
        else if (f === 'F') o.fixed = true;
        else if (f === 'E') continue;
        else if (f === 'H') o.withName = true;
        else if (f === 'h') o.withName = false;
        else if (f === 'e') {
          const rest = a.slice(j + 1);
          const v = rest !== '' ? rest : args[++i];
          if (v === undefined) return { error: `grep: -e needs a pattern\n${usage}` };
          pattern = v;
          break;
        } else return { error: `grep: unknown option -${f}\n${usage}` };
      }
      continue;
    }
    if (pattern === null) pattern = a;
    else o.files.push(a);
  }
  if (pattern === null) return { error: usage };
  o.pattern = pattern;
  return o;
}

/** The line test, or an error for a pattern that is not a valid regular expression. */
export function makeMatcher(o: Pick<GrepOptions, 'pattern' | 'ignoreCase' | 'invert' | 'fixed'>): ((line: string) => boolean) | { error: string } {
  let re: RegExp;
  try {
    const source = o.fixed ? o.pattern.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&') : o.pattern;
    re = new RegExp(source, o.ignoreCase ? 'iu' : 'u');
  } catch {
    try {
      re = new RegExp(o.pattern, o.ignoreCase ? 'i' : '');
    } catch (e) {
      return { error: `grep: invalid pattern '${o.pattern}': ${(e as Error).message}` };
    }
  }
  return (line) => re.test(line) !== o.invert;
}

/** Bytes in, complete lines out (a line may span chunks; newlines are split on before decoding, so no character is cut). */
export class LineSplitter {
  private rest = new Uint8Array(0);

  push(chunk: Uint8Array): string[] {
    const data = new Uint8Array(this.rest.length + chunk.length);
    data.set(this.rest);
    data.set(chunk, this.rest.length);
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 10) {
        lines.push(decodeUtf8(data.subarray(start, i)));
        start = i + 1;
      }
    }
    this.rest = data.slice(start);
    return lines;
  }

  /** The last line, if the input did not end with a newline. */
  end(): string[] {
    const r = this.rest.length > 0 ? [decodeUtf8(this.rest)] : [];
    this.rest = new Uint8Array(0);
    return r;
  }
}

/** Select lines from one input's lines → what to print (for -c, -l, -q, the caller prints) and how many were selected. */
export function grepText(lines: readonly string[], match: (line: string) => boolean, o: Pick<GrepOptions, 'number' | 'count' | 'filesOnly' | 'quiet'>, prefix: string, firstLine = 1): { out: string; selected: number } {
  let out = '';
  let selected = 0;
  lines.forEach((line, i) => {
    if (!match(line)) return;
    selected++;
    if (!o.count && !o.filesOnly && !o.quiet) out += `${prefix}${o.number ? `${firstLine + i}:` : ''}${line}\n`;
  });
  return { out, selected };
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

class StdoutClosed extends Error {}

export default async function main(argv: readonly string[]): Promise<number> {
  const o = parseGrepArgs(argv.slice(1));
  if ('error' in o) {
    await eprint(`${o.error}\n`).catch(() => undefined);
    return 2;
  }
  const match = makeMatcher(o);
  if (typeof match !== 'function') {
    await eprint(`${match.error}\n`).catch(() => undefined);
    return 2;
  }
  const inputs = o.files.length > 0 ? o.files : ['-'];
  const withName = o.withName ?? inputs.length > 1;
  const out = async (text: string) => {
    if (text === '') return;
    try {
      await write(1, text);
    } catch {
      throw new StdoutClosed();
    }
  };
  let any = false;
  let error = false;
  try {
    for (const f of inputs) {
      const name = f === '-' ? '(standard input)' : f;
      let fd = 0;
      try {
        if (f !== '-') fd = await open(f, 'r');
      } catch (e) {
        error = true;
        await eprint(`grep: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
        continue;
      }
      const split = new LineSplitter();
      let selected = 0;
      let lineNo = 1;
      try {
        for (;;) {
          const chunk = await read(fd, 65536);
          const lines = chunk.length === 0 ? split.end() : split.push(chunk);
          const r = grepText(lines, match, o, withName ? `${name}:` : '', lineNo);
          lineNo += lines.length;
          selected += r.selected;
          await out(r.out);
          if (o.quiet && selected > 0) return 0;
          if (o.filesOnly && selected > 0) break;
          if (chunk.length === 0) break;
        }
      } catch (e) {
        if (e instanceof StdoutClosed) throw e;
        error = true;
        await eprint(`grep: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
      } finally {
        if (fd !== 0) await close(fd).catch(() => undefined);
      }
      if (selected > 0) any = true;
      if (o.count) await out(`${withName ? `${name}:` : ''}${selected}\n`);
      else if (o.filesOnly && selected > 0) await out(`${name}\n`);
    }
  } catch (e) {
    if (e instanceof StdoutClosed) return any ? 0 : 1;
    throw e;
  }
  return error ? 2 : any ? 0 : 1;
}
