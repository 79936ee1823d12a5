/**
 * Update corpus: `counter`, version 2 — `count` is a bigint (v1 → v2: number → bigint;
 * v2 → v1: bigint → number where lossless, refused where not). Same protocol as v1.
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'counter.add': t.object({ tag: t.string, n: t.int }),
  'counter.wait': t.object({ ms: t.int }),
  'counter.dump': t.object({}),
} as const;

interface CounterState {
  count: bigint;
  adds: string[];
  waited: number;
}

export default defineServer<CounterState, typeof protocol>({
  protocol,
  init: () => ({ count: 0n, adds: [], waited: 0 }),
  handlers: {
    'counter.add': (s, msg, ctx) => {
      s.count += BigInt(msg.n);
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
