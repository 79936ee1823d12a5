/**
 * The loader: turns a component's TypeScript entry file into a runnable *version* —
 * one esbuild bundle (so two versions never share module instances) named by the hash
 * of its content. Bundles are cached under `<cacheDir>/bundles/<hash>.mjs`; an index
 * keyed by entry path and the mtimes/sizes of every input skips esbuild when nothing
 * changed (that keeps boot fast).
 *
 * Entry point: `Loader.load(source) → { file, version }`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export interface LoadedVersion {
  /** Absolute path of the bundle a worker runs. */
  file: string;
  /** Content hash of the bundle (12 hex digits): the version id. */
  version: string;
}

interface IndexEntry {
  version: string;
  inputs: Array<{ path: string; mtimeMs: number; size: number }>;
}

/** The worker-side runtime every bundle starts with. */
const RUNTIME = fileURLToPath(new URL('../sys/runtime.ts', import.meta.url));

/** The syscall library user programs import as `libc`. */
const LIBC = fileURLToPath(new URL('../lib/libc/index.ts', import.meta.url));

/** Where a program's own imports would resolve from: nowhere on the host. */
const PROGRAM_DIR = '/__molt_program__';

/** esbuild plugin: a user program may import `libc` and nothing else. */
const programImports: esbuild.Plugin = {
  name: 'molt-program-imports',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.path === 'libc' || args.path === 'molt:libc') return { path: LIBC };
      if (args.path === 'libc/format') return { path: join(dirname(LIBC), 'format.ts') };
      // libc's own modules, and the pure formatting modules libc/format re-exports.
      if (args.importer.startsWith(`${dirname(LIBC)}/`) || args.importer.startsWith(`${dirname(dirname(LIBC))}/`)) return undefined;
      return { errors: [{ text: `a program may import only "libc" and "libc/format" (not "${args.path}")` }] };
    });
  },
};

/** Packages a kernel tool worker imports from the host's node_modules instead of bundling. */
const HOST_PACKAGES = ['typescript'];
const require = createRequire(import.meta.url);

