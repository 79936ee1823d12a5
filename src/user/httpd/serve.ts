/**
 * httpd: answering one request from the Molt file system, through vfs.
 *
 * 1. Method: GET and HEAD; anything else is 405 with `Allow: GET, HEAD`.
 * 2. Target → path below the root (paths.ts); a malformed one is 400.
 * 3. `vfs.stat`: missing → 404; a directory → its `index.html` when the path ends with
 *    `/` (else 404), or 301 to the `/` form when it does not; a file named with a
 *    trailing `/` → 404. Stats are shared (state.ts `PathStat`): until a stat that
 *    answers after the request arrived has answered, `answer` returns `{ kind: 'park' }`
 *    and is run again, from the start, once one has (`statRound`).
 * 4. `If-Modified-Since` not older than the file's mtime → 304.
 * 5. The bytes: a small file (≤ `cacheFileMax`) from the cache when its inode, size and
 *    mtime still match the stat, else read whole (and cached); a larger one is opened
 *    and streamed by the caller (`kind: 'stream'`), read by read. HEAD reads nothing.
 *
 * Entry points: `answer`, `Reply`, `statRound`, `readChunk`, `closeFd`, `MAX_OPEN`.
 */
import type { Ctx } from '../../sys/index.js';
import type { Stat } from '../../servers/vfs/protocol.js';
import { header, type HttpRequest } from './parse.js';
import { fsPath, resolveTarget, urlPath } from './paths.js';
import { contentType, encodeResponse, errorBody, formatHead, httpDate, latin1Bytes, parseHttpDate } from './response.js';
import type { CachedFile, HttpdState, PathStat, Queued, StatResult } from './state.js';
import { concatBytes as join } from '../../lib/bytes.js';

/** vfs file descriptors httpd holds at once (vfs gives system callers one shared table of 64). */
export const MAX_OPEN = 16;
/** One vfs.read (bytes). */
export const READ_CHUNK = 256 * 1024;

/** Paths whose stats are remembered (idle ones beyond this are dropped). */
export const PATH_STATS_MAX = 1024;

/**
 * How to answer: bytes ready to send, or a head followed by `size` bytes read from `fd`
 * — or not yet: a stat of `path` fresh enough for this request is needed first.
 */
export type Reply =
  | { kind: 'bytes'; status: number; data: Uint8Array; close: boolean }
  | { kind: 'stream'; status: number; head: Uint8Array; fd: number; size: number; close: boolean }
  | { kind: 'park'; path: string };

type VfsResult<T> = { ok: true; value: T } | { ok: false; code: string; message?: string };

function vfs<T>(ctx: Ctx, msg: { type: string } & Record<string, unknown>): Promise<VfsResult<T>> {
  return ctx.sendrec<T>('vfs', msg, { timeoutMs: 10_000 });
}

/** A complete response: head and (unless HEAD) body. */
function simple(
  req: HttpRequest | null, status: number, now: number, close: boolean,
  headers: Array<[string, string]>, body: Uint8Array, type: string | null,
): Reply {
  const hs: Array<[string, string]> = type ? [['Content-Type', type], ...headers] : headers;
  const head = formatHead({ status, headers: hs, contentLength: body.length, now, close, http10: req !== null && req.minor === 0 });
  const withBody = req === null || req.method !== 'HEAD';
  return { kind: 'bytes', status, data: encodeResponse(head, withBody && status !== 304 ? body : null), close };
}

function errorReply(req: HttpRequest | null, status: number, now: number, close: boolean, detail?: string, headers: Array<[string, string]> = []): Reply {
  return simple(req, status, now, close, headers, latin1Bytes(errorBody(status, detail)), 'text/html; charset=utf-8');
}

/**
 * The stat of `path` for a request: the result of a stat sent after it arrived, or of
 * the one it rode (in flight when it parked: see `pump`), or one younger than
 * `statValidMs`; else null (park).
 */
function statOf(st: HttpdState, path: string, q: Queued, now: number): StatResult | null {
  const e = st.pathStats.get(path);
  if (!e || !e.result) return null;
  if (e.resultSeq > q.seq || (q.ride === path && e.resultSeq >= q.rideSeq)) return e.result;
  const valid = st.config.statValidMs;
  return valid > 0 && now - e.resultAt < valid ? e.result : null;
}

/**
 * Answer one queued item. Never throws for what a client sends. Runs again from the
 * start after a park: everything before a stat has no effect on the state.
 */
