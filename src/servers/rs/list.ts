/**
 * rs: `service list` — the service table joined with the kernel's endpoint table
 * (message counts, and rs itself, which the kernel starts).
 */
import type { EndpointInfo } from '../../kernel/abi.js';
import { ok, type Handler } from '../../sys/index.js';
import type { RsRequest, ServiceRow } from './protocol.js';
import type { RsState } from './state.js';

export const doList: Handler<RsState, Extract<RsRequest, { type: 'rs.list' }>> = async (state, _msg, ctx) => {
  const eps = await ctx.kcall<EndpointInfo[]>({ call: 'endpoints' });
  const byLabel = new Map((eps.ok ? eps.value : []).map((e) => [e.label, e]));
  const now = ctx.now();
  const rows: ServiceRow[] = [];
  const me = byLabel.get(ctx.self.label);
  rows.push({
    label: ctx.self.label, endpoint: ctx.self.endpoint, incarnation: ctx.self.incarnation, version: ctx.self.version,
    status: 'running', restarts: Math.max(0, (me?.binds ?? 1) - 1),
    uptimeMs: me?.startedAt != null ? now - me.startedAt : null, messages: me?.delivered ?? 0, lastFault: null,
  });
  for (const rec of state.services.values()) {
    const e = byLabel.get(rec.label);
    rows.push({
      label: rec.label,
      endpoint: rec.endpoint,
      incarnation: rec.incarnation,
      version: rec.version,
      status: rec.status,
      restarts: rec.restarts,
      uptimeMs: rec.status === 'running' && rec.startedAt !== null ? now - rec.startedAt : null,
      messages: e?.delivered ?? 0,
      lastFault: rec.lastFault,
    });
  }
  return ok(rows);
};
