/**
 * httpd's request parser (src/user/httpd/parse.ts): framing wherever the stream is
 * split, pipelining, bodies read and discarded (Content-Length and chunked), and every
 * error with its status.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, feed, header, newParser, type HttpRequest, type ParseItem, type ParseLimits } from '../../src/user/httpd/parse.js';

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** Parse `text` fed in the given pieces (byte offsets where to cut). */
function parse(text: string | Uint8Array, cuts: number[] = [], limits: ParseLimits = DEFAULT_LIMITS): ParseItem[] {
  const bytes = typeof text === 'string' ? enc(text) : text;
  const p = newParser();
  const out: ParseItem[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    feed(p, bytes.slice(at, c), out, limits);
    at = c;
  }
  return out;
}

const reqs = (items: ParseItem[]): HttpRequest[] => items.map((i) => {
  if (i.kind !== 'request') throw new Error(`expected a request, got ${JSON.stringify(i)}`);
  return i.req;
});
const summary = (items: ParseItem[]) => items.map((i) => (i.kind === 'request' ? `${i.req.method} ${i.req.target}` : `error ${i.status}`));
const errorOf = (text: string, limits?: ParseLimits) => {
  const items = parse(text, [], limits);
  const last = items[items.length - 1];
  return last && last.kind === 'error' ? last.status : null;
};

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: example\r\n${extra}\r\n`;

describe('httpd parser: requests', () => {
  it('parses a request line and its header fields', () => {
    const [r] = reqs(parse('GET /index.html?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent:  curl/8 \r\nAccept: */*\r\n\r\n'));
    expect(r).toMatchObject({ method: 'GET', target: '/index.html?x=1', minor: 1, keepAlive: true, hasBody: false, expectContinue: false });
    expect(r!.headers).toEqual([['host', 'localhost:8080'], ['user-agent', 'curl/8'], ['accept', '*/*']]);
    expect(header(r!, 'user-agent')).toBe('curl/8');
    expect(header(r!, 'cookie')).toBeNull();
  });

  it('waits for the whole head', () => {
    const p = newParser();
    const out: ParseItem[] = [];
    feed(p, enc('GET / HTTP/1.1\r\nHost: a\r\n'), out);
    expect(out).toEqual([]);
    feed(p, enc('\r'), out);
    expect(out).toEqual([]);
    feed(p, enc('\n'), out);
    expect(summary(out)).toEqual(['GET /']);
  });

  it('answers pipelined requests in order, from one chunk', () => {
    const text = GET('/a') + GET('/b') + `HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n` + GET('/d', 'Connection: close\r\n');
    const items = parse(text);
    expect(summary(items)).toEqual(['GET /a', 'GET /b', 'HEAD /c', 'GET /d']);
    expect(reqs(items).map((r) => r.keepAlive)).toEqual([true, true, true, false]);
  });

  it('keep-alive: HTTP/1.1 unless close; HTTP/1.0 only when asked', () => {
    const ka = (t: string) => reqs(parse(t))[0]!.keepAlive;
    expect(ka('GET / HTTP/1.1\r\nHost: a\r\n\r\n')).toBe(true);
    expect(ka('GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n')).toBe(false);
    expect(ka('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n')).toBe(false);
    expect(ka('GET / HTTP/1.0\r\n\r\n')).toBe(false);
    expect(ka('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')).toBe(true);
    expect(ka('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n')).toBe(false);
  });

  it('HTTP/1.0 needs no Host; a 1.x minor above 1 is handled as 1.1', () => {
    expect(reqs(parse('GET / HTTP/1.0\r\n\r\n'))[0]!.minor).toBe(0);
    expect(reqs(parse('GET / HTTP/1.2\r\nHost: a\r\n\r\n'))[0]!.minor).toBe(1);
  });

  it('skips empty lines before a request line, accepts bare LF line ends', () => {
    expect(summary(parse(`\r\n\r\n${GET('/a')}\n${GET('/b')}`))).toEqual(['GET /a', 'GET /b']);
    const [r] = reqs(parse('GET /lf HTTP/1.1\nHost: a\nX-A: 1\n\n'));
    expect(r!.target).toBe('/lf');
    expect(r!.headers).toEqual([['host', 'a'], ['x-a', '1']]);
  });

  it('an empty header value is fine, repeated fields are kept in order', () => {
    const [r] = reqs(parse('GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nAccept: a\r\nAccept: b\r\n\r\n'));
    expect(r!.headers).toEqual([['host', 'a'], ['x-empty', ''], ['accept', 'a'], ['accept', 'b']]);
  });

  it('accepts an absolute-form target', () => {
    expect(reqs(parse('GET http://example/x HTTP/1.1\r\nHost: example\r\n\r\n'))[0]!.target).toBe('http://example/x');
  });
});

describe('httpd parser: bodies are read and discarded', () => {
  it('Content-Length: the next request parses', () => {
    const body = 'x'.repeat(1000) + 'GET /inside-the-body HTTP/1.1\r\n\r\n';
    const text = `POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}${GET('/next')}`;
    const items = parse(text);
    expect(summary(items)).toEqual(['POST /form', 'GET /next']);
    expect(reqs(items)[0]!.hasBody).toBe(true);
  });

  it('Content-Length: 0 and identical repeated values', () => {
    expect(summary(parse(`GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n${GET('/n')}`))).toEqual(['GET /', 'GET /n']);
    expect(summary(parse(`GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc${GET('/n')}`))).toEqual(['GET /', 'GET /n']);
    expect(summary(parse(`GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc${GET('/n')}`))).toEqual(['GET /', 'GET /n']);
  });

  it('chunked: sizes in hex, extensions, trailers; the next request parses', () => {
    const body = '5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n';
    const text = `POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}${GET('/after')}`;
    const items = parse(text);
    expect(summary(items)).toEqual(['POST /up', 'GET /after']);
    expect(reqs(items)[0]!.hasBody).toBe(true);
  });

  it('chunked after another coding (gzip, chunked) frames as chunked', () => {
    const text = `POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n${GET('/after')}`;
    expect(summary(parse(text))).toEqual(['POST /up', 'GET /after']);
  });

  it('a large body is never buffered', () => {
    const p = newParser();
    const out: ParseItem[] = [];
    feed(p, enc('PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n'), out);
    const chunk = new Uint8Array(65536);
    let sent = 0;
    while (sent + chunk.length <= 10_000_000) {
      feed(p, chunk, out);
      sent += chunk.length;
      expect(p.buf.length).toBe(0);
    }
    feed(p, new Uint8Array(10_000_000 - sent), out);
    feed(p, enc(GET('/n')), out);
    expect(summary(out)).toEqual(['PUT /big', 'GET /n']);
  });
});

describe('httpd parser: the stream may be split anywhere', () => {
  const stream =
    '\r\n' +
    GET('/one') +
    `POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world` +
    `POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nabcd\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n` +
    'HEAD /four HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' +
    GET('/five', 'X-Long: ' + 'v'.repeat(300) + '\r\n');
  const expected = ['GET /one', 'POST /two', 'POST /three', 'HEAD /four', 'GET /five'];

  it('in one piece', () => {
    expect(summary(parse(stream))).toEqual(expected);
  });

  it('cut in two at every offset', () => {
    const whole = parse(stream);
    for (let c = 0; c <= stream.length; c++) expect(parse(stream, [c]), `cut at ${c}`).toEqual(whole);
  });

  it('cut in three at many offsets', () => {
    const whole = parse(stream);
    for (let a = 0; a <= stream.length; a += 7) {
      for (let b = a; b <= stream.length; b += 13) expect(parse(stream, [a, b]), `cuts at ${a}, ${b}`).toEqual(whole);
    }
  });

  it('one byte at a time', () => {
    const cuts = Array.from({ length: stream.length }, (_, i) => i);
    expect(parse(stream, cuts)).toEqual(parse(stream));
  });

  it('errors are found wherever the stream is cut', () => {
    const badStream = GET('/ok') + 'GET /x HTTP/1.1\r\nHost : a\r\n\r\n' + GET('/never');
    for (let c = 0; c <= badStream.length; c++) expect(summary(parse(badStream, [c])), `cut at ${c}`).toEqual(['GET /ok', 'error 400']);
  });
});

describe('httpd parser: errors', () => {
  const cases: Array<[string, string, number]> = [
    ['no version', 'GET /\r\nHost: a\r\n\r\n', 400],
    ['two spaces', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['trailing space', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 400],
    ['tab separator', 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['bad method token', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n', 400],
    ['malformed version', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n', 400],
    ['version without minor', 'GET / HTTP/1\r\nHost: a\r\n\r\n', 400],
    ['garbage', 'hello\r\n\r\n', 400],
    ['non-ASCII in the target', 'GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['control character in the target', 'GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', 505],
    ['HTTP/3.0', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n', 505],
    ['missing Host in 1.1', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 400],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['two Hosts in 1.0', 'GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['malformed Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['Host with a slash', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 400],
    ['whitespace before a colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
    ['no colon', 'GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n', 400],
    ['empty field name', 'GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  continued\r\n\r\n', 400],
    ['whitespace before the first field', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 400],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n', 400],
    ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\x002\r\n\r\n', 400],
    ['Content-Length not a number', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12a\r\n\r\n', 400],
    ['Content-Length negative', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400],
    ['Content-Length with a plus', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n', 400],
    ['Content-Length empty', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n', 400],
    ['Content-Length too large', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n', 400],
    ['conflicting Content-Lengths', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
    ['conflicting Content-Length list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n', 400],
    ['Transfer-Encoding and Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', 400],
    ['Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
    ['Transfer-Encoding chunked, gzip', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
    ['chunked twice', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', 400],
    ['unknown Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 400],
    ['empty Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n', 400],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['bad chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['chunk size with a sign', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n', 400],
    ['chunk without its CRLF', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n', 400],
    ['huge chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n', 400],
  ];
  for (const [what, text, status] of cases) {
    it(`${what} → ${status}`, () => {
      expect(errorOf(text)).toBe(status);
    });
  }

  it('a request line over the limit → 414, complete or not', () => {
    const long = `GET /${'a'.repeat(DEFAULT_LIMITS.maxRequestLine)} HTTP/1.1\r\nHost: a\r\n\r\n`;
    expect(errorOf(long)).toBe(414);
    expect(errorOf(`GET /${'a'.repeat(DEFAULT_LIMITS.maxRequestLine + 10)}`)).toBe(414);
    // Just under the limit is fine.
    const target = `/${'a'.repeat(DEFAULT_LIMITS.maxRequestLine - 'GET  HTTP/1.1'.length - 1)}`;
    expect(summary(parse(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`))).toEqual([`GET ${target}`]);
  });

  it('a header section over the limit → 431, complete or not', () => {
    const big = 'X-Big: ' + 'b'.repeat(DEFAULT_LIMITS.maxHeaderBytes);
    expect(errorOf(`GET / HTTP/1.1\r\nHost: a\r\n${big}\r\n\r\n`)).toBe(431);
    expect(errorOf(`GET / HTTP/1.1\r\nHost: a\r\n${big}`)).toBe(431);
    const many = Array.from({ length: DEFAULT_LIMITS.maxHeaders + 1 }, (_, i) => `X-${i}: v\r\n`).join('');
    expect(errorOf(`GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`)).toBe(431);
    const enough = Array.from({ length: DEFAULT_LIMITS.maxHeaders - 1 }, (_, i) => `X-${i}: v\r\n`).join('');
    expect(summary(parse(`GET / HTTP/1.1\r\nHost: a\r\n${enough}\r\n`))).toEqual(['GET /']);
  });

  it('limits are per request: small limits apply to each head', () => {
    const limits = { ...DEFAULT_LIMITS, maxRequestLine: 20, maxHeaderBytes: 40 };
    expect(summary(parse(GET('/a') + GET('/b'), [], limits))).toEqual(['GET /a', 'GET /b']);
    expect(summary(parse(GET('/a') + GET('/bbbbbbbbbbbbbbbbbbbbbb'), [], limits))).toEqual(['GET /a', 'error 414']);
  });

  it('requests before an error are kept; nothing after it is parsed', () => {
    const p = newParser();
    const out: ParseItem[] = [];
    feed(p, enc(GET('/a') + 'BROKEN\r\n\r\n' + GET('/b')), out);
    feed(p, enc(GET('/c')), out);
    expect(summary(out)).toEqual(['GET /a', 'error 400']);
    expect(p.failed).toBe(true);
  });

  it('Expect: 100-continue is noted', () => {
    const [r] = reqs(parse('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok'));
    expect(r!.expectContinue).toBe(true);
  });
});
