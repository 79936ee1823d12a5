/**
 * httpd: request-target → file path, pure. The target's path is percent-decoded (as
 * UTF-8), then its dot segments are removed (RFC 3986 §5.2.4) with `..` clamped at the
 * root — so no target names anything above the document root (`/../../etc/rc` is
 * `<root>/etc/rc`). Empty segments (`//`) collapse. A decoded NUL, a malformed `%`
 * escape or bytes that are not UTF-8 make the target invalid (400).
 *
 * Entry points: `resolveTarget`, `fsPath`, `urlPath`.
 */

export type Resolved =
  | {
      ok: true;
      /** The decoded path's segments, below the document root. */
      segments: string[];
      /** The path ends with `/` (or is `/`): it names a directory. */
      slash: boolean;
      /** The query, without `?` ('' if none). */
      query: string;
    }
  | { ok: false; reason: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Resolve an origin-form (`/a/b?q`) or absolute-form (`http://host/a/b`) request-target. */
export function resolveTarget(target: string): Resolved {
  let path = target;
  // absolute-form: a server must accept it (RFC 9112 §3.2.2); the authority is not ours to check.
  const abs = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(path);
  if (abs) path = path.slice(abs[0].length) || '/';
  if (!path.startsWith('/')) return { ok: false, reason: 'the request-target is not a path' };
  let query = '';
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  const q = path.indexOf('?');
  if (q >= 0) {
    query = path.slice(q + 1);
    path = path.slice(0, q);
  }
  const decoded = percentDecode(path);
  if (decoded === null) return { ok: false, reason: 'malformed percent-encoding in the path' };
  if (decoded.includes('\0')) return { ok: false, reason: 'NUL in the path' };
  const raw = decoded.split('/');
  const segments: string[] = [];
  for (const seg of raw) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const last = raw[raw.length - 1]!;
  const slash = segments.length === 0 || last === '' || last === '.' || last === '..';
  return { ok: true, segments, slash, query };
}

/** Decode %XX escapes; the bytes must be UTF-8. null if malformed. */
function percentDecode(s: string): string | null {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return null;
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c < 128) {
      bytes.push(c);
    } else {
      return null; // the parser lets only visible ASCII through; anything else is not a URI
    }
  }
  try {
    return UTF8.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

/** The file-system path of `segments` below `root`. */
export function fsPath(root: string, segments: readonly string[]): string {
  const base = root.endsWith('/') ? root.slice(0, -1) : root;
  return segments.length === 0 ? base || '/' : `${base}/${segments.join('/')}`;
}

/** The URL path of `segments` (each segment percent-encoded), with a trailing slash if `slash`. */
export function urlPath(segments: readonly string[], slash: boolean): string {
  const p = `/${segments.map(encodeSegment).join('/')}`;
  return slash && segments.length > 0 ? `${p}/` : p;
}

function encodeSegment(s: string): string {
  // encodeURIComponent, but leave the sub-delims and ':' '@' a path segment may hold as they are.
  return encodeURIComponent(s).replace(/%(21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
