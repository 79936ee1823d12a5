/**
 * httpd: the HTTP/1.1 request parser (RFC 9112), pure and incremental. A connection's
 * `ParserState` is plain data (it lives in httpd's state and transfers on a live update);
 * `feed` takes the bytes of one `net.event`, however the stream was split, and appends
 * every complete request head — and at most one error — to `out`, in order.
 *
 * - Framing: the head ends at the first empty line; CRLF or a bare LF ends a line (RFC
 *   9112 §2.2 lets a recipient accept LF); empty lines before a request line are skipped
 *   (§2.2). A request's body (Content-Length, or `chunked` as the final transfer coding)
 *   is read and discarded as it streams in — never buffered — so the next pipelined
 *   request parses.
 * - Errors, each ending the connection's parsing (the server answers it, then closes):
 *   400 a malformed request line, header line (obs-fold, whitespace before the colon, a
 *   bare CR, a control character), a missing or repeated Host in 1.1, a bad or
 *   conflicting Content-Length, Transfer-Encoding with Content-Length or in HTTP/1.0 or
 *   without `chunked` last, a malformed chunk; 414 a request line longer than
 *   `maxRequestLine`; 431 a header section longer than `maxHeaderBytes` or with more
 *   than `maxHeaders` fields; 505 an HTTP major version other than 1.
 *
 * Entry points: `newParser`, `feed`, `DEFAULT_LIMITS`, `header`, `latin1`.
 */

export interface ParseLimits {
  /** Bytes of the request line (without its line end). */
  maxRequestLine: number;
  /** Bytes of the header section (every field line with its line end). */
  maxHeaderBytes: number;
  /** Header field lines. */
  maxHeaders: number;
  /** A chunk-size line or a trailer section (bytes). */
  maxChunkLine: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxRequestLine: 8192, maxHeaderBytes: 16384, maxHeaders: 100, maxChunkLine: 4096 };

/** Where the parser is within a request's body (it is discarded as it arrives). */
export type BodyState =
  | { kind: 'none' }
  | { kind: 'length'; left: number }
  | { kind: 'chunked'; phase: 'size' | 'data' | 'data-end' | 'trailer'; left: number; trailerBytes: number };

export interface ParserState {
  /** Bytes received and not yet consumed (a partial head, or a partial chunk line). */
  buf: Uint8Array;
  /** A head in progress: where its first incomplete line starts (offset from the head's start). */
  scanned: number;
  /** A head in progress: where its field lines start (0: the request line is not complete yet). */
  fieldsAt: number;
  /** A head in progress: field lines seen so far. */
  fields: number;
  body: BodyState;
  /** An error was reported: the rest of the stream is ignored. */
  failed: boolean;
}

export interface HttpRequest {
  /** Case-sensitive, as sent (RFC 9110 §9.1). */
  method: string;
  /** The request-target, as sent. */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (a higher 1.x minor is handled as 1.1). */
  minor: number;
  /** Field lines in order, names lower-cased, values without surrounding whitespace. */
  headers: Array<[string, string]>;
  /** The connection may stay open after the response (HTTP/1.1 unless `close`; 1.0 only with `keep-alive`). */
  keepAlive: boolean;
  /** The request carries a body (discarded). */
  hasBody: boolean;
  /** `Expect: 100-continue` was sent. */
  expectContinue: boolean;
}

export type ParseItem =
  | { kind: 'request'; req: HttpRequest }
  | { kind: 'error'; status: number; reason: string };

export function newParser(): ParserState {
  return { buf: EMPTY, scanned: 0, fieldsAt: 0, fields: 0, body: { kind: 'none' }, failed: false };
}

const EMPTY = new Uint8Array(0);
const LF = 10;
const CR = 13;

/** Bytes → latin1 string (one char per byte). */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 0) return '';
  if (n < 48) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + start, n).toString('latin1');
}

/** The value of the first header field named `name` (lower case), or null. */
export function header(req: HttpRequest, name: string): string | null {
  for (const [k, v] of req.headers) if (k === name) return v;
  return null;
}

/**
 * Feed received bytes. Complete request heads and an error (at most one: parsing stops
 * there) are appended to `out`; what is incomplete stays in `p`.
 */
