/**
 * kvd: the Redis serialization protocol (RESP2) — a request parser that works straight on
 * the bytes of a chunk (multibulk and inline requests, partial input, pipelining, the
 * protocol errors real Redis gives), and the reply encoders.
 *
 * Binary-safe by construction: every key, value and argument is a *latin1 string* (one
 * char per byte), so `s.length` is the byte length and no byte is ever reinterpreted.
 * Replies are built as latin1 strings (V8 concatenates them as ropes, cheaply) and turned
 * into bytes once per batch with `latin1Bytes`.
 *
 * Entry points: `parseRequests`, `latin1`, `latin1Bytes`, `encodeCommand`, the reply
 * encoders `bulk`, `int`, `arr`, `error`, `simple`, and the constants `OK`, `NIL`, …
 */

/** Longest inline request / count line without a newline (Redis PROTO_INLINE_MAX_SIZE). */
export const INLINE_MAX = 64 * 1024;
/** Largest multibulk count and bulk length Redis accepts. */
export const MAX_MULTIBULK = 1024 * 1024;
export const MAX_BULK = 512 * 1024 * 1024;

/** What one parse of a buffer found. */
export interface ParseOutcome {
  /** Bytes consumed by the complete requests (pushed to `out`). */
  pos: number;
  /** Total bytes (from `pos`) the next request needs, when known; 0 when unknown. */
  need: number;
  /** A protocol error after the requests in `out` (the connection is then closed). */
  error: string | null;
}

const CR = 13;
const LF = 10;

/** Bytes → latin1 string (one char per byte). */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 16) {
    // Short strings (most keys): a loop beats a call into the runtime.
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
}

/** latin1 string → a plain Uint8Array of its bytes (never a pooled Buffer: it travels in messages and state). */
export function latin1Bytes(s: string): Uint8Array {
  const n = s.length;
  const out = new Uint8Array(n);
  if (n <= 64) {
    for (let i = 0; i < n; i++) out[i] = s.charCodeAt(i);
  } else {
    Buffer.from(out.buffer, 0, n).write(s, 0, n, 'latin1');
  }
  return out;
}

/**
 * Parse a signed decimal integer the way Redis's string2ll does (no spaces, no '+', no
 * leading zeros) from bytes; null when malformed. Only used for counts and lengths.
 */
function parseLen(buf: Uint8Array, start: number, end: number): number | null {
  if (start >= end || end - start > 18) return null;
  let i = start;
  let neg = false;
  if (buf[i] === 45 /* - */) {
    neg = true;
    i++;
    if (i >= end) return null;
  }
  if (buf[i] === 48 /* 0 */) return end - i === 1 && !neg ? 0 : null;
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return null;
    n = n * 10 + c;
  }
  return neg ? -n : n;
}

/** Index of the first CR at or after `from`, or -1. */
function findCR(buf: Uint8Array, from: number): number {
  return buf.indexOf(CR, from);
}

/**
 * Parse every complete request in `buf` into `out` (each an argv of latin1 strings).
 * Stops at the first incomplete request (reported by `pos` and `need`) or protocol error.
 * Empty requests (`*0`, `*-1`, blank inline lines) are skipped, as Redis does.
 */
