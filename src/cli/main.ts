/**
 * The `molt` command: a thin client. `boot` runs a system in this process; every other
 * verb is one request to a running system through its control socket.
 *
 * Entry point: `main(argv)`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { BootConfig, Result } from '../kernel/abi.js';
import { Kernel } from '../kernel/kernel.js';
import { defaultBootConfig, resolveBootConfig, type BootConfigFile } from '../boot/image.js';
import { formatFaultTable, formatFiResult, formatPatchTable, formatPolicy, formatServiceTable } from '../lib/table.js';
import type { FaultRow, FiResult, PatchRow, PolicyView, ServiceRow, UpdateResult } from '../servers/rs/protocol.js';
import { formatHistory, formatUpdateResult, updateExitCode } from '../lib/update-format.js';
import { FI_KINDS, fiRequest, parseBlock, parseDaemonArgs, parseItems, policyRequest, RECOVERY_MODES, type FiOptions } from '../lib/service-args.js';
import { controlRequest, controlStream, NotRunning } from './client.js';

const homeOption = () =>
  new Option('--home <dir>', 'state directory of the system to use').default(process.env.MOLT_HOME ?? './.molt', '$MOLT_HOME or ./.molt');

function fail(message: string, code = 1): never {
  process.stderr.write(`molt: ${message}\n`);
  process.exit(code);
}

function failed(r: Result): never {
  if (r.ok) throw new Error('not a failure');
  fail(`${r.code}${r.message ? `: ${r.message}` : ''}`);
}

async function request(home: string, body: Parameters<typeof controlRequest>[1]): Promise<Result> {
  try {
    return await controlRequest(resolve(home), body);
  } catch (e) {
    fail(e instanceof NotRunning ? e.message : `cannot reach the system: ${(e as Error).message}`);
  }
}

async function loadConfig(file: string | undefined): Promise<BootConfig> {
  if (!file) return defaultBootConfig();
  try {
    return resolveBootConfig(JSON.parse(await readFile(file, 'utf8')) as BootConfigFile);
  } catch (e) {
    fail(`cannot read boot configuration ${file}: ${(e as Error).message}`);
  }
}

function toInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) fail(`not a number of milliseconds: ${v}`, 2);
  return n;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('molt')
    .description('Molt: a microkernel OS in TypeScript where every component can be replaced while it runs')
    .showHelpAfterError();

  program
    .command('boot')
    .description('boot a system and attach the console (reads commands from stdin when it is not a terminal)')
    .addOption(homeOption())
    .option('--config <file>', 'boot configuration (JSON); default: $MOLT_CONFIG, else the built-in boot image', process.env.MOLT_CONFIG || undefined)
    .option('--disk <file>', 'the disk image (default <home>/disk.img, created and formatted on first boot)')
    .option('--demo', 'first run the guided demo (live updates and a crash under a workload, with timings), then the shell; without a terminal, shut down after it')
    .action(async (opts: { home: string; config?: string; disk?: string; demo?: boolean }) => {
      const config = await loadConfig(opts.config);
      const isTTY = Boolean(process.stdin.isTTY);
      const kernel = new Kernel({
        home: opts.home, config, ...(opts.disk ? { disk: resolve(opts.disk) } : {}),
        console: { input: process.stdin, output: process.stdout, error: process.stderr, isTTY },
        ...(opts.demo ? { deferConsole: true } : {}),
      });
      let ms: number;
      try {
        ms = await kernel.boot();
      } catch (e) {
        fail(`boot failed: ${(e as Error).message}`);
      }
      if (opts.demo) {
        process.on('SIGINT', () => void kernel.shutdown(130));
        process.stdout.write(`Molt booted in ${ms.toFixed(0)} ms (home ${kernel.home}).\n`);
        const { runDemo } = await import('./demo.js');
        let ok = false;
        try {
          const summary = await runDemo(kernel, (line) => void process.stdout.write(line + '\n'));
          ok = summary.verified && summary.kvdFailed === 0 && summary.fileFailed === 0 && summary.steps.every((s) => s.ok);
        } catch (e) {
          process.stderr.write(`demo: ${(e as Error).message}\n`);
        }
        if (!isTTY) {
          await kernel.shutdown(ok ? 0 : 1);
          process.exit(await kernel.exited);
        }
        process.stdout.write('\nThe system keeps running: this is its shell (try service list, ls /tmp, cat /tmp/molt-demo.log). exit or Ctrl-D stops it.\n');
        kernel.attachConsole();
      }
      if (isTTY && !opts.demo) process.stderr.write(`Molt booted in ${ms.toFixed(0)} ms (home ${kernel.home}). Type help; exit or Ctrl-D stops the system.\n`);
      process.on('SIGINT', () => void kernel.shutdown(130));
      process.on('SIGTERM', () => void kernel.shutdown(143));
      process.exit(await kernel.exited);
    });

  const service = program.command('service').description('inspect and manage the components of a running system');
  service
    .command('list')
    .description('list components: label, endpoint, incarnation, version, status, restarts, uptime, messages')
    .addOption(homeOption())
    .option('--json', 'print a JSON array instead of a table')
    .action(async (opts: { home: string; json?: boolean }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.list' } });
      if (!r.ok) failed(r);
      const rows = r.value as ServiceRow[];
      process.stdout.write(opts.json ? JSON.stringify(rows, null, 2) + '\n' : formatServiceTable(rows));
    });
  service
    .command('restart')
    .description("end a component's incarnation and start a fresh one (its endpoint stays the same)")
    .argument('<label>', 'the component')
    .addOption(homeOption())
    .action(async (label: string, opts: { home: string }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.restart', label } });
      if (!r.ok) failed(r);
      process.stdout.write(`restarted ${label}\n`);
    });

  service
    .command('up')
    .description('start a daemon the boot configuration lists (e.g. kvd, httpd), as /etc/rc does')
    .argument('<label>', 'the daemon')
    .argument('[args...]', 'KEY=VALUE arguments overriding its defaults (e.g. port=6390)')
    .addOption(homeOption())
    .action(async (label: string, args: string[], opts: { home: string }) => {
      const parsed = parseDaemonArgs(args);
      if ('error' in parsed) {
        process.stderr.write(`error: ${parsed.error}\n`);
        process.exit(1);
      }
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.up', label, args: parsed.args } });
      if (!r.ok) failed(r); // silent on success, like the in-system `service up`
    });
  service
    .command('down')
    .description('stop a daemon (it makes its data durable first); its callers then get EDEADEP')
    .argument('<label>', 'the daemon')
    .addOption(homeOption())
    .action(async (label: string, opts: { home: string }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.down', label } });
      if (!r.ok) failed(r);
    });

  service
    .command('update')
    .description('live-update a component (or, with --batch, several as one transaction) to a new version')
    .argument('<args...>', 'LABEL FILE.ts, or with --batch: LABEL=FILE.ts …')
    .addOption(homeOption())
    .option('--batch', 'update several components at once: all commit or all roll back')
    .addOption(new Option('--prepare <mode>', 'when the old version is ready to hand over').choices(['work-free', 'request-free', 'protocol-free', 'state']))
    .option('--state <expr>', "state filter: an expression over `state`, e.g. 'state.pending.size === 0' (implies --prepare state)")
    .option('--block <list>', 'hold only these messages during the update: LABEL[:TYPE],… (default: all requests)')
    .option('--maxtime <ms>', 'deadline for quiescence (prepare), default 2000', toInt)
    .option('--init-maxtime <ms>', 'deadline for the new version\'s init and the state transfer, default 10000', toInt)
    .option('--dry-run', 'build the new version and print the transfer plan, without touching the system')
    .addOption(new Option('--mode <mode>', 'process: a new incarnation, the whole state transferred; objects: replace the component\'s updatable classes in place (K42)').choices(['process', 'objects']).default('process'))
    .option('--lazy', 'with --mode objects: mark every instance now, convert each on its next call')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit status: 0 committed (or dry run), 2 refused, 3 rolled back, 4 cancelled (no quiescence in time).')
    .action(async (args: string[], opts: { home: string; batch?: boolean; prepare?: string; state?: string; block?: string; maxtime?: number; initMaxtime?: number; dryRun?: boolean; json?: boolean; mode: string; lazy?: boolean }) => {
      const items = parseItems(args, Boolean(opts.batch), (p) => resolve(p));
      if ('error' in items) fail(items.error, 2);
      if (opts.lazy && opts.mode !== 'objects') fail('--lazy needs --mode objects', 2);
      const block = opts.block ? parseBlock(opts.block) : undefined;
      const msg = {
        type: 'rs.update', items,
        ...(opts.prepare || opts.state ? { prepare: opts.state ? 'state' : opts.prepare } : {}),
        ...(opts.state ? { state: opts.state } : {}),
        ...(block ? { block } : {}),
        ...(opts.maxtime !== undefined ? { maxtime: opts.maxtime } : {}),
        ...(opts.initMaxtime !== undefined ? { initMaxtime: opts.initMaxtime } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(opts.mode === 'objects' ? { mode: 'objects' } : {}),
        ...(opts.lazy ? { lazy: true } : {}),
      };
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg, timeoutMs: 300_000 });
      if (!r.ok) failed(r);
      const result = r.value as UpdateResult;
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatUpdateResult(result));
      process.exitCode = updateExitCode(result);
    });
  service
    .command('rollback')
    .description('return a component to its previous version, transferring its current state back')
    .argument('<label>', 'the component')
    .addOption(homeOption())
    .option('--json', 'print the result as JSON')
    .action(async (label: string, opts: { home: string; json?: boolean }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.rollback', label }, timeoutMs: 300_000 });
      if (!r.ok) failed(r);
      const result = r.value as UpdateResult;
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : formatUpdateResult(result));
      process.exitCode = updateExitCode(result);
    });
  service
    .command('history')
    .description("a component's versions and how each update ended, with phase timings")
    .argument('<label>', 'the component')
    .addOption(homeOption())
    .option('--json', 'print JSON')
    .action(async (label: string, opts: { home: string; json?: boolean }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.history', label } });
      if (!r.ok) failed(r);
      const h = r.value as Parameters<typeof formatHistory>[0];
      process.stdout.write(opts.json ? JSON.stringify(h, null, 2) + '\n' : formatHistory(h));
    });

  service
    .command('policy')
    .description("a component's recovery policy (mode, retries, backoff, give-up limits); the options given change it")
    .argument('<label>', 'the component')
    .addOption(homeOption())
    .option('--mode <mode>', `recovery mode: ${RECOVERY_MODES.join(' | ')} (ssr-restart gives the calls a crash interrupted to the next incarnation)`)
    .option('--retries <n>', 'ssr-restart: how many times an interrupted call is given again before it is answered EIO')
    .option('--max-init-failures <n>', 'give up after this many failures in init in a row')
    .option('--backoff-ms <n>', 'first restart delay (doubled per fault)')
    .option('--backoff-max-ms <n>', 'greatest restart delay')
    .option('--max-faults <n>', 'give up after more than this many faults within the window')
    .option('--window-ms <n>', 'the window of --max-faults')
    .option('--json', 'print JSON')
    .action(async (label: string, opts: { home: string; json?: boolean } & Parameters<typeof policyRequest>[1]) => {
      const req = policyRequest(label, opts);
      if ('error' in req) fail(req.error, req.status);
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { ...req } });
      if (!r.ok) failed(r);
      const p = r.value as PolicyView;
      process.stdout.write(opts.json ? JSON.stringify(p, null, 2) + '\n' : formatPolicy(p));
    });
  service
    .command('faults')
    .description('every fault recorded: time, component, incarnation, kind, the request it hit, the action taken, time to recover')
    .argument('[label]', 'only this component')
    .addOption(homeOption())
    .option('--json', 'print a JSON array instead of a table')
    .action(async (label: string | undefined, opts: { home: string; json?: boolean }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.faults', ...(label !== undefined ? { label } : {}) } });
      if (!r.ok) failed(r);
      const rows = r.value as FaultRow[];
      process.stdout.write(opts.json ? JSON.stringify(rows, null, 2) + '\n' : formatFaultTable(rows));
    });
  service
    .command('fi')
    .description("inject a fault into a running component's incarnation (or, with --clear, disarm it)")
    .argument('<label>', 'the component (not rs)')
    .addOption(homeOption())
    .option('--kind <kind>', `the fault: ${FI_KINDS.join(' | ')}`)
    .option('--at <type>', 'only before handlers of this message type (default: any request)')
    .option('--after <n>', 'let this many matching requests through first')
    .option('--seed <s>', 'seed of the corruption (corrupt): the same seed and state give the same corruption')
    .option('--times <n>', 'how many times it fires (default 1; 0: every matching request)')
    .option('--clear', 'disarm what was armed')
    .action(async (label: string, opts: { home: string } & FiOptions) => {
      const req = fiRequest(label, opts);
      if ('error' in req) fail(req.error, req.status);
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { ...req } });
      if (!r.ok) failed(r);
      process.stdout.write(formatFiResult(r.value as FiResult));
    });

  const patch = program.command('patch').description('function-level patches of running components (LUCOS): applied at any moment, undone on demand');
  patch
    .command('apply')
    .description('replace functions of a running component now; calls already running finish on the old code')
    .argument('<label>', 'the component')
    .argument('<file>', 'the patch (a .ts file default-exporting definePatch({...}))')
    .addOption(homeOption())
    .option('--json', 'print JSON')
    .action(async (label: string, file: string, opts: { home: string; json?: boolean }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.patch', op: 'apply', label, source: resolve(file) }, timeoutMs: 180_000 });
      if (!r.ok) failed(r);
      const row = r.value as PatchRow;
      process.stdout.write(opts.json ? JSON.stringify(row, null, 2) + '\n' : formatPatchTable([row]));
    });
  patch
    .command('list')
    .description('the patches of one component, or of all')
    .argument('[label]', 'the component')
    .addOption(homeOption())
    .option('--json', 'print JSON')
    .action(async (label: string | undefined, opts: { home: string; json?: boolean }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.patch', op: 'list', ...(label ? { label } : {}) } });
      if (!r.ok) failed(r);
      const rows = r.value as PatchRow[];
      process.stdout.write(opts.json ? JSON.stringify(rows, null, 2) + '\n' : rows.length > 0 ? formatPatchTable(rows) : 'no patches\n');
    });
  patch
    .command('undo')
    .description('restore the functions a patch replaced (refused while a later patch depends on it)')
    .argument('<id>', 'the patch id (patch list)', toInt)
    .addOption(homeOption())
    .option('--json', 'print JSON')
    .action(async (id: number, opts: { home: string; json?: boolean }) => {
      const r = await request(opts.home, { verb: 'call', to: 'rs', msg: { type: 'rs.patch', op: 'undo', patch: id } });
      if (!r.ok) failed(r);
      const row = r.value as PatchRow;
      process.stdout.write(opts.json ? JSON.stringify(row, null, 2) + '\n' : formatPatchTable([row]));
    });

  program
    .command('shutdown')
    .description('stop a running system')
    .addOption(homeOption())
    .action(async (opts: { home: string }) => {
      const r = await request(opts.home, { verb: 'shutdown' });
      if (!r.ok) failed(r);
    });

  program
    .command('bench')
    .description('run a benchmark experiment (same as npm run bench -- NAME): prints figures, writes JSON under bench/results/')
    .argument('[name]', 'experiment name, or all')
    .option('--quick', 'fewer iterations (a smoke run)')
    .option('--json <file>', 'write the JSON report here instead of bench/results/NAME.json')
    .allowExcessArguments(false)
    .action(async (name: string | undefined, opts: { quick?: boolean; json?: string }) => {
      const bench = (await import('../../bench/run.js')) as typeof import('../../bench/run.js');
      const argv = [...(name ? [name] : ['--help']), ...(opts.quick ? ['--quick'] : []), ...(opts.json ? ['--json', opts.json] : [])];
      process.exitCode = await bench.main(argv);
    });

  program
    .command('status')
    .description('whether a system is running, its pid and uptime')
    .addOption(homeOption())
    .action(async (opts: { home: string }) => {
      const r = await request(opts.home, { verb: 'status' });
      if (!r.ok) failed(r);
      const s = r.value as { pid: number; home: string; uptimeMs: number };
      process.stdout.write(`running: pid ${s.pid}, home ${s.home}, up ${(s.uptimeMs / 1000).toFixed(1)} s\n`);
    });

  program
    .command('trace')
    .description('stream the kernel trace (messages, incarnations, filters) as JSON lines until interrupted')
    .addOption(homeOption())
    .action(async (opts: { home: string }) => {
      const ac = new AbortController();
      process.on('SIGINT', () => ac.abort());
      try {
        await controlStream(
          resolve(opts.home),
          (e) => process.stdout.write(JSON.stringify(e) + '\n'),
          ac.signal,
          () => process.stdout.write(JSON.stringify({ ev: 'trace.started', t: Date.now() }) + '\n'),
        );
      } catch (e) {
        fail(e instanceof NotRunning ? e.message : (e as Error).message);
      }
    });

  // ── seeing it happen: a terminal view and a local web page of a running system (src/cli/top.ts, dashboard.ts) ──
  const positive = (min: number) => (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) fail(`not a number ≥ ${min}: ${v}`, 2);
    return n;
  };
  program
    .command('top')
    .description('a live view of a running system: per component its incarnation, version, heap, messages/s, handlers in flight, restarts; updates in progress; recent update and fault events')
    .addOption(homeOption())
    .option('--interval <ms>', 'time between samples (messages/s is measured over it)', positive(50), 1000)
    .option('--once', 'take two samples --interval apart, print one table and exit (no terminal needed)')
    .option('--json', 'print each view as one line of JSON')
    .addHelpText('after', "\nHEAP is the V8 heap used by the component's worker: a proxy for the size of its state.\nINFLIGHT counts the handlers running in the component. Ctrl-C stops the live view.")
    .action(async (opts: { home: string; interval: number; once?: boolean; json?: boolean }) => {
      const { runTop } = await import('./top.js');
      process.exitCode = await runTop({ home: opts.home, intervalMs: opts.interval, once: Boolean(opts.once), json: Boolean(opts.json) });
    });
  program
    .command('dashboard')
    .description('a live web page of a running system on 127.0.0.1: components, message rates, a timeline of updates and faults (until Ctrl-C)')
    .addOption(homeOption())
    .option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port; the URL is printed)', (v: string) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 0 || n > 65535) fail(`not a port: ${v}`, 2);
      return n;
    }, 0)
    .option('--interval <ms>', 'how often the page is refreshed from the system', positive(50), 500)
    .option('--open', 'open the page in the desktop browser')
    .action(async (opts: { home: string; port: number; interval: number; open?: boolean }) => {
      const { runDashboard } = await import('./dashboard.js');
      process.exit(await runDashboard({ home: opts.home, port: opts.port, intervalMs: opts.interval, open: Boolean(opts.open) }));
    });

  // ── disk images (host side, no system running): mkfs and fsck share mfs's own code ──
  program
    .command('mkfs')
    .description('make a Molt file system on a disk image (created if missing; an image holding a file system needs --force)')
    .argument('<file>', 'the disk image')
    .option('--size <MB>', 'image size in MiB (new image default 256; on an existing image: resize it)', (v: string) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < 1 || n > 16 * 1024 * 1024) fail(`not a size in MiB: ${v}`, 2);
      return n;
    })
    .option('--force', 'overwrite an image that already holds a file system')
    .action(async (file: string, opts: { size?: number; force?: boolean }) => {
      const { stat, truncate } = await import('node:fs/promises');
      const { DiskDevice, DEFAULT_DISK_BLOCKS } = await import('../kernel/devices/disk.js');
      const { format, probe } = await import('../servers/mfs/mkfs.js');
      const path = resolve(file);
      const blocks = opts.size !== undefined ? opts.size * 256 : undefined;
      const exists = await stat(path).then((s) => s.isFile() || fail(`${file} is not a regular file`, 2), () => false);
      if (exists) {
        const dev = await DiskDevice.open(path).catch((e: Error) => fail(e.message, 2));
        const found = await probe({ blocks: dev.info.blocks, read: (b, c) => dev.read(b, c), write: (b, d) => dev.write(b, d), flush: () => dev.flush() });
        await dev.close();
        if ((found.ok || found.why === 'damaged') && !opts.force) {
          fail(`${file} already holds a Molt file system${found.ok ? ` (${(found.sb.blocks / 256).toFixed(0)} MiB)` : ' (damaged)'}; use --force to overwrite it`);
        }
        if (blocks !== undefined && blocks !== dev.info.blocks) await truncate(path, blocks * 4096);
      }
      const dev = await DiskDevice.open(path, { createBlocks: blocks ?? DEFAULT_DISK_BLOCKS }).catch((e: Error) => fail(e.message, 2));
      try {
        const sb = await format({ blocks: dev.info.blocks, read: (b, c) => dev.read(b, c), write: (b, d) => dev.write(b, d), flush: () => dev.flush() }, { now: Date.now(), zeroed: dev.info.created });
        process.stdout.write(`${file}: Molt file system, ${(sb.blocks / 256).toFixed(0)} MiB (${sb.blocks} blocks of 4096 bytes), ${sb.inodes - 1} inodes, journal ${sb.journalBlocks} blocks; / with tmp etc bin home\n`);
      } catch (e) {
        fail(`mkfs ${file}: ${(e as Error).message}`);
      } finally {
        await dev.close();
      }
    });
  program
    .command('fsck')
    .description('check the Molt file system on a disk image (read-only); exit 0 when clean, 1 when not')
    .argument('<file>', 'the disk image')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { stat } = await import('node:fs/promises');
      const { DiskDevice } = await import('../kernel/devices/disk.js');
      const { fsck, formatReport } = await import('../servers/mfs/fsck.js');
      const path = resolve(file);
      // Never let DiskDevice.open create an image: fsck only looks.
      await stat(path).then((s) => s.isFile() || fail(`${file} is not a regular file`, 2), () => fail(`no such disk image: ${file}`, 2));
      const dev = await DiskDevice.open(path).catch((e: Error) => fail(e.message, 2));
      try {
        const report = await fsck({ blocks: dev.info.blocks, read: (b, c) => dev.read(b, c), write: async () => fail('fsck is read-only'), flush: async () => undefined });
        process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report, file));
        process.exitCode = report.clean ? 0 : 1;
      } catch (e) {
        fail(`fsck ${file}: ${(e as Error).message}`);
      } finally {
        await dev.close();
      }
    });

  await program.parseAsync(argv);
}

await main(process.argv);