export function feed(p: ParserState, data: Uint8Array, out: ParseItem[], limits: ParseLimits = DEFAULT_LIMITS): void {
  if (p.failed || data.length === 0) return;
  let buf: Uint8Array;
  if (p.buf.length === 0) buf = data;
  else {
    buf = new Uint8Array(p.buf.length + data.length);
    buf.set(p.buf, 0);
    buf.set(data, p.buf.length);
  }
  let pos = 0;
  const fail = (status: number, reason: string) => {
    out.push({ kind: 'error', status, reason });
    p.failed = true;
    p.buf = EMPTY;
    resetHead(p);
    p.body = { kind: 'none' };
  };
  while (pos < buf.length) {
    const body = p.body;
    // 1. Inside a body: discard what belongs to it.
    if (body.kind === 'length') {
      const k = Math.min(body.left, buf.length - pos);
      pos += k;
      body.left -= k;
      if (body.left === 0) p.body = { kind: 'none' };
      continue;
    }
    if (body.kind === 'chunked') {
      const r = chunked(body, buf, pos, limits);
      if (typeof r === 'string') return fail(400, r);
      if (body.left === -1) p.body = { kind: 'none' };
      else if (r === pos) break; // needs more bytes
      pos = r;
      continue;
    }
    // 2. A head: skip empty lines before the request line, then find the empty line that ends it.
    if (p.fieldsAt === 0 && p.scanned === 0) {
      for (;;) {
        if (buf[pos] === LF) pos++;
        else if (buf[pos] === CR && buf[pos + 1] === LF) pos += 2;
        else break;
      }
      if (pos >= buf.length || (buf[pos] === CR && pos + 1 >= buf.length)) break; // (a CR whose LF has not come yet)
    }
    const end = findHeadEnd(p, buf, pos, limits);
    if (typeof end === 'object') return fail(end.status, end.reason);
    if (end < 0) break;
    const item = parseHead(buf, splitLines(buf, pos, end));
    resetHead(p);
    pos = end;
    if (item.kind === 'error') return fail(item.status, item.reason);
    out.push({ kind: 'request', req: item.req });
    p.body = item.body;
  }
  // Keep what is left (a copy: `data` belongs to the message it came in).
  p.buf = pos >= buf.length ? EMPTY : pos === 0 && buf !== data ? buf : buf.slice(pos);
}

function resetHead(p: ParserState): void {
  p.scanned = 0;
  p.fieldsAt = 0;
  p.fields = 0;
}

/**
 * Continue looking for the end of the head that starts at `start` (offsets in `p` are
 * relative to it). → where the next message starts, -1 (more bytes needed), or an error.
 */
function findHeadEnd(p: ParserState, buf: Uint8Array, start: number, limits: ParseLimits): number | { status: number; reason: string } {
  let ls = start + p.scanned;
  for (;;) {
    const nl = buf.indexOf(LF, ls);
    if (nl < 0) {
      // An incomplete line: is it already too long?
      p.scanned = ls - start;
      if (p.fieldsAt === 0) {
        if (buf.length - ls > limits.maxRequestLine + 1) return { status: 414, reason: 'request line too long' };
      } else if (buf.length - start - p.fieldsAt > limits.maxHeaderBytes) {
        return { status: 431, reason: 'header section too large' };
      }
      return -1;
    }
    const le = nl > ls && buf[nl - 1] === CR ? nl - 1 : nl;
    if (p.fieldsAt === 0) {
      if (le - ls > limits.maxRequestLine) return { status: 414, reason: 'request line too long' };
      p.fieldsAt = nl + 1 - start;
    } else {
      if (le === ls) return nl + 1;
      if (++p.fields > limits.maxHeaders) return { status: 431, reason: 'too many header fields' };
      if (nl + 1 - start - p.fieldsAt > limits.maxHeaderBytes) return { status: 431, reason: 'header section too large' };
    }
    ls = nl + 1;
  }
}

/** The lines of a complete head [start, end): [start, end) of each, line ends excluded, the empty last line left out. */
function splitLines(buf: Uint8Array, start: number, end: number): Array<[number, number]> {
  const lines: Array<[number, number]> = [];
  let ls = start;
  while (ls < end) {
    const nl = buf.indexOf(LF, ls);
    const le = nl > ls && buf[nl - 1] === CR ? nl - 1 : nl;
    if (le === ls && lines.length > 0) break;
    lines.push([ls, le]);
    ls = nl + 1;
  }
  return lines;
}

// tchar (RFC 9110 §5.6.2): ALPHA DIGIT and !#$%&'*+-.^_`|~
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

