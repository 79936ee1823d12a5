/**
 * Update corpus: httpd, version 2 — the same server with a changed state layout: it
 * counts responses per status code in a new field (`byStatus`, a Map the automatic
 * transfer creates from this version's `init`: empty) and records which version's
 * state it runs on (`layout`). `httpd.stats` reports both. Client-visible HTTP
 * behaviour is version 1's.
 */
import { makeHttpd } from '../../../src/user/httpd/main.js';
import { freshState, type HttpdState } from '../../../src/user/httpd/state.js';

interface HttpdStateV2 extends HttpdState {
  /** Responses sent, by status code. */
  byStatus: Map<number, number>;
  /** The state layout's version. */
  layout: number;
}

export default makeHttpd((ctx): HttpdStateV2 => ({ ...freshState(ctx.self.args), byStatus: new Map(), layout: 2 }), {
  responded: (st, status) => {
    st.byStatus.set(status, (st.byStatus.get(status) ?? 0) + 1);
  },
  stats: (st) => ({ byStatus: Object.fromEntries([...st.byStatus].map(([k, v]) => [String(k), v])), layout: st.layout }),
});
