/**
 * Update corpus: `ds`, version 2 — the same naming and store, plus a count of the lookups
 * it answered (`lookups`, a field version 1 lacks: it starts at 0 after the update and is
 * dropped, reported, on the way back). A real version change with the smallest surface.
 */
import { defineServer } from '../../../src/sys/index.js';
import v1 from '../../../src/servers/ds/main.js';
import type { DsState } from '../../../src/servers/ds/state.js';

interface DsStateV2 extends DsState {
  lookups: number;
}

export default defineServer<DsStateV2, typeof v1.protocol>({
  protocol: v1.protocol,
  init: (): DsStateV2 => ({ entries: new Map(), subscriptions: [], lookups: 0 }),
  handlers: {
    ...v1.handlers,
    'ds.lookup': (state, msg, ctx) => {
      state.lookups++;
      return v1.handlers['ds.lookup'](state, msg, ctx);
    },
  },
});
