/**
 * cp: copy files. `cp SRC DEST` (DEST a file, or a directory to copy into),
 * `cp SRC… DIR`; `-r` (or `-R`) copies directories and what they hold. The copy keeps
 * the source's permission bits.
 *
 * Usage: `cp [-r] SRC… DEST`. Exit status 1 if something could not be copied.
 *
 * Entry points: default `main(argv)`; `basename`, `targetPath`, `copyTree`.
 */
import { close, eprint, mkdir, open, read, readdir, stat, SysError, write } from 'libc';

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

/** The last component of a path (`a/b/` → `b`). */
export function basename(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1);
}

/** Where `src` goes: into `dest` when it is a directory, else `dest` itself. */
export function targetPath(src: string, dest: string, destIsDir: boolean): string {
  if (!destIsDir) return dest;
  return dest.endsWith('/') ? dest + basename(src) : `${dest}/${basename(src)}`;
}

/** `/a/b` lies inside `/a` (copying a directory into itself). */
function inside(child: string, parent: string): boolean {
  const p = parent.replace(/\/+$/, '');
  return child === p || child.startsWith(`${p}/`);
}

async function copyFile(src: string, dst: string, mode: number): Promise<void> {
  const from = await open(src, 'r');
  try {
    const to = await open(dst, 'w', mode);
    try {
      for (;;) {
        const chunk = await read(from, 65536);
        if (chunk.length === 0) break;
        await write(to, chunk);
      }
    } finally {
      await close(to).catch(() => undefined);
    }
  } finally {
    await close(from).catch(() => undefined);
  }
}

/** Copy `src` to `dst` (recursively with `recursive`); problems go to `complain`. */
export async function copyTree(src: string, dst: string, recursive: boolean, complain: (path: string, code: string) => Promise<void>, prog = 'cp'): Promise<void> {
  let st;
  try {
    st = await stat(src);
  } catch (e) {
    return complain(src, codeOf(e));
  }
  if (st.type === 'dir') {
    if (!recursive) return complain(src, `EISDIR (use ${prog} -r)`);
    try {
      await mkdir(dst, st.mode);
    } catch (e) {
      const there = await stat(dst).catch(() => null);
      if (codeOf(e) !== 'EEXIST' || there?.type !== 'dir') return complain(dst, codeOf(e));
    }
    let entries;
    try {
      entries = await readdir(src);
    } catch (e) {
      return complain(src, codeOf(e));
    }
    for (const e of entries) {
      if (e.name === '.' || e.name === '..') continue;
      await copyTree(targetPath(e.name, src, true), targetPath(e.name, dst, true), recursive, complain, prog);
    }
    return;
  }
  try {
    await copyFile(src, dst, st.mode);
  } catch (e) {
    await complain(`${src} -> ${dst}`, codeOf(e));
  }
}

export default async function main(argv: readonly string[]): Promise<number> {
  let recursive = false;
  const paths: string[] = [];
  let opts = true;
  for (const a of argv.slice(1)) {
    if (opts && a === '--') opts = false;
    else if (opts && /^-[rRfp]+$/.test(a)) recursive ||= /[rR]/.test(a);
    else if (opts && a.startsWith('-') && a.length > 1) {
      await eprint(`cp: unknown option ${a}\nusage: cp [-r] SRC… DEST\n`).catch(() => undefined);
      return 2;
    } else paths.push(a);
  }
  if (paths.length < 2) {
    await eprint('usage: cp [-r] SRC… DEST\n').catch(() => undefined);
    return 2;
  }
  const dest = paths.pop()!;
  const destSt = await stat(dest).catch(() => null);
  const destIsDir = destSt?.type === 'dir';
  if (paths.length > 1 && !destIsDir) {
    await eprint(`cp: ${dest}: ENOTDIR\n`).catch(() => undefined);
    return 1;
  }
  let status = 0;
  const complain = async (p: string, code: string) => {
    status = 1;
    await eprint(`cp: ${p}: ${code}\n`).catch(() => undefined);
  };
  for (const src of paths) {
    const to = targetPath(src, dest, destIsDir);
    const [a, b] = [await stat(src).catch(() => null), await stat(to).catch(() => null)];
    if (a && b && a.dev === b.dev && a.ino === b.ino && a.ino !== 0) {
      await complain(src, `same file as ${to}`);
      continue;
    }
    if (a?.type === 'dir' && inside(to, src)) {
      await complain(src, `cannot copy a directory into itself (${to})`);
      continue;
    }
    await copyTree(src, to, recursive, complain);
  }
  return status;
}
