/**
 * nice: run a command with a niceness (sched's nice, -20..19; see sched's protocol for
 * what nice does). `nice` alone prints the caller's nice; `nice [-n N] COMMAND [ARG]…`
 * runs COMMAND with the caller's nice + N (default 10; below 0 only for root), waits
 * for it and exits with its status (127: no such command); `nice -n N -p PID…` sets
 * those processes' nice to N (as renice does).
 *
 * If sched refuses (or is not running), the command still runs, with a warning, as GNU
 * nice does. ^C and TERM are passed on to the command.
 *
 * Entry points: default `main(argv)`; `parseNiceArgs`, `clampNice`.
 */
import { call, env, eprint, getpid, kill, onSignal, print, spawn, stat, SysError, wait, type SignalName } from 'libc';
import type { SchedRow } from '../../servers/sched/protocol.js';

export type NiceArgs =
  | { mode: 'show' }
  | { mode: 'run'; adjust: number; command: string[] }
  | { mode: 'renice'; nice: number; pids: number[] }
  | { error: string };

const USAGE = 'usage: nice [-n N] COMMAND [ARG]…  |  nice -n N -p PID…  |  nice';

export const clampNice = (n: number): number => Math.min(19, Math.max(-20, n));

export function parseNiceArgs(args: readonly string[]): NiceArgs {
  let adjust: number | null = null;
  let i = 0;
  if (args[0] === '-n') {
    if (args[1] === undefined || !/^[+-]?\d+$/.test(args[1])) return { error: `nice: ${args[1] ?? ''}: not a number\n${USAGE}` };
    adjust = Number(args[1]);
    i = 2;
  } else if (args[0] !== undefined && /^-n[+-]?\d+$/.test(args[0])) {
    adjust = Number(args[0].slice(2));
    i = 1;
  }
  if (args[i] === '-p') {
    if (adjust === null) return { error: `nice: -p needs -n N\n${USAGE}` };
    const pids = args.slice(i + 1);
    if (pids.length === 0 || pids.some((p) => !/^\d+$/.test(p))) return { error: `nice: -p needs process ids\n${USAGE}` };
    return { mode: 'renice', nice: adjust, pids: pids.map(Number) };
  }
  const dashes = args[i] === '--';
  if (dashes) i++;
  if (i >= args.length) return adjust === null && !dashes ? { mode: 'show' } : { error: USAGE };
  if (!dashes && args[i]!.startsWith('-')) return { error: `nice: unknown option ${args[i]}\n${USAGE}` };
  return { mode: 'run', adjust: adjust ?? 10, command: args.slice(i) };
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

/** The caller's nice (not sampled yet: its parent's, which it inherits). */
async function ownNice(): Promise<number> {
  const { pid, ppid } = await getpid();
  const rows = await call<SchedRow[]>('sched', 'sched.ps');
  return (rows.find((r) => r.pid === pid) ?? rows.find((r) => r.pid === ppid))?.nice ?? 0;
}

/** COMMAND → its program file: a path as given (or + .ts), else `<dir>/<name>.ts` along PATH. */
async function resolve(name: string): Promise<string | null> {
  const candidates = name.includes('/')
    ? (name.endsWith('.ts') ? [name] : [name, `${name}.ts`])
    : (env.PATH ?? '/bin').split(':').map((d) => `${(d || '.').replace(/\/+$/, '')}/${name.endsWith('.ts') ? name : `${name}.ts`}`);
  for (const c of candidates) {
    try {
      if ((await stat(c)).type === 'file') return c;
    } catch {
      // next candidate
    }
  }
  return null;
}

export default async function main(argv: readonly string[]): Promise<number> {
  const a = parseNiceArgs(argv.slice(1));
  if ('error' in a) {
    await eprint(`${a.error}\n`).catch(() => undefined);
    return 2;
  }
  if (a.mode === 'show') {
    try {
      await print(`${await ownNice()}\n`);
      return 0;
    } catch (e) {
      await eprint(`nice: sched: ${codeOf(e)}\n`).catch(() => undefined);
      return 1;
    }
  }
  if (a.mode === 'renice') {
    let status = 0;
    for (const pid of a.pids) {
      try {
        await call('sched', 'sched.nice', { pid, nice: clampNice(a.nice) });
      } catch (e) {
        status = 1;
        await eprint(`nice: ${pid}: ${codeOf(e)}\n`).catch(() => undefined);
      }
    }
    return status;
  }
  // Run: 1. find it; 2. take the niceness itself, so the command has it from its first
  // moment (sched gives a new process its parent's nice); 3. start it, and set its nice
  // too (should sched have lost the parent's); 4. wait for it, passing signals on.
  const path = await resolve(a.command[0]!);
  if (!path) {
    await eprint(`nice: ${a.command[0]}: command not found\n`).catch(() => undefined);
    return 127;
  }
  let nice: number | null = null;
  try {
    nice = clampNice((await ownNice()) + a.adjust);
    await call('sched', 'sched.nice', { pid: 0, nice });
  } catch (e) {
    nice = null;
    await eprint(`nice: cannot set niceness: ${codeOf(e)}\n`).catch(() => undefined);
  }
  let child: number;
  try {
    child = await spawn(path, a.command, { env: { ...env } });
  } catch (e) {
    await eprint(`nice: ${a.command[0]}: ${codeOf(e)}\n`).catch(() => undefined);
    return 126;
  }
  onSignal((name) => void kill(child, name as SignalName).catch(() => undefined));
  if (nice !== null) await call('sched', 'sched.nice', { pid: child, nice }).catch(() => undefined);
  try {
    return (await wait(child)).status;
  } catch (e) {
    await eprint(`nice: wait: ${codeOf(e)}\n`).catch(() => undefined);
    return 1;
  }
}
