/**
 * ps: the process table: PID, PPID, UID, STAT (R running, Z ended but not yet waited
 * for), CMD (its arguments).
 *
 * Usage: `ps`. Entry points: default `main(argv)`; `formatPs`.
 */
import { eprint, print, ps, SysError, type ProcInfo } from 'libc';
import { formatTable } from 'libc/format';

export function formatPs(procs: readonly ProcInfo[]): string {
  return formatTable(
    ['PID', 'PPID', 'UID', 'STAT', 'CMD'],
    [...procs]
      .sort((a, b) => a.pid - b.pid)
      .map((p) => [String(p.pid), String(p.ppid), String(p.uid), p.state === 'zombie' ? 'Z' : 'R', p.argv.length > 0 ? p.argv.join(' ') : `[${p.label}]`]),
  );
}

export default async function main(argv: readonly string[]): Promise<number> {
  if (argv.length > 1 && !/^-?[aefx]*$/.test(argv[1]!)) {
    await eprint(`ps: unknown option ${argv[1]}\nusage: ps\n`).catch(() => undefined);
    return 2;
  }
  try {
    await print(formatPs(await ps()));
    return 0;
  } catch (e) {
    await eprint(`ps: ${e instanceof SysError ? e.code : 'EIO'}\n`).catch(() => undefined);
    return 1;
  }
}
