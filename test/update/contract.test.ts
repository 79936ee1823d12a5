/**
 * The update contract suite (DESIGN.md §3, §7.8): one procedure run over every old→new
 * pair of the update corpus (test/corpus/<component>/vN.ts).
 *
 * For each pair, one shared system holds two labels per component of the pair: `a`
 * runs the old version, `b` the version `a` should end up running — the new one for a
 * pair that must commit, the old one for a pair that must fail. Then:
 *   1. the same history of requests goes to `a` and `b` (and, for some pairs, requests
 *      left running: a handler that never finishes);
 *   2. `a` is live-updated with `rs.update` while a client fires 50 `add`-style
 *      requests with unique tags at it, concurrently with the update;
 *   3. the outcome, phase and reason are as the table says; for a commit, `a` is bound
 *      to a new incarnation of the version rs built; for a failure, `a` is still bound
 *      to the same incarnation, same version (`rs.list`);
 *   4. every add got exactly one reply, correlated (its own tag), answered by the old
 *      incarnation up to some point and by the new one after it (never back), and the
 *      final state holds each add exactly once, in the order sent;
 *   5. `b` is sent the same 50 adds; `a` answers every query exactly as `b` does —
 *      before and after a few more requests that run the new code on the transferred
 *      state.
 * A batch pair updates two components in one `rs.update`; every check applies to both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Result, ServiceConfig } from '../../src/kernel/abi.js';
import type { ServiceRow, UpdateOutcome, UpdatePhase, UpdateResult } from '../../src/servers/rs/protocol.js';
import type { TransferReport } from '../../src/update/transfer.js';
import { bootSystem, type TestSystem } from '../helpers/system.js';

type Msg = { type: string } & Record<string, unknown>;
type Component = 'counter' | 'kv' | 'graph' | 'files' | 'holder' | 'zoo' | 'limits';

const corpus = (component: Component, version: string) => fileURLToPath(new URL(`../corpus/${component}/${version}.ts`, import.meta.url));

// ───────────────────────────── how to drive each component ─────────────────────────────

interface Driver {
  /** Requests that build up a state; each must succeed on every version. */
  history: Msg[];
  /** Read-only queries: `a` must answer each exactly as `b`. */
  queries: Msg[];
  /** Requests sent to both after the update: the new code at work on the transferred state. */
  after: Msg[];
  /** The add-style request of the concurrent client. */
  add(tag: string): Msg;
  /** The add tags a dump shows, in the order applied (a tag applied twice shows twice). */
  adds(dump: unknown): string[];
  /** Whether `adds` shows the order in which adds were applied (else only how many times). */
  ordered: boolean;
}

