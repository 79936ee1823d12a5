/**
 * ds: naming — where each service is. rs reports every (re)start and failure; lookups
 * fall back to the kernel's endpoint table for labels rs does not manage.
 *
 * Entry points: `doService`, `doLookup`.
 */
import { KERNEL } from '../../kernel/abi.js';
import { err, ok, type Handler } from '../../sys/index.js';
import { serviceKey, type DsRequest } from './protocol.js';
import type { DsState } from './state.js';
import { put } from './store.js';

type Req<K extends DsRequest['type']> = Extract<DsRequest, { type: K }>;

export const doService: Handler<DsState, Req<'ds.service'>> = async (state, msg, ctx) => {
  const rs = await ctx.kcall<number>({ call: 'lookup', label: 'rs' });
  if (!rs.ok || (msg.from !== rs.value && msg.from !== KERNEL)) return err('EPERM', 'only rs reports services');
  put(state, serviceKey(msg.label), { endpoint: msg.endpoint, status: msg.status }, msg.from, ctx);
  return ok(null);
};

export const doLookup: Handler<DsState, Req<'ds.lookup'>> = async (state, msg, ctx) => {
  const e = state.entries.get(serviceKey(msg.label));
  if (e) return ok((e.value as { endpoint: number }).endpoint);
  const r = await ctx.kcall<number>({ call: 'lookup', label: msg.label });
  return r.ok ? ok(r.value) : err('ENOENT', `no service ${msg.label}`);
};
