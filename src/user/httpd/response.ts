/**
 * httpd: responses, pure — the status line and header fields as a latin1 string,
 * content types by file extension, HTTP dates (IMF-fixdate), the small bodies of error
 * responses, and turning a head (plus a body) into the bytes `net.send` carries.
 *
 * Every response has `Date`, `Server` and `Content-Length`; a response that ends the
 * connection says `Connection: close`; an HTTP/1.0 client that asked for keep-alive is
 * told `Connection: keep-alive`.
 *
 * Entry points: `formatHead`, `statusText`, `contentType`, `httpDate`, `parseHttpDate`,
 * `errorBody`, `encodeResponse`, `SERVER_NAME`.
 */

export const SERVER_NAME = 'molt-httpd';

const STATUS: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  304: 'Not Modified',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function statusText(status: number): string {
  return STATUS[status] ?? 'Unknown';
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  css: 'text/css; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  xml: 'application/xml',
  wasm: 'application/wasm',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tar: 'application/x-tar',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  webp: 'image/webp',
  avif: 'image/avif',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

/** The Content-Type for a file name, by its extension (case-insensitive); else application/octet-stream. */
export function contentType(name: string): string {
  const slash = name.lastIndexOf('/');
  const base = name.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return TYPES[base.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function httpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/** An HTTP date (IMF-fixdate, or the obsolete forms Date.parse reads) → ms, or null. */
export function parseHttpDate(s: string): number | null {
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : ms;
}

export interface HeadOptions {
  status: number;
  /** Header fields after the standard ones (Date, Server), in order. */
  headers: Array<[string, string]>;
  contentLength: number;
  /** Now (ms): the Date field. */
  now: number;
  /** The connection ends after this response. */
  close: boolean;
  /** The client speaks HTTP/1.0 (and asked for keep-alive, unless `close`). */
  http10: boolean;
}

/** Status line and header section, ending with the empty line (a latin1 string). */
export function formatHead(o: HeadOptions): string {
  let s = `HTTP/1.1 ${o.status} ${statusText(o.status)}\r\nServer: ${SERVER_NAME}\r\nDate: ${httpDate(o.now)}\r\n`;
  for (const [k, v] of o.headers) s += `${k}: ${v}\r\n`;
  s += `Content-Length: ${o.contentLength}\r\n`;
  if (o.close) s += 'Connection: close\r\n';
  else if (o.http10) s += 'Connection: keep-alive\r\n';
  return `${s}\r\n`;
}

/** The small HTML body of an error (or redirect) response. */
export function errorBody(status: number, detail?: string): string {
  const title = `${status} ${statusText(status)}`;
  const p = detail ? `<p>${escapeHtml(detail)}</p>` : '';
  return `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1>${p}</body></html>\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Bytes of `head` (latin1) followed by `body`: one plain Uint8Array (never a pooled Buffer: it travels in a message). */
export function encodeResponse(head: string, body: Uint8Array | null): Uint8Array {
  const bl = body ? body.length : 0;
  const out = new Uint8Array(head.length + bl);
  writeLatin1(out, 0, head);
  if (body && bl > 0) out.set(body, head.length);
  return out;
}

/** Write a latin1 string into `out` at `at`. */
export function writeLatin1(out: Uint8Array, at: number, s: string): void {
  if (s.length < 64) {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
    return;
  }
  Buffer.from(out.buffer, out.byteOffset, out.length).write(s, at, s.length, 'latin1');
}

/** A latin1 string → bytes (for the small bodies made here, which are ASCII). */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeLatin1(out, 0, s);
  return out;
}
