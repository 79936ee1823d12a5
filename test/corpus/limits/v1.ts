/**
 * Update corpus: `limits`, version 1 — a field whose type admits `undefined` on purpose:
 * `limit: number | undefined`, where `undefined` means "no limit" (`init` starts with a
 * limit of 3). A value of `undefined` is a value like any other: a transfer must keep
 * it, not mistake it for a missing field and put the initial 3 back.
 *
 * Protocol (every limits version): `limits.set { limit? }` (omitted: no limit),
 * `limits.add { tag }` (refused with ENOSPC past the limit), `limits.dump {}`.
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
}

export default defineServer<LimitsState, typeof protocol>({
  protocol,
  init: () => ({ limit: 3, tags: [] }),
  handlers: {
    'limits.set': (s, msg) => {
      s.limit = msg.limit;
    },
    'limits.add': (s, msg, ctx) => {
      if (s.limit !== undefined && s.tags.length >= s.limit) return err('ENOSPC', `limit ${s.limit} reached`);
      s.tags.push(msg.tag);
      return ok({ tag: msg.tag, inc: ctx.self.incarnation });
    },
    'limits.dump': (s) => ok({ limit: s.limit ?? 'none', tags: s.tags, since: null }),
  },
});