const DRIVERS: Record<Component, Driver> = {
  counter: {
    history: [
      { type: 'counter.add', tag: 'h1', n: 5 },
      { type: 'counter.add', tag: 'h2', n: 1 },
      { type: 'counter.wait', ms: 1 },
      { type: 'counter.add', tag: 'h3', n: 30 },
    ],
    queries: [{ type: 'counter.dump' }],
    after: [{ type: 'counter.add', tag: 'after', n: 7 }, { type: 'counter.wait', ms: 1 }],
    add: (tag) => ({ type: 'counter.add', tag, n: 1 }),
    adds: (d) => (d as { adds: string[] }).adds,
    ordered: true,
  },
  kv: {
    history: [
      { type: 'kv.put', key: 'alpha', value: 'one' },
      { type: 'kv.put', key: 'beta', value: 'two' },
      { type: 'kv.put', key: 'gamma', value: 'three' },
      { type: 'kv.get', key: 'alpha' },
      { type: 'kv.get', key: 'alpha' },
      { type: 'kv.del', key: 'beta' },
      { type: 'kv.put', key: 'gamma', value: 'drei' },
    ],
    queries: [{ type: 'kv.dump' }, { type: 'kv.show', key: 'alpha' }, { type: 'kv.show', key: 'gamma' }],
    after: [{ type: 'kv.get', key: 'gamma' }, { type: 'kv.put', key: 'delta', value: 'four' }, { type: 'kv.get', key: 'delta' }],
    add: (tag) => ({ type: 'kv.add', tag }),
    // An add puts its tag and counts one hit: applied twice, the entry shows 2 hits.
    adds: (d) =>
      (d as { entries: Array<[string, string, number]> }).entries
        .filter(([k, v]) => v === `added-${k}`)
        .flatMap(([k, , hits]) => Array.from({ length: hits }, () => k)),
    ordered: false,
  },
  graph: {
    history: [
      { type: 'graph.push', key: 'a', val: 10 },
      { type: 'graph.push', key: 'b', val: 20 },
      { type: 'graph.push', key: 'c', val: 30 },
      { type: 'graph.push', key: 'd', val: 20 },
      { type: 'graph.push', key: 'e', val: 50 },
      { type: 'graph.link', src: 'a', dst: 'c' }, // a and b share c
      { type: 'graph.link', src: 'b', dst: 'c' },
      { type: 'graph.link', src: 'c', dst: 'a' }, // a ↔ c: a cycle through jumps
      { type: 'graph.link', src: 'd', dst: 'd' }, // a node pointing at itself
      { type: 'graph.push', key: 'b', val: 60 }, // a second `b`: the index names the newest
      { type: 'graph.del', key: 'c' }, // c leaves the list; a and b still jump to it
    ],
    queries: [{ type: 'graph.dump' }],
    after: [
      { type: 'graph.push', key: 'f', val: 20 },
      { type: 'graph.link', src: 'f', dst: 'a' },
      { type: 'graph.del', key: 'd' },
    ],
    add: (tag) => ({ type: 'graph.add', tag }),
    adds: (d) => {
      const g = d as { head: number | null; nodes: Array<[number, string, string, number | null]> };
      const out: string[] = [];
      for (let i = g.head; i !== null; i = g.nodes[i]![3]) if (g.nodes[i]![1].startsWith('t')) out.push(g.nodes[i]![1]);
      return out;
    },
    ordered: true,
  },
  files: {
    history: [
      { type: 'fs.create', name: 'notes' },
      { type: 'fs.mkdir', name: 'sub' },
      { type: 'fs.link', name: 'notes.bak', to: 'notes' }, // a hard link: two names, one File
      { type: 'fs.open', name: 'notes', mode: 'w' }, // fd 3
      { type: 'fs.open', name: 'notes.bak', mode: 'rw' }, // fd 4: same File as fd 3
      { type: 'fs.open', name: 'notes', mode: 'r' }, // fd 5
      { type: 'fs.write', fd: 3, text: 'hello ' },
      { type: 'fs.write', fd: 4, text: 'HE' },
      { type: 'fs.write', fd: 3, text: 'world' },
      { type: 'fs.create', name: 'empty' },
    ],
    queries: [{ type: 'fs.dump' }, { type: 'fs.stat', name: 'notes' }, { type: 'fs.stat', name: 'sub' }],
    after: [
      { type: 'fs.write', fd: 4, text: 'llo, ' }, // through fd 4, visible through the shared File
      { type: 'fs.write', fd: 3, text: '!' },
      { type: 'fs.close', fd: 5 },
      { type: 'fs.open', name: 'empty', mode: 'rw' },
    ],
    add: (tag) => ({ type: 'fs.add', tag }),
    adds: (d) => {
      const log = (d as { names: unknown[][] }).names.find((n) => n[0] === 'adds.log')!;
      return String(log[4]).split('\n').filter(Boolean);
    },
    ordered: true,
  },
  holder: {
    history: [
      { type: 'holder.pair', x: 7, s: 'seven' },
      { type: 'holder.triple', s: 'tri', x: 3, b: false },
      { type: 'holder.bytes', data: [1, 2, 3, 250] },
      { type: 'holder.when', ms: 1_700_000_000_123 },
      { type: 'holder.big', n: '9007199254740991' },
      { type: 'holder.add', tag: 'h1' },
    ],
    queries: [{ type: 'holder.dump' }],
    after: [{ type: 'holder.add', tag: 'after' }, { type: 'holder.bytes', data: [9] }],
    add: (tag) => ({ type: 'holder.add', tag }),
    adds: (d) => (d as { adds: string[] }).adds.filter((t) => t.startsWith('t')),
    ordered: true,
  },
  zoo: {
    history: [
      { type: 'zoo.cat', name: 'tom', lives: 9 },
      { type: 'zoo.dog', name: 'rex', trick: 'sit' },
      { type: 'zoo.dog', name: 'rex', trick: 'roll' },
      { type: 'zoo.cat', name: 'felix', lives: 3 },
      { type: 'zoo.dog', name: 'odie', trick: 'lick' },
    ],
    queries: [{ type: 'zoo.dump' }],
    after: [{ type: 'zoo.dog', name: 'rex', trick: 'fetch' }, { type: 'zoo.cat', name: 'garfield', lives: 7 }],
    add: (tag) => ({ type: 'zoo.add', tag }),
    adds: (d) => (d as { pets: Array<[string, string]> }).pets.map((p) => p[1]),
    ordered: true,
  },
  limits: {
    history: [{ type: 'limits.add', tag: 'h1' }, { type: 'limits.set' }, { type: 'limits.add', tag: 'h2' }],
    queries: [{ type: 'limits.dump' }],
    after: [{ type: 'limits.add', tag: 'after' }],
    add: (tag) => ({ type: 'limits.add', tag }),
    adds: (d) => (d as { tags: string[] }).tags,
    ordered: true,
  },
};

