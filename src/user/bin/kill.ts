/**
 * kill: send a signal to processes. Signals: TERM (15, the default: ask to end), INT
 * (2, as ^C), KILL (9, end at once), XCPU (24, CPU budget exceeded, as sched sends it);
 * given as `-TERM`, `-SIGTERM`, `-15`, `-s TERM`.
 * `kill -l` lists them.
 *
 * Usage: `kill [-SIGNAL | -s SIGNAL] PID…`. Exit status 1 if a process could not be signalled.
 *
 * Entry points: default `main(argv)`; `parseKillArgs`, `signalName`.
 */
import { eprint, kill, print, SysError } from 'libc';

export type Signal = 'INT' | 'TERM' | 'KILL' | 'XCPU';
const NUMBERS: Record<Signal, number> = { INT: 2, KILL: 9, TERM: 15, XCPU: 24 };

/** `TERM`, `sigterm`, `15` → the signal, or null. */
export function signalName(s: string): Signal | null {
  const up = s.toUpperCase().replace(/^SIG/, '');
  if (up in NUMBERS) return up as Signal;
  const byNumber = (Object.keys(NUMBERS) as Signal[]).find((k) => String(NUMBERS[k]) === s);
  return byNumber ?? null;
}

export type KillArgs = { list: true } | { list: false; signal: Signal; pids: number[] } | { error: string };

const USAGE = 'usage: kill [-TERM|-INT|-KILL|-XCPU|-15|-2|-9|-24 | -s SIGNAL] PID…  |  kill -l';

export function parseKillArgs(args: readonly string[]): KillArgs {
  let signal: Signal = 'TERM';
  let i = 0;
  if (args[0] === '-l' || args[0] === '-L') return { list: true };
  if (args[0] === '-s') {
    const s = signalName(args[1] ?? '');
    if (!s) return { error: `kill: ${args[1] ?? ''}: unknown signal\n${USAGE}` };
    signal = s;
    i = 2;
  } else if (args[0] !== undefined && args[0].startsWith('-') && args[0] !== '--') {
    const s = signalName(args[0].slice(1));
    if (!s) return { error: `kill: ${args[0].slice(1)}: unknown signal\n${USAGE}` };
    signal = s;
    i = 1;
  }
  if (args[i] === '--') i++;
  const pids: number[] = [];
  for (const a of args.slice(i)) {
    if (!/^\d+$/.test(a)) return { error: `kill: ${a}: not a process id\n${USAGE}` };
    pids.push(Number(a));
  }
  if (pids.length === 0) return { error: USAGE };
  return { list: false, signal, pids };
}

export default async function main(argv: readonly string[]): Promise<number> {
  const k = parseKillArgs(argv.slice(1));
  if ('error' in k) {
    await eprint(`${k.error}\n`).catch(() => undefined);
    return 2;
  }
  if (k.list) {
    await print(`${(Object.keys(NUMBERS) as Signal[]).map((s) => `${NUMBERS[s]} ${s}`).join('\n')}\n`).catch(() => undefined);
    return 0;
  }
  let status = 0;
  for (const pid of k.pids) {
    try {
      await kill(pid, k.signal);
    } catch (e) {
      status = 1;
      await eprint(`kill: ${pid}: ${e instanceof SysError ? e.code : 'EIO'}\n`).catch(() => undefined);
    }
  }
  return status;
}
