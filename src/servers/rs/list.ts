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
  for (const rec of state.services.values()) {
    const e = byLabel.get(rec.label);
    if (rec.label === ctx.self.label) {
      // rs is restarted by the kernel, so the kernel's count of binds (less updates) is its restart count.
      const updates = rec.history.filter((u) => u.outcome === 'committed').length;
      rows.push({
        label: rec.label, endpoint: ctx.self.endpoint, incarnation: ctx.self.incarnation, version: ctx.self.version, status: 'running',
        restarts: Math.max(0, (e?.binds ?? 1) - 1 - updates), uptimeMs: e?.startedAt != null ? now - e.startedAt : null,
        messages: e?.delivered ?? 0, lastFault: null,
      });
      continue;
    }
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
