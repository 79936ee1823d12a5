/**
 * mkdir: make directories. `-p`: make missing parents too, and an existing directory is
 * no error; `-m MODE`: permission bits (octal).
 *
 * Usage: `mkdir [-p] [-m MODE] DIR…`. Exit status 1 if one could not be made.
 *
 * Entry points: default `main(argv)`; `prefixes`.
 */
import { eprint, mkdir, stat, SysError } from 'libc';

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

/** `/a/b/c` → `/a`, `/a/b`, `/a/b/c`; `a/b` → `a`, `a/b`. */
export function prefixes(path: string): string[] {
  const abs = path.startsWith('/');
  const parts = path.split('/').filter((p) => p !== '');
  return parts.map((_, i) => (abs ? '/' : '') + parts.slice(0, i + 1).join('/'));
}

export default async function main(argv: readonly string[]): Promise<number> {
  let parents = false;
  let mode = 0o755;
  const dirs: string[] = [];
  const args = argv.slice(1);
  let opts = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (opts && a === '--') opts = false;
    else if (opts && a === '-m') {
      const m = args[++i] ?? '';
      if (!/^[0-7]{1,4}$/.test(m)) {
        await eprint(`mkdir: invalid mode '${m}'\n`).catch(() => undefined);
        return 2;
      }
      mode = parseInt(m, 8);
    } else if (opts && /^-p+$/.test(a)) parents = true;
    else if (opts && a.startsWith('-') && a.length > 1) {
      await eprint(`mkdir: unknown option ${a}\nusage: mkdir [-p] [-m MODE] DIR…\n`).catch(() => undefined);
      return 2;
    } else dirs.push(a);
  }
  if (dirs.length === 0) {
    await eprint('usage: mkdir [-p] [-m MODE] DIR…\n').catch(() => undefined);
    return 2;
  }
  let status = 0;
  for (const d of dirs) {
    const steps = parents ? prefixes(d) : [d];
    for (const [i, p] of steps.entries()) {
      const last = i === steps.length - 1;
      try {
        await mkdir(p, last ? mode : 0o755);
      } catch (e) {
        // -p: a directory already there (EEXIST, or EBUSY for a mount point) is fine.
        const st = parents ? await stat(p).catch(() => null) : null;
        if (st?.type === 'dir') continue;
        if (st) {
          await eprint(`mkdir: ${p}: ENOTDIR\n`).catch(() => undefined);
        } else {
          await eprint(`mkdir: ${p}: ${codeOf(e)}\n`).catch(() => undefined);
        }
        status = 1;
        break;
      }
    }
  }
  return status;
}
