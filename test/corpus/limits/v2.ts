/**
 * Update corpus: `limits`, version 2 — v1 with a field added to the state (`since`,
 * from this version's `init`); `limit` unchanged. Same protocol as v1.
 */
import { defineServer, err, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'limits.set': t.object({ limit: t.optional(t.int) }),
  'limits.add': t.object({ tag: t.string }),
  'limits.dump': t.object({}),
} as const;

interface LimitsState {
  limit: number | undefined;
  tags: string[];
  since: string;
}

export default defineServer<LimitsState, typeof protocol>({
  protocol,
  init: () => ({ limit: 3, tags: [], since: 'v2' }),
  handlers: {
    'limits.set': (s, msg) => {
      s.limit = msg.limit;
    },
    'limits.add': (s, msg, ctx) => {
      if (s.limit !== undefined && s.tags.length >= s.limit) return err('ENOSPC', `limit ${s.limit} reached`);
      s.tags.push(msg.tag);
      return ok({ tag: msg.tag, inc: ctx.self.incarnation });
    },
    'limits.dump': (s) => ok({ limit: s.limit ?? 'none', tags: s.tags, since: s.since }),
  },
});
