/**
 * Test helper: run the `molt` command as a user does — a real child process
 * (`node bin/molt.js …`, or any command such as `npx`), with its own cwd and
 * environment, capturing stdout, stderr and the exit status, and killed when it
 * outlives a bounded timeout. Also: background children (a booted system whose stdin
 * stays open, a `molt trace` stream), temporary homes under os.tmpdir(), and one
 * `cleanup()` that ends every child still running and removes every temporary dir.
 *
 * Entry points: `molt(args, opts)`, `run(cmd, args, opts)`, `startMolt(args, opts)`,
 * `bootBackground(home)`, `tempDir()`, `parseTable(text)`, `cleanup()`, `waitFor(fn)`.
 */
import { defaultBootConfig } from '../../src/boot/image.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/cli/client.js';
import type { ServiceRow } from '../../src/servers/rs/protocol.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MOLT_BIN = join(REPO_ROOT, 'bin', 'molt.js');
export const E2E_CONFIG = join(REPO_ROOT, 'test', 'fixtures', 'boot-e2e.json');

/** How a finished child ended and what it printed. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  /** Working directory (default: the repository root). */
  cwd?: string;
  /** Added to the environment; `undefined` removes a variable. MOLT_HOME is removed unless given here. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** The child is killed (its whole process group) after this long; default 20 s. */
  timeoutMs?: number;
}

export interface StartOptions extends Omit<RunOptions, 'input' | 'timeoutMs'> {
  /** A background child is killed after this long at the latest; default 60 s. */
  timeoutMs?: number;
}

/** A child still running in the background. Its stdin stays open until `endInput()`. */
export interface Background {
  child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the child has exited (never rejects). */
  exited: Promise<RunResult>;
  /** Is the child still running? */
  readonly running: boolean;
  write(text: string): void;
  endInput(): void;
  /** Wait (bounded) until stdout satisfies `test`; fails early if the child exits first. */
  waitForStdout(test: RegExp | ((out: string) => boolean), ms?: number): Promise<string>;
  /** Wait (bounded) for the child to exit on its own. */
  waitForExit(ms?: number): Promise<RunResult>;
  /** Send a signal to the child's process group. */
  signal(sig: NodeJS.Signals): void;
  /** Kill the child's process group (SIGKILL) and wait for it (bounded). */
  kill(): Promise<void>;
}

const live = new Set<Background>();
const tempDirs = new Set<string>();

function childEnv(extra: RunOptions['env'] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.MOLT_HOME;
  // The default image with its daemons on ephemeral ports: systems booted side by side do not collide.
  env.MOLT_CONFIG = E2E_CONFIG;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig); // the child leads its own process group (detached), so npx's children go too
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

function describeChild(cmd: string, args: string[]): string {
  return [cmd === process.execPath ? 'node' : cmd, ...args].join(' ');
}

