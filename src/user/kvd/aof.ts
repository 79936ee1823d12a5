/**
 * kvd: the append-only file, on the Molt file system through vfs.
 *
 * - **Load** (`loadAof`): replay `dir/appendonly.aof` (RESP commands) into the state; a
 *   truncated last command is dropped (and the file cut back to the last whole command),
 *   with a note INFO shows.
 * - **Append**: the engine appends every mutation to `aof.buf` (engine.ts `propagate`);
 *   `pump` writes it out at once (`kick`), and the replies of the requests that made the
 *   mutations go out only when their bytes are handed to vfs (group commit: replies.ts) —
 *   a crash of kvd loses no acknowledged write. All of kvd's AOF I/O runs inside `pump`, one operation at a
 *   time (`aof.busy`), so writes are never reordered: a flush takes the whole buffer,
 *   and what arrives meanwhile waits for the next round. Syncs (vfs.sync) about once a
 *   second (appendfsync everysec), and at shutdown (`flushAndSync`).
 * - **Rewrite** (BGREWRITEAOF, or the file grew past 2× its size after the last rewrite
 *   and past 1 MiB): 1. snapshot the dataset as commands (synchronously, so it is one
 *   instant); 2. write it to `appendonly.aof.tmp`, meanwhile still appending to the old
 *   file and keeping what is logged since the snapshot in `aof.rwBuf`; 3. write `rwBuf`
 *   to the new file (a few rounds); 4. sync, rename the new file over the old one; what
 *   `rwBuf` holds then is what the new file lacks: it becomes the append buffer, and
 *   appending continues on the new file. A failure leaves the old file as it was.
 *
 * Entry points: `dumpDataset`, `replayBytes`, `loadAof`, `pump`, `kick`, `flushAndSync`.
 */
import type { Ctx } from '../../sys/index.js';
import { execute } from './engine.js';
import { encodeCommand, latin1Bytes, parseRequests } from './resp.js';
import { releaseReplies } from './replies.js';
import { freshSession, isList, type KvdCore, type Session } from './state.js';

/** Largest vfs read/write. */
const IO_MAX = 1 << 20;
/** appendfsync everysec. */
export const SYNC_MS = 1000;
/** Automatic rewrite: past this size, and past twice the size after the last rewrite. */
export const REWRITE_MIN = 1 << 20;
/** How many elements one RPUSH/HSET/SADD of a rewrite carries. */
const BATCH = 64;

