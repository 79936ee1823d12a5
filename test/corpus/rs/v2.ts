/**
 * Update corpus: `rs`, version 2 — the same reincarnation server and update manager, plus
 * a count of the `service list` requests it answered (`listed`, a field version 1 lacks:
 * 0 after the update, dropped and reported on the way back). rs updates itself with it
 * like any other component (`service update rs test/corpus/rs/v2.ts`).
 */
import { defineServer, type Ctx } from '../../../src/sys/index.js';
import v1 from '../../../src/servers/rs/main.js';
import type { RsState } from '../../../src/servers/rs/state.js';

interface RsStateV2 extends RsState {
  listed: number;
}

const withListed = async (s: RsState | Promise<RsState>): Promise<RsStateV2> => ({ ...(await s), listed: 0 });

export default defineServer<RsStateV2, typeof v1.protocol>({
  protocol: v1.protocol,
  init: (ctx: Ctx) => withListed(v1.init(ctx)),
  restart: (ctx: Ctx) => withListed(v1.restart!(ctx)),
  start: v1.start!,
  transfer: v1.transfer!,
  handlers: {
    ...v1.handlers,
    'rs.list': (state, msg, ctx) => {
      state.listed++;
      return v1.handlers['rs.list'](state, msg, ctx);
    },
  },
});