export async function answer(st: HttpdState, ctx: Ctx, q: Queued): Promise<Reply> {
  const item = q.item;
  if (item.kind === 'error') return errorReply(null, item.status, ctx.now(), true, item.reason);
  const req = item.req;
  // A body we did not ask for with 100-continue: the client may still be waiting to send it; end the exchange cleanly.
  const close = !req.keepAlive || (req.hasBody && req.expectContinue);
  // 1. Method.
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return errorReply(req, 405, ctx.now(), close, `${req.method} is not allowed here`, [['Allow', 'GET, HEAD']]);
  }
  // 2. Path.
  const target = resolveTarget(req.target);
  if (!target.ok) return errorReply(req, 400, ctx.now(), true, target.reason);
  // 3. What is there.
  let path = fsPath(st.config.root, target.segments);
  let stat = statOf(st, path, q, ctx.now());
  if (!stat) return { kind: 'park', path };
  if (!stat.ok) return statError(req, stat.code, ctx.now(), close);
  if (stat.stat.type === 'dir') {
    if (!target.slash) {
      const location = urlPath(target.segments, true) + (target.query ? `?${target.query}` : '');
      return errorReply(req, 301, ctx.now(), close, undefined, [['Location', location]]);
    }
    path = path === '/' ? '/index.html' : `${path}/index.html`;
    stat = statOf(st, path, q, ctx.now());
    if (!stat) return { kind: 'park', path };
    if (!stat.ok) return statError(req, stat.code, ctx.now(), close);
    if (stat.stat.type !== 'file') return errorReply(req, 404, ctx.now(), close);
  } else if (stat.stat.type !== 'file' || target.slash) {
    return errorReply(req, 404, ctx.now(), close);
  }
  const s = stat.stat;
  const now = ctx.now();
  const headers: Array<[string, string]> = [
    ['Content-Type', contentType(path)],
    ['Last-Modified', httpDate(s.mtime)],
  ];
  // 4. Conditional GET.
  const ims = header(req, 'if-modified-since');
  if (ims !== null) {
    const since = parseHttpDate(ims);
    if (since !== null && Math.floor(s.mtime / 1000) <= Math.floor(since / 1000)) {
      const head = formatHead({ status: 304, headers: [['Last-Modified', httpDate(s.mtime)]], contentLength: s.size, now, close, http10: req.minor === 0 });
      return { kind: 'bytes', status: 304, data: encodeResponse(head, null), close };
    }
  }
  // 5. The bytes.
  if (req.method === 'HEAD') {
    const head = formatHead({ status: 200, headers, contentLength: s.size, now, close, http10: req.minor === 0 });
    return { kind: 'bytes', status: 200, data: encodeResponse(head, null), close };
  }
  if (s.size <= st.config.cacheFileMax) {
    const data = await smallFile(st, ctx, path, s);
    if (typeof data === 'string') return statError(req, data, ctx.now(), close);
    const head = formatHead({ status: 200, headers, contentLength: data.length, now, close, http10: req.minor === 0 });
    return { kind: 'bytes', status: 200, data: encodeResponse(head, data), close };
  }
  const fd = await openFile(st, ctx, path);
  if (typeof fd === 'string') return statError(req, fd, ctx.now(), close);
  const head = formatHead({ status: 200, headers, contentLength: s.size, now, close, http10: req.minor === 0 });
  return { kind: 'stream', status: 200, head: encodeResponse(head, null), fd, size: s.size, close };
}

/** The shared stats of `path` (made on first use; idle entries dropped beyond PATH_STATS_MAX). */
export function pathStat(st: HttpdState, path: string): PathStat {
  let e = st.pathStats.get(path);
  if (!e) {
    if (st.pathStats.size >= PATH_STATS_MAX) {
      for (const [k, v] of st.pathStats) {
        if (st.pathStats.size < PATH_STATS_MAX / 2) break;
        if (!v.inflight && v.waiters.length === 0) st.pathStats.delete(k);
      }
    }
    e = { inflight: false, flightSeq: 0, result: null, resultSeq: 0, resultAt: 0, waiters: [] };
    st.pathStats.set(path, e);
  }
  return e;
}

/**
 * Send one stat of `path` (unless one is in flight: it will resume its waiters). When it
 * answers, every connection parked on the path is handed to `resume` — each goes on
 * (its request arrived before the stat answered: before it was sent, or while it was
 * in flight), unless it parks on another path.
 */
