/**
 * ds state: published entries and subscriptions, all reachable from `DsState`.
 */
export interface DsEntry {
  value: unknown;
  /** The endpoint that published it (only it, or rs, may change it). */
  owner: number;
  updatedAt: number;
}

export interface DsSubscription {
  subscriber: number;
  pattern: string;
}

export interface DsState {
  entries: Map<string, DsEntry>;
  subscriptions: DsSubscription[];
}
