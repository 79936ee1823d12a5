/**
 * An example component: a counter. Boot it with
 *   npx molt boot --config examples/counter.boot.json
 * and call it from another component with ctx.sendrec('counter', { type: 'counter.add', n: 2 }).
 */
import { defineServer, err, ok, t } from '../src/sys/index.js';

export const counterProtocol = {
  'counter.add': t.object({ n: t.int }),
  'counter.get': t.object({}),
} as const;

interface CounterState {
  total: number;
  adds: number;
}

export default defineServer<CounterState, typeof counterProtocol>({
  protocol: counterProtocol,
  init: () => ({ total: 0, adds: 0 }),
  handlers: {
    'counter.add': (s, msg) => {
      if (msg.n < 0) return err('EINVAL', 'n must be >= 0');
      s.total += msg.n;
      s.adds++;
      return ok(s.total);
    },
    'counter.get': (s) => ok(s.total),
  },
});
