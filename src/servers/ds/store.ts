/**
 * ds: the published key/value store and its subscriptions.
 *
 * Entry points: `doPublish`, `doRetrieve`, `doDelete`, `doSubscribe`, `doUnsubscribe`,
 * `doKeys`, and `put` (shared with naming).
 */
import { err, ok, type Ctx, type Handler } from '../../sys/index.js';
import type { DsChanged, DsRequest } from './protocol.js';
import type { DsState } from './state.js';

type Req<K extends DsRequest['type']> = Extract<DsRequest, { type: K }>;

const MAX_KEY = 256;
const MAX_SUBSCRIPTIONS = 1024;

/** `*` matches any run of characters; everything else is literal. */
export function patternMatches(pattern: string, key: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === key;
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === 0) {
      if (!key.startsWith(part)) return false;
      pos = part.length;
    } else if (i === parts.length - 1) {
      return key.length - part.length >= pos && key.endsWith(part);
    } else {
      const at = key.indexOf(part, pos);
      if (at < 0) return false;
      pos = at + part.length;
    }
  }
  return true;
}

/** Set a key and tell its subscribers. */
export function put(state: DsState, key: string, value: unknown, owner: number, ctx: Ctx): void {
  state.entries.set(key, { value, owner, updatedAt: ctx.now() });
  changed(state, { type: 'ds.changed', key, value, deleted: false }, ctx);
}

function changed(state: DsState, msg: DsChanged, ctx: Ctx): void {
  for (const s of state.subscriptions) {
    if (patternMatches(s.pattern, msg.key)) ctx.send(s.subscriber, { ...msg });
  }
}

export const doPublish: Handler<DsState, Req<'ds.publish'>> = (state, msg, ctx) => {
  if (!msg.key || msg.key.length > MAX_KEY) return err('EINVAL', `key must be 1..${MAX_KEY} characters`);
  if (msg.key.startsWith('service.')) return err('EPERM', 'service.* keys are kept by rs');
  const cur = state.entries.get(msg.key);
  if (cur && cur.owner !== msg.from) return err('EPERM', `${msg.key} is owned by endpoint ${cur.owner}`);
  put(state, msg.key, msg.value, msg.from, ctx);
  return ok(null);
};

export const doRetrieve: Handler<DsState, Req<'ds.retrieve'>> = (state, msg) => {
  const e = state.entries.get(msg.key);
  return e ? ok(e.value) : err('ENOENT', `no key ${msg.key}`);
};

export const doDelete: Handler<DsState, Req<'ds.delete'>> = (state, msg, ctx) => {
  const e = state.entries.get(msg.key);
  if (!e) return err('ENOENT', `no key ${msg.key}`);
  if (e.owner !== msg.from) return err('EPERM', `${msg.key} is owned by endpoint ${e.owner}`);
  state.entries.delete(msg.key);
  changed(state, { type: 'ds.changed', key: msg.key, deleted: true }, ctx);
  return ok(null);
};

export const doSubscribe: Handler<DsState, Req<'ds.subscribe'>> = (state, msg) => {
  if (!msg.pattern) return err('EINVAL', 'empty pattern');
  if (state.subscriptions.some((s) => s.subscriber === msg.from && s.pattern === msg.pattern)) return ok(null);
  if (state.subscriptions.length >= MAX_SUBSCRIPTIONS) return err('ENOSPC', 'too many subscriptions');
  state.subscriptions.push({ subscriber: msg.from, pattern: msg.pattern });
  return ok(null);
};

export const doUnsubscribe: Handler<DsState, Req<'ds.unsubscribe'>> = (state, msg) => {
  const before = state.subscriptions.length;
  state.subscriptions = state.subscriptions.filter((s) => !(s.subscriber === msg.from && s.pattern === msg.pattern));
  return before === state.subscriptions.length ? err('ENOENT', `not subscribed to ${msg.pattern}`) : ok(null);
};

export const doKeys: Handler<DsState, Req<'ds.keys'>> = (state, msg) => {
  const pattern = msg.pattern ?? '*';
  return ok([...state.entries.keys()].filter((k) => patternMatches(pattern, k)).sort());
};
