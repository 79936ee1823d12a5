/**
 * init: process 1. Runs `/etc/rc` (one command per line, in order, each waited for — a
 * trailing `&` runs one in the background; `#` comments and blank lines ignored; a file
 * system without one gets
 * `DEFAULT_RC`, which brings up the boot configuration's daemons, kvd and httpd), then
 * runs `/bin/sh.ts` on the console (fds 0, 1, 2) in a loop, reaping every child that
 * ends (orphans come to init too). When the shell exits with status 0 (end of input,
 * or `exit 0`), init exits 0 and the system shuts down; a shell that ends otherwise
 * (`exit N`, a crash, KILL) is started again — unless it keeps failing at once.
 *
 * A daemon's stdin is an empty pipe, so it never takes the console's input; a line
 * with shell syntax (pipes, redirections, variables …) runs under `sh -c`.
 *
 * Entry points: default `main(argv, env)`; `parseRc`, `rcCommand`.
 */
import { close, decodeUtf8, eprint, getpid, now, onSignal, pipe, ps, readFile, sleep, spawn, SysError, wait, writeFile } from 'libc';
import { splitWords } from 'libc/format';

export interface RcEntry {
  /** 1-based line number in /etc/rc. */
  line: number;
  text: string;
  /** A trailing `&`: run it in the background (a long-running program); else init waits for it, in order. */
  background: boolean;
}

const SHELL = '/bin/sh.ts';

/** What a new file system's /etc/rc holds: the daemons of the boot configuration. */
export const DEFAULT_RC = `# /etc/rc: what init runs at boot, one command per line, in order (a trailing & runs one in the background).
# The daemons below are services the boot configuration lists; \`service up LABEL KEY=VALUE\`
# overrides their arguments, e.g. \`service up kvd port=6390\`.
service up kvd
service up httpd
`;
/** A shell that ends this soon after starting, this many times in a row, is not started again. */
const QUICK_MS = 1000;
const MAX_QUICK_FAILURES = 5;
/** How often init looks at the process table once it cannot rely on a blocking wait. */
const POLL_MS = 200;

/** The commands of an rc file: one per non-blank, non-comment line; a trailing `&` runs one in the background. */
export function parseRc(text: string): RcEntry[] {
  const out: RcEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    let t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const background = t.endsWith('&') && !t.endsWith('&&');
    if (background) t = t.slice(0, -1).trimEnd();
    if (t !== '') out.push({ line: i + 1, text: t, background });
  });
  return out;
}

