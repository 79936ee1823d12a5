/**
 * Update corpus: `holder`, version 3 — v1 with `when` kept as epoch milliseconds
 * instead of a Date. No default rule converts a Date to a number: a per-field transfer
 * callback does. Same protocol as v1.
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
  /** Milliseconds since the epoch (v1, v2: a Date). */
  when: number;
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
    when: 0,
    big: 0n,
    tags: new Set(),
    table: new Map(),
    adds: [],
  }),
  transfer: {
    fieldTransfer: {
      'HolderState.when': (old) => (old.when as Date).getTime(),
    },
  },
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
      s.when = msg.ms;
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
        when: [true, new Date(s.when).toISOString()],
        big: String(s.big),
        tags: [...s.tags],
        table: [...s.table],
        adds: s.adds,
      }),
  },
});
