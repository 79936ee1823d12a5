/**
 * touch: make files exist, and mark existing ones as modified now. `-c`: do not create.
 * (There is no utimes call: an existing file's time is renewed by truncating it to its
 * own size, which the file systems count as a change.)
 *
 * Usage: `touch [-c] FILE…`. Exit status 1 if one could not be touched.
 *
 * Entry point: default `main(argv)`.
 */
import { close, eprint, open, stat, SysError, truncate } from 'libc';

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export default async function main(argv: readonly string[]): Promise<number> {
  let create = true;
  const files: string[] = [];
  let opts = true;
  for (const a of argv.slice(1)) {
    if (opts && a === '--') opts = false;
    else if (opts && /^-[cam]+$/.test(a)) create &&= !a.includes('c');
    else if (opts && a.startsWith('-') && a.length > 1) {
      await eprint(`touch: unknown option ${a}\nusage: touch [-c] FILE…\n`).catch(() => undefined);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    await eprint('usage: touch [-c] FILE…\n').catch(() => undefined);
    return 2;
  }
  let status = 0;
  for (const f of files) {
    try {
      const st = await stat(f).catch((e: unknown) => {
        if (codeOf(e) === 'ENOENT') return null;
        throw e;
      });
      if (st === null) {
        if (create) await close(await open(f, 'a'));
      } else if (st.type === 'file') {
        await truncate(f, st.size);
      }
    } catch (e) {
      status = 1;
      await eprint(`touch: ${f}: ${codeOf(e)}\n`).catch(() => undefined);
    }
  }
  return status;
}
