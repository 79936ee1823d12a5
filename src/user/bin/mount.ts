/**
 * mount: list the mount table — `SERVER on PATH (rw|ro)`, one per line. The table is
 * fixed at boot (the boot image's vfs arguments): mounting anything else is refused.
 *
 * Usage: `mount`. Entry points: default `main(argv)`; `formatMounts`.
 */
import { eprint, mounts, print, SysError } from 'libc';

export function formatMounts(list: ReadonlyArray<{ path: string; server: string; readonly: boolean }>): string {
  return list.map((m) => `${m.server} on ${m.path} (${m.readonly ? 'ro' : 'rw'})\n`).join('');
}

export default async function main(argv: readonly string[]): Promise<number> {
  if (argv.length > 1) {
    await eprint('mount: the mount table is fixed at boot; usage: mount (lists it)\n').catch(() => undefined);
    return 1;
  }
  try {
    await print(formatMounts(await mounts()));
    return 0;
  } catch (e) {
    await eprint(`mount: ${e instanceof SysError ? e.code : 'EIO'}\n`).catch(() => undefined);
    return 1;
  }
}
