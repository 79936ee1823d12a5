/**
 * Update corpus: `holder`, version 1 — a state of the value kinds a transfer keeps
 * as they are or reshapes: tuples, typed arrays, a Date, a bigint, a Set, a Map of
 * tuples.
 *
 * Protocol (every holder version): `holder.pair { x, s }`, `holder.triple { s, x, b }`,
 * `holder.bytes { data }` (bytes, and samples = data / 2), `holder.when { ms }`,
 * `holder.big { n }` (a decimal string), `holder.add { tag }` (logs the tag, adds it to
 * the Set and the Map), `holder.dump {}` (every field rendered as plain JSON, with the
 * class of each typed array / Date so a transfer that lost one shows).
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
  pair: [number, string];
  triple: [string, number, boolean];
  bytes: Uint8Array;
  samples: Float64Array;
  when: Date;
  big: bigint;
  tags: Set<string>;
  table: Map<string, [number, number]>;
  adds: string[];
}

export default defineServer<HolderState, typeof protocol>({
  protocol,
  init: () => ({
    pair: [0, ''],
    triple: ['', 0, false],
    bytes: new Uint8Array(0),
    samples: new Float64Array(0),
    when: new Date(0),
    big: 0n,
    tags: new Set(),
    table: new Map(),
    adds: [],
  }),
  handlers: {
    'holder.pair': (s, msg) => {
      s.pair = [msg.x, msg.s];
    },
    'holder.triple': (s, msg) => {
      s.triple = [msg.s, msg.x, msg.b];
    },
    'holder.bytes': (s, msg) => {
      s.bytes = Uint8Array.from(msg.data);
      s.samples = Float64Array.from(msg.data, (x) => x / 2);
    },
    'holder.when': (s, msg) => {
      s.when = new Date(msg.ms);
    },
    'holder.big': (s, msg) => {
      s.big = BigInt(msg.n);
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
