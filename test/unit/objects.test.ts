/**
 * Object-level hot swapping (src/objects), in process: the mediated swap under
 * concurrent calls, lazy conversion, the deadline, all-or-nothing transfer, adaptors,
 * re-entrant calls, and references crossing a process-level transfer.
 */
import { describe, expect, it } from 'vitest';
import { create, dispose, objectStats, type Obj, type ObjOf } from '../../src/objects/index.js';
import { adoptImported, checkHooks, declareObjects, importHooks, updateObjects } from '../../src/objects/space.js';
import { checkState } from '../../src/update/check.js';
import { exportGraph } from '../../src/update/graph.js';
import { importState } from '../../src/update/transfer.js';
import type { FieldMeta, StateMeta } from '../../src/update/types.js';

const num = { k: 'number' } as const;
const str = { k: 'string' } as const;

function classMeta(name: string, fields: Record<string, FieldMeta['type']>, extra: StateMeta['types'] = {}): StateMeta {
  return {
    root: { k: 'unknown' },
    types: { ...extra, [name]: { name, kind: 'class', fields: Object.entries(fields).map(([n, type]) => ({ name: n, type, optional: false })) } },
    objects: { [name]: name },
  };
}

/** A promise and its resolver: an await the test controls. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('object-level hot swap (mediated)', () => {
  it('loses no call, runs none on both versions, and runs every call after the swap on the new code', async () => {
    const log: Array<{ call: number; version: string }> = [];
    const g = gate();
    class Account {
      balance = 0;
      async deposit(call: number, n: number, wait?: Promise<void>): Promise<string> {
        if (wait) await wait;
        else await tick();
        this.balance += n;
        log.push({ call, version: 'v1' });
        return 'v1';
      }
      total(): number {
        return this.balance;
      }
    }
    declareObjects({ Account }, {});
    const accounts = Array.from({ length: 20 }, () => create(Account));

    // v2: the balance is kept in cents (a representation change with a field transfer).
    const V2 = (() => {
      class Account {
        cents = 0;
        async deposit(call: number, n: number): Promise<string> {
          await tick();
          this.cents += n * 100;
          log.push({ call, version: 'v2' });
          return 'v2';
        }
        total(): number {
          return this.cents / 100;
        }
      }
      return Account;
    })();

    let call = 0;
    const results: Array<Promise<string>> = [];
    // 20 calls suspended mid-method (at an await the test controls) when the swap begins.
    for (const a of accounts) results.push(a.deposit(call++, 1, g.p));
    const update = updateObjects({ Account: V2 }, classMeta('Account', { cents: num }), {
      transfer: { fieldTransfer: { 'Account.cents': (old) => (old.balance as number) * 100 } },
    });
    // Calls made while the mediator forwards (the old generation is still running).
    for (const a of accounts) results.push(a.deposit(call++, 1));
    await tick();
    expect(objectStats()[0]!.swapping).toBe(true);
    g.open();
    const report = await update;
    const swappedAt = call;
    // After the commit: every call on the new code.
    for (const a of accounts) results.push(a.deposit(call++, 1));
    const out = await Promise.all(results);

    expect(report.classes[0]).toMatchObject({ name: 'Account', action: 'swapped', instances: 20, converted: 20, inflightAtStart: 20 });
    // No call lost, none executed twice: exactly one log entry per call.
    expect(log.map((l) => l.call).sort((a, b) => a - b)).toEqual(Array.from({ length: call }, (_, i) => i));
    expect(out.slice(swappedAt).every((v) => v === 'v2')).toBe(true);
    expect(out.slice(0, 20).every((v) => v === 'v1')).toBe(true); // the suspended ones finished on the old code
    // The state crossed: 3 deposits of 1 per account, none lost.
    for (const a of accounts) expect(a.total()).toBe(3);
  });

  it('holds new calls while the old generation drains, and releases them to the new code', async () => {
    const g = gate();
    class Job {
      n = 0;
      async run(wait?: Promise<void>): Promise<string> {
        if (wait) await wait;
        this.n++;
        return 'v1';
      }
    }
    declareObjects({ Job }, {});
    const j = create(Job);
    const first = j.run(g.p);
    const V2 = (() => class Job {
      n = 0;
      async run(): Promise<string> {
        this.n++;
        return `v2:${this.n}`;
      }
    })();
    const update = updateObjects({ Job: V2 }, classMeta('Job', { n: num }), {});
    // Forward phase: the old call is still in flight; this one is forwarded to v1.
    const forwarded = j.run();
    await tick();
    expect(await forwarded).toBe('v1');
    // The forwarded call returned, the old one has not: still forwarding.
    const second = j.run();
    expect(await second).toBe('v1');
    g.open();
    await update;
    expect(await first).toBe('v1');
    expect(await j.run()).toBe('v2:4');
  });

  it('cancels at the deadline, keeping the old implementation, and releases held calls to it', async () => {
    class Slow {
      async wait(p: Promise<void>): Promise<string> {
        await p;
        return 'v1';
      }
      async hello(): Promise<string> {
        return 'v1';
      }
    }
    declareObjects({ Slow }, {});
    const s = create(Slow);
    const never = gate();
    void s.wait(never.p);
    const V2 = (() => class Slow {
      async wait(): Promise<string> {
        return 'v2';
      }
      async hello(): Promise<string> {
        return 'v2';
      }
    })();
    await expect(updateObjects({ Slow: V2 }, classMeta('Slow', {}), {}, { deadlineMs: 50 })).rejects.toThrow(/did not drain within 50 ms/);
    expect(await s.hello()).toBe('v1');
    expect(objectStats()[0]!.swapping).toBe(false);
    never.open();
  });

  it('rolls the whole class back when one instance cannot be transferred', async () => {
    class Cell {
      constructor(public value: string | number = 0) {}
      read(): string | number {
        return this.value;
      }
    }
    declareObjects({ Cell }, {});
    const cells = [create(Cell, 1), create(Cell, 2), create(Cell, 'not a number')];
    const V2 = (() => class Cell {
      value = 0;
      read(): string {
        return `v2:${this.value}`;
      }
    })();
    await expect(updateObjects({ Cell: V2 }, classMeta('Cell', { value: num }), {})).rejects.toThrow(/every class kept its old implementation.*expected number/);
    expect(cells.map((c) => c.read())).toEqual([1, 2, 'not a number']);
  });

  it('lets a call made from inside a forwarded call through (no deadlock on itself)', async () => {
    const g = gate();
    class Node {
      constructor(public peer: ObjOf<Node, 'ping'> | null = null) {}
      async ping(depth: number, wait?: Promise<void>): Promise<string> {
        if (wait) await wait;
        await tick();
        if (depth > 0 && this.peer) return this.peer.ping(depth - 1);
        return 'v1';
      }
    }
    declareObjects({ Node }, {});
    const a = create(Node);
    const b = create(Node, a);
    const oldCall = a.ping(0, g.p); // keeps the old generation in flight
    const V2 = (() => class Node {
      peer: unknown = null;
      async ping(): Promise<string> {
        return 'v2';
      }
    })();
    const meta = classMeta('Node', { peer: { k: 'union', of: [{ k: 'ref', name: 'Node' }, { k: 'null' }] } });
    const update = updateObjects({ Node: V2 }, meta, {}, { deadlineMs: 2_000 });
    const nested = b.ping(3); // forwarded: it calls a, then b, … while the swap waits for it
    g.open();
    await oldCall;
    expect(await nested).toBe('v1');
    await update;
    expect(await b.ping(3)).toBe('v2');
  });
});

describe('interface changes', () => {
  it('keeps callers of the old interface working through an adaptor', async () => {
    class Counter {
      n = 0;
      incr(): number {
        return ++this.n;
      }
    }
    declareObjects({ Counter }, {});
    const c = create(Counter) as unknown as { incr(): number; add?(k: number): number };
    c.incr();
    const V2 = (() => class Counter {
      count = 0;
      add(k: number): number {
        this.count += k;
        return this.count;
      }
    })();
    await updateObjects(
      { Counter: { class: V2, adaptors: { incr: (self: InstanceType<typeof V2>) => self.add(1) } } },
      classMeta('Counter', { count: num }),
      { transfer: { fields: { Counter: { count: 'n' } } } },
    );
    expect(c.incr()).toBe(2); // the old name, answered by the adaptor
    expect(c.add!(10)).toBe(12); // the new one
    // Instances the old code creates after the update are of the new implementation.
    const d = create(Counter) as unknown as { incr(): number };
    expect(d.incr()).toBe(1);
  });

  it('answers a removed method without an adaptor with a clear error', async () => {
    class Greeter {
      hi(): string {
        return 'hi';
      }
      bye(): string {
        return 'bye';
      }
    }
    declareObjects({ Greeter }, {});
    const g = create(Greeter) as unknown as { hi(): string; bye(): string };
    const V2 = (() => class Greeter {
      hi(): string {
        return 'hello';
      }
    })();
    await updateObjects({ Greeter: V2 }, classMeta('Greeter', {}), {});
    expect(g.hi()).toBe('hello');
    expect(() => g.bye()).toThrow(/Greeter.bye was removed.*no adaptor/);
  });

  it('refuses an update that drops a class', async () => {
    class A {
      f(): number {
        return 1;
      }
    }
    class B {
      f(): number {
        return 2;
      }
    }
    declareObjects({ A, B }, {});
    await expect(updateObjects({ A }, classMeta('A', {}), {})).rejects.toThrow(/lacks the updatable class B/);
  });
});

describe('lazy update', () => {
  it('marks every instance at once and converts exactly the instances touched', async () => {
    class Item {
      constructor(public v = 0) {}
      get(): string {
        return `v1:${this.v}`;
      }
    }
    declareObjects({ Item }, {});
    const items = Array.from({ length: 1000 }, (_, i) => create(Item, i));
    const V2 = (() => class Item {
      seen = 7;
      constructor(public v = 0) {}
      get(): string {
        return `v2:${this.v}:${this.seen}`;
      }
    })();
    const report = await updateObjects({ Item: V2 }, classMeta('Item', { v: num, seen: num }), {}, { lazy: true });
    expect(report.classes[0]).toMatchObject({ action: 'marked', instances: 1000, converted: 0 });
    expect(objectStats()[0]).toMatchObject({ pending: 1000, converted: 0 });
    const touched = [3, 500, 999];
    for (const i of touched) expect(items[i]!.get()).toBe(`v2:${i}:7`); // the added field from a fresh instance
    expect(items[3]!.get()).toBe('v2:3:7'); // converted once only
    expect(objectStats()[0]).toMatchObject({ pending: 997, converted: 3 });
    // A new instance is made by the new implementation and needs no conversion.
    expect(create(Item, 5).get()).toBe('v2:5:7');
    expect(objectStats()[0]).toMatchObject({ instances: 1001, pending: 997, converted: 3 });
    dispose(items[0]);
    expect(objectStats()[0]).toMatchObject({ instances: 1000, pending: 996 });
  });

  it('lets an instance\'s old calls finish on the old code before it converts', async () => {
    const g = gate();
    class Acc {
      n = 0;
      async add(wait?: Promise<void>): Promise<string> {
        if (wait) await wait;
        this.n++;
        return 'v1';
      }
      async read(): Promise<number> {
        return this.n;
      }
    }
    declareObjects({ Acc }, {});
    const a = create(Acc);
    const old = a.add(g.p);
    const V2 = (() => class Acc {
      n = 0;
      async add(): Promise<string> {
        this.n += 10;
        return 'v2';
      }
      async read(): Promise<number> {
        return this.n;
      }
    })();
    await updateObjects({ Acc: V2 }, classMeta('Acc', { n: num }), {}, { lazy: true });
    const during = a.add(); // its old call is running: joins it on the old code
    g.open();
    expect(await old).toBe('v1');
    expect(await during).toBe('v1');
    expect(await a.add()).toBe('v2'); // drained: converted, with both old increments
    expect(await a.read()).toBe(12);
  });
});

describe('references across a process-level transfer', () => {
  it('moves the objects with the state and rebuilds the tables', () => {
    class Val {
      constructor(public s = '') {}
      get(): string {
        return this.s;
      }
    }
    declareObjects({ Val }, {});
    const state = { m: new Map<string, Obj<Val>>([['a', create(Val, 'x')], ['b', create(Val, 'y')]]) };
    const shared = state.m.get('a')!;
    const withShared = { ...state, again: shared };
    const graph = structuredClone(exportGraph(withShared));
    // The new incarnation (same classes here) imports it.
    declareObjects({ Val }, {});
    create(Val, 'made by init, dropped by the import');
    const meta: StateMeta = {
      root: { k: 'object', fields: [
        { name: 'm', type: { k: 'map', key: str, value: { k: 'ref', name: 'Val' } }, optional: false },
        { name: 'again', type: { k: 'ref', name: 'Val' }, optional: false },
      ] },
      types: { Val: { name: 'Val', kind: 'class', fields: [{ name: 's', type: str, optional: false }] } },
    };
    const { state: next } = importState(graph, meta, {}, { Val }, {}, importHooks(true));
    adoptImported();
    const n = next as { m: Map<string, Obj<Val>>; again: Obj<Val> };
    expect(n.m.get('a')!.get()).toBe('x');
    expect(n.again).toBe(n.m.get('a')); // shared references stay shared
    expect(checkState(next, meta, { Val }, checkHooks)).toEqual([]);
    expect(objectStats()[0]!.instances).toBe(2);
  });
});
