/**
 * mv: move (rename) files and directories. `mv SRC DEST` (DEST a name, or a directory
 * to move into), `mv SRC… DIR`. Across file systems (e.g. / to /tmp) it copies, then
 * removes the source.
 *
 * Usage: `mv SRC… DEST`. Exit status 1 if something could not be moved.
 *
 * Entry points: default `main(argv)`; `basename`, `targetPath`, `isCrossDevice`.
 */
import { close, eprint, mkdir, open, read, readdir, rename, rmdir, stat, SysError, unlink, write } from 'libc';

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export function basename(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1);
}

export function targetPath(src: string, dest: string, destIsDir: boolean): string {
  if (!destIsDir) return dest;
  return dest.endsWith('/') ? dest + basename(src) : `${dest}/${basename(src)}`;
}

/** vfs refuses a rename across file systems (EXDEV, or EINVAL saying so). */
export function isCrossDevice(e: unknown): boolean {
  return e instanceof SysError && (e.code === 'EXDEV' || (e.code === 'EINVAL' && /EXDEV|across file systems/.test(e.message)));
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

/** Copy then remove, for a move across file systems. Throws on the first problem (the source stays whole). */
async function moveAcross(src: string, dst: string): Promise<void> {
  const st = await stat(src);
  if (st.type === 'dir') {
    await mkdir(dst, st.mode).catch(async (e: unknown) => {
      if (codeOf(e) !== 'EEXIST' || (await stat(dst)).type !== 'dir') throw e;
    });
    for (const e of await readdir(src)) {
      if (e.name === '.' || e.name === '..') continue;
      await moveAcross(targetPath(e.name, src, true), targetPath(e.name, dst, true));
    }
    await rmdir(src);
    return;
  }
  await copyFile(src, dst, st.mode);
  await unlink(src);
}

export default async function main(argv: readonly string[]): Promise<number> {
  const paths: string[] = [];
  let opts = true;
  for (const a of argv.slice(1)) {
    if (opts && a === '--') opts = false;
    else if (opts && /^-[fn]+$/.test(a)) continue;
    else if (opts && a.startsWith('-') && a.length > 1) {
      await eprint(`mv: unknown option ${a}\nusage: mv SRC… DEST\n`).catch(() => undefined);
      return 2;
    } else paths.push(a);
  }
  if (paths.length < 2) {
    await eprint('usage: mv SRC… DEST\n').catch(() => undefined);
    return 2;
  }
  const dest = paths.pop()!;
  const destIsDir = (await stat(dest).catch(() => null))?.type === 'dir';
  if (paths.length > 1 && !destIsDir) {
    await eprint(`mv: ${dest}: ENOTDIR\n`).catch(() => undefined);
    return 1;
  }
  let status = 0;
  for (const src of paths) {
    const to = targetPath(src, dest, destIsDir);
    try {
      await rename(src, to);
    } catch (e) {
      if (!isCrossDevice(e)) {
        status = 1;
        await eprint(`mv: ${src}: ${codeOf(e)}\n`).catch(() => undefined);
        continue;
      }
      try {
        await moveAcross(src, to);
      } catch (e2) {
        status = 1;
        await eprint(`mv: ${src} -> ${to}: ${codeOf(e2)}\n`).catch(() => undefined);
      }
    }
  }
  return status;
}