/** esbuild plugin: resolve host packages to absolute paths, kept external (bundles live outside the package). */
const hostPackages: esbuild.Plugin = {
  name: 'molt-host-packages',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${HOST_PACKAGES.join('|')})$`) }, (args) => ({
      path: pathToFileURL(require.resolve(args.path)).href,
      external: true,
    }));
  },
};

/** A component version, a kernel tool worker, or a function-level patch. */
type BundleKind = 'component' | 'tool' | 'patch';

export class LoadError extends Error {
  override name = 'LoadError';
}

export class Loader {
  private readonly bundles: string;
  private readonly indexFile: string;
  private index: Record<string, IndexEntry> | null = null;
  private inflight = new Map<string, Promise<LoadedVersion>>();
  private readonly programs = new Map<string, string>();
  private writes: Promise<void> = Promise.resolve();
  private tmpSeq = 0;

  /** `updatable: false` compiles the live-update machinery out of components (benchmarks only). */
  constructor(cacheDir: string, private readonly updatable = true) {
    this.bundles = join(cacheDir, 'bundles');
    this.indexFile = join(cacheDir, 'bundles', 'index.json');
  }

  /** Build (or reuse) the bundle for component `source`. Fails with a LoadError before anything runs. */
  load(source: string): Promise<LoadedVersion> {
    return this.once(resolve(source), 'component');
  }

  /**
   * Bundle a user program (its TypeScript text, from the Molt file system) with libc into
   * one script for the sandbox: an IIFE that leaves its exports in `__molt_program`. A
   * program may import only `libc`; anything else (Node built-ins above all) is refused here.
   */
  async bundleProgram(text: string, name: string): Promise<string> {
    const key = createHash('sha256').update(name).update('\0').update(text).digest('hex');
    const hit = this.programs.get(key);
    if (hit) return hit;
    let result: esbuild.BuildResult<{ write: false }>;
    try {
      result = await esbuild.build({
        stdin: { contents: text, sourcefile: name, loader: 'ts', resolveDir: PROGRAM_DIR },
        bundle: true,
        write: false,
        format: 'iife',
        globalName: '__molt_program',
        platform: 'neutral',
        target: 'es2022',
        logLevel: 'silent',
        plugins: [programImports],
      });
    } catch (e) {
      const failure = e as esbuild.BuildFailure;
      const text2 = (failure.errors ?? []).map((m) => `${name}:${m.location?.line ?? '?'}:${m.location?.column ?? '?'}: ${m.text}`).join('\n');
      throw new LoadError(text2 || String(e));
    }
    const code = result.outputFiles[0]!.text;
    if (this.programs.size > 256) this.programs.clear();
    this.programs.set(key, code);
    return code;
  }

  /** Where the bundle of a version lives. */
  bundleFile(version: string): string {
    return join(this.bundles, `${version}.mjs`);
  }

  /** Build (or reuse) a bundle of a kernel tool script (a helper worker of the kernel's own). */
  loadTool(entry: string): Promise<LoadedVersion> {
    return this.once(resolve(entry), 'tool');
  }

  /**
   * Build (or reuse) the bundle of a function-level patch (src/patch): a plain module
   * whose default export is its `definePatch({...})`, loaded into a running component.
   */
  loadPatch(entry: string): Promise<LoadedVersion> {
    return this.once(resolve(entry), 'patch');
  }

  private once(abs: string, kind: BundleKind): Promise<LoadedVersion> {
    const key = `${kind === 'component' ? (this.updatable ? '' : 'fixed:') : `${kind}:`}${abs}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.loadUncached(abs, key, kind).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async loadUncached(abs: string, key: string, kind: BundleKind): Promise<LoadedVersion> {
    const index = await this.readIndex();
    const hit = index[key];
    if (hit && (await this.unchanged(hit))) {
      return { file: join(this.bundles, `${hit.version}.mjs`), version: hit.version };
    }
    try {
      await stat(abs);
    } catch {
      throw new LoadError(`cannot load ${kind}: no such file ${abs}`);
    }
    let result: esbuild.BuildResult<{ write: false; metafile: true }>;
    try {
      result = await esbuild.build({
        ...(kind !== 'component'
          ? { entryPoints: [abs], plugins: kind === 'tool' ? [hostPackages] : [] }
          : {
              stdin: {
                contents:
                  `import def from ${JSON.stringify(abs)};\n` +
                  `import { runComponent } from ${JSON.stringify(RUNTIME)};\n` +
                  `export default def;\n` +
                  `runComponent(def);\n`,
                resolveDir: dirname(abs),
                sourcefile: `molt-entry:${abs}`,
                loader: 'ts' as const,
              },
            }),
        bundle: true,
        define: { MOLT_UPDATABLE: String(this.updatable) },
        keepNames: true, // class names must survive bundling: a transfer pairs classes by name
        write: false,
        metafile: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        logLevel: 'silent',
      });
    } catch (e) {
      const failure = e as esbuild.BuildFailure;
      const text = (failure.errors ?? [])
        .map((m) => `${m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ''}${m.text}`)
        .join('\n');
      throw new LoadError(`cannot build ${abs}:\n${text || String(e)}`);
    }
    const code = result.outputFiles[0]!.contents;
    const version = createHash('sha256').update(code).digest('hex').slice(0, 12);
    const file = join(this.bundles, `${version}.mjs`);
    await mkdir(this.bundles, { recursive: true });
    const tmp = `${file}.${process.pid}.${this.tmpSeq++}.tmp`;
    await writeFile(tmp, code);
    await rename(tmp, file);
    const inputs: IndexEntry['inputs'] = [];
    for (const input of Object.keys(result.metafile.inputs)) {
      if (input.startsWith('<stdin>') || input.includes('molt-entry:')) continue;
      const p = resolve(input);
      const st = await stat(p);
      inputs.push({ path: p, mtimeMs: st.mtimeMs, size: st.size });
    }
    index[key] = { version, inputs };
    await this.writeIndex(index);
    return { file, version };
  }

  private async unchanged(entry: IndexEntry): Promise<boolean> {
    try {
      await stat(join(this.bundles, `${entry.version}.mjs`));
      for (const input of entry.inputs) {
        const st = await stat(input.path);
        if (st.mtimeMs !== input.mtimeMs || st.size !== input.size) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  private async readIndex(): Promise<Record<string, IndexEntry>> {
    if (!this.index) {
      try {
        this.index = JSON.parse(await readFile(this.indexFile, 'utf8')) as Record<string, IndexEntry>;
      } catch {
        this.index = {};
      }
    }
    return this.index;
  }

  /**
   * Index writes are serialized (concurrent loads share one index). The index is only a
   * cache: failing to write it costs a rebuild next time, never a failed load.
   */
  private writeIndex(index: Record<string, IndexEntry>): Promise<void> {
    this.writes = this.writes.then(async () => {
      const tmp = `${this.indexFile}.${process.pid}.${this.tmpSeq++}.tmp`;
      try {
        await mkdir(this.bundles, { recursive: true });
        await writeFile(tmp, JSON.stringify(index));
        await rename(tmp, this.indexFile);
      } catch {
        // ignored: see above
      }
    });
    return this.writes;
  }
}
