/**
 * rs: daemons — services the boot configuration lists under `daemons` (privileges,
 * limits, default arguments: MINIX's system.conf entries) but that start only when asked,
 * as `/etc/rc` does with `service up kvd`. Once up, a daemon is a service like any other:
 * restarted after a fault, live-updated, listed; `service down` stops it.
 *
 * Entry points: `doUp`, `doDown`.
 */
import { err, ok, type Handler } from '../../sys/index.js';
import type { RsRequest } from './protocol.js';
import { recordFor, startService } from './reincarnate.js';
import type { RsState } from './state.js';

type Req<K extends RsRequest['type']> = Extract<RsRequest, { type: K }>;

export const doUp: Handler<RsState, Req<'rs.up'>> = async (state, msg, ctx) => {
  const svc = state.config?.daemons?.find((d) => d.label === msg.label);
  if (!svc) {
    const known = (state.config?.daemons ?? []).map((d) => d.label);
    return err('ENOENT', `no daemon ${msg.label} in the boot configuration${known.length ? ` (daemons: ${known.join(', ')})` : ''}`);
  }
  const cur = state.services.get(msg.label);
  if (cur && cur.status !== 'failed') return err('EEXIST', `${msg.label} is already up (${cur.status})`);
  const rec = recordFor({ ...svc, args: { ...svc.args, ...msg.args } });
  if (cur) rec.versions = cur.versions;
  state.services.set(rec.label, rec);
  const running = await startService(state, rec, ctx, 'fresh');
  return running ? ok({ incarnation: rec.incarnation, endpoint: rec.endpoint }) : err('EINIT', rec.lastFault?.message);
};

export const doDown: Handler<RsState, Req<'rs.down'>> = async (state, msg, ctx) => {
  const rec = state.services.get(msg.label);
  if (!rec) return err('ENOENT', `no service ${msg.label}`);
  if (!state.config?.daemons?.some((d) => d.label === msg.label)) return err('EPERM', `${msg.label} is part of the boot image (only daemons go down)`);
  const inc = rec.incarnation;
  rec.status = 'failed';
  rec.incarnation = null;
  // Its requests finish, its stop hook makes its data durable, then it ends; callers get EDEADEP.
  if (inc !== null) await ctx.kcall({ call: 'retire', incarnation: inc, drainMs: 1_000, stop: true });
  await ctx.kcall({ call: 'fail', label: rec.label, reason: 'stopped by service down' });
  state.services.delete(rec.label);
  return ok(null);
};
