/**
 * Update corpus: `kv`, version 4 — an `Item` keeps its value as characters
 * (`chars: string[]`) instead of v3's `text: string`. No default rule turns a string
 * into an array, so a per-type transfer (`transfer.typeTransfer.Item`) builds each new
 * item from the old one. Same protocol as v1.
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

export class Item {
  constructor(
    public chars: string[],
    public hits: number,
  ) {}

  get text(): string {
    return this.chars.join('');
  }

  touch(): void {
    this.hits++;
  }

  show(): string {
    return `v4:${this.chars.length}:${this.text}×${this.hits}`;
  }
}

interface KvState {
  ops: number;
  entries: Map<string, Item>;
  limit: number;
}

function put(s: KvState, key: string, value: string): Item | null {
  const e = s.entries.get(key);
  if (!e && s.entries.size >= s.limit) return null;
  s.ops++;
  if (e) {
    e.chars = [...value];
    return e;
  }
  const fresh = new Item([...value], 0);
  s.entries.set(key, fresh);
  return fresh;
}

export default defineServer<KvState, typeof protocol>({
  protocol,
  init: () => ({ ops: 0, entries: new Map(), limit: 1_000 }),
  classes: { Item },
  transfer: {
    typeTransfer: {
      Item: (old) => {
        const o = old as { text: string; hits: number };
        return new Item([...o.text], o.hits);
      },
    },
  },
  handlers: {
    'kv.put': (s, msg) => (put(s, msg.key, msg.value) ? ok({ ops: s.ops }) : err('ENOSPC', `more than ${s.limit} keys`)),
    'kv.get': (s, msg) => {
      const e = s.entries.get(msg.key);
      if (!e) return err('ENOENT', msg.key);
      e.touch();
      return ok(e.text);
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
        entries: [...s.entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, e]) => [k, e.text, e.hits, e.show()]),
        ops: s.ops,
        limit: s.limit,
        legacy: null,
      }),
  },
});
