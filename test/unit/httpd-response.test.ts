/**
 * httpd's response formatting (src/user/httpd/response.ts): status lines, the header
 * fields every response carries, content types, HTTP dates, bytes on the wire.
 */
import { describe, expect, it } from 'vitest';
import {
  SERVER_NAME, contentType, encodeResponse, errorBody, formatHead, httpDate, latin1Bytes, parseHttpDate, statusText,
} from '../../src/user/httpd/response.js';

const NOW = Date.UTC(1994, 10, 6, 8, 49, 37, 512);

describe('httpd responses', () => {
  it('formats a head: status line, Server, Date, fields, Content-Length, empty line', () => {
    const head = formatHead({ status: 200, headers: [['Content-Type', 'text/plain']], contentLength: 5, now: NOW, close: false, http10: false });
    expect(head).toBe(
      'HTTP/1.1 200 OK\r\nServer: molt-httpd\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n',
    );
  });

  it('says Connection: close when closing, Connection: keep-alive to a 1.0 client kept alive', () => {
    const base = { status: 404, headers: [] as Array<[string, string]>, contentLength: 0, now: NOW };
    expect(formatHead({ ...base, close: true, http10: false })).toContain('\r\nConnection: close\r\n');
    expect(formatHead({ ...base, close: true, http10: true })).toContain('\r\nConnection: close\r\n');
    expect(formatHead({ ...base, close: false, http10: true })).toContain('\r\nConnection: keep-alive\r\n');
    expect(formatHead({ ...base, close: false, http10: false })).not.toContain('Connection:');
    expect(formatHead({ ...base, close: false, http10: false }).startsWith('HTTP/1.1 404 Not Found\r\n')).toBe(true);
  });

  it('knows the status texts it uses', () => {
    for (const [code, text] of [[200, 'OK'], [301, 'Moved Permanently'], [304, 'Not Modified'], [400, 'Bad Request'], [404, 'Not Found'],
      [405, 'Method Not Allowed'], [414, 'URI Too Long'], [431, 'Request Header Fields Too Large'], [500, 'Internal Server Error'],
      [505, 'HTTP Version Not Supported']] as const) {
      expect(statusText(code)).toBe(text);
    }
  });

  it('content types by extension', () => {
    expect(contentType('/var/www/index.html')).toBe('text/html; charset=utf-8');
    expect(contentType('/a/INDEX.HTM')).toBe('text/html; charset=utf-8');
    expect(contentType('/a/readme.txt')).toBe('text/plain; charset=utf-8');
    expect(contentType('/s.css')).toBe('text/css; charset=utf-8');
    expect(contentType('/app.js')).toBe('text/javascript; charset=utf-8');
    expect(contentType('/d.json')).toBe('application/json');
    expect(contentType('/p.png')).toBe('image/png');
    expect(contentType('/p.jpg')).toBe('image/jpeg');
    expect(contentType('/p.jpeg')).toBe('image/jpeg');
    expect(contentType('/logo.svg')).toBe('image/svg+xml');
    expect(contentType('/blob.bin')).toBe('application/octet-stream');
    expect(contentType('/Makefile')).toBe('application/octet-stream');
    expect(contentType('/.hidden')).toBe('application/octet-stream');
    expect(contentType('/dir.d/file')).toBe('application/octet-stream');
  });

  it('HTTP dates: IMF-fixdate, whole seconds; parsed back', () => {
    expect(httpDate(NOW)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(httpDate(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    expect(parseHttpDate('not a date')).toBeNull();
  });

  it('encodes head and body as one plain Uint8Array', () => {
    const body = new Uint8Array([0, 1, 2, 255]);
    const bytes = encodeResponse('HTTP/1.1 200 OK\r\n\r\n', body);
    expect(bytes.constructor).toBe(Uint8Array);
    expect(Buffer.from(bytes.subarray(0, 19)).toString('latin1')).toBe('HTTP/1.1 200 OK\r\n\r\n');
    expect([...bytes.subarray(19)]).toEqual([0, 1, 2, 255]);
    const long = `HTTP/1.1 200 OK\r\nX-Long: ${'é'.repeat(100)}\r\n\r\n`;
    expect(Buffer.from(encodeResponse(long, null)).toString('latin1')).toBe(long);
    expect(encodeResponse(long, null).constructor).toBe(Uint8Array);
  });

  it('error bodies are small HTML naming the status; details are escaped', () => {
    const b = errorBody(404);
    expect(b).toContain('<title>404 Not Found</title>');
    expect(errorBody(400, '<script>')).toContain('&#60;script&#62;');
    expect([...latin1Bytes('AZ')]).toEqual([65, 90]);
    expect(SERVER_NAME).toBe('molt-httpd');
  });
});
