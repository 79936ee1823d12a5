/**
 * Update corpus: `waiter`, version 2 — version 1 that signs its answers `v2`, so a
 * client can tell which version answered a call it made before the update. Same
 * protocol as v1.
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
      for (const w of s.waiting) ctx.reply(w.token, ok({ tag: w.tag, by: 'v2', inc: ctx.self.incarnation }));
      const n = s.waiting.length;
      s.waiting = [];
      return ok(n);
    },
    'waiter.dump': (s) => ok(s.waiting.map((w) => w.tag)),
  },
});
