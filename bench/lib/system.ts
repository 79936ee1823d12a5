/**
 * Booting Molt in-process for a benchmark: a temporary root holding a private bundle
 * cache and one home per system, all removed at the end. Nothing touches the user's
 * `./.molt` or the test suite's shared cache.
 *
 * Entry points: `BenchScratch.create()`, `scratch.boot(opts)`, `scratch.cleanup()`,
 * `fixture(name)`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BootConfig, ServiceConfig } from '../../src/kernel/abi.js';
import { defaultBootConfig, minimalBootConfig, storageBootConfig } from '../../src/boot/image.js';
import { KVD, NET, TTY_USER, osServices } from '../../src/boot/os.js';
import type { KvdStatsReply } from '../../src/user/kvd/protocol.js';
import { Kernel, type KernelOptions } from '../../src/kernel/kernel.js';

/** Absolute path of a component fixture in bench/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

export interface BenchSystem {
  kernel: Kernel;
  home: string;
  /** Construction → `boot()` resolved (ms). */
  bootMs: number;
  stop(): Promise<void>;
}

export class BenchScratch {
  private seq = 0;
  private constructor(readonly root: string) {}

  static async create(): Promise<BenchScratch> {
    return new BenchScratch(await mkdtemp(join(tmpdir(), 'molt-bench-')));
  }

  /** The shared (warm after first use) bundle cache of this run. */
  get cacheDir(): string {
    return join(this.root, 'cache');
  }

  /** A fresh, empty cache directory (for a cold boot). */
  freshCacheDir(): string {
    return join(this.root, `cold-cache-${this.seq++}`);
  }

  /**
   * Boot the default image plus `services`, timed from `new Kernel` to `boot()`
   * resolving. Options default to: private cache, no control socket, no console.
   */
  async boot(opts: {
    services?: ServiceConfig[];
    kernel?: Partial<KernelOptions>;
    image?: 'default' | 'minimal';
    /** Change the configuration last (e.g. the daemons' ports). */
    config?: (c: BootConfig) => BootConfig;
  } = {}): Promise<BenchSystem> {
    const home = join(this.root, `home-${this.seq++}`);
    // 'minimal' (rs, ds, tty): a quiet system for measuring IPC and updates; 'default': the whole OS.
    let config: BootConfig = opts.image === 'minimal' ? minimalBootConfig() : defaultBootConfig();
    config.services.push(...(opts.services ?? []));
    if (opts.config) config = opts.config(config);
    const t0 = performance.now();
    const kernel = new Kernel({ home, config, cacheDir: this.cacheDir, control: false, console: null, ...opts.kernel });
    await kernel.boot();
    const bootMs = performance.now() - t0;
    return {
      kernel,
      home,
      bootMs,
      stop: async () => {
        await kernel.shutdown(0);
        await rm(home, { recursive: true, force: true });
      },
    };
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * The OS with kvd, as test/integration/kvd.test.ts boots it (storage, the OS servers with
 * root on mfs, tty feeding processes, net, no init) plus `extra` services, kvd from
 * `kvdSource` on a port of its choosing; resolves once kvd serves, with that port.
 */
export async function bootOsWithKvd(
  scratch: BenchScratch,
  opts: { kvdSource: string; extra?: ServiceConfig[]; kernel?: Partial<KernelOptions> },
): Promise<{ sys: BenchSystem; port: number }> {
  const sys = await scratch.boot({
    ...(opts.kernel ? { kernel: opts.kernel } : {}),
    config: (): BootConfig => {
      const c = storageBootConfig();
      return {
        ...c,
        services: [
          ...c.services.map((s) => (s.label === 'tty' ? { ...s, ...TTY_USER } : s)),
          ...osServices({ root: 'mfs', init: null }),
          { ...NET },
          ...(opts.extra ?? []),
          { ...KVD, source: opts.kvdSource, args: { ...KVD.args, port: 0 } },
        ],
      };
    },
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await sys.kernel.call('kvd', { type: 'kvd.stats' });
    if (r.ok && (r.value as KvdStatsReply).phase === 'serving') return { sys, port: (r.value as KvdStatsReply).port };
    if (Date.now() > deadline) {
      await sys.stop();
      throw new Error('kvd did not start serving');
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}
