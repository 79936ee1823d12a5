/**
 * CPU affinity of this whole process (every thread: main, workers, libuv and V8
 * helpers), for measurements that must not depend on where the OS happens to place
 * threads. Linux only, through `taskset -a -p`; elsewhere `pin` reports that it cannot.
 *
 * Threads started while pinned (new workers) inherit the affinity of the thread that
 * starts them, so they are pinned too.
 *
 * Entry points: `allowedCpus()`, `pinProcess(list)`, `withPinnedCpu(fn)`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The CPUs this process may run on, as a Linux cpu list (`0-3`), or null if unknown. */
export function allowedCpus(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/** Set the affinity of every thread of this process. Returns false if it could not. */
export function pinProcess(list: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', list, String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The first CPU of a cpu list (`0-3,6` → `0`). */
function firstCpu(list: string): string {
  return /^\d+/.exec(list)?.[0] ?? '0';
}

/** Whether this process can be pinned (Linux with taskset and a known affinity). */
export function canPin(): boolean {
  const all = allowedCpus();
  if (!all) return false;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Run `fn` with the whole process pinned to one CPU (the first it may use), then
 * restore the affinity it had, also if `fn` throws.
 */
export async function withPinnedCpu<T>(fn: () => Promise<T>): Promise<T> {
  const all = allowedCpus();
  if (!all) throw new Error('cannot read this process\'s CPU affinity');
  if (!pinProcess(firstCpu(all))) throw new Error('taskset could not pin this process');
  try {
    return await fn();
  } finally {
    pinProcess(all);
  }
}
