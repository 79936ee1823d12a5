/**
 * Update corpus: `holder`, version 2 — `pair` extended to three elements (a transfer
 * from v1 fills the third with its zero value, as this version's `holder.pair` does),
 * `triple` truncated to two, `big` a number (bigint → number where lossless); the typed
 * arrays, the Date, the Set and the Map are kept as they are. Same protocol as v1.
 */
import { defineServer, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'holder.pair': t.object({ x: t.int, s: t.string }),
  'holder.triple': t.object({ s: t.string, x: t.int, b: t.boolean }),
  'holder.bytes': t.object({ data: t.array(t.int) }),
  'holder.when': t.object({ ms: t.int }),
  'holder.big': t.object({ n: t.string }),
  'holder.add': t.object({ tag: t.string }),
  'holder.dump': t.object({}),
} as const;

interface HolderState {
  pair: [number, string, number];
  triple: [string, number];
  bytes: Uint8Array;
  samples: Float64Array;
  when: Date;
  big: number;
  tags: Set<string>;
  table: Map<string, [number, number]>;
  adds: string[];
}

export default defineServer<HolderState, typeof protocol>({
  protocol,
  init: () => ({
    pair: [0, '', 0],
    triple: ['', 0],
    bytes: new Uint8Array(0),
    samples: new Float64Array(0),
    when: new Date(0),
    big: 0,
    tags: new Set(),
    table: new Map(),
    adds: [],
  }),
  handlers: {
    'holder.pair': (s, msg) => {
      s.pair = [msg.x, msg.s, 0];
    },
    'holder.triple': (s, msg) => {
      s.triple = [msg.s, msg.x];
    },
    'holder.bytes': (s, msg) => {
      s.bytes = Uint8Array.from(msg.data);
      s.samples = Float64Array.from(msg.data, (x) => x / 2);
    },
    'holder.when': (s, msg) => {
      s.when = new Date(msg.ms);
    },
    'holder.big': (s, msg) => {
      s.big = Number(msg.n);
    },
    'holder.add': (s, msg, ctx) => {
      s.adds.push(msg.tag);
      s.tags.add(msg.tag);
      s.table.set(msg.tag, [s.adds.length, msg.tag.length]);
      return ok({ tag: msg.tag, inc: ctx.self.incarnation });
    },
    'holder.dump': (s) =>
      ok({
        pair: s.pair,
        triple: s.triple,
        bytes: [s.bytes.constructor.name, ...s.bytes],
        samples: [s.samples.constructor.name, ...s.samples],
        when: [s.when instanceof Date, s.when.toISOString()],
        big: String(s.big),
        tags: [...s.tags],
        table: [...s.table],
        adds: s.adds,
      }),
  },
});