export async function statRound(st: HttpdState, ctx: Ctx, path: string, resume: (sock: number) => void): Promise<void> {
  const e = pathStat(st, path);
  if (e.inflight) return;
  e.inflight = true;
  const seq = ++st.seq;
  e.flightSeq = seq;
  st.stats.statCalls++;
  const r = await vfs<Stat>(ctx, { type: 'vfs.stat', path });
  e.inflight = false;
  e.result = r.ok ? { ok: true, stat: r.value } : { ok: false, code: r.code };
  e.resultSeq = seq;
  e.resultAt = ctx.now();
  const waiters = e.waiters;
  e.waiters = [];
  for (const sock of waiters) resume(sock);
}

function statError(req: HttpRequest, code: string, now: number, close: boolean): Reply {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
    case 'EINVAL':
      return errorReply(req, 404, now, close);
    case 'EACCES':
    case 'EPERM':
      return errorReply(req, 403, now, close);
    case 'EMFILE':
    case 'ETIMEDOUT':
    case 'EDEADEP':
      return errorReply(req, 503, now, close, code);
    default:
      return errorReply(req, 500, now, close, code);
  }
}

/** A small file's bytes: the cached copy if it is still the file `s` describes, else read (and cached). → bytes or an errno. */
async function smallFile(st: HttpdState, ctx: Ctx, path: string, s: Stat): Promise<Uint8Array | string> {
  const hit = st.cache.get(path);
  if (hit && hit.ino === s.ino && hit.dev === s.dev && hit.size === s.size && hit.mtime === s.mtime) {
    st.stats.cacheHits++;
    // Most recently used last.
    st.cache.delete(path);
    st.cache.set(path, hit);
    return hit.data;
  }
  st.stats.cacheMisses++;
  const fd = await openFile(st, ctx, path);
  if (typeof fd === 'string') return fd;
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    // Read the size the stat saw (fewer bytes if the file shrank since: then it is not cached).
    while (total < s.size) {
      const r = await vfs<Uint8Array>(ctx, { type: 'vfs.read', fd, length: Math.min(s.size - total, READ_CHUNK) });
      if (!r.ok) return r.code;
      if (r.value.length === 0) break;
      parts.push(r.value);
      total += r.value.length;
    }
  } finally {
    closeFd(st, ctx, fd);
  }
  const data = parts.length === 1 ? parts[0]! : join(parts, total);
  if (total === s.size) remember(st, path, { dev: s.dev, ino: s.ino, size: s.size, mtime: s.mtime, data });
  else st.cache.delete(path);
  return data;
}

function remember(st: HttpdState, path: string, f: CachedFile): void {
  const old = st.cache.get(path);
  if (old) {
    st.cache.delete(path);
    st.cacheBytes -= old.data.length;
  }
  if (f.data.length > st.config.cacheMax) return;
  st.cache.set(path, f);
  st.cacheBytes += f.data.length;
  for (const [k, v] of st.cache) {
    if (st.cacheBytes <= st.config.cacheMax) break;
    st.cache.delete(k);
    st.cacheBytes -= v.data.length;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Open for reading, keeping at most MAX_OPEN fds (waits for one to be free). → fd or an errno. */
async function openFile(st: HttpdState, ctx: Ctx, path: string): Promise<number | string> {
  for (let tries = 0; ; tries++) {
    while (st.openFds >= MAX_OPEN) await sleep(1);
    st.openFds++;
    const r = await vfs<number>(ctx, { type: 'vfs.open', path, flags: 'r' });
    if (r.ok) return r.value;
    st.openFds--;
    // Other system callers share vfs's fd table: wait a little for a free slot.
    if (r.code !== 'EMFILE' || tries >= 50) return r.code;
    await sleep(2);
  }
}

export function closeFd(st: HttpdState, ctx: Ctx, fd: number): void {
  st.openFds = Math.max(0, st.openFds - 1);
  ctx.send('vfs', { type: 'vfs.close', fd });
}

/** The next piece of a streamed file. → bytes (empty at end of file) or an errno. */
export async function readChunk(ctx: Ctx, fd: number, max: number): Promise<Uint8Array | string> {
  const r = await vfs<Uint8Array>(ctx, { type: 'vfs.read', fd, length: Math.min(max, READ_CHUNK) });
  return r.ok ? r.value : r.code;
}
