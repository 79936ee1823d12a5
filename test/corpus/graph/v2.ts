/**
 * Update corpus: `graph`, version 2 — `Node` is now a class (`classes: { Node }`) whose
 * `val` is a bigint and whose `label()` renders a node; a transfer from v1 re-creates
 * every plain node as an instance (one per old object: cycles and shared references
 * kept), converting `val` number → bigint; back to v1, bigint → number. Same protocol.
 */
import { defineServer, err, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'graph.push': t.object({ key: t.string, val: t.int }),
  'graph.add': t.object({ tag: t.string }),
  'graph.link': t.object({ src: t.string, dst: t.string }),
  'graph.del': t.object({ key: t.string }),
  'graph.dump': t.object({}),
} as const;

export class Node {
  next: Node | null = null;
  jump: Node | null = null;

  constructor(
    public id: string,
    public val: bigint,
    public prev: Node | null,
  ) {}

  label(): string {
    return `${this.id}=${this.val}`;
  }
}

interface GraphState {
  head: Node | null;
  tail: Node | null;
  index: Map<string, Node>;
  self: GraphState | null;
}

function push(s: GraphState, id: string, val: bigint): Node {
  const n = new Node(id, val, s.tail);
  if (s.tail) s.tail.next = n;
  else s.head = n;
  s.tail = n;
  s.index.set(id, n);
  return n;
}

/** Canonical rendering: objects numbered head, tail, index (by key), then breadth first. */
function render(s: GraphState) {
  const num = new Map<Node, number>();
  const order: Node[] = [];
  const ref = (n: Node | null): number | null => {
    if (!n) return null;
    let k = num.get(n);
    if (k === undefined) {
      k = order.length;
      num.set(n, k);
      order.push(n);
    }
    return k;
  };
  const head = ref(s.head);
  const tail = ref(s.tail);
  const index = [...s.index.keys()].sort().map((k) => [k, ref(s.index.get(k)!)]);
  const nodes: unknown[] = [];
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    const [id, val] = n.label().split('=');
    nodes.push([i, id, val, ref(n.next), ref(n.prev), ref(n.jump)]);
  }
  return { head, tail, index, nodes, selfIsRoot: s.self === s };
}

export default defineServer<GraphState, typeof protocol>({
  protocol,
  classes: { Node },
  init: () => {
    const s: GraphState = { head: null, tail: null, index: new Map(), self: null };
    s.self = s;
    return s;
  },
  handlers: {
    'graph.push': (s, msg) => {
      push(s, msg.key, BigInt(msg.val));
      return ok(null);
    },
    'graph.add': (s, msg, ctx) => {
      push(s, msg.tag, 1n);
      return ok({ tag: msg.tag, inc: ctx.self.incarnation });
    },
    'graph.link': (s, msg) => {
      const from = s.index.get(msg.src);
      const to = s.index.get(msg.dst);
      if (!from || !to) return err('ENOENT', `${msg.src} or ${msg.dst}`);
      from.jump = to;
      return ok(null);
    },
    'graph.del': (s, msg) => {
      const n = s.index.get(msg.key);
      if (!n) return err('ENOENT', msg.key);
      if (n.prev) n.prev.next = n.next;
      else s.head = n.next;
      if (n.next) n.next.prev = n.prev;
      else s.tail = n.prev;
      n.next = n.prev = null;
      s.index.delete(msg.key);
      return ok(null);
    },
    'graph.dump': (s) => ok(render(s)),
  },
});
