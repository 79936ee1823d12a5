/**
 * tail: the last lines (default 10) of files or standard input. With several files each
 * is headed `==> NAME <==`.
 *
 * Usage: `tail [-n N | -N] [FILE…]`. Exit status 1 if a file could not be read.
 *
 * Entry points: default `main(argv)`; `parseTailArgs`, `lastLines`.
 */
import { close, eprint, open, read, SysError, write } from 'libc';

export function parseTailArgs(args: readonly string[]): { lines: number; files: string[] } | { error: string } {
  const o = { lines: 10, files: [] as string[] };
  let opts = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (opts && a === '--') opts = false;
    else if (opts && /^-\d+$/.test(a)) o.lines = Number(a.slice(1));
    else if (opts && /^-n/.test(a)) {
      const v = a.length > 2 ? a.slice(2) : args[++i];
      if (v === undefined || !/^\d+$/.test(v)) return { error: `tail: invalid number of lines: '${v ?? ''}'` };
      o.lines = Number(v);
    } else if (opts && a.startsWith('-') && a.length > 1) return { error: `tail: unknown option ${a}\nusage: tail [-n N] [FILE…]` };
    else o.files.push(a);
  }
  return o;
}

/** The bytes of the last `n` lines of `data` (a last line without a newline counts). */
export function lastLines(data: Uint8Array, n: number): Uint8Array {
  if (n <= 0) return data.subarray(data.length);
  let end = data.length;
  if (end > 0 && data[end - 1] === 10) end--; // the final newline ends the last line
  let seen = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (data[i] === 10 && ++seen === n) return data.subarray(i + 1);
  }
  return data;
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export default async function main(argv: readonly string[]): Promise<number> {
  const o = parseTailArgs(argv.slice(1));
  if ('error' in o) {
    await eprint(`${o.error}\n`).catch(() => undefined);
    return 2;
  }
  const inputs = o.files.length > 0 ? o.files : ['-'];
  let status = 0;
  for (const [idx, f] of inputs.entries()) {
    let fd = 0;
    try {
      if (f !== '-') fd = await open(f, 'r');
      // Keep only what the last lines can need: the tail of the data read so far.
      let data = new Uint8Array(0);
      for (;;) {
        const chunk = await read(fd, 65536);
        if (chunk.length === 0) break;
        const joined = new Uint8Array(data.length + chunk.length);
        joined.set(data);
        joined.set(chunk, data.length);
        data = joined.length > 1 << 20 ? lastLines(joined, o.lines + 1).slice() : joined;
      }
      if (inputs.length > 1) await write(1, `${idx > 0 ? '\n' : ''}==> ${f === '-' ? 'standard input' : f} <==\n`);
      const out = lastLines(data, o.lines);
      if (out.length > 0) await write(1, out);
    } catch (e) {
      status = 1;
      if (codeOf(e) === 'EPIPE') return 1;
      await eprint(`tail: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
    } finally {
      if (fd !== 0) await close(fd).catch(() => undefined);
    }
  }
  return status;
}