/** The dataset as commands that rebuild it, in chunks of about 1 MiB (expired keys left out). */
export function dumpDataset(st: KvdCore, now: number): string[] {
  const chunks: string[] = [];
  let cur = '';
  const emit = (argv: string[]) => {
    cur += encodeCommand(argv);
    if (cur.length >= IO_MAX) {
      chunks.push(cur);
      cur = '';
    }
  };
  const batched = (cmd: string, key: string, items: Iterable<string>, per: number) => {
    let argv = [cmd, key];
    for (const it of items) {
      argv.push(it);
      if (argv.length - 2 >= BATCH * per) {
        emit(argv);
        argv = [cmd, key];
      }
    }
    if (argv.length > 2) emit(argv);
  };
  for (let i = 0; i < st.dbs.length; i++) {
    const db = st.dbs[i]!;
    if (db.size === 0) continue;
    emit(['SELECT', String(i)]);
    for (const key of db.allKeys()) {
      const at = db.volatileCount === 0 ? 0 : db.expireAt(key);
      if (at !== 0 && at <= now) continue;
      const v = db.get(key)!;
      if (typeof v === 'string') emit(['SET', key, v]);
      else if (isList(v)) batched('RPUSH', key, v.toArray(), 1);
      else if (v instanceof Map) batched('HSET', key, flatPairs(v), 2);
      else batched('SADD', key, v, 1);
      if (at !== 0) emit(['PEXPIREAT', key, String(at)]);
    }
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}

function* flatPairs(m: Map<string, string>): Generator<string> {
  for (const [f, v] of m) {
    yield f;
    yield v;
  }
}

/** A client for replaying: it starts in database 0 and carries SELECTs across chunks. */
export function replayClient(now: number): Session {
  return freshSession('aof', now, 'aof');
}

/**
 * Replay the complete commands in `buf` (logging off: the state's `aof.on` must be
 * false). → bytes consumed, commands run, and a protocol error if the bytes are not RESP.
 */
export function replayBytes(st: KvdCore, c: Session, buf: Uint8Array, now: number): { pos: number; commands: number; error: string | null } {
  const reqs: string[][] = [];
  const r = parseRequests(buf, reqs);
  let commands = 0;
  for (const argv of reqs) {
    if (argv[0] === ANSWERED) st.answered.set(Number(argv[1]), { end: Number(argv[2]), reply: argv[3] ?? '' });
    else if (argv[0] === BOOT) st.answered.clear();
    else {
      execute(st, c, argv, now);
      commands++;
    }
  }
  return { pos: r.pos, commands, error: r.error };
}

/**
 * Records that are not commands (RESP arrays like the rest, so the file stays one
 * stream): `KVD.BOOT <id>` starts a boot of kvd (a fresh start, not a restart after a
 * crash); `KVD.ANSWERED <handle> <end> <reply>` follows the writes of a batch of requests
 * of an acknowledging connection — the batch ends at stream offset `end` and `reply` is
 * its answer. A kvd that crashed after the batch's writes reached the file but before the
 * reply went out finds it here when the device delivers the batch again: it sends the
 * reply instead of running the batch twice. Only the records after the last `KVD.BOOT`
 * count (TCP handles are numbered afresh at each boot); a rewrite drops them all.
 */
export const ANSWERED = 'KVD.ANSWERED';
export const BOOT = 'KVD.BOOT';

/** Append the `KVD.ANSWERED` record of a batch (after its writes, in the same stream). */
export function appendAnswered(st: KvdCore, handle: number, end: number, reply: string): void {
  const aof = st.aof;
  if (!aof.on) return;
  const rec = encodeCommand([ANSWERED, String(handle), String(end), reply]);
  aof.buf += rec;
  if (aof.rwBuf !== null) aof.rwBuf += rec;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

async function vfs<T = unknown>(ctx: Ctx, msg: { type: string } & Record<string, unknown>): Promise<{ ok: true; value: T } | { ok: false; code: string; message?: string }> {
  return ctx.sendrec<T>('vfs', msg, { timeoutMs: 30_000 });
}

/** mkdir -p through vfs (EEXIST is fine). */
export async function mkdirs(ctx: Ctx, dir: string): Promise<void> {
  let path = '';
  for (const part of dir.split('/').filter(Boolean)) {
    path += `/${part}`;
    const r = await vfs(ctx, { type: 'vfs.mkdir', path, mode: 0o755 });
    if (!r.ok && r.code !== 'EEXIST') throw new Error(`kvd: mkdir ${path}: ${r.code} ${r.message ?? ''}`);
  }
}

/**
 * Load: replay the AOF into the state, cut a truncated tail off, and open the file for
 * appending. → the number of commands replayed.
 */
export async function loadAof(st: KvdCore, ctx: Ctx): Promise<number> {
  const aof = st.aof;
  await mkdirs(ctx, st.dir);
  aof.on = false;
  let commands = 0;
  let valid = 0;
  let leftover: Uint8Array = new Uint8Array(0);
  let note = '';
  const opened = await vfs<number>(ctx, { type: 'vfs.open', path: aof.path, flags: 'r' });
  if (opened.ok) {
    const fd = opened.value;
    const c = replayClient(ctx.now());
    try {
      for (;;) {
        const r = await vfs<Uint8Array>(ctx, { type: 'vfs.read', fd, length: IO_MAX });
        if (!r.ok) throw new Error(`kvd: read ${aof.path}: ${r.code} ${r.message ?? ''}`);
        if (r.value.length === 0) break;
        const buf = concat(leftover, r.value);
        const done = replayBytes(st, c, buf, ctx.now());
        commands += done.commands;
        valid += done.pos;
        if (done.error) {
          note = `${aof.path}: not RESP at byte ${valid} (${done.error}); the rest is dropped`;
          leftover = new Uint8Array(0);
          break;
        }
        leftover = buf.slice(done.pos);
      }
    } finally {
      await vfs(ctx, { type: 'vfs.close', fd });
    }
    if (leftover.length > 0) note = `${aof.path}: the last command is truncated (${leftover.length} bytes); dropped`;
    if (note) {
      // Cut the file back to its last whole command, so what is appended next is read back.
      const t = await vfs(ctx, { type: 'vfs.truncate', path: aof.path, size: valid });
      if (!t.ok) throw new Error(`kvd: truncate ${aof.path}: ${t.code} ${t.message ?? ''}`);
      console.warn(`kvd: ${note}`);
    }
  } else if (opened.code !== 'ENOENT') {
    throw new Error(`kvd: open ${aof.path}: ${opened.code} ${opened.message ?? ''}`);
  }
  const fd = await vfs<number>(ctx, { type: 'vfs.open', path: aof.path, flags: 'a' });
  if (!fd.ok) throw new Error(`kvd: open ${aof.path} for appending: ${fd.code} ${fd.message ?? ''}`);
  aof.fd = fd.value;
  if (ctx.self.kind !== 'restart') {
    // A new boot of kvd: the answered records before this one name connections of another boot.
    st.answered.clear();
    valid += await writeAll(ctx, aof.fd, encodeCommand([BOOT, `${ctx.self.incarnation}.${ctx.now()}`]));
  }
  aof.size = valid;
  aof.baseSize = valid;
  aof.loadNote = note;
  aof.db = -1;
  aof.buf = '';
  aof.lastSync = ctx.now();
  aof.on = true;
  return commands;
}

/** Write a latin1 string to `fd` in pieces vfs takes. → bytes written; throws with what was written on failure. */
async function writeAll(ctx: Ctx, fd: number, text: string): Promise<number> {
  let done = 0;
  while (done < text.length) {
    const piece = latin1Bytes(text.slice(done, done + IO_MAX));
    const r = await vfs<number>(ctx, { type: 'vfs.write', fd, data: piece });
    if (!r.ok) throw new WriteError(done, `${r.code} ${r.message ?? ''}`);
    done += piece.length;
  }
  return done;
}

class WriteError extends Error {
  constructor(readonly written: number, message: string) {
    super(message);
  }
}

/**
 * Write `aof.buf` to the file (the whole of it, in order), then send the replies that
 * waited for it (group commit). false if the write failed (the rest is kept for a retry).
 */
async function flushBuf(st: KvdCore, ctx: Ctx): Promise<boolean> {
  const aof = st.aof;
  const text = aof.buf;
  aof.buf = '';
  aof.taken += text.length;
  try {
    aof.size += await writeAll(ctx, aof.fd, text);
    aof.unsynced = true;
    aof.lastError = '';
    releaseReplies(st, ctx);
  } catch (e) {
    const written = e instanceof WriteError ? e.written : 0;
    aof.size += written;
    aof.buf = text.slice(written) + aof.buf;
    aof.taken -= text.length - written;
    aof.lastError = `write: ${(e as Error).message}`;
    releaseReplies(st, ctx);
    return false;
  }
  if (!aof.rewriting && !aof.rewriteQueued && aof.size > REWRITE_MIN && aof.size > 2 * aof.baseSize) aof.rewriteQueued = true;
  return true;
}

async function sync(st: KvdCore, ctx: Ctx): Promise<void> {
  const r = await vfs(ctx, { type: 'vfs.sync' });
  st.aof.lastSync = ctx.now();
  if (r.ok) st.aof.unsynced = false;
  else st.aof.lastError = `sync: ${r.code} ${r.message ?? ''}`;
}

/**
 * The AOF's I/O, one operation at a time: flush the buffer, run a queued rewrite, sync
 * when due (or when `forceSync`). Returns when there is nothing left to do (or a write
 * failed: the next alarm retries). A call while another runs returns at once (that one
 * picks the work up).
 */
export async function pump(st: KvdCore, ctx: Ctx, forceSync = false): Promise<void> {
  const aof = st.aof;
  if (aof.busy) return;
  aof.busy = true;
  try {
    for (let rounds = 0; rounds < 100_000; rounds++) {
      if (aof.fd < 0) {
        aof.taken += aof.buf.length;
        aof.buf = '';
        releaseReplies(st, ctx, true);
        return;
      }
      if (aof.buf.length > 0) {
        if (!(await flushBuf(st, ctx))) return;
        continue;
      }
      if (aof.rewriteQueued && !aof.rewriting) {
        await rewrite(st, ctx);
        continue;
      }
      if (aof.unsynced && (forceSync || ctx.now() - aof.lastSync >= SYNC_MS)) {
        await sync(st, ctx);
        continue;
      }
      return;
    }
  } finally {
    aof.busy = false;
  }
}

/** The rewrite (steps in the header). Runs inside `pump`. */
async function rewrite(st: KvdCore, ctx: Ctx): Promise<void> {
  const aof = st.aof;
  const tmp = `${aof.path}.tmp`;
  aof.rewriteQueued = false;
  aof.rewriting = true;
  // 1. The snapshot, and from here on every mutation also goes to rwBuf (after a SELECT).
  const chunks = dumpDataset(st, ctx.now());
  aof.rwBuf = '';
  aof.db = -1;
  let tmpFd = -1;
  try {
    const o = await vfs<number>(ctx, { type: 'vfs.open', path: tmp, flags: 'w' });
    if (!o.ok) throw new Error(`open ${tmp}: ${o.code} ${o.message ?? ''}`);
    tmpFd = o.value;
    // 2. The snapshot into the new file; the old file stays current meanwhile.
    let size = 0;
    for (const chunk of chunks) {
      size += await writeAll(ctx, tmpFd, chunk);
      if (aof.buf.length > 0) await flushBuf(st, ctx);
    }
    chunks.length = 0;
    // 3. Catch up with what was logged since the snapshot (a few rounds: under a steady
    //    write load rwBuf never stays empty, and need not — see 4).
    for (let round = 0; round < 8 && aof.rwBuf !== null && aof.rwBuf.length > 0; round++) {
      const t = aof.rwBuf;
      aof.rwBuf = '';
      size += await writeAll(ctx, tmpFd, t);
    }
    // 4. Durable, then in place. The new file now holds the snapshot and everything logged
    //    since except what is in rwBuf, which keeps collecting until the rename is done:
    //    then rwBuf is exactly what the new file lacks, and becomes the buffer to append.
    //    (A failure instead leaves `buf`, all the old file lacks, for the old file.)
    const s = await vfs(ctx, { type: 'vfs.sync' });
    if (!s.ok) throw new Error(`sync: ${s.code} ${s.message ?? ''}`);
    const r = await vfs(ctx, { type: 'vfs.rename', oldPath: tmp, newPath: aof.path });
    if (!r.ok) throw new Error(`rename ${tmp}: ${r.code} ${r.message ?? ''}`);
    // The replies waiting for what `buf` held: the new file has it (written in step 3) but
    // for what `rwBuf` still holds — `rwBuf` is a suffix of `buf`, so the stream position
    // written moves to where `rwBuf` begins.
    const rest = aof.rwBuf ?? '';
    aof.taken += aof.buf.length - rest.length;
    aof.buf = rest;
    aof.rwBuf = null;
    const old = aof.fd;
    aof.fd = tmpFd;
    tmpFd = -1;
    await vfs(ctx, { type: 'vfs.close', fd: old });
    aof.size = size;
    aof.baseSize = size;
    aof.unsynced = true;
    aof.rewrites++;
    aof.lastError = '';
    releaseReplies(st, ctx);
  } catch (e) {
    aof.lastError = `rewrite: ${(e as Error).message}`;
    aof.rwBuf = null;
    if (tmpFd >= 0) {
      await vfs(ctx, { type: 'vfs.close', fd: tmpFd });
      await vfs(ctx, { type: 'vfs.unlink', path: tmp });
    }
  } finally {
    aof.rwBuf = null;
    aof.rewriting = false;
  }
}

/**
 * After mutations: write them now — replies wait for it (group commit). A write already
 * in flight takes everything appended meanwhile when it completes (one vfs.write per
 * round, however many clients' mutations it carries).
 */
export function kick(st: KvdCore, ctx: Ctx): void {
  const aof = st.aof;
  if (aof.busy || aof.fd < 0 || (aof.buf.length === 0 && !aof.rewriteQueued)) return;
  void pump(st, ctx);
}

/** Shutdown: wait (bounded) for I/O in flight, then write everything and sync. */
export async function flushAndSync(st: KvdCore, ctx: Ctx, waitMs = 2_000): Promise<void> {
  const end = ctx.now() + waitMs;
  while (st.aof.busy && ctx.now() < end) await new Promise((r) => setTimeout(r, 5));
  if (st.aof.busy) return;
  st.aof.rewriteQueued = false;
  await pump(st, ctx, true);
}
