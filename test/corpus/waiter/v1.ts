/**
 * Update corpus: `waiter`, version 1 — deferred replies. `waiter.wait { tag }` is not
 * answered at once: its reply token (plain data) is kept in the state, and
 * `waiter.fire {}` answers every waiting call. The tokens transfer with the state, so
 * calls left waiting across a live update are answered by the new version.
 *
 * Protocol (every waiter version): `waiter.wait { tag }` → later `{ tag, by, inc }`;
 * `waiter.fire {}` → how many it answered; `waiter.dump {}` → the waiting tags.
 */
import { DEFERRED, defineServer, ok, t, type ReplyToken } from '../../../src/sys/index.js';

export const protocol = {
  'waiter.wait': t.object({ tag: t.string }),
  'waiter.fire': t.object({}),
  'waiter.dump': t.object({}),
} as const;

interface Waiting {
  token: ReplyToken;
  tag: string;
}

interface WaiterState {
  waiting: Waiting[];
}

export default defineServer<WaiterState, typeof protocol>({
  protocol,
  init: () => ({ waiting: [] }),
  handlers: {
    'waiter.wait': (s, msg, ctx) => {
      s.waiting.push({ token: ctx.defer(msg), tag: msg.tag });
      return DEFERRED;
    },
    'waiter.fire': (s, _msg, ctx) => {
      for (const w of s.waiting) ctx.reply(w.token, ok({ tag: w.tag, by: 'v1', inc: ctx.self.incarnation }));
      const n = s.waiting.length;
      s.waiting = [];
      return ok(n);
    },
    'waiter.dump': (s) => ok(s.waiting.map((w) => w.tag)),
  },
});
