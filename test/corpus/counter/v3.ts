/**
 * Update corpus: `counter`, version 3 — `count` is a decimal string (v1 → v3:
 * number → string; v3 → v1: numeric string → number; v3 → v2: numeric string →
 * bigint). Same protocol as v1.
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'counter.add': t.object({ tag: t.string, n: t.int }),
  'counter.wait': t.object({ ms: t.int }),
  'counter.dump': t.object({}),
} as const;

interface CounterState {
  count: string;
  adds: string[];
  waited: number;
}

export default defineServer<CounterState, typeof protocol>({
  protocol,
  init: () => ({ count: '0', adds: [], waited: 0 }),
  handlers: {
    'counter.add': (s, msg, ctx) => {
      s.count = String(Number(s.count) + msg.n);
      s.adds.push(msg.tag);
      return ok({ tag: msg.tag, count: s.count, inc: ctx.self.incarnation });
    },
    'counter.wait': async (s, msg) => {
      await new Promise((r) => setTimeout(r, msg.ms));
      s.waited++;
      return ok({ waited: s.waited });
    },
    'counter.dump': (s) => ok({ count: s.count, adds: s.adds, waited: s.waited, unit: null }),
  },
});
