/**
 * Unit: the endpoint table and its hold/release discipline (src/kernel/endpoints.ts).
 * Held messages are released in order, and once one message from a sender is held,
 * every later message from that sender waits behind it, whatever its type.
 */
import { describe, expect, it } from 'vitest';
import { FIRST_COMPONENT_ENDPOINT, type Message } from '../../src/kernel/abi.js';
import { EndpointEntry, EndpointTable, matches, typeMatches, type Envelope } from '../../src/kernel/endpoints.js';
import type { Incarnation } from '../../src/kernel/incarnation.js';

const A = 20;
const B = 21;
const C = 22;
let seq = 0;
const env = (from: number, type: string, call = 0): Envelope => ({ msg: { type, id: call, from, seq: seq++ } as Message, call });
/** Stand-in for a live incarnation: the entry only stores it. */
const fakeInc = { id: 1 } as unknown as Incarnation;

function bound(): EndpointEntry {
  const e = new EndpointEntry('svc', 9);
  e.state = { status: 'bound', incarnation: fakeInc };
  return e;
}

/** What a sender would do: hold if the entry says so, else "deliver". */
function route(e: EndpointEntry, x: Envelope, delivered: Envelope[]): void {
  if (e.shouldHold(x.msg)) e.hold(x);
  else delivered.push(x);
}
const tag = (xs: Envelope[]) => xs.map((x) => `${x.msg.from}:${x.msg.type}`);

describe('typeMatches / matches', () => {
  it('matches *, exact types and prefix patterns', () => {
    expect(typeMatches('*', 'vfs.open')).toBe(true);
    expect(typeMatches('vfs.open', 'vfs.open')).toBe(true);
    expect(typeMatches('vfs.open', 'vfs.openat')).toBe(false);
    expect(typeMatches('vfs.*', 'vfs.open')).toBe(true);
    expect(typeMatches('vfs.*', 'vfsx.open')).toBe(false);
    expect(typeMatches('vfs.*', 'vfs')).toBe(false);
  });
  it('a filter match needs every given condition', () => {
    const m = { type: 'x.a', id: 0, from: A } as Message;
    expect(matches({}, m)).toBe(true);
    expect(matches({ from: [A] }, m)).toBe(true);
    expect(matches({ from: [B] }, m)).toBe(false);
    expect(matches({ from: [A], types: ['x.*'] }, m)).toBe(true);
    expect(matches({ from: [A], types: ['y.*'] }, m)).toBe(false);
    expect(matches({ types: ['x.b', 'x.a'] }, m)).toBe(true);
  });
});

