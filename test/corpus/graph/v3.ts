/**
 * Update corpus: `graph`, version 3 — the node type is renamed `Link` (paired with the
 * old `Node` by `transfer.types`), and the state gains `byVal`, an index of the listed
 * links by value that this version keeps up to date on every change. A transfer
 * cannot know it: `afterTransfer` rebuilds it from the list (sharing the list's
 * objects). Same protocol as v1.
 */
import { defineServer, err, ok, t } from '../../../src/sys/index.js';

export const protocol = {
  'graph.push': t.object({ key: t.string, val: t.int }),
  'graph.add': t.object({ tag: t.string }),
  'graph.link': t.object({ src: t.string, dst: t.string }),
  'graph.del': t.object({ key: t.string }),
  'graph.dump': t.object({}),
} as const;

interface Link {
  id: string;
  val: number;
  next: Link | null;
  prev: Link | null;
  jump: Link | null;
}

interface GraphState {
  head: Link | null;
  tail: Link | null;
  index: Map<string, Link>;
  byVal: Map<number, Link[]>;
  self: GraphState | null;
}

function push(s: GraphState, id: string, val: number): Link {
  const n: Link = { id, val, next: null, prev: s.tail, jump: null };
  if (s.tail) s.tail.next = n;
  else s.head = n;
  s.tail = n;
  s.index.set(id, n);
  const same = s.byVal.get(val);
  if (same) same.push(n);
  else s.byVal.set(val, [n]);
  return n;
}

/** Canonical rendering: objects numbered head, tail, index (by key), then breadth first. */
function render(s: GraphState) {
  const num = new Map<Link, number>();
  const order: Link[] = [];
  const ref = (n: Link | null): number | null => {
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
  const byVal = [...s.byVal.keys()].sort((a, b) => a - b).map((v) => [v, s.byVal.get(v)!.map((n) => num.get(n) ?? 'unlisted')]);
  return { head, tail, index, nodes, selfIsRoot: s.self === s, byVal };
}

export default defineServer<GraphState, typeof protocol>({
  protocol,
  init: () => {
    const s: GraphState = { head: null, tail: null, index: new Map(), byVal: new Map(), self: null };
    s.self = s;
    return s;
  },
  transfer: {
    types: { Link: 'Node' },
    afterTransfer: (s) => {
      s.byVal = new Map();
      for (let n = s.head; n; n = n.next) {
        const same = s.byVal.get(n.val);
        if (same) same.push(n);
        else s.byVal.set(n.val, [n]);
      }
    },
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
      const same = s.byVal.get(n.val)!.filter((x) => x !== n);
      if (same.length > 0) s.byVal.set(n.val, same);
      else s.byVal.delete(n.val);
      return ok(null);
    },
    'graph.dump': (s) => ok(render(s)),
  },
});
