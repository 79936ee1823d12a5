/**
 * Update corpus: `counter`, version 12 — v1's state and protocol, but the new
 * incarnation exits 5 ms after its transfer succeeded: it is gone by the time the
 * update commits (when the commit comes that late), so the commit must fail and roll
 * back — every component of a batch, including one already rebound.
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'counter.add': t.object({ tag: t.string, n: t.int }),
  'counter.wait': t.object({ ms: t.int }),
  'counter.dump': t.object({}),
} as const;

interface CounterState {
  count: number;
  adds: string[];
  waited: number;
}

export default defineServer<CounterState, typeof protocol>({
  protocol,
  init: () => ({ count: 0, adds: [], waited: 0 }),
  transfer: {
    afterTransfer: () => {
      // Ends this incarnation a little after its import has been answered.
      setTimeout(() => process.exit(9), 5);
    },
  },
  handlers: {
    'counter.add': (s, msg, ctx) => {
      s.count += msg.n;
      s.adds.push(msg.tag);
      return ok({ tag: msg.tag, count: String(s.count), inc: ctx.self.incarnation });
    },
    'counter.wait': async (s, msg) => {
      await new Promise((r) => setTimeout(r, msg.ms));
      s.waited++;
      return ok({ waited: s.waited });
    },
    'counter.dump': (s) => ok({ count: String(s.count), adds: s.adds, waited: s.waited, unit: null }),
  },
});
