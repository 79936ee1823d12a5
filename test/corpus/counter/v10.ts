/**
 * Update corpus: `counter`, version 10 — v1 plus a formatter *function* kept in the
 * state (`counter.fmt { radix }` installs it). Such a state cannot be transferred:
 * an update away from a v10 that holds one rolls back, naming the path (`state.fmt`).
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'counter.add': t.object({ tag: t.string, n: t.int }),
  'counter.wait': t.object({ ms: t.int }),
  'counter.dump': t.object({}),
  'counter.fmt': t.object({ radix: t.int }),
} as const;

interface CounterState {
  count: number;
  adds: string[];
  waited: number;
  fmt: ((n: number) => string) | null;
}

export default defineServer<CounterState, typeof protocol>({
  protocol,
  init: () => ({ count: 0, adds: [], waited: 0, fmt: null }),
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
    'counter.fmt': (s, msg) => {
      const radix = msg.radix;
      s.fmt = (n) => n.toString(radix);
      return ok(null);
    },
    'counter.dump': (s) => ok({ count: s.fmt ? s.fmt(s.count) : String(s.count), adds: s.adds, waited: s.waited, unit: null }),
  },
});
