/**
 * Update corpus: `client`, version 1 — a component that calls others on a test's
 * behalf, so a request can come *from a label* (what `rs.update --block label:type`
 * matches): `client.call { to, msg }` sends `msg` to `to` with sendrec and answers
 * with the callee's reply, whatever it is.
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'client.call': t.object({ to: t.string, msg: t.any, timeoutMs: t.optional(t.int) }),
} as const;

interface ClientState {
  calls: number;
}

export default defineServer<ClientState, typeof protocol>({
  protocol,
  init: () => ({ calls: 0 }),
  handlers: {
    'client.call': async (s, msg, ctx) => {
      s.calls++;
      const reply = await ctx.sendrec(msg.to, msg.msg as { type: string }, { timeoutMs: msg.timeoutMs ?? 20_000 });
      return ok(reply);
    },
  },
});
