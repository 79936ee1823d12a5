/**
 * head: the first lines (default 10) or bytes of files or standard input. With several
 * files each is headed `==> NAME <==`. It stops reading as soon as it has enough.
 *
 * Usage: `head [-n N | -N] [-c N] [FILE…]`. Exit status 1 if a file could not be read.
 *
 * Entry points: default `main(argv)`; `parseHeadArgs`, `takeLines`, `takeBytes`.
 */
import { close, eprint, open, read, SysError, write } from 'libc';

export interface HeadOptions {
  lines: number;
  /** Count bytes instead of lines. */
  bytes: number | null;
  files: string[];
}

export function parseHeadArgs(args: readonly string[]): HeadOptions | { error: string } {
  const o: HeadOptions = { lines: 10, bytes: null, files: [] };
  const num = (v: string | undefined, what: string): number | { error: string } => {
    if (v === undefined || !/^\d+$/.test(v)) return { error: `head: invalid number of ${what}: '${v ?? ''}'` };
    return Number(v);
  };
  let opts = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (opts && a === '--') {
      opts = false;
      continue;
    }
    if (opts && /^-\d+$/.test(a)) {
      o.lines = Number(a.slice(1));
      continue;
    }
    const m = opts ? /^-([nc])(.*)$/.exec(a) : null;
    if (m) {
      const n = num(m[2] !== '' ? m[2] : args[++i], m[1] === 'n' ? 'lines' : 'bytes');
      if (typeof n !== 'number') return n;
      if (m[1] === 'n') {
        o.lines = n;
        o.bytes = null;
      } else o.bytes = n;
      continue;
    }
    if (opts && a.startsWith('-') && a.length > 1) return { error: `head: unknown option ${a}\nusage: head [-n N] [-c N] [FILE…]` };
    o.files.push(a);
  }
  return o;
}

/** Up to `remaining` lines of `chunk` (each through its newline) → the bytes to print and the lines still wanted. */
export function takeLines(chunk: Uint8Array, remaining: number): { out: Uint8Array; remaining: number } {
  if (remaining <= 0) return { out: chunk.subarray(0, 0), remaining: 0 };
  let i = 0;
  for (; i < chunk.length; i++) {
    if (chunk[i] === 10 && --remaining === 0) return { out: chunk.subarray(0, i + 1), remaining: 0 };
  }
  return { out: chunk, remaining };
}

export function takeBytes(chunk: Uint8Array, remaining: number): { out: Uint8Array; remaining: number } {
  const n = Math.min(chunk.length, Math.max(0, remaining));
  return { out: chunk.subarray(0, n), remaining: remaining - n };
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export default async function main(argv: readonly string[]): Promise<number> {
  const o = parseHeadArgs(argv.slice(1));
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
    } catch (e) {
      status = 1;
      await eprint(`head: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
      continue;
    }
    try {
      if (inputs.length > 1) await write(1, `${idx > 0 ? '\n' : ''}==> ${f === '-' ? 'standard input' : f} <==\n`);
      let remaining = o.bytes ?? o.lines;
      while (remaining > 0) {
        const chunk = await read(fd, o.bytes !== null ? Math.min(65536, remaining) : 65536);
        if (chunk.length === 0) break;
        const r = o.bytes !== null ? takeBytes(chunk, remaining) : takeLines(chunk, remaining);
        remaining = r.remaining;
        if (r.out.length > 0) await write(1, r.out);
      }
    } catch (e) {
      status = 1;
      if (codeOf(e) === 'EPIPE') return 1;
      await eprint(`head: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
    } finally {
      if (fd !== 0) await close(fd).catch(() => undefined);
    }
  }
  return status;
}
