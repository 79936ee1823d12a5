/**
 * cat: copy files (or standard input, also as `-`) to standard output, byte for byte.
 * `-n` numbers the output lines.
 *
 * Usage: `cat [-n] [FILE…]`. Exit status 1 if a file could not be read.
 *
 * Entry points: default `main(argv)`; `numberLines`.
 */
import { close, decodeUtf8, eprint, open, read, SysError, write } from 'libc';

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

/** `-n`: number lines, continuing the count and the at-line-start state (`state`) across chunks. */
export function numberLines(text: string, state: { line: number; atStart: boolean }): string {
  let out = '';
  for (const ch of text) {
    if (state.atStart) {
      out += `${String(state.line++).padStart(6)}\t`;
      state.atStart = false;
    }
    out += ch;
    if (ch === '\n') state.atStart = true;
  }
  return out;
}

/** Standard output went away (a closed pipe): stop quietly. */
class StdoutClosed extends Error {}

export default async function main(argv: readonly string[]): Promise<number> {
  let number = false;
  const files: string[] = [];
  let opts = true;
  for (const a of argv.slice(1)) {
    if (opts && a === '--') opts = false;
    else if (opts && /^-[nu]+$/.test(a)) number ||= a.includes('n');
    else if (opts && a.startsWith('-') && a !== '-') {
      await eprint(`cat: unknown option ${a}\nusage: cat [-n] [FILE…]\n`).catch(() => undefined);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) files.push('-');
  const numbering = { line: 1, atStart: true };
  let pending = new Uint8Array(0); // -n: bytes after the last newline (a character may be split)
  const out = async (data: Uint8Array | string) => {
    try {
      await write(1, data);
    } catch {
      throw new StdoutClosed();
    }
  };
  const emit = async (chunk: Uint8Array) => {
    if (!number) return out(chunk);
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    const nl = joined.lastIndexOf(10);
    pending = joined.slice(nl + 1);
    if (nl >= 0) await out(numberLines(decodeUtf8(joined.subarray(0, nl + 1)), numbering));
  };
  let status = 0;
  try {
    for (const f of files) {
      let fd = 0;
      try {
        if (f !== '-') fd = await open(f, 'r');
      } catch (e) {
        await eprint(`cat: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
        status = 1;
        continue;
      }
      try {
        for (;;) {
          const chunk = await read(fd, 65536);
          if (chunk.length === 0) break;
          await emit(chunk);
        }
      } catch (e) {
        if (e instanceof StdoutClosed) throw e;
        await eprint(`cat: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
        status = 1;
      } finally {
        if (fd !== 0) await close(fd).catch(() => undefined);
      }
    }
    if (pending.length > 0) await out(numberLines(decodeUtf8(pending), numbering));
  } catch (e) {
    if (e instanceof StdoutClosed) return 1;
    throw e;
  }
  return status;
}
