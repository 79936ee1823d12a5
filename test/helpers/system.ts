/**
 * Test helper: boot a Molt kernel in-process with a boot configuration of your own
 * (the default image plus test components), in a fresh temporary home, with a build
 * cache shared by all tests so bundles are built once.
 *
 * Entry points: `bootSystem(opts)`, `bootOs(opts)`, `fixture(name)`, `collectTrace(kernel)`, `until(fn)`, `freePort()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BootConfig, ServiceConfig, TraceEvent } from '../../src/kernel/abi.js';
import { storageBootConfig } from '../../src/boot/image.js';
import { TTY_USER, osServices } from '../../src/boot/os.js';
import { Kernel, type KernelOptions } from '../../src/kernel/kernel.js';

export const CACHE_DIR = join(tmpdir(), 'molt-test-cache');

/** Absolute path of a fixture component in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

export interface TestSystem {
  kernel: Kernel;
  home: string;
  trace: TraceEvent[];
  stop(): Promise<void>;
}

export async function bootSystem(opts: {
  services?: ServiceConfig[];
  config?: (c: BootConfig) => BootConfig;
  kernel?: Partial<KernelOptions>;
} = {}): Promise<TestSystem> {
  const home = await mkdtemp(join(tmpdir(), 'molt-test-'));
  let config = storageBootConfig();
  config.services.push(...(opts.services ?? []));
  if (opts.config) config = opts.config(config);
  const kernel = new Kernel({ home, config, cacheDir: CACHE_DIR, control: false, ...opts.kernel });
  const trace: TraceEvent[] = [];
  kernel.trace.on((e) => trace.push(e));
  await kernel.boot();
  return {
    kernel,
    home,
    trace,
    stop: async () => {
      await kernel.shutdown(0);
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A host-side TCP client to 127.0.0.1:`port`, with what it received so far and whether it closed. */
export async function hostConnect(port: number): Promise<{ sock: Socket; got: () => string; closed: () => boolean }> {
  const sock = new Socket();
  let buf = '';
  let closed = false;
  sock.on('data', (d) => (buf += d.toString('utf8')));
  sock.on('close', () => (closed = true));
  sock.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(port, '127.0.0.1', () => resolve());
  });
  return { sock, got: () => buf, closed: () => closed };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (the host picks it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Boot the storage stack plus the OS servers (`osServices`, without init) with tty feeding
 * processes, and `extra` components; `policy` changes one OS server's recovery policy
 * (with a short first backoff, for tests).
 */
export function bootOs(opts: {
  root: 'mfs' | 'tmpfs';
  extra?: ServiceConfig[];
  policy?: { label: string; mode: 'ssr-restart' | 'stateless-restart' };
  kernel?: Partial<KernelOptions>;
}): Promise<TestSystem> {
  const p = opts.policy;
  return bootSystem({
    ...(opts.kernel ? { kernel: opts.kernel } : {}),
    config: (c) => ({
      ...c,
      services: [
        ...c.services.map((s) => (s.label === 'tty' ? { ...s, ...TTY_USER } : s)),
        ...osServices({ root: opts.root, init: null }).map((s) => (p && s.label === p.label ? { ...s, policy: { ...s.policy, mode: p.mode, backoffBaseMs: 1 } } : s)),
        ...(opts.extra ?? []),
      ],
    }),
  });
}

/** Poll `fn` until it returns a truthy value (bounded: fails after `ms`). */
export async function until<T>(fn: () => T | Promise<T>, ms = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
