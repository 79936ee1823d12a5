/**
 * Update corpus: `counter`, version 1 — the baseline. A count, the log of every `add`
 * tag in the order applied (so a request applied twice shows twice), and how many
 * `wait` handlers have finished.
 *
 * Protocol (every counter version): `counter.add { tag, n }` → `{ tag, count, inc }`;
 * `counter.wait { ms }` (async: sleeps, then counts itself) → `{ waited }`;
 * `counter.dump {}` → a version-independent rendering `{ count, adds, waited, unit }`.
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