// ───────────────────────────── the pair table ─────────────────────────────

interface Item {
  c: Component;
  from: string;
  to: string;
}

type Expect =
  | { outcome: 'committed'; report?: (r: TransferReport) => void }
  | { outcome: Exclude<UpdateOutcome, 'committed'>; phase: UpdatePhase; reason: RegExp };

interface Pair {
  name: string;
  rule: string;
  /** One item, or two for a batch (in the `rs.update` order). */
  items: Item[];
  expect: Expect;
  /** `rs.update` options (prepare mode, state filter, deadlines). */
  options?: { prepare?: string; state?: string; maxtime?: number; initMaxtime?: number; block?: Array<{ label?: string; type?: string }> };
  /** History for the first item instead of its component's. */
  history?: Msg[];
  /** More history for the first item, after its component's. */
  extra?: Msg[];
  /** Requests sent to both labels of the first item and left running (not awaited). */
  running?: Msg[];
}

const one = (c: Component, from: string, to: string): Item[] => [{ c, from, to }];
const committed = (report?: (r: TransferReport) => void): Expect => ({ outcome: 'committed', ...(report ? { report } : {}) });
const failed = (outcome: Exclude<UpdateOutcome, 'committed'>, phase: UpdatePhase, reason: RegExp): Expect => ({ outcome, phase, reason });

