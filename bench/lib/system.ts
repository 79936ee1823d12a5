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
import { defaultBootConfig, minimalBootConfig } from '../../src/boot/image.js';
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
