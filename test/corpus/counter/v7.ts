/**
 * Update corpus: `counter`, version 7 — v1's state and protocol, but the new
 * incarnation exits (`process.exit`) from a field transfer callback: it crashes
 * during transfer, and the update rolls back.
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
    fieldTransfer: {
      'CounterState.count': () => process.exit(3),
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