describe('EndpointEntry', () => {
  it('holds everything while unbound and releases it in order once bound', () => {
    const e = new EndpointEntry('svc', 9);
    const delivered: Envelope[] = [];
    const sent = [env(A, 'x.1'), env(B, 'x.2'), env(A, 'x.3', 7), env(C, 'x.4')];
    for (const x of sent) route(e, x, delivered);
    expect(delivered).toEqual([]);
    expect(e.heldCount).toBe(4);
    expect(e.takeReleasable()).toEqual([]); // still unbound: nothing moves
    expect(e.heldCount).toBe(4);
    e.state = { status: 'bound', incarnation: fakeInc };
    expect(e.takeReleasable()).toEqual(sent);
    expect(e.heldCount).toBe(0);
  });

  it('a filter on one sender holds that sender only', () => {
    const e = bound();
    e.filters.set(1, { from: [A] });
    const delivered: Envelope[] = [];
    for (const x of [env(A, 'x.1'), env(B, 'x.2'), env(A, 'x.3'), env(B, 'x.4')]) route(e, x, delivered);
    expect(tag(delivered)).toEqual([`${B}:x.2`, `${B}:x.4`]);
    expect(e.heldCount).toBe(2);
    e.filters.delete(1);
    expect(tag(e.takeReleasable())).toEqual([`${A}:x.1`, `${A}:x.3`]);
  });

  it('once a sender has a message held, its later unmatched messages wait behind it', () => {
    const e = bound();
    e.filters.set(1, { types: ['x.*'] });
    const delivered: Envelope[] = [];
    for (const x of [env(A, 'x.1'), env(A, 'y.2'), env(B, 'y.3'), env(A, 'y.4'), env(B, 'x.5'), env(B, 'y.6'), env(C, 'y.7')]) {
      route(e, x, delivered);
    }
    // B's y.3 and C's y.7 pass (nothing of theirs was held at the time); B's y.6 waits behind B's x.5.
    expect(tag(delivered)).toEqual([`${B}:y.3`, `${C}:y.7`]);
    expect(e.heldCount).toBe(5);
    e.filters.clear();
    expect(tag(e.takeReleasable())).toEqual([`${A}:x.1`, `${A}:y.2`, `${A}:y.4`, `${B}:x.5`, `${B}:y.6`]);
    // Nothing is held any more, so a sender's next message goes straight through.
    expect(e.shouldHold(env(A, 'y.8').msg)).toBe(false);
  });

  it('a partial release keeps per-sender order: a still-matched head keeps its followers', () => {
    const e = bound();
    e.filters.set(1, { from: [A] });
    e.filters.set(2, { types: ['x.*'] });
    const delivered: Envelope[] = [];
    for (const x of [env(B, 'x.1'), env(A, 'y.2'), env(B, 'y.3'), env(A, 'x.4'), env(C, 'y.5')]) route(e, x, delivered);
    expect(tag(delivered)).toEqual([`${C}:y.5`]);
    expect(e.heldCount).toBe(4);
    // Lift the type filter: B's messages may go (in order); A's are still matched by filter 1.
    e.filters.delete(2);
    expect(tag(e.takeReleasable())).toEqual([`${B}:x.1`, `${B}:y.3`]);
    expect(e.heldCount).toBe(2);
    // While A's head is held, A's new message (even unmatched after filter 1 goes) queues behind.
    const x6 = env(A, 'z.6');
    route(e, x6, delivered);
    expect(e.heldCount).toBe(3);
    e.filters.delete(1);
    expect(tag(e.takeReleasable())).toEqual([`${A}:y.2`, `${A}:x.4`, `${A}:z.6`]);
  });

  it('held messages of a sender are kept behind its head when the head is still matched', () => {
    const e = bound();
    e.filters.set(1, { types: ['x.*'] });
    const delivered: Envelope[] = [];
    route(e, env(A, 'x.1'), delivered);
    route(e, env(A, 'y.2'), delivered);
    // Releasing with the filter still in place must not let y.2 overtake x.1.
    expect(e.takeReleasable()).toEqual([]);
    expect(e.heldCount).toBe(2);
    expect(e.shouldHold(env(A, 'y.3').msg)).toBe(true);
    expect(e.shouldHold(env(B, 'y.3').msg)).toBe(false);
  });

  it('takeAll empties the queue (in order) and forgets the senders', () => {
    const e = new EndpointEntry('svc', 9);
    const a = env(A, 'x.1');
    const b = env(B, 'x.2', 3);
    e.hold(a);
    e.hold(b);
    expect(e.takeAll()).toEqual([a, b]);
    expect(e.heldCount).toBe(0);
    e.state = { status: 'bound', incarnation: fakeInc };
    expect(e.shouldHold(env(A, 'x.3').msg)).toBe(false);
  });

  it('a failed endpoint holds (the kernel refuses before asking)', () => {
    const e = new EndpointEntry('svc', 9);
    e.state = { status: 'failed', reason: 'gave up' };
    expect(e.shouldHold(env(A, 'x.1').msg)).toBe(true);
    expect(e.bound).toBeNull();
  });
});

describe('EndpointTable', () => {
  it('gives each label one stable endpoint, numbered from FIRST_COMPONENT_ENDPOINT, never reused', () => {
    const t = new EndpointTable();
    const rs = t.ensure('rs');
    const ds = t.ensure('ds');
    expect(rs.endpoint).toBe(FIRST_COMPONENT_ENDPOINT);
    expect(ds.endpoint).toBe(FIRST_COMPONENT_ENDPOINT + 1);
    expect(t.ensure('rs')).toBe(rs);
    expect(t.get('ds')).toBe(ds);
    expect(t.get(ds.endpoint)).toBe(ds);
    expect(t.get('nonesuch')).toBeUndefined();
    expect(t.get(999)).toBeUndefined();
    expect(t.all().map((e) => e.label)).toEqual(['rs', 'ds']);
  });
});
