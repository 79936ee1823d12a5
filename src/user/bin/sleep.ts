/**
 * sleep: wait N seconds (fractions allowed; a suffix s, m, h or d; several add up).
 *
 * Usage: `sleep N…`. Entry points: default `main(argv)`; `parseDuration`.
 */
import { eprint, sleep } from 'libc';

const UNITS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1.5`, `2s`, `1m` → milliseconds, or null when it is not a duration. */
export function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(s);
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : null;
}

export default async function main(argv: readonly string[]): Promise<number> {
  const args = argv.slice(1);
  if (args.length === 0) {
    await eprint('usage: sleep SECONDS…\n').catch(() => undefined);
    return 2;
  }
  let ms = 0;
  for (const a of args) {
    const d = parseDuration(a);
    if (d === null) {
      await eprint(`sleep: invalid time interval '${a}'\n`).catch(() => undefined);
      return 2;
    }
    ms += d;
  }
  // In slices: a long sleep stays a process that answers (and ^C ends it promptly).
  while (ms > 0) {
    const step = Math.min(ms, 1000);
    await sleep(step);
    ms -= step;
  }
  return 0;
}
