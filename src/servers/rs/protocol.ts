/**
 * rs protocol: the reincarnation server's requests. `kernel.*` and `clock.*` arrive
 * from the kernel only (the kernel refuses those types from anyone else).
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const rsProtocol = {
  /** The kernel reports an incarnation that ended with a fault after its init. */
  'kernel.fault': t.object({
    label: t.string,
    incarnation: t.int,
    kind: t.oneOf('throw', 'exit', 'oom', 'hang', 'init'),
    error: t.object({ name: t.string, message: t.string }),
    wasBound: t.boolean,
  }),
  /** A timer rs set (restart backoff). */
  'clock.alarm': t.object({ tag: t.string }),
  /** `service list`. */
  'rs.list': t.object({}),
  /** `service restart <label>`: end the current incarnation and start a fresh one. */
  'rs.restart': t.object({ label: t.string }),
} as const;

export type RsRequest = MessagesOf<typeof rsProtocol>;

export type ServiceStatus = 'starting' | 'running' | 'restarting' | 'failed';

/** One row of `service list`. */
export interface ServiceRow {
  label: string;
  endpoint: number;
  incarnation: number | null;
  version: string | null;
  status: ServiceStatus;
  restarts: number;
  uptimeMs: number | null;
  messages: number;
  lastFault: { kind: string; message: string; at: number } | null;
}