/** How to start one rc line: its program file and argv, directly or through `sh -c` when it uses shell syntax. */
export function rcCommand(text: string, path = '/bin'): { path: string; argv: string[] } {
  if (/[|;&<>$`(){}*?~'"\\]/.test(text) || /^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    return { path: SHELL, argv: ['sh', '-c', text] };
  }
  const argv = splitWords(text);
  const name = argv[0] ?? '';
  if (name.includes('/')) return { path: name.endsWith('.ts') ? name : `${name}.ts`, argv };
  const dir = (path.split(':')[0] || '/bin').replace(/\/+$/, '');
  return { path: `${dir}/${name}.ts`, argv };
}

const codeOf = (e: unknown) => (e instanceof SysError ? e.code : 'EIO');
const say = (text: string) => eprint(text).catch(() => undefined);

/** An empty pipe's read end: end of input at once (a daemon's stdin). */
async function emptyInput(): Promise<number> {
  const [r, w] = await pipe();
  await close(w);
  return r;
}

export default async function main(_argv: readonly string[], env: Readonly<Record<string, string>>): Promise<number> {
  // Process 1 is not ended by ^C or TERM.
  onSignal(() => undefined);
  const childEnv: Record<string, string> = { PATH: '/bin', HOME: '/', SHELL, ...env };
  const daemons = new Map<number, string>();

  // 1. /etc/rc
  let rc = '';
  try {
    rc = decodeUtf8(await readFile('/etc/rc'));
  } catch (e) {
    if (codeOf(e) !== 'ENOENT') await say(`init: /etc/rc: ${codeOf(e)}\n`);
    else {
      // First boot of a new file system: install the default rc (edit it to change what starts).
      rc = DEFAULT_RC;
      await writeFile('/etc/rc', DEFAULT_RC, 'wx').catch(() => undefined);
    }
  }
  for (const entry of parseRc(rc)) {
    const cmd = rcCommand(entry.text, childEnv.PATH);
    let stdin: number | null = null;
    try {
      stdin = await emptyInput();
      const pid = await spawn(cmd.path, cmd.argv, { env: childEnv, fds: [[0, stdin], [1, 1], [2, 2]] });
      if (entry.background) daemons.set(pid, cmd.argv[0] ?? entry.text);
      else {
        // As in Unix rc: one command after another, the shell only once they are done.
        const { status } = await wait(pid);
        if (status !== 0) await say(`init: /etc/rc:${entry.line}: ${cmd.argv[0] ?? entry.text}: exit status ${status}\n`);
      }
    } catch (e) {
      await say(`init: /etc/rc:${entry.line}: ${cmd.argv[0] ?? entry.text}: ${codeOf(e)}\n`);
    } finally {
      if (stdin !== null) await close(stdin).catch(() => undefined);
    }
  }

  // 2. the shell on the console, again and again
  let quickFailures = 0;
  const reaping = { polling: false, self: await getpid().then((r) => r.pid, () => 1) };
  for (;;) {
    const startedAt = now();
    let shell: number;
    try {
      shell = await spawn(SHELL, ['sh'], { env: childEnv });
    } catch (e) {
      await say(`init: ${SHELL}: ${codeOf(e)}\n`);
      return 1;
    }
    const status = await reapUntil(shell, daemons, reaping);
    if (status === 0) return 0;
    quickFailures = now() - startedAt < QUICK_MS ? quickFailures + 1 : 0;
    if (quickFailures >= MAX_QUICK_FAILURES) {
      await say(`init: the shell keeps failing (status ${status}); stopping\n`);
      return status;
    }
    if (status >= 128) await say(`init: sh ended (status ${status}); starting a new one\n`);
  }
}

/**
 * Reap children until `shell` ends → its status. A blocking `wait(-1)` normally; but a
 * wait that outlives the system-call deadline (ETIMEDOUT) stays queued in pm and takes
 * the next exit, so from then on init watches the process table instead and reaps each
 * child it sees as a zombie (no wait of its own is left queued). If the stale wait took
 * the shell's exit, its status is lost: 1 is assumed (a new shell starts, and ends at
 * once with 0 if the console's input is over).
 */
async function reapUntil(shell: number, daemons: Map<number, string>, state: { polling: boolean; self: number }): Promise<number> {
  const reaped = async (pid: number, status: number): Promise<number | null> => {
    if (pid === shell) return status;
    const name = daemons.get(pid);
    if (name !== undefined) {
      daemons.delete(pid);
      if (status !== 0) await say(`init: ${name}[${pid}] exited with status ${status}\n`);
    }
    return null;
  };
  for (;;) {
    if (!state.polling) {
      try {
        const r = await wait(-1);
        const s = await reaped(r.pid, r.status);
        if (s !== null) return s;
        continue;
      } catch (e) {
        const code = codeOf(e);
        if (code !== 'ETIMEDOUT' && code !== 'ECHILD') {
          await say(`init: wait: ${code}\n`);
          return 1;
        }
        state.polling = true;
      }
    }
    const procs = await ps().catch(() => null);
    if (procs === null) {
      await sleep(POLL_MS);
      continue;
    }
    let shellSeen = false;
    for (const p of procs) {
      if (p.pid === shell) shellSeen = true;
      if (p.ppid !== state.self && p.pid !== shell) continue;
      if (p.state !== 'zombie') continue;
      const status = await wait(p.pid).then((r) => r.status, () => p.status ?? 0);
      const s = await reaped(p.pid, status);
      if (s !== null) return s;
    }
    if (!shellSeen) return 1;
    await sleep(POLL_MS);
  }
}