/** Start `cmd args` in the background (stdin, stdout and stderr are pipes). */
export function start(cmd: string, args: string[], opts: StartOptions = {}): Background {
  const t0 = Date.now();
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (stdout += d));
  child.stderr.on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined); // EPIPE when the child exits first
  let exitedFlag = false;
  const exited = new Promise<RunResult>((resolveExit) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      exitedFlag = true;
      clearTimeout(limit);
      live.delete(bg);
      resolveExit({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    };
    child.once('close', done);
    child.once('error', (e) => {
      stderr += `\n[spawn error: ${e.message}]`;
      done(null, null);
    });
  });
  const limit = setTimeout(() => killGroup(child.pid, 'SIGKILL'), opts.timeoutMs ?? 60_000);
  const what = describeChild(cmd, args);
  const bg: Background = {
    child,
    get pid() {
      return child.pid ?? 0;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get running() {
      return !exitedFlag;
    },
    exited,
    write: (text) => void child.stdin.write(text),
    endInput: () => void child.stdin.end(),
    async waitForStdout(test, ms = 10_000) {
      const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
      await waitFor(() => {
        if (ok(stdout)) return true;
        if (exitedFlag) throw new Error(`${what} exited before its output matched\nstdout:\n${stdout}\nstderr:\n${stderr}`);
        return false;
      }, ms, `output of ${what}\nstdout so far:\n${stdout}\nstderr so far:\n${stderr}`);
      return stdout;
    },
    async waitForExit(ms = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not exit within ${ms} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`)), ms);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    signal: (sig) => killGroup(child.pid, sig),
    async kill() {
      if (exitedFlag) return;
      killGroup(child.pid, 'SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    },
  };
  live.add(bg);
  return bg;
}

/** Run `cmd args` to completion (bounded); never rejects on a non-zero exit, only on the timeout. */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const bg = start(cmd, args, { ...opts, timeoutMs: timeoutMs + 5_000 });
  if (opts.input !== undefined) bg.write(opts.input);
  bg.endInput();
  try {
    return await bg.waitForExit(timeoutMs);
  } catch (e) {
    await bg.kill();
    throw e;
  }
}

/** `node bin/molt.js args…` to completion. */
export function molt(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [MOLT_BIN, ...args], opts);
}

/** `node bin/molt.js args…` in the background. */
export function startMolt(args: string[], opts: StartOptions = {}): Background {
  return start(process.execPath, [MOLT_BIN, ...args], opts);
}

/** A fresh directory under os.tmpdir(), removed by `cleanup()`. */
export async function tempDir(prefix = 'molt-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** End every child still running and remove every temporary dir. */
export async function cleanup(): Promise<void> {
  await Promise.all([...live].map((bg) => bg.kill()));
  await Promise.all([...tempDirs].map((d) => rm(d, { recursive: true, force: true })));
  tempDirs.clear();
}

/** Poll `fn` until it returns a truthy value; fails after `ms`. */
export async function waitFor<T>(fn: () => T | Promise<T>, ms = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const socketPath = (home: string) => join(home, 'molt.sock');

/**
 * `molt boot --home HOME` in the background with its stdin kept open (a pipe never
 * ended, so the system runs until shut down), then wait (bounded) until
 * `HOME/molt.sock` exists and the system answers `rs.list` with every service running.
 * (The socket appears before boot has finished — see the edge tests — so waiting for
 * the file alone is not enough for a test that must not be flaky.)
 */
export async function bootBackground(home: string, opts: StartOptions & { args?: string[] } = {}): Promise<Background> {
  const sys = startMolt(['boot', '--home', home, ...(opts.args ?? [])], opts);
  await waitFor(() => {
    if (!sys.running) throw new Error(`molt boot exited early\nstdout:\n${sys.stdout}\nstderr:\n${sys.stderr}`);
    return existsSync(socketPath(home));
  }, 15_000, `${socketPath(home)} to appear`);
  await waitFor(async () => {
    if (!sys.running) throw new Error(`molt boot exited early\nstdout:\n${sys.stdout}\nstderr:\n${sys.stderr}`);
    const r = await controlRequest(home, { verb: 'call', to: 'rs', msg: { type: 'rs.list' } }).catch(() => null);
    // Booted, and /etc/rc has brought the daemons up.
    const rows = r?.ok ? (r.value as ServiceRow[]) : [];
    return rows.length === BOOT_LABELS.length && rows.every((row) => row.status === 'running');
  }, 15_000, `the system in ${home} to finish booting`);
  return sys;
}

/** The labels of the default boot image, sorted: running once boot is done. */
export const BOOT_IMAGE_LABELS: string[] = (() => {
  const c = defaultBootConfig();
  return [c.rs.label, ...c.services.map((s) => s.label)].sort();
})();

/** The boot image's labels and the daemons its /etc/rc brings up, sorted: what `service list` shows once init has run /etc/rc. */
export const BOOT_LABELS: string[] = [...BOOT_IMAGE_LABELS, ...(defaultBootConfig().daemons ?? []).map((d) => d.label)].sort();

/** Parse a plain-text table (a header line, then rows; columns separated by runs of spaces). */
export function parseTable(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.trim().split(/\s+/) ?? [];
  return lines.slice(1).map((l) => {
    const cells = l.trim().split(/\s+/);
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

/** A stack trace line (`    at fn (file:1:2)`): no user-facing error should show one. */
export const STACK_LINE = /^\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m;
