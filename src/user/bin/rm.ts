/**
 * rm: remove files. `-r` (or `-R`): directories and everything in them; `-f`: a missing
 * file is no error (and no operands is fine). A directory without `-r` is refused
 * (EISDIR); `/`, `.` and `..` are never removed.
 *
 * Usage: `rm [-rf] PATH…`. Exit status 1 if something could not be removed.
 *
 * Entry points: default `main(argv)`; `parseRmArgs`, `refusedPath`.
 */
import { eprint, readdir, rmdir, stat, SysError, unlink } from 'libc';

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export function parseRmArgs(args: readonly string[]): { recursive: boolean; force: boolean; paths: string[] } | { error: string } {
  const o = { recursive: false, force: false, paths: [] as string[] };
  let opts = true;
  for (const a of args) {
    if (opts && a === '--') opts = false;
    else if (opts && a.startsWith('-') && a.length > 1) {
      for (const f of a.slice(1)) {
        if (f === 'r' || f === 'R') o.recursive = true;
        else if (f === 'f') o.force = true;
        else return { error: `rm: unknown option -${f}\nusage: rm [-rf] PATH…` };
      }
    } else o.paths.push(a);
  }
  return o;
}

/** `/`, and paths whose last component is `.` or `..`, are not removed. */
export function refusedPath(p: string): boolean {
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return true;
  const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return last === '.' || last === '..';
}

const join = (dir: string, name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);

export default async function main(argv: readonly string[]): Promise<number> {
  const o = parseRmArgs(argv.slice(1));
  if ('error' in o) {
    await eprint(`${o.error}\n`).catch(() => undefined);
    return 2;
  }
  if (o.paths.length === 0) {
    if (o.force) return 0;
    await eprint('usage: rm [-rf] PATH…\n').catch(() => undefined);
    return 2;
  }
  let status = 0;
  const complain = async (p: string, code: string) => {
    status = 1;
    await eprint(`rm: ${p}: ${code}\n`).catch(() => undefined);
  };
  const remove = async (p: string): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      if (!(o.force && codeOf(e) === 'ENOENT')) await complain(p, codeOf(e));
      return;
    }
    if (st.type !== 'dir') {
      try {
        await unlink(p);
      } catch (e) {
        if (!(o.force && codeOf(e) === 'ENOENT')) await complain(p, codeOf(e));
      }
      return;
    }
    if (!o.recursive) return complain(p, 'EISDIR');
    let entries;
    try {
      entries = await readdir(p);
    } catch (e) {
      return complain(p, codeOf(e));
    }
    for (const e of entries) if (e.name !== '.' && e.name !== '..') await remove(join(p, e.name));
    try {
      await rmdir(p);
    } catch (e) {
      await complain(p, codeOf(e));
    }
  };
  for (const p of o.paths) {
    if (refusedPath(p)) {
      await eprint(`rm: refusing to remove '${p}'\n`).catch(() => undefined);
      status = 1;
      continue;
    }
    await remove(p);
  }
  return status;
}
