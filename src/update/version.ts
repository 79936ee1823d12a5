/**
 * Versions: a component version is its esbuild bundle (the loader) plus the type
 * metadata of its state, extracted in a worker of the kernel's own and cached by the
 * bundle's content hash under `<cacheDir>/meta/<version>.json`.
 *
 * Entry point: `VersionBuilder.build(source) → Version` (throws `BuildError` with a
 * clear message when the source does not compile or its state cannot be described).
 */
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Loader } from '../kernel/loader.js';
import type { StateMeta } from './types.js';

export interface Version {
  version: string;
  file: string;
  source: string;
  meta: StateMeta;
}

export class BuildError extends Error {
  override name = 'BuildError';
}

const META_WORKER = fileURLToPath(new URL('./meta-worker.ts', import.meta.url));

export class VersionBuilder {
  private worker: Worker | null = null;
  private seq = 0;
  private readonly waiting = new Map<number, (r: { ok: true; meta: StateMeta } | { ok: false; error: string }) => void>();
  private readonly metaDir: string;
  private readonly memo = new Map<string, StateMeta>();

  constructor(
    private readonly loader: Loader,
    cacheDir: string,
  ) {
    this.metaDir = join(cacheDir, 'meta');
  }

  async build(source: string): Promise<Version> {
    let loaded;
    try {
      loaded = await this.loader.load(source);
    } catch (e) {
      throw new BuildError((e as Error).message);
    }
    const meta = await this.metaFor(loaded.version, source);
    return { version: loaded.version, file: loaded.file, source, meta };
  }

  /** The bundle and metadata of a version built before (a rollback target). */
  async byVersion(version: string): Promise<Version> {
    if (!/^[0-9a-f]{12}$/.test(version)) throw new BuildError(`not a version id: ${version}`);
    const file = this.loader.bundleFile(version);
    try {
      await access(file);
    } catch {
      throw new BuildError(`version ${version} is not in the cache`);
    }
    return { version, file, source: '', meta: await this.metaFor(version, null) };
  }

  private async metaFor(version: string, source: string | null): Promise<StateMeta> {
    const hit = this.memo.get(version);
    if (hit) return hit;
    // Keyed by the extractor's own bundle too: metadata an older extractor wrote is not read.
    const file = join(this.metaDir, `${version}.${await this.extractorVersion()}.json`);
    try {
      const meta = JSON.parse(await readFile(file, 'utf8')) as StateMeta;
      this.memo.set(version, meta);
      return meta;
    } catch {
      // not cached yet
    }
    if (source === null) throw new BuildError(`no type metadata for version ${version}`);
    const r = await this.extract(source);
    if (!r.ok) throw new BuildError(r.error);
    this.memo.set(version, r.meta);
    await mkdir(this.metaDir, { recursive: true });
    const tmp = `${file}.${process.pid}.${this.seq++}.tmp`;
    await writeFile(tmp, JSON.stringify(r.meta));
    await rename(tmp, file);
    return r.meta;
  }

  private extractor: Promise<{ file: string; version: string }> | null = null;

  /** The metadata worker's bundle (built once; its hash names the extractor's version). */
  private tool(): Promise<{ file: string; version: string }> {
    this.extractor ??= this.loader.loadTool(META_WORKER).catch((e: unknown) => {
      this.extractor = null;
      throw e;
    });
    return this.extractor;
  }

  private async extractorVersion(): Promise<string> {
    return (await this.tool()).version;
  }

  private async extract(source: string): Promise<{ ok: true; meta: StateMeta } | { ok: false; error: string }> {
    if (!this.worker) {
      const tool = await this.tool();
      const w = new Worker(tool.file, { name: 'molt-meta' });
      w.on('message', (m: { id: number; ok: boolean; meta?: StateMeta; error?: string }) => {
        const r = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        r?.(m.ok ? { ok: true, meta: m.meta! } : { ok: false, error: m.error! });
      });
      const fail = (why: string) => {
        for (const [, r] of this.waiting) r({ ok: false, error: `metadata worker ${why}` });
        this.waiting.clear();
        if (this.worker === w) this.worker = null;
      };
      w.on('error', (e) => fail(`failed: ${e.message}`));
      w.on('exit', () => fail('exited'));
      w.unref();
      this.worker = w;
    }
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker!.postMessage({ id, file: source });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    await w?.terminate();
  }
}
