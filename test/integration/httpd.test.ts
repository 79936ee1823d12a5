/**
 * httpd end to end: the HTTP/1.1 static file server on a booted Molt (net over the
 * kernel's host-TCP device, files on mfs through vfs), reached from the host with
 * Node's fetch (undici, keep-alive) and raw TCP sockets on loopback — bytes, headers,
 * keep-alive, pipelining, HEAD, 301/400/404/405/414/431/505, bodies discarded, a bad
 * request closing only its own connection, and a live update of httpd (to
 * test/corpus/httpd/v2.ts, and back) under an open keep-alive connection.
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTPD, NET } from '../../src/boot/os.js';
import type { HttpdStatsReply } from '../../src/user/httpd/protocol.js';
import { bootOs, freePort, until, type TestSystem } from '../helpers/system.js';

const enc = (s: string) => new TextEncoder().encode(s);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');


interface RawResponse {
  status: number;
  version: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A raw HTTP/1.1 client on one TCP connection: write bytes as you like, read responses
 * in order (`next(isHead)`), see whether the server closed the connection.
 */
class RawClient {
  private buf = Buffer.alloc(0);
  closed = false;
  private waiters: Array<() => void> = [];
  constructor(readonly sock: Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawClient> {
    const sock = new Socket();
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(port, '127.0.0.1', () => resolve());
    });
    return new RawClient(sock);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async more(deadline: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for a response; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`);
    await new Promise<void>((r) => {
      const t = setTimeout(r, left);
      this.waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  write(s: string | Uint8Array): void {
    this.sock.write(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  }

  /** The next response (a HEAD's or a 304's has no body). */
  async next(isHead = false, ms = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + ms;
    let end: number;
    while ((end = this.buf.indexOf('\r\n\r\n')) < 0) await this.more(deadline);
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3}) /.exec(lines[0]!);
    if (!m) throw new Error(`bad status line ${lines[0]}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(m[2]);
    const len = isHead || status === 304 ? 0 : Number(headers['content-length']);
    if (!Number.isInteger(len)) throw new Error('no Content-Length');
    while (this.buf.length < end + 4 + len) await this.more(deadline);
    const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + len));
    this.buf = this.buf.subarray(end + 4 + len);
    return { status, version: m[1]!, headers, body };
  }

  /** Wait until the server closes the connection (nothing more may arrive meanwhile). */
  async waitClosed(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) await this.more(deadline).catch((e: Error) => {
      if (!this.closed) throw e;
    });
    expect(this.buf.length, `unexpected bytes before close: ${this.buf.toString('latin1').slice(0, 200)}`).toBe(0);
  }

  destroy(): void {
    this.sock.destroy();
  }
}

const BIG = (() => {
  // Larger than the cache's file limit and than one read: streamed read by read.
  const b = new Uint8Array(700_000);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 10)) & 0xff;
  return b;
})();
const BINARY = new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff));
const INDEX = '<!DOCTYPE html><html><body><h1>molt</h1></body></html>\n';
const DOCS_INDEX = '<html><body>docs</body></html>\n';

