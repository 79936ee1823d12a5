/**
 * The boot image: which components start, from which source, with which privileges
 * (the analogue of MINIX's `system.conf`) and limits. `rs` is started by the kernel;
 * `rs` starts the rest.
 *
 * Entry points: `defaultBootConfig()` (the whole OS), `storageBootConfig()`,
 * `minimalBootConfig()`, `resolveBootConfig(json)`.
 */
import type { BootConfig, ServiceConfig } from '../kernel/abi.js';
import { HTTPD, KVD, NET, SCHED, TTY_USER, osServices } from './os.js';

/** A boot configuration file: a whole `BootConfig`, or `{ extends: 'default', services }` adding to the default image. */
export type BootConfigFile =
  | BootConfig
  | {
      extends: 'default';
      services?: ServiceConfig[];
      limits?: BootConfig['limits'];
      /** Changes to the default daemons by label (e.g. `{ label: 'kvd', args: { port: 6390 } }`: args merge), or new ones. */
      daemons?: Array<Partial<ServiceConfig> & { label: string }>;
    };

export function resolveBootConfig(file: BootConfigFile): BootConfig {
  if ('extends' in file) {
    if (file.extends !== 'default') throw new Error(`unknown base configuration "${String(file.extends)}" (only "default")`);
    const base = defaultBootConfig();
    const extra = file.services ?? [];
    for (const svc of extra) {
      if (base.services.some((s) => s.label === svc.label) || svc.label === base.rs.label) {
        throw new Error(`service ${svc.label} is already in the default image`);
      }
    }
    const daemons = [...(base.daemons ?? [])];
    for (const d of file.daemons ?? []) {
      const i = daemons.findIndex((x) => x.label === d.label);
      if (i >= 0) daemons[i] = { ...daemons[i]!, ...d, args: { ...daemons[i]!.args, ...d.args } };
      else if (d.source && d.privileges) daemons.push(d as ServiceConfig);
      else throw new Error(`daemon ${d.label} is not in the default image: give its source and privileges`);
    }
    return { ...base, services: [...base.services, ...extra], daemons, ...(file.limits ? { limits: file.limits } : {}) };
  }
  if (!file.rs || !Array.isArray(file.services)) throw new Error('a boot configuration needs `rs` and `services` (or `extends: "default"`)');
  return file;
}

const RS: ServiceConfig = {
  label: 'rs',
  source: 'src/servers/rs/main.ts',
  privileges: { to: ['*'], types: ['*'], kcalls: ['*'] },
};

const DS: ServiceConfig = {
  label: 'ds',
  source: 'src/servers/ds/main.ts',
  privileges: { to: ['*'], types: ['ds.changed'], kcalls: ['lookup', 'endpoints'] },
};

/** The storage stack: the block driver and the file system on the disk image. */
export function storageServices(): ServiceConfig[] {
  return [
    {
      // The block driver: the disk kernel calls, and it sends nothing (it only replies).
      label: 'disk',
      source: 'src/servers/disk/main.ts',
      privileges: { to: [], types: [], kcalls: ['disk-info', 'disk-read', 'disk-write', 'disk-flush'] },
      // Stateless, and its operations are idempotent: a crash gives the request it was running to the next incarnation.
      policy: { mode: 'ssr-restart', retries: 1 },
    },
    {
      // The file system: disk.* to disk only; the alarm drives its periodic checkpoint.
      label: 'mfs',
      source: 'src/servers/mfs/main.ts',
      privileges: { to: ['disk'], types: ['disk.*'], kcalls: ['alarm'] },
      // It recovers from the disk (every answered operation is on the disk device, the
      // journal replays): the requests it was running are given to the next incarnation.
      policy: { mode: 'ssr-restart', retries: 1 },
    },
  ];
}

/** tty running the built-in console commands (no processes). */
const TTY_BUILTIN: ServiceConfig = {
  label: 'tty',
  source: 'src/servers/tty/main.ts',
  privileges: { to: ['rs', 'ds'], types: ['rs.list', 'rs.restart', 'rs.update', 'rs.rollback', 'rs.history', 'ds.*'], kcalls: ['console-write', 'console-info', 'shutdown'] },
};

/** The smallest system: rs, ds and the built-in console. */
export function minimalBootConfig(): BootConfig {
  return { rs: { ...RS }, services: [{ ...DS }, { ...TTY_BUILTIN }], console: 'tty' };
}

/** Servers and storage, no processes: rs, ds, disk, mfs and the built-in console (kernel and file-system tests). */
export function storageBootConfig(): BootConfig {
  return { rs: { ...RS }, services: [{ ...DS }, ...storageServices(), { ...TTY_BUILTIN }], console: 'tty' };
}

/** Molt: every server, the file system on the disk image, and init starting the shell on the console. */
export function defaultBootConfig(): BootConfig {
  return {
    rs: { ...RS },
    services: [
      { ...DS },
      ...storageServices(),
      ...osServices({ root: 'mfs', init: '/bin/init.ts' }),
      { ...NET },
      { ...SCHED },
      { ...TTY_BUILTIN, ...TTY_USER },
    ],
    daemons: [{ ...KVD }, { ...HTTPD }],
    console: 'tty',
  };
}
