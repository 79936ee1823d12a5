/**
 * env: print the environment (`NAME=value` lines), or run a command in a changed one:
 * `-i` starts from an empty environment, `-u NAME` removes one, `NAME=value` sets one.
 * The command resolves through PATH (`<dir>/<name>.ts`) as in sh.
 *
 * Usage: `env [-i] [-u NAME]… [NAME=VALUE]… [COMMAND [ARG…]]`. Exit status: the
 * command's; 127 if it was not found, 126 if it could not be started.
 *
 * Entry points: default `main(argv, env)`; `parseEnvArgs`, `formatEnv`, `commandCandidates`.
 */
import { eprint, print, ps, sleep, spawn, stat, SysError, wait } from 'libc';

export function parseEnvArgs(args: readonly string[], env: Readonly<Record<string, string>>): { env: Record<string, string>; command: string[] } | { error: string } {
  let out: Record<string, string> = { ...env };
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-i' || a === '-') out = {};
    else if (a === '-u') {
      const name = args[++i];
      if (name === undefined) return { error: 'env: -u needs a NAME' };
      delete out[name];
    } else if (a === '--') {
      i++;
      break;
    } else if (a.startsWith('-') && a.length > 1) return { error: `env: unknown option ${a}\nusage: env [-i] [-u NAME]… [NAME=VALUE]… [COMMAND [ARG…]]` };
    else break;
  }
  for (; i < args.length; i++) {
    const a = args[i]!;
    const m = /^([^=]+)=([\s\S]*)$/.exec(a);
    if (!m) break;
    out[m[1]!] = m[2]!;
  }
  return { env: out, command: args.slice(i) };
}

export function formatEnv(env: Readonly<Record<string, string>>): string {
  return Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join('');
}

export function commandCandidates(name: string, path: string): string[] {
  if (name.includes('/')) return name.endsWith('.ts') ? [name] : [name, `${name}.ts`];
  return path.split(':').map((d) => `${d === '' ? '.' : d.replace(/\/+$/, '')}/${name.endsWith('.ts') ? name : `${name}.ts`}`);
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');

export default async function main(argv: readonly string[], env: Readonly<Record<string, string>>): Promise<number> {
  const p = parseEnvArgs(argv.slice(1), env);
  if ('error' in p) {
    await eprint(`${p.error}\n`).catch(() => undefined);
    return 2;
  }
  if (p.command.length === 0) {
    try {
      await print(formatEnv(p.env));
      return 0;
    } catch {
      return 1;
    }
  }
  const name = p.command[0]!;
  let path: string | null = null;
  for (const c of commandCandidates(name, p.env.PATH ?? env.PATH ?? '/bin')) {
    const st = await stat(c).catch(() => null);
    if (st?.type === 'file') {
      path = c;
      break;
    }
  }
  if (path === null) {
    await eprint(`env: ${name}: command not found\n`).catch(() => undefined);
    return 127;
  }
  let pid: number;
  try {
    pid = await spawn(path, p.command, { env: p.env });
  } catch (e) {
    await eprint(`env: ${name}: cannot execute: ${codeOf(e)}\n`).catch(() => undefined);
    return 126;
  }
  try {
    return (await wait(pid)).status;
  } catch (e) {
    if (codeOf(e) !== 'ETIMEDOUT') return 1;
  }
  // The wait outlived the call deadline; it stays queued in pm and takes the exit, so
  // watch the process table instead (a status the stale wait took is lost: 0).
  for (;;) {
    const procs = await ps().catch(() => null);
    const p = procs?.find((x) => x.pid === pid);
    if (procs && p === undefined) return 0;
    if (p?.state === 'zombie') return wait(pid).then((r) => r.status, () => p.status ?? 0);
    await sleep(200);
  }
}
