/**
 * Update corpus: `kv`, version 2 — the state's fields reordered (`ops` first),
 * `legacy` removed (dropped and reported), `limit` added (from this version's `init`),
 * and `Entry` a new class: fields reordered, a different `show()` — a transfer
 * re-creates every entry from this class, so the dump (which calls `show()`) proves it.
 * Same protocol as v1.
 */
import { defineServer, err, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'kv.put': t.object({ key: t.string, value: t.string }),
  'kv.get': t.object({ key: t.string }),
  'kv.del': t.object({ key: t.string }),
  'kv.add': t.object({ tag: t.string }),
  'kv.show': t.object({ key: t.string }),
  'kv.dump': t.object({}),
} as const;

export class Entry {
  constructor(
    public hits: number,
    public value: string,
  ) {}

  touch(): void {
    this.hits++;
  }

  show(): string {
    return `v2:${this.value}×${this.hits}`;
  }
}

interface KvState {
  ops: number;
  entries: Map<string, Entry>;
  limit: number;
}

function put(s: KvState, key: string, value: string): Entry | null {
  const e = s.entries.get(key);
  if (!e && s.entries.size >= s.limit) return null;
  s.ops++;
  if (e) {
    e.value = value;
    return e;
  }
  const fresh = new Entry(0, value);
  s.entries.set(key, fresh);
  return fresh;
}

export default defineServer<KvState, typeof protocol>({
  protocol,
  init: () => ({ ops: 0, entries: new Map(), limit: 1_000 }),
  classes: { Entry },
  handlers: {
    'kv.put': (s, msg) => (put(s, msg.key, msg.value) ? ok({ ops: s.ops }) : err('ENOSPC', `more than ${s.limit} keys`)),
    'kv.get': (s, msg) => {
      const e = s.entries.get(msg.key);
      if (!e) return err('ENOENT', msg.key);
      e.touch();
      return ok(e.value);
    },
    'kv.del': (s, msg) => {
      s.ops++;
      return ok(s.entries.delete(msg.key));
    },
    'kv.add': (s, msg, ctx) => {
      const e = put(s, msg.tag, `added-${msg.tag}`);
      if (!e) return err('ENOSPC', `more than ${s.limit} keys`);
      e.touch();
      return ok({ tag: msg.tag, ops: s.ops, inc: ctx.self.incarnation });
    },
    'kv.show': (s, msg) => {
      const e = s.entries.get(msg.key);
      return e ? ok(e.show()) : err('ENOENT', msg.key);
    },
    'kv.dump': (s) =>
      ok({
        entries: [...s.entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, e]) => [k, e.value, e.hits, e.show()]),
        ops: s.ops,
        limit: s.limit,
        legacy: null,
      }),
  },
});
