/**
 * httpd's request-target → path mapping (src/user/httpd/paths.ts): percent-decoding,
 * dot segments clamped at the document root, directories, queries, redirects' paths.
 */
import { describe, expect, it } from 'vitest';
import { fsPath, resolveTarget, urlPath } from '../../src/user/httpd/paths.js';

const path = (target: string, root = '/var/www') => {
  const r = resolveTarget(target);
  return r.ok ? fsPath(root, r.segments) : null;
};

describe('httpd paths', () => {
  it('maps origin-form targets below the root', () => {
    expect(path('/')).toBe('/var/www');
    expect(path('/index.html')).toBe('/var/www/index.html');
    expect(path('/a/b/c.txt')).toBe('/var/www/a/b/c.txt');
    expect(path('/a/b/', '/srv/')).toBe('/srv/a/b');
    expect(path('/x', '/')).toBe('/x');
    expect(path('/', '/')).toBe('/');
  });

  it('never climbs above the root', () => {
    expect(path('/../../etc/rc')).toBe('/var/www/etc/rc');
    expect(path('/a/../../../b')).toBe('/var/www/b');
    expect(path('/%2e%2e/%2E%2E/etc/rc')).toBe('/var/www/etc/rc');
    expect(path('/a/%2e%2e%2f%2e%2e%2fetc')).toBe('/var/www/etc');
    expect(path('/..%2f..%2fetc%2frc')).toBe('/var/www/etc/rc');
    expect(path('/a/./b/.')).toBe('/var/www/a/b');
    expect(path('//a///b')).toBe('/var/www/a/b');
  });

  it('percent-decodes as UTF-8', () => {
    expect(path('/hello%20world.txt')).toBe('/var/www/hello world.txt');
    expect(path('/caf%C3%A9')).toBe('/var/www/café');
    expect(path('/100%25')).toBe('/var/www/100%');
    expect(path('/a+b')).toBe('/var/www/a+b');
  });

  it('refuses malformed escapes, NUL, and bytes that are not UTF-8', () => {
    expect(resolveTarget('/a%2').ok).toBe(false);
    expect(resolveTarget('/a%zz').ok).toBe(false);
    expect(resolveTarget('/a%00b').ok).toBe(false);
    expect(resolveTarget('/%C3').ok).toBe(false);
    expect(resolveTarget('/%FF').ok).toBe(false);
  });

  it('needs a path: origin-form or absolute-form', () => {
    expect(resolveTarget('*').ok).toBe(false);
    expect(resolveTarget('index.html').ok).toBe(false);
    expect(resolveTarget('example.com:80').ok).toBe(false);
    expect(path('http://example.com/a/b.txt')).toBe('/var/www/a/b.txt');
    expect(path('http://example.com')).toBe('/var/www');
    expect(path('https://example.com:8443/x?y')).toBe('/var/www/x');
  });

  it('splits off the query (and a fragment)', () => {
    const r = resolveTarget('/a/b.html?x=1&y=%20#frag');
    expect(r).toEqual({ ok: true, segments: ['a', 'b.html'], slash: false, query: 'x=1&y=%20' });
    expect(resolveTarget('/a%3Fb')).toMatchObject({ segments: ['a?b'], query: '' });
  });

  it('knows whether the path names a directory (trailing slash)', () => {
    expect(resolveTarget('/')).toMatchObject({ slash: true });
    expect(resolveTarget('/docs')).toMatchObject({ slash: false });
    expect(resolveTarget('/docs/')).toMatchObject({ slash: true });
    expect(resolveTarget('/docs/.')).toMatchObject({ segments: ['docs'], slash: true });
    expect(resolveTarget('/docs/x/..')).toMatchObject({ segments: ['docs'], slash: true });
    expect(resolveTarget('/docs?q')).toMatchObject({ slash: false, query: 'q' });
  });

  it('builds encoded URL paths (for Location)', () => {
    expect(urlPath(['docs'], true)).toBe('/docs/');
    expect(urlPath([], true)).toBe('/');
    expect(urlPath(['a b', 'café', 'x?y#z'], true)).toBe('/a%20b/caf%C3%A9/x%3Fy%23z/');
    expect(urlPath(['a:b@c', "it's"], false)).toBe("/a:b@c/it's");
    // Round trip: the encoded path resolves to the same segments.
    const segs = ['a b', 'ü', '100%', 'x/y'];
    expect(resolveTarget(urlPath(segs.slice(0, 3), false))).toMatchObject({ segments: segs.slice(0, 3) });
  });
});
