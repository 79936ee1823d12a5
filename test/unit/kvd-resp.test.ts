/**
 * kvd's RESP2 parser and encoders: multibulk and inline requests, input split at every
 * byte, pipelines, binary arguments, and the protocol errors Redis gives.
 */
import { describe, expect, it } from 'vitest';
import { arr, bulk, bulkOrNil, encodeCommand, error, int, latin1, latin1Bytes, parseRequests, splitInline } from '../../src/user/kvd/resp.js';

const bytes = (s: string) => latin1Bytes(s);

function parseAll(s: string) {
  const out: string[][] = [];
  const r = parseRequests(bytes(s), out);
  return { out, ...r };
}

/** Feed `input` in pieces cut at `cuts`, keeping the unparsed rest as kvd's sessions do. */
function feed(input: Uint8Array, cuts: number[]): string[][] {
  const got: string[][] = [];
  let pending = new Uint8Array(0);
  let last = 0;
  for (const cut of [...cuts, input.length]) {
    const chunk = input.subarray(last, cut);
    last = cut;
    const buf = new Uint8Array(pending.length + chunk.length);
    buf.set(pending);
    buf.set(chunk, pending.length);
    const r = parseRequests(buf, got);
    expect(r.error).toBeNull();
    pending = buf.slice(r.pos);
  }
  expect(pending.length).toBe(0);
  return got;
}

describe('kvd RESP parser', () => {
  it('parses a multibulk request', () => {
    expect(parseAll('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n')).toEqual({ out: [['SET', 'k', 'hello']], pos: 31, need: 0, error: null });
  });

  it('parses a pipeline of requests in one chunk, in order', () => {
    const input = encodeCommand(['SET', 'a', '1']) + encodeCommand(['INCR', 'a']) + 'PING\r\n' + encodeCommand(['GET', 'a']);
    expect(parseAll(input).out).toEqual([['SET', 'a', '1'], ['INCR', 'a'], ['PING'], ['GET', 'a']]);
  });

  it('gives the same requests however the input is split (every single cut, and every byte alone)', () => {
    const reqs = [['SET', 'key:1', 'x'.repeat(40)], ['LPUSH', 'l', 'a', 'b'], ['PING'], ['ECHO', '\r\n\0\xff'], ['GET', '']];
    const input = bytes(reqs.map(encodeCommand).join('') + 'SET inline "two words"\r\n');
    const want = [...reqs, ['SET', 'inline', 'two words']];
    for (let cut = 1; cut < input.length; cut++) expect(feed(input, [cut])).toEqual(want);
    expect(feed(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1))).toEqual(want);
  });

  it('reports how many bytes a partial bulk needs', () => {
    const r = parseAll('*2\r\n$3\r\nGET\r\n$10\r\nabc');
    expect(r.out).toEqual([]);
    expect(r.pos).toBe(0);
    expect(r.need).toBe('*2\r\n$3\r\nGET\r\n$10\r\n'.length + 12);
  });

  it('is binary-safe: every byte value comes back as one char', () => {
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const r = parseAll(encodeCommand(['SET', all, all]));
    expect(r.out[0]![1]).toBe(all);
    expect(latin1Bytes(all)).toEqual(Uint8Array.from({ length: 256 }, (_, i) => i));
    const big = 'x\x00\xff'.repeat(1000);
    expect(latin1(latin1Bytes(big), 0, big.length)).toBe(big);
  });

  it('parses inline requests: words, quotes, escapes, blank lines, bare LF', () => {
    expect(parseAll('PING\r\n').out).toEqual([['PING']]);
    expect(parseAll('set  k   v\n\r\n\nget k\r\n').out).toEqual([['set', 'k', 'v'], ['get', 'k']]);
    expect(splitInline(`SET "a b" 'c\\'d' "\\x41\\n"`)).toEqual(['SET', 'a b', "c'd", 'A\n']);
    expect(splitInline('')).toEqual([]);
    expect(parseAll('PING').out).toEqual([]); // no newline yet
  });

  it('skips empty multibulks (*0, *-1) as Redis does', () => {
    expect(parseAll('*0\r\n*-1\r\nPING\r\n').out).toEqual([['PING']]);
  });

  it.each([
    ['*x\r\n', 'Protocol error: invalid multibulk length'],
    ['*2000000\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$abc\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$999999999999\r\n', 'Protocol error: invalid bulk length'],
    ['*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n', "Protocol error: expected '$', got 'f'"],
    ['SET "a b\r\n', 'Protocol error: unbalanced quotes in request'],
    ['SET "a"b\r\n', 'Protocol error: unbalanced quotes in request'],
  ])('protocol error: %j', (input, message) => {
    const r = parseAll(input);
    expect(r.error).toBe(message);
    expect(r.out).toEqual([]);
  });

  it('answers the requests before a protocol error', () => {
    const r = parseAll('PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$z\r\n');
    expect(r.out).toEqual([['PING'], ['PING']]);
    expect(r.error).toBe('Protocol error: invalid bulk length');
  });

  it('refuses an inline request or count line that never ends', () => {
    expect(parseAll('x'.repeat(70_000)).error).toBe('Protocol error: too big inline request');
    expect(parseAll(`*${'1'.repeat(70_000)}`).error).toBe('Protocol error: too big mbulk count string');
  });
});

describe('kvd RESP encoders', () => {
  it('encode replies', () => {
    expect(bulk('hi')).toBe('$2\r\nhi\r\n');
    expect(bulkOrNil(undefined)).toBe('$-1\r\n');
    expect(int(-3)).toBe(':-3\r\n');
    expect(arr(['a', null, ''])).toBe('*3\r\n$1\r\na\r\n$-1\r\n$0\r\n\r\n');
    expect(error('ERR bad\r\nthing')).toBe('-ERR bad  thing\r\n');
    expect(encodeCommand(['SET', 'k', 'v'])).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
  });
});