describe('httpd: an HTTP/1.1 static file server on Molt', () => {
  let sys: TestSystem;
  let port: number;
  let base: string;
  const call = async <T = unknown>(to: string, msg: Record<string, unknown>) => {
    const r = await sys.kernel.call(to, msg as { type: string }, 30_000);
    if (!r.ok) throw new Error(`${to} ${String(msg.type)}: ${r.code} ${r.message ?? ''}`);
    return r.value as T;
  };
  const stats = () => call<HttpdStatsReply>('httpd', { type: 'httpd.stats' });
  const mkdir = async (path: string) => {
    const r = await sys.kernel.call('vfs', { type: 'vfs.mkdir', path, mode: 0o755 } as { type: string }, 30_000);
    if (!r.ok && r.code !== 'EEXIST') throw new Error(`mkdir ${path}: ${r.code}`);
  };
  const writeFile = async (path: string, data: string | Uint8Array) => {
    const bytes = typeof data === 'string' ? enc(data) : data;
    const fd = await call<number>('vfs', { type: 'vfs.open', path, flags: 'w' });
    for (let at = 0; at < bytes.length || at === 0; at += 256 * 1024) {
      await call('vfs', { type: 'vfs.write', fd, data: bytes.slice(at, at + 256 * 1024) });
      if (bytes.length === 0) break;
    }
    await call('vfs', { type: 'vfs.close', fd });
  };

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    sys = await bootOs({ root: 'mfs', extra: [NET, { ...HTTPD, args: { ...HTTPD.args, port } }] });
    // httpd makes its missing document root (with a welcome page) as it starts: let it finish first.
    await until(async () => (await stats()).phase === 'serving', 10_000, 'httpd to serve');
    expect(new TextDecoder().decode(await call<Uint8Array>('vfs', { type: 'vfs.read', fd: await call<number>('vfs', { type: 'vfs.open', path: '/var/www/index.html', flags: 'r' }), length: 4096 }))).toContain('It works');
    for (const d of ['/var', '/var/www', '/var/www/docs', '/var/www/empty', '/var/www/etc', '/etc']) await mkdir(d);
    await writeFile('/var/www/index.html', INDEX);
    await writeFile('/var/www/hello.txt', 'hello, world\n');
    await writeFile('/var/www/hello world.txt', 'spaced\n');
    await writeFile('/var/www/style.css', 'body { color: red }\n');
    await writeFile('/var/www/app.js', 'console.log(1);\n');
    await writeFile('/var/www/data.json', '{"a":1}\n');
    await writeFile('/var/www/logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
    await writeFile('/var/www/pixel.png', BINARY);
    await writeFile('/var/www/blob.bin', BINARY);
    await writeFile('/var/www/empty.txt', '');
    await writeFile('/var/www/big.bin', BIG);
    await writeFile('/var/www/docs/index.html', DOCS_INDEX);
    await writeFile('/etc/secret', 'outside the root\n');
    await until(async () => (await stats()).phase === 'serving', 20_000, 'httpd to listen');
  }, 120_000);
  afterAll(() => sys?.stop());

  it('serves files with the right bytes and headers (fetch)', async () => {
    const r = await fetch(`${base}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(INDEX);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-length')).toBe(String(enc(INDEX).length));
    expect(r.headers.get('server')).toBe('molt-httpd');
    expect(Math.abs(Date.parse(r.headers.get('date')!) - Date.now())).toBeLessThan(5_000);
    expect(Math.abs(Date.parse(r.headers.get('last-modified')!) - Date.now())).toBeLessThan(120_000);
    const types: Array<[string, string]> = [
      ['/hello.txt', 'text/plain; charset=utf-8'],
      ['/style.css', 'text/css; charset=utf-8'],
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/data.json', 'application/json'],
      ['/logo.svg', 'image/svg+xml'],
      ['/pixel.png', 'image/png'],
      ['/blob.bin', 'application/octet-stream'],
    ];
    for (const [path, type] of types) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      await res.arrayBuffer();
    }
    const png = new Uint8Array(await (await fetch(`${base}/pixel.png`)).arrayBuffer());
    expect(sha(png)).toBe(sha(BINARY));
    const empty = await fetch(`${base}/empty.txt`);
    expect(empty.headers.get('content-length')).toBe('0');
    expect(await empty.text()).toBe('');
    expect(await (await fetch(`${base}/hello%20world.txt`)).text()).toBe('spaced\n');
    expect(await (await fetch(`${base}/hello.txt?cache=bust`)).text()).toBe('hello, world\n');
  });

  it('streams a large file (bigger than the cache limit and than one read) exactly', async () => {
    const r = await fetch(`${base}/big.bin`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(BIG.length));
    const got = new Uint8Array(await r.arrayBuffer());
    expect(got.length).toBe(BIG.length);
    expect(sha(got)).toBe(sha(BIG));
  });

  it('keep-alive: sequential fetches share one connection; a raw socket serves several requests', async () => {
    // A fresh keep-alive connection: requests in sequence ride on it.
    const before = (await stats()).accepted;
    for (let i = 0; i < 5; i++) expect(await (await fetch(`${base}/hello.txt`)).text()).toBe('hello, world\n');
    expect((await stats()).accepted - before).toBeLessThanOrEqual(1);
    const c = await RawClient.connect(port);
    for (let i = 0; i < 3; i++) {
      c.write(`GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n`);
      const r = await c.next();
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hello, world\n');
      expect(r.headers.connection).toBeUndefined();
    }
    expect(c.closed).toBe(false);
    c.destroy();
  });

  it('pipelined requests on one socket are answered in order (GET, HEAD, 404, 301, a large file, 405 with a body)', async () => {
    const c = await RawClient.connect(port);
    c.write(
      'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n' +
        'HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /missing HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /docs HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' +
        'GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    const a = await c.next();
    expect([a.status, a.body.toString()]).toEqual([200, 'hello, world\n']);
    const b = await c.next(true);
    expect([b.status, b.headers['content-length'], b.body.length]).toEqual([200, String(enc(INDEX).length), 0]);
    expect((await c.next()).status).toBe(404);
    const r301 = await c.next();
    expect([r301.status, r301.headers.location]).toEqual([301, '/docs/']);
    const big = await c.next();
    expect(big.status).toBe(200);
    expect(sha(big.body)).toBe(sha(BIG));
    const r405 = await c.next();
    expect([r405.status, r405.headers.allow]).toEqual([405, 'GET, HEAD']);
    const docs = await c.next();
    expect([docs.status, docs.body.toString()]).toEqual([200, DOCS_INDEX]);
    expect(c.closed).toBe(false);
    c.destroy();
  });

  it('the same stream split into tiny pieces parses the same', async () => {
    const c = await RawClient.connect(port);
    const text = 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nPOST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n';
    for (let i = 0; i < text.length; i += 5) {
      c.write(text.slice(i, i + 5));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect((await c.next()).body.toString()).toBe('hello, world\n');
    expect((await c.next()).status).toBe(405);
    expect((await c.next()).body.toString()).toBe(DOCS_INDEX);
    c.destroy();
  });

  it('HEAD: the headers of GET, no body', async () => {
    const r = await fetch(`${base}/big.bin`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(BIG.length));
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect((await r.arrayBuffer()).byteLength).toBe(0);
  });

  it('404, 405, 301, directories and their index.html, no escape above the root', async () => {
    const missing = await fetch(`${base}/nope.html`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-length')).toBe(String((await missing.arrayBuffer()).byteLength));
    expect((await fetch(`${base}/hello.txt/`)).status).toBe(404);
    expect((await fetch(`${base}/empty/`)).status).toBe(404);
    const post = await fetch(`${base}/hello.txt`, { method: 'POST', body: 'data' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.arrayBuffer();
    const del = await fetch(`${base}/hello.txt`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    await del.arrayBuffer();
    const redirect = await fetch(`${base}/docs?x=1`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/?x=1');
    await redirect.arrayBuffer();
    expect(await (await fetch(`${base}/docs`)).text()).toBe(DOCS_INDEX); // fetch follows the redirect
    expect(await (await fetch(`${base}/docs/`)).text()).toBe(DOCS_INDEX);
    // fetch normalises `..`; a raw client does not.
    const c = await RawClient.connect(port);
    for (const target of ['/../../etc/secret', '/%2e%2e/%2e%2e/etc/secret', '/..%2f..%2fetc%2fsecret']) {
      c.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect((await c.next()).status, target).toBe(404);
    }
    c.write('GET /docs/../../../hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.next()).body.toString()).toBe('hello, world\n');
    c.write('GET http://x/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.next()).body.toString()).toBe('hello, world\n');
    c.destroy();
  });

  it('a malformed request is answered 400 and its connection closed; another open connection keeps working', async () => {
    const good = await RawClient.connect(port);
    good.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await good.next()).status).toBe(200);
    const cases: Array<[string, number]> = [
      ['GARBAGE\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\n\r\n', 400], // no Host
      ['GET / HTTP/1.1\r\nHost : x\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 400],
      ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400],
      ['GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      [`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
      ['GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
    ];
    for (const [text, status] of cases) {
      const bad = await RawClient.connect(port);
      // A good request first: it is answered, then the bad one, then nothing.
      bad.write(`GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n${text}GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect((await bad.next()).status).toBe(200);
      const r = await bad.next();
      expect(r.status, JSON.stringify(text.slice(0, 60))).toBe(status);
      expect(r.headers.connection).toBe('close');
      await bad.waitClosed();
      good.write('GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await good.next()).body.toString()).toBe(DOCS_INDEX);
    }
    expect(good.closed).toBe(false);
    good.destroy();
  });

  it('Connection: close and HTTP/1.0 end the connection after the response; 1.0 keep-alive does not', async () => {
    const a = await RawClient.connect(port);
    a.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const ra = await a.next();
    expect([ra.status, ra.headers.connection]).toEqual([200, 'close']);
    await a.waitClosed();
    const b = await RawClient.connect(port);
    b.write('GET /hello.txt HTTP/1.0\r\n\r\n');
    const rb = await b.next();
    expect([rb.status, rb.version, rb.headers.connection]).toEqual([200, 'HTTP/1.1', 'close']);
    await b.waitClosed();
    const c = await RawClient.connect(port);
    c.write('GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect((await c.next()).headers.connection).toBe('keep-alive');
    c.write('HEAD /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    expect((await c.next(true)).status).toBe(200);
    expect(c.closed).toBe(false);
    // The client ends its side after a request: it is answered, then the server closes.
    c.write('GET /docs/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    c.sock.end();
    expect((await c.next()).body.toString()).toBe(DOCS_INDEX);
    await c.waitClosed();
  });

  it('If-Modified-Since: 304 when not modified', async () => {
    const first = await fetch(`${base}/hello.txt`);
    const lm = first.headers.get('last-modified')!;
    await first.arrayBuffer();
    const again = await fetch(`${base}/hello.txt`, { headers: { 'If-Modified-Since': lm } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
    const old = await fetch(`${base}/hello.txt`, { headers: { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' } });
    expect(old.status).toBe(200);
    await old.arrayBuffer();
  });

  it('a changed file is served changed (the cache checks inode, size and mtime)', async () => {
    await writeFile('/var/www/changing.txt', 'version one\n');
    expect(await (await fetch(`${base}/changing.txt`)).text()).toBe('version one\n');
    expect(await (await fetch(`${base}/changing.txt`)).text()).toBe('version one\n');
    await writeFile('/var/www/changing.txt', 'version two, longer\n');
    expect(await (await fetch(`${base}/changing.txt`)).text()).toBe('version two, longer\n');
    await call('vfs', { type: 'vfs.unlink', path: '/var/www/changing.txt' });
    expect((await fetch(`${base}/changing.txt`)).status).toBe(404);
    const s = await stats();
    expect(s.cache.hits).toBeGreaterThan(0);
  });

  it('many concurrent fetches', async () => {
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) => fetch(`${base}/${i % 2 ? 'hello.txt' : 'docs/'}`).then((r) => r.text())));
    results.forEach((t, i) => expect(t).toBe(i % 2 ? 'hello, world\n' : DOCS_INDEX));
  });

  it('a live update to version 2 (and back) keeps an open keep-alive connection working', async () => {
    const c = await RawClient.connect(port);
    c.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.next()).status).toBe(200);
    // Half a request is in httpd's state when the update comes.
    c.write('GET /docs/ HTTP/1.1\r\nHo');
    await new Promise((r) => setTimeout(r, 50));
    // Load on other connections meanwhile.
    let stop = false;
    let served = 0;
    const load = (async () => {
      while (!stop) {
        const t = await (await fetch(`${base}/hello.txt`)).text();
        expect(t).toBe('hello, world\n');
        served++;
      }
    })();
    const source = fileURLToPath(new URL('../corpus/httpd/v2.ts', import.meta.url));
    const up = await call<{ outcome: string; reason: string | null }>('rs', { type: 'rs.update', items: [{ label: 'httpd', source }] });
    expect(up.outcome, up.reason ?? '').toBe('committed');
    c.write('st: x\r\n\r\n');
    const r = await c.next();
    expect([r.status, r.body.toString()]).toEqual([200, DOCS_INDEX]);
    c.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(sha((await c.next()).body)).toBe(sha(BIG));
    const s2 = await stats();
    expect(s2.layout).toBe(2);
    expect(s2.byStatus?.['200']).toBeGreaterThan(0);
    expect(s2.requests).toBeGreaterThan(20); // counters came across
    // And back to version 1.
    const back = await call<{ outcome: string; reason: string | null }>('rs', { type: 'rs.rollback', label: 'httpd' });
    expect(back.outcome, back.reason ?? '').toBe('committed');
    c.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.next()).body.toString()).toBe('hello, world\n');
    stop = true;
    await load;
    expect(served).toBeGreaterThan(0);
    expect((await stats()).layout).toBeUndefined();
    expect(c.closed).toBe(false);
    c.destroy();
  });

  it('a restart (as after a crash) takes the listening socket back; open connections keep working', async () => {
    const c = await RawClient.connect(port);
    c.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.next()).status).toBe(200);
    const before = await stats();
    await call('rs', { type: 'rs.restart', label: 'httpd' });
    await until(async () => {
      const r = await sys.kernel.call('httpd', { type: 'httpd.stats' } as { type: string }, 5_000);
      return r.ok && (r.value as HttpdStatsReply).phase === 'serving';
    }, 20_000, 'httpd to serve again');
    const after = await stats();
    expect(after.port).toBe(before.port);
    expect(after.requests).toBeLessThan(before.requests); // a fresh state
    c.write('GET /docs/ HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.next()).body.toString()).toBe(DOCS_INDEX);
    expect(await (await fetch(`${base}/hello.txt`)).text()).toBe('hello, world\n');
    c.destroy();
  });

  it('throughput: keep-alive requests/s for a small file (figures printed, compared with node:http)', async () => {
    const conns = 8;
    const per = 250;
    const measure = async (url: string) => {
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: conns }, async () => {
          for (let i = 0; i < per; i++) await (await fetch(url)).arrayBuffer();
        }),
      );
      return (conns * per) / ((performance.now() - t0) / 1000);
    };
    await measure(`${base}/hello.txt`); // warm up
    const molt = await measure(`${base}/hello.txt`);
    const node = createHttpServer((_req, res) => {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('hello, world\n');
    });
    await new Promise<void>((r) => node.listen(0, '127.0.0.1', r));
    const nodeUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}/hello.txt`;
    await measure(nodeUrl);
    const ref = await measure(nodeUrl);
    node.close();
    console.log(`httpd: ${molt.toFixed(0)} req/s keep-alive (${conns} connections × ${per}); node:http ${ref.toFixed(0)} req/s`);
    expect(molt).toBeGreaterThan(100);
  }, 60_000);
});
