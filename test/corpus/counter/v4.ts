/**
 * Update corpus: `counter`, version 4 — the state's fields reordered (`adds` first),
 * `waited` removed (dropped and reported by a transfer from v1–v3) and `unit` added
 * (a transfer takes it from this version's `init`: "ops"). `counter.wait` still
 * answers but no longer counts. Same protocol as v1.
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'counter.add': t.object({ tag: t.string, n: t.int }),
  'counter.wait': t.object({ ms: t.int }),
  'counter.dump': t.object({}),
} as const;

interface CounterState {
  adds: string[];
  unit: string;
  count: number;
}

export default defineServer<CounterState, typeof protocol>({
  protocol,
  init: () => ({ adds: [], unit: 'ops', count: 0 }),
  handlers: {
    'counter.add': (s, msg, ctx) => {
      s.count += msg.n;
      s.adds.push(msg.tag);
      return ok({ tag: msg.tag, count: `${s.count} ${s.unit}`, inc: ctx.self.incarnation });
    },
    'counter.wait': async (_s, msg) => {
      await new Promise((r) => setTimeout(r, msg.ms));
      return ok({ waited: null });
    },
    'counter.dump': (s) => ok({ count: String(s.count), adds: s.adds, waited: null, unit: s.unit }),
  },
});
