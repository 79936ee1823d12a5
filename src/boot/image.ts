/**
 * The boot image: which components start, from which source, with which privileges
 * (the analogue of MINIX's `system.conf`) and limits. `rs` is started by the kernel;
 * `rs` starts the rest.
 *
 * Entry point: `defaultBootConfig()`.
 */
import type { BootConfig } from '../kernel/abi.js';

export function defaultBootConfig(): BootConfig {
  return {
    rs: {
      label: 'rs',
      source: 'src/servers/rs/main.ts',
      privileges: { to: ['*'], types: ['*'], kcalls: ['*'] },
    },
    services: [
      {
        label: 'ds',
        source: 'src/servers/ds/main.ts',
        privileges: { to: ['*'], types: ['ds.changed'], kcalls: ['lookup', 'endpoints'] },
      },
      {
        label: 'tty',
        source: 'src/servers/tty/main.ts',
        privileges: { to: ['rs', 'ds'], types: ['rs.list', 'rs.restart', 'ds.*'], kcalls: ['console-write', 'console-info', 'shutdown'] },
      },
    ],
    console: 'tty',
  };
}
