/**
 * wc: count lines (newlines), words (runs of non-space bytes) and bytes of files or
 * standard input. `-l`, `-w`, `-c` choose the counts (default all three, in that order);
 * with several files a `total` line follows.
 *
 * Usage: `wc [-lwc] [FILE…]`. Exit status 1 if a file could not be read.
 *
 * Entry points: default `main(argv)`; `Counter`, `count`, `formatCounts`, `parseWcArgs`.
 */
import { close, eprint, open, print, read, SysError } from 'libc';

export interface Counts {
  lines: number;
  words: number;
  bytes: number;
}

export interface WcOptions {
  lines: boolean;
  words: boolean;
  bytes: boolean;
  files: string[];
}

export function parseWcArgs(args: readonly string[]): WcOptions | { error: string } {
  const o: WcOptions = { lines: false, words: false, bytes: false, files: [] };
  let opts = true;
  for (const a of args) {
    if (opts && a === '--') opts = false;
    else if (opts && a.startsWith('-') && a.length > 1) {
      for (const f of a.slice(1)) {
        if (f === 'l') o.lines = true;
        else if (f === 'w') o.words = true;
        else if (f === 'c' || f === 'm') o.bytes = true;
        else return { error: `wc: unknown option -${f}\nusage: wc [-lwc] [FILE…]` };
      }
    } else o.files.push(a);
  }
  if (!o.lines && !o.words && !o.bytes) o.lines = o.words = o.bytes = true;
  return o;
}

const isSpace = (b: number) => b === 32 || (b >= 9 && b <= 13);

/** Counts over a stream of chunks (a word may span two chunks). */
export class Counter {
  readonly counts: Counts = { lines: 0, words: 0, bytes: 0 };
  private inWord = false;

  add(chunk: Uint8Array): void {
    const c = this.counts;
    c.bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 10) c.lines++;
      if (isSpace(b)) this.inWord = false;
      else if (!this.inWord) {
        this.inWord = true;
        c.words++;
      }
    }
  }
}

export function count(data: Uint8Array): Counts {
  const c = new Counter();
  c.add(data);
  return c.counts;
}

/**
 * The output lines: the chosen counts, then the name. One count of one input prints
 * bare; otherwise the numbers are right-aligned to the widest one.
 */
export function formatCounts(rows: Array<{ counts: Counts; name?: string }>, show: { lines: boolean; words: boolean; bytes: boolean }): string {
  const pick = (c: Counts) => [...(show.lines ? [c.lines] : []), ...(show.words ? [c.words] : []), ...(show.bytes ? [c.bytes] : [])];
  const nums = rows.map((r) => pick(r.counts));
  const single = rows.length === 1 && nums[0]!.length === 1;
  const width = single ? 0 : Math.max(1, ...nums.flat().map((n) => String(n).length));
  return rows.map((r, i) => `${nums[i]!.map((n) => String(n).padStart(width)).join(' ')}${r.name !== undefined ? ` ${r.name}` : ''}\n`).join('');
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export default async function main(argv: readonly string[]): Promise<number> {
  const o = parseWcArgs(argv.slice(1));
  if ('error' in o) {
    await eprint(`${o.error}\n`).catch(() => undefined);
    return 2;
  }
  const inputs = o.files.length > 0 ? o.files : [null];
  const rows: Array<{ counts: Counts; name?: string }> = [];
  let status = 0;
  for (const f of inputs) {
    let fd = 0;
    try {
      if (f !== null && f !== '-') fd = await open(f, 'r');
      const c = new Counter();
      for (;;) {
        const chunk = await read(fd, 65536);
        if (chunk.length === 0) break;
        c.add(chunk);
      }
      rows.push(f === null ? { counts: c.counts } : { counts: c.counts, name: f });
    } catch (e) {
      status = 1;
      await eprint(`wc: ${f ?? 'stdin'}: ${codeOf(e)}\n`).catch(() => undefined);
    } finally {
      if (fd !== 0) await close(fd).catch(() => undefined);
    }
  }
  if (rows.length > 1) {
    const total: Counts = { lines: 0, words: 0, bytes: 0 };
    for (const r of rows) {
      total.lines += r.counts.lines;
      total.words += r.counts.words;
      total.bytes += r.counts.bytes;
    }
    rows.push({ counts: total, name: 'total' });
  }
  try {
    if (rows.length > 0) await print(formatCounts(rows, o));
  } catch {
    return 1;
  }
  return status;
}
