/**
 * Update corpus: `kv`, version 1 — a key/value store: a Map of `Entry` class instances
 * (value + read count), an op counter, and `legacy`, a field later versions drop.
 *
 * Protocol (every kv version): `kv.put { key, value }`, `kv.get { key }` (counts a
 * hit), `kv.del { key }`, `kv.add { tag }` (puts `tag` and counts one hit: applied
 * twice, it shows 2), `kv.show { key }` (the entry as its class's `show()` renders
 * it), `kv.dump {}` (every entry, sorted, plus the counters).
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
    public value: string,
    public hits: number,
  ) {}

  touch(): void {
    this.hits++;
  }

  show(): string {
    return `v1:${this.value}`;
  }
}

interface KvState {
  entries: Map<string, Entry>;
  legacy: string[];
  ops: number;
}

function put(s: KvState, key: string, value: string): Entry {
  s.ops++;
  const e = s.entries.get(key);
  if (e) {
    e.value = value;
    return e;
  }
  const fresh = new Entry(value, 0);
  s.entries.set(key, fresh);
  return fresh;
}

export default defineServer<KvState, typeof protocol>({
  protocol,
  init: () => ({ entries: new Map(), legacy: ['v1-boot'], ops: 0 }),
  classes: { Entry },
  handlers: {
    'kv.put': (s, msg) => {
      put(s, msg.key, msg.value);
      return ok({ ops: s.ops });
    },
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
      put(s, msg.tag, `added-${msg.tag}`).touch();
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
        limit: null,
        legacy: s.legacy,
      }),
  },
});
