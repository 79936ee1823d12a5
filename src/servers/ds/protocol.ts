/**
 * ds protocol: naming (label → endpoint, with subscriptions to changes) and a small
 * published key/value store. Keys are owned by the endpoint that first published them.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const dsProtocol = {
  /** rs tells ds where a service is and in what state. */
  'ds.service': t.object({ label: t.string, endpoint: t.int, status: t.string }),
  /** Label → endpoint. */
  'ds.lookup': t.object({ label: t.string }),
  /** Publish (or overwrite, if the caller owns it) a key. */
  'ds.publish': t.object({ key: t.string, value: t.any }),
  'ds.retrieve': t.object({ key: t.string }),
  'ds.delete': t.object({ key: t.string }),
  /** Be sent `ds.changed` for every change to a key matching `pattern` (`*` wildcards). */
  'ds.subscribe': t.object({ pattern: t.string }),
  'ds.unsubscribe': t.object({ pattern: t.string }),
  /** Keys matching a pattern, sorted. */
  'ds.keys': t.object({ pattern: t.optional(t.string) }),
} as const;

export type DsRequest = MessagesOf<typeof dsProtocol>;

/** What a subscriber is sent (one-way) when a key it watches changes. */
export interface DsChanged {
  type: 'ds.changed';
  key: string;
  /** The new value, or undefined if the key was deleted. */
  value?: unknown;
  deleted: boolean;
}

/** Key under which ds keeps each service's address. */
export const serviceKey = (label: string) => `service.${label}`;