const PAIRS: Pair[] = [
  // counter: primitive conversions, fields added / removed / reordered, and the failure cases.
  {
    name: 'counter v1→v2', rule: 'number → bigint', items: one('counter', 'v1', 'v2'),
    expect: committed((r) => expect(r.converted).toEqual({ 'CounterState.count: number → bigint': 1 })),
  },
  {
    name: 'counter v2→v1', rule: 'bigint → number (lossless)', items: one('counter', 'v2', 'v1'),
    expect: committed((r) => expect(r.converted).toEqual({ 'CounterState.count: bigint → number': 1 })),
  },
  {
    name: 'counter v1→v3', rule: 'number → string', items: one('counter', 'v1', 'v3'),
    expect: committed((r) => expect(r.converted).toEqual({ 'CounterState.count: number → string': 1 })),
  },
  {
    name: 'counter v3→v1', rule: 'numeric string → number', items: one('counter', 'v3', 'v1'),
    expect: committed((r) => expect(r.converted).toEqual({ 'CounterState.count: string → number': 1 })),
  },
  {
    name: 'counter v3→v2', rule: 'numeric string → bigint', items: one('counter', 'v3', 'v2'),
    expect: committed((r) => expect(r.converted).toEqual({ 'CounterState.count: string → bigint': 1 })),
  },
  {
    name: 'counter v1→v4', rule: 'fields reordered; `waited` removed and reported; `unit` added from init', items: one('counter', 'v1', 'v4'),
    expect: committed((r) => {
      expect(r.removed).toEqual({ 'CounterState.waited': 1 });
      expect(r.added).toEqual({ 'CounterState.unit': 1 });
      expect(r.converted).toEqual({});
    }),
  },
  {
    name: 'counter v2→v1 lossy', rule: 'bigint → number that would lose precision: refused', items: one('counter', 'v2', 'v1'),
    // count ≈ 2^59 (doubles there are 128 apart) and ≡ 1 (mod 128): no count the concurrent
    // adds (+1 each, at most 50) can lead to is a double, whenever the transfer happens.
    extra: [
      ...Array.from({ length: 65 }, (_, i) => ({ type: 'counter.add', tag: `big${i}`, n: Number.MAX_SAFE_INTEGER })),
      { type: 'counter.add', tag: 'odd', n: 30 },
    ],
    expect: failed('rolled-back', 'transfer', /state\.count: bigint \d+ does not fit a number without loss/),
  },
  {
    name: 'counter v1→v5', rule: 'new version’s init throws', items: one('counter', 'v1', 'v5'),
    expect: failed('rolled-back', 'spawn', /init refuses to start/),
  },
  {
    name: 'counter v1→v6', rule: 'afterTransfer throws', items: one('counter', 'v1', 'v6'),
    expect: failed('rolled-back', 'transfer', /afterTransfer refuses a state of \d+ adds/),
  },
  {
    name: 'counter v1→v7', rule: 'new incarnation exits (process.exit) during transfer', items: one('counter', 'v1', 'v7'),
    expect: failed('rolled-back', 'transfer', /ended \(exit\)/),
  },
  {
    name: 'counter v1→v8', rule: 'new incarnation crashes (uncaught throw from a timer) during transfer', items: one('counter', 'v1', 'v8'),
    expect: failed('rolled-back', 'transfer', /ended \(throw\)/),
  },
  {
    name: 'counter v1→v9', rule: 'the new version’s check fails', items: one('counter', 'v1', 'v9'),
    expect: failed('rolled-back', 'transfer', /state check failed: count \d+ is not the number of adds/),
  },
  {
    name: 'counter v10→v1', rule: 'a function in the old state: untransferable, the reason names its path', items: one('counter', 'v10', 'v1'),
    extra: [{ type: 'counter.fmt', radix: 16 }],
    expect: failed('rolled-back', 'transfer', /state\.fmt: a function cannot be transferred/),
  },
  {
    name: 'counter v1→v2 busy', rule: 'request-free never holds (a handler that never finishes): deadline', items: one('counter', 'v1', 'v2'),
    running: [{ type: 'counter.wait', ms: 120_000 }],
    options: { prepare: 'request-free', maxtime: 300 },
    expect: failed('cancelled', 'prepare', /did not reach request-free within 300 ms/),
  },
  {
    name: 'counter v1→v2 filter', rule: 'a state filter that never holds: deadline', items: one('counter', 'v1', 'v2'),
    options: { prepare: 'state', state: 'state.count < 0', maxtime: 300 },
    expect: failed('cancelled', 'prepare', /did not reach state state\.count < 0 within 300 ms/),
  },
  // kv: Map of class instances; class re-created, renamed; fields renamed; per-type transfer.
  {
    name: 'kv v1→v2', rule: 'class instances re-created from the new class (new show()); field added from init, removed, reordered', items: one('kv', 'v1', 'v2'),
    expect: committed((r) => {
      expect(r.removed).toEqual({ 'KvState.legacy': 1 });
      expect(r.added).toEqual({ 'KvState.limit': 1 });
      expect(r.dropped).toBe(1); // the legacy array
    }),
  },
  {
    name: 'kv v2→v1', rule: 'back: field added from the old init, removed field reported', items: one('kv', 'v2', 'v1'),
    expect: committed((r) => {
      expect(r.removed).toEqual({ 'KvState.limit': 1 });
      expect(r.added).toEqual({ 'KvState.legacy': 1 });
    }),
  },
  {
    name: 'kv v2→v3', rule: 'class renamed (transfer.types) and field renamed (transfer.fields)', items: one('kv', 'v2', 'v3'),
    expect: committed((r) => {
      expect(r.removed).toEqual({});
      expect(r.added).toEqual({});
    }),
  },
  {
    name: 'kv v1→v3', rule: 'rename pairing across two versions of changes', items: one('kv', 'v1', 'v3'),
    expect: committed((r) => {
      expect(r.removed).toEqual({ 'KvState.legacy': 1 });
      expect(r.added).toEqual({ 'KvState.limit': 1 });
    }),
  },
  {
    name: 'kv v3→v4', rule: 'per-type transfer (typeTransfer.Item): string → string[]', items: one('kv', 'v3', 'v4'),
    expect: committed((r) => expect(r.removed).toEqual({})),
  },
  // graph: cycles and shared references, plain ↔ class, interface renamed, afterTransfer.
  {
    name: 'graph v1→v2', rule: 'cycles and shared references kept; plain objects → class instances; nested number → bigint', items: one('graph', 'v1', 'v2'),
    expect: committed((r) => {
      expect(r.converted['Node.val: number → bigint']).toBeGreaterThanOrEqual(7);
      expect(r.dropped).toBe(0);
    }),
  },
  {
    name: 'graph v2→v1', rule: 'class instances → plain objects; bigint → number; cycles kept', items: one('graph', 'v2', 'v1'),
    expect: committed((r) => expect(r.converted['Node.val: bigint → number']).toBeGreaterThanOrEqual(7)),
  },
  {
    name: 'graph v1→v3', rule: 'interface renamed (transfer.types); derived index rebuilt by afterTransfer', items: one('graph', 'v1', 'v3'),
    expect: committed((r) => expect(r.added).toEqual({ 'GraphState.byVal': 1 })),
  },
  {
    name: 'graph v2→v3', rule: 'class → renamed interface, bigint → number, afterTransfer', items: one('graph', 'v2', 'v3'),
    expect: committed((r) => expect(r.added).toEqual({ 'GraphState.byVal': 1 })),
  },
  // files: class instances in a union, shared between Maps, fds and links.
  {
    name: 'files v1→v2', rule: 'class in a union renamed (transfer.types); number → bigint inside instances; new prototypes', items: one('files', 'v1', 'v2'),
    expect: committed((r) => expect(r.converted['Regular.size: number → bigint']).toBe(3)),
  },
  {
    name: 'files v2→v3', rule: 'per-field transfer (fieldTransfer OpenFile.flags); old field dropped and reported', items: one('files', 'v2', 'v3'),
    expect: committed((r) => expect(r.removed).toEqual({ 'OpenFile.mode': 3 })),
  },
  {
    name: 'files v1→v4', rule: 'class renamed without a pairing: an instance with no class of its name is refused', items: one('files', 'v1', 'v4'),
    // No open files: nothing but the inode Map's union decides what an old File becomes.
    history: [{ type: 'fs.create', name: 'notes' }, { type: 'fs.mkdir', name: 'sub' }],
    expect: failed('rolled-back', 'transfer', /\bFile\b/),
  },
  // holder: tuples, typed arrays, Date, bigint, Set, Map.
  {
    name: 'holder v1→v2', rule: 'tuple extended and truncated; typed arrays, Date, Set, Map kept; bigint → number', items: one('holder', 'v1', 'v2'),
    expect: committed((r) => expect(r.converted).toEqual({ 'HolderState.big: bigint → number': 1 })),
  },
  {
    name: 'holder v2→v1', rule: 'tuple truncated and extended back (the new element takes its zero value); number → bigint', items: one('holder', 'v2', 'v1'),
    expect: committed((r) => expect(r.converted).toEqual({ 'HolderState.big: number → bigint': 1 })),
  },
  {
    name: 'holder v1→v3', rule: 'per-field transfer (fieldTransfer HolderState.when): Date → number', items: one('holder', 'v1', 'v3'),
    expect: committed(),
  },
  // zoo: a union of plain interfaces that only their fields tell apart.
  {
    name: 'zoo v1→v2', rule: 'union of interfaces without a discriminant: every element stays the member it is', items: one('zoo', 'v1', 'v2'),
    expect: committed((r) => {
      expect(r.added).toEqual({ 'ZooState.opened': 1 });
      expect(r.removed).toEqual({});
    }),
  },
  {
    name: 'zoo v1→v1', rule: 'the same version again: a transfer that changes no type changes no value', items: one('zoo', 'v1', 'v1'),
    expect: committed((r) => {
      expect(r.added).toEqual({});
      expect(r.removed).toEqual({});
    }),
  },
  // limits: a field whose type admits undefined, holding undefined.
  {
    name: 'limits v1→v2', rule: 'a field holding undefined (its type admits it) is kept, not re-initialised', items: one('limits', 'v1', 'v2'),
    expect: committed((r) => expect(r.added).toEqual({ 'LimitsState.since': 1 })),
  },
  // batches: two components, one transaction.
  {
    name: 'batch graph v1→v2 + holder v1→v2', rule: 'batch: both commit at once',
    items: [{ c: 'graph', from: 'v1', to: 'v2' }, { c: 'holder', from: 'v1', to: 'v2' }],
    expect: committed(),
  },
  {
    name: 'batch kv v1→v2 + counter v1→v9', rule: 'batch: the second fails its check → both rolled back',
    items: [{ c: 'kv', from: 'v1', to: 'v2' }, { c: 'counter', from: 'v1', to: 'v9' }],
    expect: failed('rolled-back', 'transfer', /state check failed/),
  },
  {
    name: 'batch counter v1→v2 + counter v1→v5', rule: 'batch: the second cannot start → both rolled back',
    items: [{ c: 'counter', from: 'v1', to: 'v2' }, { c: 'counter', from: 'v1', to: 'v5' }],
    expect: failed('rolled-back', 'spawn', /init refuses to start/),
  },
  {
    name: 'batch holder v1→v2 + counter v1→v7', rule: 'batch: the second crashes in transfer → both rolled back',
    items: [{ c: 'holder', from: 'v1', to: 'v2' }, { c: 'counter', from: 'v1', to: 'v7' }],
    expect: failed('rolled-back', 'transfer', /ended \(exit\)/),
  },
  {
    name: 'batch counter v1→v2 + counter v1→v12', rule: 'batch: the second is gone by commit (after the first was rebound) → both rolled back',
    items: [{ c: 'counter', from: 'v1', to: 'v2' }, { c: 'counter', from: 'v1', to: 'v12' }],
    // Many (non-matching) interface filters: releasing them makes the commit phase long
    // enough that v12's new incarnation (it exits 5 ms after its transfer) is gone by the
    // time the second endpoint is rebound — after the first one was.
    options: { block: Array.from({ length: 1_000 }, (_, i) => ({ type: `nothing.${i}` })) },
    expect: failed('rolled-back', 'commit', /is not ready/),
  },
];

