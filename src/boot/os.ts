/**
 * The operating system's part of the boot image: the file-system stack (vfs over mfs on
 * the disk, tmpfs in memory at /run, bootfs at /bin), pm, and tty feeding processes —
 * with the least privileges each needs.
 *
 * Entry point: `osServices({ root, init })`.
 */
import { availableParallelism } from 'node:os';
import type { ServiceConfig } from '../kernel/abi.js';

export interface OsOptions {
  /** The root file system's server: 'mfs' (on the disk) or 'tmpfs' (in memory). */
  root: 'mfs' | 'tmpfs';
  /** The first program pm starts (pid 1), e.g. '/bin/init.ts'; none: no init. */
  init: string | null;
}

export function osServices(opts: OsOptions): ServiceConfig[] {
  const mounts = [
    { path: '/', server: opts.root, readonly: false },
    { path: '/bin', server: 'bootfs', readonly: true },
    ...(opts.root === 'tmpfs' ? [] : [{ path: '/run', server: 'tmpfs', readonly: false }]),
  ];
  return [
    {
      label: 'tmpfs',
      source: 'src/servers/tmpfs/main.ts',
      privileges: { to: [], types: [], kcalls: [] },
      args: { capacityMb: 64 },
    },
    {
      label: 'bootfs',
      source: 'src/servers/bootfs/main.ts',
      privileges: { to: [], types: [], kcalls: ['image-list', 'image-read'] },
    },
    {
      label: 'vfs',
      source: 'src/servers/vfs/main.ts',
      privileges: { to: ['mfs', 'tmpfs', 'bootfs', 'tty'], types: ['mfs.*', 'tty.read', 'tty.write', 'tty.info'], kcalls: ['whois'] },
      // Each process's fds live in its server state region: a crash of vfs is transparent.
      policy: { mode: 'ssr-restart', retries: 1 },
      args: { mounts },
    },
    {
      label: 'pm',
      source: 'src/servers/pm/main.ts',
      // pm signals processes (any label) and reads programs / sets up fds through vfs.
      privileges: { to: ['*'], types: ['vfs.readfile', 'vfs.fork', 'vfs.exit', 'tty.write', 'proc.signal', 'net.exit'], kcalls: ['whois', 'exec', 'kill', 'shutdown', 'endpoints'] },
      // The process table lives in the clients' server state regions: a crash of pm is transparent.
      policy: { mode: 'ssr-restart', retries: 1 },
      ...(opts.init ? { args: { init: opts.init } } : {}),
    },
  ];
}

/**
 * The network stack: net makes the host-TCP kernel calls and pushes `net.event`s to
 * whichever component owns a watched socket.
 */
export const NET: ServiceConfig = {
  label: 'net',
  source: 'src/servers/net/main.ts',
  privileges: {
    to: ['*'],
    types: ['net.event'],
    kcalls: ['tcp-listen', 'tcp-connect', 'tcp-write', 'tcp-end', 'tcp-close', 'tcp-pause', 'tcp-list', 'tcp-delegate', 'whois', 'alarm'],
  },
  // Each owner's sockets live in its server state region; the device holds the connections:
  // a crash of net is transparent to them (src/servers/net/ssr.ts). Retries: a blocked
  // accept or recv is given again at each crash, so a few are allowed.
  policy: { mode: 'ssr-restart', retries: 3 },
};

/** CPU accounting and limits: reads the kernel's per-worker CPU figures, signals processes through pm. */
export const SCHED: ServiceConfig = {
  label: 'sched',
  source: 'src/servers/sched/main.ts',
  // To any label: it sets processes' (p<pid>) thread priorities with proc.nice.
  privileges: { to: ['*'], types: ['pm.kill', 'pm.ps', 'proc.nice'], kcalls: ['cpu-usage', 'alarm', 'whois'] },
  // Nice and budgets live in the clients' server state regions: a crash of sched keeps them.
  policy: { mode: 'ssr-restart', retries: 1 },
  args: { cpus: availableParallelism() },
};

/** The Redis-protocol key-value daemon (started by /etc/rc with `service up kvd`). */
export const KVD: ServiceConfig = {
  label: 'kvd',
  source: 'src/user/kvd/main.ts',
  // tcp-write: replies go straight to the connections net delegated to it (the fast path).
  privileges: { to: ['net', 'vfs'], types: ['net.*', 'vfs.*'], kcalls: ['alarm', 'tcp-write'] },
  // Its connections' sessions live in its server state region; replies wait for the AOF and
  // the kernel's TCP device delivers again what a crashed kvd had not answered.
  policy: { mode: 'ssr-restart', retries: 1 },
  limits: { memoryMb: 1024 },
  args: { host: '127.0.0.1', port: 6380, dir: '/var/lib/kvd' },
};

/** The HTTP/1.1 static file server (started by /etc/rc with `service up httpd`). */
export const HTTPD: ServiceConfig = {
  label: 'httpd',
  source: 'src/user/httpd/main.ts',
  privileges: { to: ['net', 'vfs'], types: ['net.*', 'vfs.*'], kcalls: [] },
  args: { host: '127.0.0.1', port: 8080, root: '/var/www' },
};

/** tty's privileges and arguments when it feeds processes (user mode). */
export const TTY_USER: Pick<ServiceConfig, 'privileges' | 'args' | 'policy'> = {
  privileges: {
    to: ['rs', 'ds', 'vfs', 'pm'],
    types: ['rs.list', 'rs.restart', 'rs.update', 'rs.rollback', 'rs.history', 'ds.*', 'vfs.ttydata', 'vfs.ttyreset', 'pm.kill'],
    kcalls: ['console-write', 'console-info', 'shutdown'],
  },
  args: { mode: 'user' },
  // Unread console input and the foreground process live in server state regions.
  policy: { mode: 'ssr-restart', retries: 1 },
};