export function parseRequests(buf: Uint8Array, out: string[][], maxRequests = Infinity): ParseOutcome {
  const len = buf.length;
  let pos = 0;
  while (pos < len && out.length < maxRequests) {
    if (buf[pos] !== 42 /* * */) {
      // ── inline request: one line of space-separated (optionally quoted) words ──
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) {
        if (len - pos > INLINE_MAX) return { pos, need: 0, error: 'Protocol error: too big inline request' };
        return { pos, need: 0, error: null };
      }
      const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      const words = splitInline(latin1(buf, pos, end));
      if (words === null) return { pos, need: 0, error: 'Protocol error: unbalanced quotes in request' };
      pos = nl + 1;
      if (words.length > 0) out.push(words);
      continue;
    }
    // ── multibulk: *<count>\r\n then <count> × $<len>\r\n<bytes>\r\n ──
    const start = pos;
    const cr = findCR(buf, pos + 1);
    if (cr < 0 || cr + 1 >= len) {
      if (len - pos > INLINE_MAX) return { pos, need: 0, error: 'Protocol error: too big mbulk count string' };
      return { pos, need: 0, error: null };
    }
    const count = parseLen(buf, pos + 1, cr);
    if (count === null || count > MAX_MULTIBULK) return { pos, need: 0, error: 'Protocol error: invalid multibulk length' };
    let p = cr + 2;
    if (count <= 0) {
      pos = p;
      continue;
    }
    const argv: string[] = new Array(count);
    let complete = true;
    let need = 0;
    for (let i = 0; i < count; i++) {
      if (p >= len) {
        complete = false;
        break;
      }
      if (buf[p] !== 36 /* $ */) {
        return { pos: start, need: 0, error: `Protocol error: expected '$', got '${String.fromCharCode(buf[p]!)}'` };
      }
      const bcr = findCR(buf, p + 1);
      if (bcr < 0 || bcr + 1 >= len) {
        if (len - p > INLINE_MAX) return { pos: start, need: 0, error: 'Protocol error: too big bulk count string' };
        complete = false;
        break;
      }
      const blen = parseLen(buf, p + 1, bcr);
      if (blen === null || blen < 0 || blen > MAX_BULK) return { pos: start, need: 0, error: 'Protocol error: invalid bulk length' };
      const data = bcr + 2;
      if (data + blen + 2 > len) {
        complete = false;
        need = data + blen + 2 - start;
        break;
      }
      argv[i] = latin1(buf, data, data + blen);
      p = data + blen + 2; // like Redis, the two bytes after the payload are taken as CRLF unchecked
    }
    if (!complete) return { pos: start, need, error: null };
    out.push(argv);
    pos = p;
  }
  return { pos, need: 0, error: null };
}

const HEX = '0123456789abcdef';
const isHex = (c: string) => HEX.includes(c.toLowerCase());
const isSpace = (c: string) => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';

/**
 * Split an inline request into words as Redis's sdssplitargs does: whitespace separates,
 * "double quotes" take \n \r \t \b \a \\ \" \xHH escapes, 'single quotes' take \'. A
 * closing quote must be followed by a space or the end; null when quotes do not balance.
 */
export function splitInline(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i]!)) i++;
    if (i >= n) return words;
    let cur = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === 'x' && i + 3 < n && isHex(line[i + 2]!) && isHex(line[i + 3]!)) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i]!;
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          inDq = false;
          i++;
          break;
        } else {
          cur += c;
        }
        i++;
      } else if (inSq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          inSq = false;
          i++;
          break;
        } else {
          cur += c;
          i++;
        }
      } else {
        if (i >= n) break;
        const c = line[i]!;
        if (isSpace(c)) break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else cur += c;
        i++;
      }
    }
    words.push(cur);
  }
}

// ── reply encoders (latin1 strings) ──

export const OK = '+OK\r\n';
export const NIL = '$-1\r\n';
export const NIL_ARRAY = '*-1\r\n';
export const EMPTY_ARRAY = '*0\r\n';
export const ZERO = ':0\r\n';
export const ONE = ':1\r\n';
export const PONG = '+PONG\r\n';

export const simple = (s: string) => `+${s}\r\n`;
/** An error reply; CR/LF in the text become spaces (a reply is one line). */
export const error = (s: string) => `-${s.replace(/[\r\n]/g, ' ')}\r\n`;
export const int = (n: number | bigint) => `:${n}\r\n`;
export const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
export const bulkOrNil = (s: string | undefined | null) => (s === undefined || s === null ? NIL : `$${s.length}\r\n${s}\r\n`);
/** An array of bulk strings (null entries are nil bulks). */
export function arr(items: Iterable<string | null>): string {
  let body = '';
  let n = 0;
  for (const s of items) {
    body += s === null ? NIL : `$${s.length}\r\n${s}\r\n`;
    n++;
  }
  return `*${n}\r\n${body}`;
}
/** An array of already-encoded replies. */
export function arrRaw(replies: string[]): string {
  return `*${replies.length}\r\n${replies.join('')}`;
}

/** A command as RESP (what the append-only file holds). */
export function encodeCommand(argv: readonly string[]): string {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}