// ───────────────────────────── the procedure ─────────────────────────────

const ADDS = 50;
const NO_PRIVILEGES = { to: [], types: [], kcalls: [] };

interface Labels {
  a: string;
  b: string;
}

/** Labels of a pair's items: `p07-1a` (updated) and `p07-1b` (reference). */
const labelsOf = (index: number, item: number): Labels => {
  const p = `p${String(index + 1).padStart(2, '0')}-${item + 1}`;
  return { a: `${p}a`, b: `${p}b` };
};

function services(): ServiceConfig[] {
  return PAIRS.flatMap((pair, i) =>
    pair.items.flatMap((item, j) => {
      const { a, b } = labelsOf(i, j);
      const reference = pair.expect.outcome === 'committed' ? item.to : item.from;
      return [
        { label: a, source: corpus(item.c, item.from), privileges: NO_PRIVILEGES },
        { label: b, source: corpus(item.c, reference), privileges: NO_PRIVILEGES },
      ];
    }),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A reply without the incarnation that gave it (which is all that may differ between a and b). */
function sameAnswer(r: Result): Result {
  if (!r.ok || r.value === null || typeof r.value !== 'object' || !('inc' in r.value)) return r;
  const { inc: _inc, ...rest } = r.value as Record<string, unknown>;
  return { ok: true, value: rest };
}

describe('update contract: every pair of the corpus', () => {
  let sys: TestSystem;
  /** Adds fired (and held) during prepare or transfer across the suite: the concurrency checks met held endpoints. */
  let heldDuringUpdates = 0;
  let updates = 0;

  const call = async <T = unknown>(to: string, msg: Msg, timeoutMs = 30_000): Promise<T> => {
    const r = await sys.kernel.call(to, msg, timeoutMs);
    if (!r.ok) throw new Error(`${to} ${msg.type}: ${r.code} ${r.message ?? ''}`);
    return r.value as T;
  };
  const row = async (label: string) => (await call<ServiceRow[]>('rs', { type: 'rs.list' })).find((r) => r.label === label)!;
  const answers = (label: string, d: Driver) => Promise.all(d.queries.map((q) => call(label, q)));

  beforeAll(async () => {
    sys = await bootSystem({
      config: (c) => ({ ...c, services: [...c.services.filter((s) => s.label === 'ds'), ...services()] }),
    });
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
  });

  afterAll(() => {
    // Across the whole suite, some adds must have arrived while an endpoint was held (else
    // the concurrency checks would have proved little).
    if (updates >= PAIRS.length) expect(heldDuringUpdates).toBeGreaterThan(0);
  });

  PAIRS.forEach((pair, index) => {
    const title = `${pair.name} — ${pair.rule} → ${pair.expect.outcome}${'phase' in pair.expect ? ` (${pair.expect.phase})` : ''}`;
    it(title, async () => {
      const items = pair.items.map((item, j) => ({ ...item, ...labelsOf(index, j), d: DRIVERS[item.c] }));

      // 1. The same history to a and b.
      for (const [j, it] of items.entries()) {
        const history = j === 0 ? [...(pair.history ?? it.d.history), ...(pair.extra ?? [])] : it.d.history;
        for (const msg of history) {
          await call(it.a, msg);
          await call(it.b, msg);
        }
      }
      for (const msg of pair.running ?? []) {
        void sys.kernel.call(items[0]!.a, msg, 300_000);
        void sys.kernel.call(items[0]!.b, msg, 300_000);
      }
      const before = await Promise.all(items.map(async (it) => ({ row: await row(it.a), dump: await answers(it.a, it.d) })));
      for (const [j, it] of items.entries()) expect(before[j]!.row.status).toBe('running');

      // 2. Live update of every a, while a client fires adds at each of them: a stream across
      //    the whole update, plus a few fired the moment a's interface filter is installed
      //    (prepare) and the moment the transfer starts — those are held, for sure.
      const traceFrom = sys.trace.length;
      const aLabels = new Set(items.map((it) => it.a));
      const tags: string[] = [];
      const replies: Array<Array<Promise<Result>>> = items.map(() => []);
      let hooked = 0;
      const fire = (tag: string): boolean => {
        if (tags.length >= ADDS) return false;
        tags.push(tag);
        for (const [j, it] of items.entries()) replies[j]!.push(sys.kernel.call(it.a, it.d.add(tag), 15_000));
        return true;
      };
      const unhook = sys.kernel.trace.on((ev) => {
        // (A filter that matches everything: what is sent now is held.)
        const holdsAll = ev.ev === 'filter.installed' && aLabels.has(ev.label) && Object.keys(ev.match).length === 0;
        const transferring = ev.ev === 'update.phase' && ev.phase === 'transfer' && ev.status === 'start' && ev.label.split(',').some((l) => aLabels.has(l));
        const at = holdsAll ? 'p' : transferring ? 'x' : null;
        if (!at) return;
        // Not from inside the kernel's own call stack: right after it, before any other message.
        queueMicrotask(() => {
          for (let k = 0; k < 3; k++) if (fire(`t-${at}${hooked}`)) hooked++;
        });
      });
      const update = call<UpdateResult>('rs', {
        type: 'rs.update',
        items: items.map((it) => ({ label: it.a, source: corpus(it.c, it.to) })),
        ...pair.options,
      }, 120_000);
      for (let k = 0; tags.length < ADDS; k++) {
        fire(`t-s${String(k).padStart(2, '0')}`);
        // A burst at the start, then a steady stream across the update's phases.
        if (k >= 10) await sleep(2);
      }
      const result = await update;
      unhook();
      const aEndpoints = new Set(items.map((it) => sys.kernel.endpointTable().find((e) => e.label === it.a)!.endpoint));
      const held = sys.trace.slice(traceFrom).filter((e) => e.ev === 'msg.held' && aEndpoints.has(e.to)).length;
      updates++;
      heldDuringUpdates += hooked;
      expect(tags).toHaveLength(ADDS);
      // Those fired at prepare and transfer were held (at least by the component being prepared).
      expect(held).toBeGreaterThanOrEqual(hooked);

      // 3. Outcome, phase, reason; what is bound now.
      const e = pair.expect;
      expect({ outcome: result.outcome, phase: result.phase }).toEqual({ outcome: e.outcome, phase: e.outcome === 'committed' ? 'commit' : e.phase });
      expect(result.labels).toEqual(items.map((it) => it.a));
      if (e.outcome === 'committed') {
        expect(result.reason).toBeNull();
        for (const it of items) e.report?.(result.reports[it.a] as TransferReport);
      } else {
        expect(result.reason).toMatch(e.reason);
      }
      for (const [j, it] of items.entries()) {
        const now = await row(it.a);
        const was = before[j]!.row;
        expect(now.status).toBe('running');
        expect(now.endpoint).toBe(was.endpoint);
        // What rs lists is what the kernel has bound.
        const bound = sys.kernel.endpointTable().find((x) => x.label === it.a)!;
        expect({ status: bound.status, incarnation: bound.incarnation }).toEqual({ status: 'bound', incarnation: now.incarnation });
        if (e.outcome === 'committed') {
          expect(now.incarnation).not.toBe(was.incarnation);
          expect(now.version).toBe(result.versions.find((v) => v.label === it.a)!.to);
          // A new version has a new bundle hash (the same version again keeps its hash).
          if (it.from !== it.to) expect(now.version).not.toBe(was.version);
        } else {
          expect(now.incarnation).toBe(was.incarnation);
          expect(now.version).toBe(was.version);
        }
      }

      // 4. Every add: one reply, its own, from the old incarnation then (after a commit) the new one.
      const settled = await Promise.all(replies.map((rs) => Promise.all(rs)));
      for (const [j, it] of items.entries()) {
        const got = settled[j]!;
        expect(got.map((r) => (r.ok ? (r.value as { tag: string }).tag : `${r.code} ${r.message}`))).toEqual(tags);
        const incs = got.map((r) => (r.ok ? (r.value as { inc: number }).inc : -1));
        const oldInc = before[j]!.row.incarnation;
        const newInc = (await row(it.a)).incarnation ?? -2;
        const switched = incs.indexOf(newInc);
        if (e.outcome === 'committed') {
          const cut = switched < 0 ? incs.length : switched;
          expect(incs).toEqual([...incs.slice(0, cut).map(() => oldInc), ...incs.slice(cut).map(() => newInc)]);
        } else {
          expect(incs).toEqual(incs.map(() => oldInc));
        }
        const dump = (await call(it.a, it.d.queries[0]!)) as unknown;
        const applied = it.d.adds(dump).filter((t) => tags.includes(t));
        if (it.d.ordered) expect(applied).toEqual(tags);
        else expect([...applied].sort()).toEqual([...tags].sort());
      }

      // 5. b gets the same adds; a answers every query exactly as b — and still does after more work.
      for (const it of items) {
        const bReplies = await Promise.all(tags.map((tag) => sys.kernel.call(it.b, it.d.add(tag), 30_000)));
        expect(bReplies.every((r) => r.ok)).toBe(true);
        expect(await answers(it.a, it.d)).toEqual(await answers(it.b, it.d));
        for (const msg of it.d.after) expect(sameAnswer(await sys.kernel.call(it.a, msg))).toEqual(sameAnswer(await sys.kernel.call(it.b, msg)));
        expect(await answers(it.a, it.d)).toEqual(await answers(it.b, it.d));
      }
    });
  });
});