function isToken(buf: Uint8Array, s: number, e: number): boolean {
  if (e <= s) return false;
  for (let i = s; i < e; i++) if (!TCHAR[buf[i]!]) return false;
  return true;
}

type Head = { kind: 'ok'; req: HttpRequest; body: BodyState } | { kind: 'error'; status: number; reason: string };
const bad = (reason: string, status = 400): Head => ({ kind: 'error', status, reason });

function parseHead(buf: Uint8Array, lines: Array<[number, number]>): Head {
  // 1. The request line: method SP request-target SP HTTP-version, single spaces.
  const [rs, re] = lines[0]!;
  const sp1 = buf.indexOf(32, rs);
  if (sp1 < 0 || sp1 >= re) return bad('malformed request line');
  const sp2 = buf.indexOf(32, sp1 + 1);
  if (sp2 < 0 || sp2 >= re) return bad('malformed request line');
  if (!isToken(buf, rs, sp1)) return bad('malformed method');
  if (sp2 === sp1 + 1) return bad('malformed request line');
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = buf[i]!;
    if (c <= 32 || c >= 127) return bad('malformed request-target');
  }
  // HTTP-version = "HTTP/" DIGIT "." DIGIT, exactly.
  if (
    re - (sp2 + 1) !== 8 || buf[sp2 + 1] !== 72 || buf[sp2 + 2] !== 84 || buf[sp2 + 3] !== 84 || buf[sp2 + 4] !== 80 ||
    buf[sp2 + 5] !== 47 || !isDigit(buf[sp2 + 6]!) || buf[sp2 + 7] !== 46 || !isDigit(buf[sp2 + 8]!)
  ) {
    return bad('malformed HTTP version');
  }
  const major = buf[sp2 + 6]! - 48;
  const minorSent = buf[sp2 + 8]! - 48;
  if (major !== 1) return bad(`HTTP/${major}.${minorSent} is not supported`, 505);
  const minor = minorSent === 0 ? 0 : 1;
  const method = latin1(buf, rs, sp1);
  const target = latin1(buf, sp1 + 1, sp2);

  // 2. Field lines: name ":" OWS value OWS.
  const headers: Array<[string, string]> = [];
  let hosts = 0;
  let contentLength: number | null = null;
  let te: string | null = null;
  let connClose = false;
  let connKeepAlive = false;
  let expectContinue = false;
  for (let li = 1; li < lines.length; li++) {
    const [s, e] = lines[li]!;
    const c0 = buf[s]!;
    if (c0 === 32 || c0 === 9) return bad(li === 1 ? 'whitespace before the first header field' : 'obsolete line folding');
    let colon = -1;
    for (let i = s; i < e; i++) {
      if (buf[i] === 58) {
        colon = i;
        break;
      }
    }
    if (colon < 0) return bad('header field without a colon');
    if (!isToken(buf, s, colon)) return bad(colon > s && (buf[colon - 1] === 32 || buf[colon - 1] === 9) ? 'whitespace before a colon' : 'malformed header field name');
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && (buf[vs] === 32 || buf[vs] === 9)) vs++;
    while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    for (let i = vs; i < ve; i++) {
      const c = buf[i]!;
      if ((c < 32 && c !== 9) || c === 127) return bad(c === CR ? 'bare CR in a header field' : 'control character in a header field');
    }
    const name = latin1(buf, s, colon).toLowerCase();
    const value = latin1(buf, vs, ve);
    headers.push([name, value]);
    switch (name) {
      case 'host':
        hosts++;
        if (!validHost(value)) return bad('malformed Host');
        break;
      case 'content-length': {
        const n = parseContentLength(value);
        if (n === null) return bad('malformed Content-Length');
        if (contentLength !== null && contentLength !== n) return bad('conflicting Content-Length');
        contentLength = n;
        break;
      }
      case 'transfer-encoding':
        te = te === null ? value : `${te}, ${value}`;
        break;
      case 'connection':
        for (const tok of value.split(',')) {
          const t = tok.trim().toLowerCase();
          if (t === 'close') connClose = true;
          else if (t === 'keep-alive') connKeepAlive = true;
        }
        break;
      case 'expect':
        if (value.toLowerCase() === '100-continue') expectContinue = true;
        break;
    }
  }

  // 3. What the fields mean together (RFC 9112 §3.2, §6).
  if (hosts > 1) return bad('more than one Host');
  if (minor === 1 && hosts === 0) return bad('missing Host');
  let body: BodyState = { kind: 'none' };
  if (te !== null) {
    if (minor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request');
    if (contentLength !== null) return bad('both Transfer-Encoding and Content-Length');
    const codings = te.split(',').map((c) => c.split(';')[0]!.trim().toLowerCase()).filter((c) => c.length > 0);
    if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') return bad('Transfer-Encoding without chunked as the final coding');
    if (codings.indexOf('chunked') !== codings.length - 1) return bad('chunked applied more than once');
    body = { kind: 'chunked', phase: 'size', left: 0, trailerBytes: 0 };
  } else if (contentLength !== null && contentLength > 0) {
    body = { kind: 'length', left: contentLength };
  }
  const keepAlive = minor === 1 ? !connClose : connKeepAlive && !connClose;
  return {
    kind: 'ok',
    req: { method, target, minor, headers, keepAlive, hasBody: body.kind !== 'none', expectContinue },
    body,
  };
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** 1*DIGIT, or a list of identical ones (RFC 9110 §8.6 lets a recipient accept `42, 42`). */
function parseContentLength(v: string): number | null {
  let out: number | null = null;
  for (const part of v.split(',')) {
    const s = part.trim();
    if (!/^[0-9]{1,15}$/.test(s)) return null;
    const n = Number(s);
    if (out !== null && out !== n) return null;
    out = n;
  }
  return out;
}

/** uri-host [ ":" port ], loosely: no whitespace, no characters a URI authority cannot hold. */
function validHost(v: string): boolean {
  return /^[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]*$/.test(v);
}

/**
 * Discard chunked body bytes from `pos`. → where parsing got to (`pos` itself: more
 * bytes needed), or an error. Sets `phase: 'trailer', left: -1` at the body's end.
 */
function chunked(b: Extract<BodyState, { kind: 'chunked' }>, buf: Uint8Array, pos: number, limits: ParseLimits): number | string {
  while (pos < buf.length) {
    switch (b.phase) {
      case 'size': {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) {
          if (buf.length - pos > limits.maxChunkLine) return 'chunk-size line too long';
          return pos;
        }
        if (nl - pos > limits.maxChunkLine) return 'chunk-size line too long';
        const le = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
        // chunk-size = 1*HEXDIG, then optional chunk extensions (ignored).
        let i = pos;
        let size = 0;
        while (i < le && isHex(buf[i]!)) {
          size = size * 16 + hexVal(buf[i]!);
          if (size > Number.MAX_SAFE_INTEGER / 16) return 'chunk size too large';
          i++;
        }
        if (i === pos) return 'malformed chunk size';
        while (i < le && (buf[i] === 32 || buf[i] === 9)) i++;
        if (i < le && buf[i] !== 59) return 'malformed chunk size';
        for (let j = i; j < le; j++) if (buf[j] === CR) return 'bare CR in a chunk-size line';
        pos = nl + 1;
        if (size === 0) {
          b.phase = 'trailer';
          b.left = 0;
          b.trailerBytes = 0;
        } else {
          b.phase = 'data';
          b.left = size;
        }
        break;
      }
      case 'data': {
        const k = Math.min(b.left, buf.length - pos);
        pos += k;
        b.left -= k;
        if (b.left === 0) b.phase = 'data-end';
        break;
      }
      case 'data-end': {
        if (buf[pos] === LF) {
          pos += 1;
        } else if (buf[pos] === CR) {
          if (pos + 1 >= buf.length) return pos;
          if (buf[pos + 1] !== LF) return 'chunk data not followed by CRLF';
          pos += 2;
        } else return 'chunk data not followed by CRLF';
        b.phase = 'size';
        break;
      }
      case 'trailer': {
        const nl = buf.indexOf(LF, pos);
        if (nl < 0) {
          if (b.trailerBytes + buf.length - pos > limits.maxChunkLine) return 'trailer section too large';
          return pos;
        }
        const le = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
        b.trailerBytes += nl + 1 - pos;
        if (b.trailerBytes > limits.maxChunkLine) return 'trailer section too large';
        const empty = le === pos;
        pos = nl + 1;
        if (empty) {
          b.left = -1; // the end of the body
          return pos;
        }
        break;
      }
    }
  }
  return pos;
}

const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const hexVal = (c: number) => (c <= 57 ? c - 48 : c <= 70 ? c - 55 : c - 87);
