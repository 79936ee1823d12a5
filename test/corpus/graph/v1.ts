/**
 * Update corpus: `graph`, version 1 — a doubly linked list of plain `Node`s with
 * `jump` pointers that make cycles and shared references (two nodes jumping to one,
 * a node jumping to itself, a node unlinked from the list yet still jumped to), an
 * index (Map) sharing the list's nodes, and a root that points to itself.
 *
 * Protocol (every graph version): `graph.push { key, val }` appends a node (the index
 * then names the newest node of that key); `graph.add { tag }` pushes `tag` with val 1;
 * `graph.link { src, dst }` sets src's jump; `graph.del { key }` unlinks the node from
 * the list and the index (jumps to it remain); `graph.dump {}` renders the whole graph
 * canonically: every object numbered in a fixed visit order, every pointer as a
 * number — so a copy that lost a shared reference or a cycle renders differently.
 */
import { defineServer, err, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'graph.push': t.object({ key: t.string, val: t.int }),
  'graph.add': t.object({ tag: t.string }),
  'graph.link': t.object({ src: t.string, dst: t.string }),
  'graph.del': t.object({ key: t.string }),
  'graph.dump': t.object({}),
} as const;

interface Node {
  id: string;
  val: number;
  next: Node | null;
  prev: Node | null;
  jump: Node | null;
}

interface GraphState {
  head: Node | null;
  tail: Node | null;
  index: Map<string, Node>;
  self: GraphState | null;
}

function push(s: GraphState, id: string, val: number): Node {
  const n: Node = { id, val, next: null, prev: s.tail, jump: null };
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
    nodes.push([i, n.id, String(n.val), ref(n.next), ref(n.prev), ref(n.jump)]);
  }
  return { head, tail, index, nodes, selfIsRoot: s.self === s };
}

export default defineServer<GraphState, typeof protocol>({
  protocol,
  init: () => {
    const s: GraphState = { head: null, tail: null, index: new Map(), self: null };
    s.self = s;
    return s;
  },
  handlers: {
    'graph.push': (s, msg) => {
      push(s, msg.key, msg.val);
      return ok(null);
    },
    'graph.add': (s, msg, ctx) => {
      push(s, msg.tag, 1);
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
