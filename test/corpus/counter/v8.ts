/**
 * Update corpus: `counter`, version 8 — v1's state and protocol, but its
 * `afterTransfer` starts a timer whose callback throws (uncaught), then waits: the new
 * incarnation crashes during transfer, and the update rolls back.
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
    afterTransfer: async () => {
      setTimeout(() => {
        throw new Error('counter v8: crash from a timer during transfer');
      }, 0);
      await new Promise((r) => setTimeout(r, 500));
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
