/**
 * top: the processes by CPU use (sched's figures): PID, UID, NI, %CPU, TIME, LIMIT,
 * CMD, a summary line, and the system components' CPU. Repeats every `-d` seconds,
 * `-n` times: by default once when standard output is not a terminal, else until ^C.
 *
 * Usage: `top [-n N] [-d SECONDS] [-s]` (`-s`: without the system components).
 * Entry points: default `main(argv)`; `parseTopArgs`, `formatTop`, `formatCpuTime`.
 */
import { call, eprint, isatty, print, sleep, SysError } from 'libc';
import { formatTable } from 'libc/format';
import type { TopReport } from '../../servers/sched/protocol.js';

/** CPU milliseconds → `M:SS.cc` (as ps prints it; a program may import only libc, so it is repeated here). */
export function formatCpuTime(ms: number): string {
  const cs = Math.floor(ms / 10);
  const m = Math.floor(cs / 6000);
  const s = Math.floor((cs % 6000) / 100);
  return `${m}:${String(s).padStart(2, '0')}.${String(cs % 100).padStart(2, '0')}`;
}

/** The most frames one top prints, however asked. */
export const MAX_FRAMES = 100_000;

export interface TopArgs {
  /** null: the default (1 off a terminal, else until ^C). */
  frames: number | null;
  delayMs: number;
  servers: boolean;
}

const USAGE = 'usage: top [-n N] [-d SECONDS] [-s]';

export function parseTopArgs(args: readonly string[]): TopArgs | { error: string } {
  const out: TopArgs = { frames: null, delayMs: 1000, servers: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => (a.length > 2 ? a.slice(2) : args[++i]);
    if (a.startsWith('-n')) {
      const v = value();
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1) return { error: `top: -n needs a count ≥ 1\n${USAGE}` };
      out.frames = Math.min(MAX_FRAMES, Number(v));
    } else if (a.startsWith('-d')) {
      const v = value();
      if (v === undefined || !/^(\d+(\.\d*)?|\.\d+)$/.test(v)) return { error: `top: -d needs seconds\n${USAGE}` };
      out.delayMs = Math.max(100, Math.round(Number(v) * 1000));
    } else if (a === '-s') {
      out.servers = false;
    } else {
      return { error: `top: unknown argument ${a}\n${USAGE}` };
    }
  }
  return out;
}

export function formatTop(r: TopReport, opts: { servers?: boolean } = {}): string {
  const t = r.totals;
  const head = `top - ${t.procs} processes, %CPU: processes ${t.procsPcpu.toFixed(1)}, system ${t.serversPcpu.toFixed(1)}`
    + ` (capacity ${t.capacityPct}%${t.contended ? ', contended' : ''}); window ${t.windowMs} ms, ${t.samples} samples;`
    + ` signals: XCPU ${t.xcpuSent + t.shed}, KILL ${t.killsSent}\n\n`;
  const procs = formatTable(
    ['PID', 'UID', 'NI', '%CPU', 'TIME', 'LIMIT', 'S', 'CMD'],
    r.rows.map((p) => [
      String(p.pid), p.uid < 0 ? '-' : String(p.uid), String(p.nice), p.pcpu.toFixed(1), formatCpuTime(p.cpuMs),
      p.limitMs === null ? '-' : formatCpuTime(p.limitMs), p.enforcement === 'run' ? 'R' : p.enforcement === 'xcpu' ? 'X' : 'K', p.cmd,
    ]),
  );
  if (opts.servers === false) return head + procs;
  const servers = formatTable(
    ['COMPONENT', '%CPU', 'TIME', 'INC'],
    r.servers.map((s) => [s.label, s.pcpu.toFixed(1), formatCpuTime(s.cpuMs), String(s.incarnations)]),
  );
  return `${head}${procs}\n${servers}`;
}

export default async function main(argv: readonly string[]): Promise<number> {
  const a = parseTopArgs(argv.slice(1));
  if ('error' in a) {
    await eprint(`${a.error}\n`).catch(() => undefined);
    return 2;
  }
  const tty = await isatty(1).catch(() => false);
  const frames = a.frames ?? (tty ? MAX_FRAMES : 1);
  for (let i = 0; i < frames; i++) {
    let report: TopReport;
    try {
      report = await call<TopReport>('sched', 'sched.top');
    } catch (e) {
      await eprint(`top: sched: ${e instanceof SysError ? e.code : 'EIO'} (is sched running?)\n`).catch(() => undefined);
      return 1;
    }
    // On a terminal each frame replaces the last (cursor home, clear screen).
    await print(`${tty && frames > 1 ? '\x1b[H\x1b[2J' : i > 0 ? '\n' : ''}${formatTop(report, { servers: a.servers })}`);
    if (i + 1 < frames) await sleep(a.delayMs);
  }
  return 0;
}
