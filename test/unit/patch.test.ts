/**
 * Function-level live patching (src/patch, LUCOS): trampolines, apply at any moment with
 * invocations suspended mid-function, data sync between old and new copies, completion,
 * stacking, undo (exact, with revert), failures and bad input. Not timing-based: every
 * suspended invocation waits on a promise the test resolves.
 */
import { isProxy } from 'node:util/types';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  applyPatch,
  definePatch,
  getPatch,
  listPatches,
  onPatchEvent,
  patchable,
  PatchError,
  resetRegistry,
  undoPatch,
  type Change,
  type PatchDefinition,
  type PatchEvent,
} from '../../src/patch/index.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Let pending microtasks (continuations, settle handlers) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

beforeEach(() => {
  resetRegistry();
});

// ---------------------------------------------------------------------------------------
// The kvd-like table of the brief: limits in one number, patched to bytes + units.

interface OldLimits {
  maxKeyLen: number;
}
interface NewLimits {
  maxKey: { bytes: number; units: string };
}

function kvTable() {
  return patchable('kvd.commands', {
    data: { limits: { maxKeyLen: 512 } as OldLimits, stats: { calls: 0 } },
    functions: {
      clamp(d, n: number) {
        return Math.min(n, d.limits.maxKeyLen);
      },
      /** Suspends on `gate`; then reports the value it saw and writes the gate's value. */
      async op(d, gate: Promise<number | undefined>) {
        const v = await gate;
        const seen = d.limits.maxKeyLen;
        if (v !== undefined) d.limits.maxKeyLen = v;
        return `old:${seen}`;
      },
      set(d, v: number) {
        d.limits.maxKeyLen = v;
      },
      get(d) {
        return d.limits.maxKeyLen;
      },
      /** Does not use `limits`: a patch changing limits needs not replace it. */
      count(d) {
        return ++d.stats.calls;
      },
    },
  });
}

/** The limits patch; `hooks` observe the copies and the transformer. */
function limitsPatch(hooks: {
  oldCopy?: (old: OldLimits) => void;
  newCopy?: (neu: NewLimits) => void;
  transform?: (view: { limits: NewLimits }) => void;
  toNew?: (change: Change) => void;
  toOld?: (change: Change) => void;
  revert?: boolean;
}): PatchDefinition {
  return definePatch<{ limits: NewLimits; stats: { calls: number } }>({
    target: 'kvd.commands',
    description: 'clamp keys to 256, limits in bytes+units',
    functions: {
      clamp(d, n: number) {
        return Math.min(n, 256, d.limits.maxKey.bytes);
      },
      async op(d, gate: Promise<number | undefined>) {
        const v = await gate;
        const seen = d.limits.maxKey.bytes;
        if (v !== undefined) d.limits.maxKey.bytes = v;
        return `new:${seen}`;
      },
      set(d, v: number) {
        d.limits.maxKey.bytes = v;
      },
      get(d) {
        return d.limits.maxKey.bytes;
      },
    },
    data: {
      limits: {
        init(old: OldLimits): NewLimits {
          hooks.oldCopy?.(old);
          const neu = { maxKey: { bytes: old.maxKeyLen, units: 'B' } };
          hooks.newCopy?.(neu);
          return neu;
        },
        toNew(old: OldLimits, neu: NewLimits, change: Change) {
          hooks.toNew?.(change);
          if (change.path[0] === 'maxKeyLen') neu.maxKey.bytes = old.maxKeyLen;
        },
        toOld(neu: NewLimits, old: OldLimits, change: Change) {
          hooks.toOld?.(change);
          if (change.path[0] === 'maxKey' && change.path[1] === 'bytes') old.maxKeyLen = neu.maxKey.bytes;
        },
        ...(hooks.revert === false ? {} : { revert: (neu: NewLimits): OldLimits => ({ maxKeyLen: neu.maxKey.bytes }) }),
      },
    },
    transform(view) {
      hooks.transform?.(view);
    },
  });
}

describe('trampolines', () => {
  it('calls the current version with its data view, typed without the data parameter', async () => {
    const lib = kvTable();
    expectTypeOf(lib.fn.clamp).toEqualTypeOf<(n: number) => number>();
    expectTypeOf(lib.fn.op).toEqualTypeOf<(gate: Promise<number | undefined>) => Promise<string>>();
    expect(lib.fn.clamp(1000)).toBe(512);
    expect(lib.fn.clamp(5)).toBe(5);
    expect(lib.fn.count()).toBe(1);
    expect(await lib.fn.op(Promise.resolve(100))).toBe('old:512');
    expect(lib.fn.get()).toBe(100);
    expect(lib.version('clamp')).toBe(0);
    expect(lib.functions).toEqual(['clamp', 'op', 'set', 'get', 'count']);
    expect(lib.items).toEqual(['limits', 'stats']);
  });

  it('passes arguments exactly (count, rest, more than 3), this undefined, and returns the original promise', () => {
    const pr = Promise.resolve(7);
    const lib = patchable('args', {
      data: {},
      functions: {
        count(_d, ...xs: unknown[]) {
          return xs.length;
        },
        sum(_d, a: number, b: number, c: number, e: number, f: number) {
          return a + b + c + e + f;
        },
        self(this: unknown) {
          return this;
        },
        promise() {
          return pr;
        },
      },
    });
    expect(lib.fn.count()).toBe(0);
    expect(lib.fn.count(undefined)).toBe(1);
    expect(lib.fn.count(1, 2, undefined)).toBe(3);
    expect(lib.fn.count(1, 2, 3, 4, 5, 6)).toBe(6);
    expect(lib.fn.sum(1, 2, 3, 4, 5)).toBe(15);
    expect(lib.fn.self()).toBeUndefined();
    expect(lib.fn.promise()).toBe(pr);
  });

  it('finds a running invocation on the stack, whichever compiled pool its trampoline came from', () => {
    // 200 functions: their trampolines span several pools (src/patch/table.ts).
    const functions: Record<string, (d: object, def: PatchDefinition) => string> = {};
    for (let i = 0; i < 200; i++) functions[`f${i}`] = (_d, def) => applyPatch(def).status;
    const lib = patchable('many', { data: {}, functions });
    for (const i of [0, 63, 64, 127, 128, 199]) {
      // Applied from inside the function it replaces: that invocation is still running.
      const def = definePatch({ target: 'many', functions: { [`f${i}`]: () => 'new' } });
      expect(lib.fn[`f${i}`]!(def)).toBe('syncing');
      expect(listPatches().at(-1)?.status).toBe('complete'); // its return completed the patch
      expect(lib.fn[`f${i}`]!(def)).toBe('new');
    }
  });

  it('refuses a name registered twice and a non-object data item; views are read-only', () => {
    kvTable();
    expect(() => kvTable()).toThrow(/'kvd.commands' is already registered/);
    expect(() => patchable('bad', { data: { n: 3 as unknown as object }, functions: {} })).toThrow(/data item 'n' must be a plain object or array/);
    const lib = patchable('ro', {
      data: { a: { x: 1 } },
      functions: {
        replace(d) {
          (d as { a: object }).a = { x: 2 };
        },
      },
    });
    expect(() => lib.fn.replace()).toThrow(TypeError);
  });

  it('uncounts invocations that throw synchronously or reject', async () => {
    const lib = patchable('throws', {
      data: {},
      functions: {
        boom(): number {
          throw new Error('boom');
        },
        async reject(_d, gate: Promise<void>): Promise<number> {
          await gate;
          throw new Error('rejected');
        },
        /** Applies a patch while it runs, then throws: the patch waits for exactly this invocation. */
        applyThenThrow(_d, def: PatchDefinition): number {
          const info = applyPatch(def);
          expect(info.status).toBe('syncing');
          expect(info.oldInvocations).toBe(1);
          throw new Error('after apply');
        },
        /** The same, returning: the return completes the patch, synchronously. */
        applyThenReturn(_d, def: PatchDefinition): number {
          const info = applyPatch(def);
          expect(info).toMatchObject({ status: 'syncing', oldInvocations: 1 });
          return 0;
        },
      },
    });
    expect(() => lib.fn.boom()).toThrow('boom');
    expect(() => lib.fn.boom()).toThrow('boom');
    // Nothing is running: a patch completes at once.
    expect(applyPatch(definePatch({ target: 'throws', functions: { boom: () => 1 } })).status).toBe('complete');
    expect(lib.fn.boom()).toBe(1);

    const gate = deferred<void>();
    const running = lib.fn.reject(gate.promise);
    const p2 = applyPatch(definePatch({ target: 'throws', functions: { reject: async () => 2 } }));
    expect(p2.status).toBe('syncing');
    expect(p2.oldInvocations).toBe(1);
    gate.resolve();
    await expect(running).rejects.toThrow('rejected');
    expect(getPatch(p2.id)?.status).toBe('complete');
    expect(await lib.fn.reject(Promise.resolve())).toBe(2);

    const p3 = definePatch({ target: 'throws', functions: { applyThenReturn: () => 3 } });
    expect(lib.fn.applyThenReturn(p3)).toBe(0);
    expect(getPatch(3)?.status).toBe('complete');
    expect(lib.fn.applyThenReturn(p3)).toBe(3);

    // A throw while the patch waits for the throwing frame itself: the trampoline has no
    // try/catch, so the count is settled at the next microtask checkpoint (see table.ts).
    const p4 = definePatch({ target: 'throws', functions: { applyThenThrow: () => 4 } });
    expect(() => lib.fn.applyThenThrow(p4)).toThrow('after apply');
    expect(getPatch(4)).toMatchObject({ status: 'syncing', oldInvocations: 1 });
    await flush();
    expect(getPatch(4)).toMatchObject({ status: 'complete', oldInvocations: 0 });
    expect(lib.fn.applyThenThrow(p4)).toBe(4);
  });
});

describe('a patch applied while 100 invocations are suspended mid-function', () => {
  it('lets the old invocations finish on the old code, syncs the data both ways, completes exactly once, undoes', async () => {
    const lib = kvTable();
    let oldCopy: OldLimits | undefined;
    let newCopy: NewLimits | undefined;
    const transforms: { status: string | undefined; oldInvocations: number | undefined; bytes: number }[] = [];
    const events: PatchEvent[] = [];
    onPatchEvent((e) => events.push(e));

    // 100 invocations suspended at their `await`, each on a gate the test controls.
    const gates = Array.from({ length: 100 }, () => deferred<number | undefined>());
    const old = gates.map((g) => lib.fn.op(g.promise));

    let patchId = 0;
    const info = applyPatch(
      limitsPatch({
        oldCopy: (o) => (oldCopy = o),
        newCopy: (n) => (newCopy = n),
        transform: (view) => {
          const p = getPatch(patchId);
          transforms.push({ status: p?.status, oldInvocations: p?.oldInvocations, bytes: view.limits.maxKey.bytes });
          view.limits.maxKey.units = 'bytes';
        },
      }),
    );
    patchId = info.id;
    expect(info).toMatchObject({ id: 1, target: 'kvd.commands', status: 'syncing', oldInvocations: 100, functions: ['clamp', 'op', 'set', 'get'], data: ['limits'], completedAt: null, error: null });
    expect(info.applyUs).toBeGreaterThan(0);
    expect(oldCopy).toEqual({ maxKeyLen: 512 });
    expect(newCopy).toEqual({ maxKey: { bytes: 512, units: 'B' } });

    // New calls use the new code at once.
    expect(lib.version('clamp')).toBe(1);
    expect(lib.version('count')).toBe(0);
    expect(lib.fn.clamp(1000)).toBe(256);
    expect(lib.fn.count()).toBe(1); // unpatched, rebound to the new view, unchanged item shared
    const fresh = deferred<number | undefined>();
    const newInvocation = lib.fn.op(fresh.promise);

    for (let i = 0; i < 100; i++) {
      // A new call writes the new copy (nested path): toOld brings the old copy in line.
      if (i % 10 === 3) {
        lib.fn.set(1000 + i);
        expect(oldCopy?.maxKeyLen).toBe(1000 + i);
        expect(lib.fn.get()).toBe(1000 + i);
      }
      const before = lib.fn.get();
      gates[i]!.resolve(400 + i);
      // The old invocation resumes on the old code: it saw the synced old copy…
      expect(await old[i]).toBe(`old:${before}`);
      // …and its write to the old copy reached the new one (toNew).
      expect(newCopy?.maxKey.bytes).toBe(400 + i);
      expect(lib.fn.get()).toBe(400 + i);
      const p = getPatch(patchId);
      if (i < 99) {
        expect(p?.status).toBe('syncing');
        expect(p?.oldInvocations).toBe(99 - i);
        expect(transforms).toHaveLength(0);
      }
    }

    // The transformer ran exactly once, when the 100th old invocation returned.
    expect(transforms).toEqual([{ status: 'syncing', oldInvocations: 0, bytes: 499 }]);
    expect(getPatch(patchId)).toMatchObject({ status: 'complete', oldInvocations: 0 });
    expect(getPatch(patchId)?.completedAt).not.toBeNull();
    // Both copies agree; after completion the views hold the raw new copy (no proxy).
    expect(oldCopy).toEqual({ maxKeyLen: 499 });
    expect(newCopy).toEqual({ maxKey: { bytes: 499, units: 'bytes' } });
    expect(isProxy(lib.data.limits)).toBe(false);
    expect(lib.data.limits).toBe(newCopy);

    // The invocation that started on the new code finishes on it.
    fresh.resolve(undefined);
    expect(await newInvocation).toBe('new:499');
    expect(await lib.fn.op(Promise.resolve(300))).toBe('new:499');
    expect(lib.fn.clamp(1000)).toBe(256);

    // Undo after completion: revert builds the old copy from the new one.
    const undone = undoPatch(patchId);
    expect(undone.status).toBe('undone');
    expect(lib.version('clamp')).toBe(0);
    expect(lib.fn.get()).toBe(300);
    expect(lib.fn.clamp(1000)).toBe(300);
    expect(await lib.fn.op(Promise.resolve(600))).toBe('old:300');
    expect(lib.fn.clamp(1000)).toBe(600);
    expect(lib.data.limits).toEqual({ maxKeyLen: 600 });
    expect(isProxy(lib.data.limits)).toBe(false);

    expect(events.map((e) => e.type)).toEqual(['applied', 'complete', 'undone']);
    const complete = events[1] as Extract<PatchEvent, { type: 'complete' }>;
    expect(complete.syncMs).toBeGreaterThanOrEqual(0);
    expect(complete.transformUs).toBeGreaterThanOrEqual(0);
    expect(() => undoPatch(patchId)).toThrow(/cannot undo patch 1: it is already undone/);
  });
});

describe('undo', () => {
  it('undoes an incomplete patch exactly: undone invocations finish on the new code, toOld keeps running', async () => {
    const lib = kvTable();
    let oldCopy: OldLimits | undefined;
    let transformed = 0;
    const oldGate = deferred<number | undefined>();
    const oldRun = lib.fn.op(oldGate.promise);
    const { id } = applyPatch(limitsPatch({ oldCopy: (o) => (oldCopy = o), transform: () => transformed++, revert: false }));
    const newGate = deferred<number | undefined>();
    const newRun = lib.fn.op(newGate.promise);

    // No revert needed while syncing: the old copy was kept in sync.
    const info = undoPatch(id);
    expect(info.status).toBe('undoing');
    expect(info.oldInvocations).toBe(1); // the new-version invocation still running
    expect(lib.version('op')).toBe(0);
    expect(lib.fn.clamp(1000)).toBe(512);
    expect(() => undoPatch(id)).toThrow(/already being undone \(1 invocations/);

    // The undone invocation finishes on the new code; its write reaches the old copy.
    newGate.resolve(700);
    expect(await newRun).toBe('new:512');
    expect(oldCopy?.maxKeyLen).toBe(700);
    expect(getPatch(id)?.status).toBe('undone');
    expect(lib.fn.get()).toBe(700);
    expect(lib.data.limits).toBe(oldCopy);
    expect(isProxy(lib.data.limits)).toBe(false);

    // The old invocation from before the patch finishes on the old code; the transformer never ran.
    oldGate.resolve(50);
    expect(await oldRun).toBe('old:700');
    expect(lib.fn.get()).toBe(50);
    expect(transformed).toBe(0);
  });

  it('stacks patches and refuses an undo that a later patch depends on', () => {
    const lib = kvTable();
    const p1 = applyPatch(definePatch({ target: 'kvd.commands', description: 'clamp to 100', functions: { clamp: (d: { limits: OldLimits }, n: number) => Math.min(n, 100, d.limits.maxKeyLen) } }));
    expect(p1).toMatchObject({ id: 1, status: 'complete' });
    const p2 = applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: (_d: unknown, n: number) => Math.min(n, 10) } }));
    const p3 = applyPatch(definePatch({ target: 'kvd.commands', functions: { count: () => -1 } }));
    expect([p2.id, p3.id]).toEqual([2, 3]);
    expect(lib.fn.clamp(1000)).toBe(10);

    expect(() => undoPatch(1)).toThrow(new PatchError('cannot undo patch 1: patch 2 replaces clamp after patch 1: undo 2 first'));
    expect(lib.fn.clamp(1000)).toBe(10);
    expect(undoPatch(2).status).toBe('undone');
    expect(lib.fn.clamp(1000)).toBe(100);
    expect(lib.version('clamp')).toBe(1);
    expect(undoPatch(1).status).toBe('undone'); // patch 3 touches nothing of patch 1
    expect(lib.fn.clamp(1000)).toBe(512);
    expect(lib.fn.count()).toBe(-1);
    expect(listPatches().map((p) => [p.id, p.status])).toEqual([[1, 'undone'], [2, 'undone'], [3, 'complete']]);
    expect(() => undoPatch(9)).toThrow(/no patch 9/);
  });

  it('refuses undoing a patch whose changed item a later patch uses, and a completed one without revert', () => {
    const lib = kvTable();
    const p1 = applyPatch(limitsPatch({ revert: false }));
    expect(p1.status).toBe('complete');
    const p2 = applyPatch(definePatch({ target: 'kvd.commands', uses: ['limits'], functions: { count: (d: { limits: NewLimits }) => d.limits.maxKey.bytes } }));
    expect(lib.fn.count()).toBe(512);
    expect(() => undoPatch(p1.id)).toThrow('cannot undo patch 1: patch 2 uses data item limits after patch 1: undo 2 first');
    undoPatch(p2.id);
    expect(() => undoPatch(p1.id)).toThrow(/it completed and data item 'limits' has no revert/);
    expect(lib.fn.clamp(1000)).toBe(256);
  });

  it('stacks data patches: each undo reverts to the representation before it', () => {
    const lib = kvTable();
    const p1 = applyPatch(limitsPatch({}));
    lib.fn.set(300);
    const p2 = applyPatch(
      definePatch<{ limits: { max: number } }>({
        target: 'kvd.commands',
        functions: {
          get: (d) => d.limits.max,
          set: (d, v: number) => {
            d.limits.max = v;
          },
          clamp: (d, n: number) => Math.min(n, d.limits.max),
          op: async (d) => `v3:${d.limits.max}`,
        },
        data: {
          limits: {
            init: (old: NewLimits) => ({ max: old.maxKey.bytes }),
            toNew: () => undefined,
            toOld: () => undefined,
            revert: (neu: { max: number }): NewLimits => ({ maxKey: { bytes: neu.max, units: 'B' } }),
          },
        },
      }),
    );
    expect([p1.status, p2.status]).toEqual(['complete', 'complete']);
    lib.fn.set(200);
    expect(lib.data.limits).toEqual({ max: 200 });
    expect(() => undoPatch(p1.id)).toThrow('cannot undo patch 1: patch 2 replaces get after patch 1: undo 2 first');
    undoPatch(p2.id);
    expect(lib.data.limits).toEqual({ maxKey: { bytes: 200, units: 'B' } });
    expect(lib.fn.clamp(1000)).toBe(200);
    lib.fn.set(100);
    undoPatch(p1.id);
    expect(lib.data.limits).toEqual({ maxKeyLen: 100 });
    expect(lib.fn.clamp(1000)).toBe(100);
    expect(lib.fn.count()).toBe(1); // the unchanged item was shared all along
    expect(lib.data.stats).toEqual({ calls: 1 });
  });

  it('refuses stacking on a patch still synchronising the same function', async () => {
    const lib = kvTable();
    const gate = deferred<number | undefined>();
    const running = lib.fn.op(gate.promise);
    const p1 = applyPatch(limitsPatch({}));
    expect(() => applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: () => 0 } }))).toThrow(
      /replaces clamp, which patch 1 also touches and is still synchronising \(1 old invocation running\)/,
    );
    // A patch touching nothing in common stacks at once.
    expect(applyPatch(definePatch({ target: 'kvd.commands', functions: { count: () => 42 } })).status).toBe('complete');
    expect(lib.fn.count()).toBe(42);
    gate.resolve(undefined);
    await running;
    expect(getPatch(p1.id)?.status).toBe('complete');
    expect(applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: () => 0 } })).id).toBe(3);
  });
});

describe('failures', () => {
  it('a transformer that throws undoes the patch automatically; the table keeps working', async () => {
    const lib = kvTable();
    let oldCopy: OldLimits | undefined;
    const events: PatchEvent[] = [];
    onPatchEvent((e) => events.push(e));
    const gates = [deferred<number | undefined>(), deferred<number | undefined>()];
    const old = gates.map((g) => lib.fn.op(g.promise));
    const { id } = applyPatch(
      limitsPatch({
        oldCopy: (o) => (oldCopy = o),
        transform: () => {
          throw new Error('bad transform');
        },
      }),
    );
    lib.fn.set(900); // new code writes the new copy, synced to the old one
    const newGate = deferred<number | undefined>();
    const newRun = lib.fn.op(newGate.promise);
    gates[0]!.resolve(undefined);
    expect(await old[0]).toBe('old:900');
    expect(getPatch(id)?.status).toBe('syncing');
    gates[1]!.resolve(undefined);
    await old[1];

    expect(getPatch(id)).toMatchObject({ status: 'failed', error: 'transformer threw: bad transform', oldInvocations: 1 });
    expect(lib.version('clamp')).toBe(0);
    expect(lib.fn.clamp(1000)).toBe(900);
    expect(lib.data.limits).toEqual({ maxKeyLen: 900 });
    // The new-version invocation running at the failure finishes on the new code, synced.
    newGate.resolve(333);
    expect(await newRun).toBe('new:900');
    expect(oldCopy?.maxKeyLen).toBe(333);
    expect(lib.fn.get()).toBe(333);
    expect(isProxy(lib.data.limits)).toBe(false);
    expect(getPatch(id)?.oldInvocations).toBe(0);
    expect(events.map((e) => e.type)).toEqual(['applied', 'failed', 'undone']);
    expect(() => undoPatch(id)).toThrow(/failed \(transformer threw: bad transform\) and was undone automatically/);
    // The table takes the next patch.
    expect(applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: () => 1 } })).status).toBe('complete');
    expect(lib.fn.clamp(5)).toBe(1);
  });

  it('a transformer that throws with nothing running makes applyPatch throw, everything as before', () => {
    const lib = kvTable();
    const data = lib.data.limits;
    let err: unknown;
    try {
      applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: () => 0 }, transform: () => { throw new Error('nope'); } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).message).toMatch(/transformer threw: nope; the patch was undone/);
    expect((err as PatchError).patch?.status).toBe('failed');
    expect(lib.fn.clamp(1000)).toBe(512);
    expect(lib.data.limits).toBe(data);
  });

  it('an apply hook or init that throws changes nothing', () => {
    const lib = kvTable();
    const view = lib.data;
    const limits = lib.data.limits;
    const bad = (hook: 'apply' | 'init') =>
      definePatch({
        target: 'kvd.commands',
        functions: { clamp: () => 0, get: () => -1 },
        data: {
          limits: {
            init: (old: OldLimits) => {
              if (hook === 'init') throw new Error('init failed');
              return { maxKey: { bytes: old.maxKeyLen, units: 'B' } };
            },
            toNew: () => undefined,
            toOld: () => undefined,
          },
        },
        apply: () => {
          if (hook === 'apply') throw new Error('apply failed');
        },
      });
    expect(() => applyPatch(bad('apply'))).toThrow("patch for kvd.commands: apply hook threw: apply failed; nothing was changed");
    expect(() => applyPatch(bad('init'))).toThrow("patch for kvd.commands: init of data item 'limits' threw: init failed; nothing was changed");
    expect(lib.fn.clamp(1000)).toBe(512);
    expect(lib.fn.get()).toBe(512);
    expect(lib.version('clamp')).toBe(0);
    expect(lib.data).toBe(view);
    expect(lib.data.limits).toBe(limits);
    expect(listPatches()).toEqual([]);
    expect(applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: () => 0 } })).id).toBe(1);
  });

  it('a sync function that throws fails the patch and undoes it; the writer is not disturbed', async () => {
    const lib = kvTable();
    const gate = deferred<number | undefined>();
    const old = lib.fn.op(gate.promise);
    const { id } = applyPatch(
      limitsPatch({
        toNew: () => {
          throw new Error('cannot convert');
        },
      }),
    );
    gate.resolve(77);
    expect(await old).toBe('old:512');
    expect(getPatch(id)).toMatchObject({ status: 'failed', error: "toNew of data item 'limits' threw: cannot convert" });
    expect(lib.fn.get()).toBe(77);
  });

  it('refuses applying or undoing from inside a hook, and ignores a throwing listener', () => {
    const lib = kvTable();
    onPatchEvent(() => {
      throw new Error('listener bug');
    });
    const inner = definePatch({ target: 'kvd.commands', functions: { count: () => 0 } });
    expect(() => applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: () => 0 }, apply: () => void applyPatch(inner) }))).toThrow(
      /apply hook threw: applyPatch: called from inside a patch hook/,
    );
    const { id } = applyPatch(definePatch({ target: 'kvd.commands', functions: { clamp: () => 7 } }));
    expect(lib.fn.clamp(1)).toBe(7);
    expect(undoPatch(id).status).toBe('undone');
  });

  it('rejects bad input with clear errors', () => {
    kvTable();
    expect(() => applyPatch(definePatch({ target: 'nosuch', functions: { f: () => 0 } }))).toThrow("patch for nosuch: unknown target table 'nosuch' (registered: kvd.commands)");
    expect(() => applyPatch(definePatch({ target: 'kvd.commands', description: 'x', functions: { clamp: () => 0, nope: () => 0 } }))).toThrow(
      "patch 'x' for kvd.commands: table kvd.commands has no function 'nope' (it has: clamp, op, set, get, count)",
    );
    expect(() => definePatch({ target: 'kvd.commands', functions: { clamp: 5 as unknown as () => number } })).toThrow("definePatch(kvd.commands): replacement 'clamp' is not a function (got number)");
    expect(() =>
      applyPatch(definePatch({ target: 'kvd.commands', data: { quotas: { init: () => ({}), toNew: () => undefined, toOld: () => undefined } } })),
    ).toThrow(/has no data item 'quotas' \(it has: limits, stats\)/);
    expect(() => definePatch({ target: 'kvd.commands', data: { limits: { init: () => ({}) } as never } })).toThrow(/data item 'limits' has no toNew function/);
    expect(() => applyPatch({ target: 'kvd.commands', functions: {} } as unknown as PatchDefinition)).toThrow(/not a patch definition/);
    expect(() => applyPatch({ default: definePatch({ target: 'kvd.commands', functions: { clamp: () => 1 } }) } as unknown as PatchDefinition)).toThrow(/pass its default export/);
    expect(() => applyPatch(definePatch({ target: 'kvd.commands' }))).toThrow(/replaces no function and changes no data item/);
    expect(listPatches()).toEqual([]);
  });
});

describe('write interception', () => {
  interface Cfg {
    users: Record<string, { tags: string[] }>;
    n: number;
  }

  it('intercepts writes at any depth, with memoised nested proxies and no ping-pong', async () => {
    const lib = patchable('cfg', {
      data: { cfg: { users: { alice: { tags: ['a'] } }, n: 0 } as Cfg },
      functions: {
        async edit(d, gate: Promise<void>) {
          await gate;
          const users = d.cfg.users;
          expect(users).toBe(d.cfg.users); // memoised proxy
          users.alice!.tags.push('b');
          users.bob = { tags: [] };
          delete users.alice;
          d.cfg.n = 1;
          d.cfg.n = 1; // no-op write: not synced
          return 'old';
        },
      },
    });
    const changes: Change[] = [];
    const back: Change[] = [];
    let newCopy: Cfg | undefined;
    const gate = deferred<void>();
    const running = lib.fn.edit(gate.promise);
    applyPatch(
      definePatch<{ cfg: Cfg }>({
        target: 'cfg',
        functions: {
          async edit(d) {
            d.cfg.users.carol = { tags: ['c'] };
            return 'new';
          },
        },
        data: {
          cfg: {
            init: (old: Cfg): Cfg => (newCopy = structuredClone(old)),
            toNew(old: Cfg, neu: Cfg, change: Change) {
              changes.push(change);
              // Written through the new copy's proxy on purpose: must not sync back.
              (lib.data as { cfg: Cfg }).cfg.users = structuredClone(old.users);
              neu.n = old.n;
            },
            toOld(_neu: Cfg, _old: Cfg, change: Change) {
              back.push(change);
            },
          },
        },
      }),
    );
    expect(isProxy(lib.data.cfg)).toBe(true);
    expect(await lib.fn.edit(Promise.resolve())).toBe('new');
    expect(back).toEqual([{ path: ['users', 'carol'], value: { tags: ['c'] }, deleted: false }]);
    back.length = 0;

    gate.resolve();
    expect(await running).toBe('old');
    expect(changes).toEqual([
      { path: ['users', 'alice', 'tags', '1'], value: 'b', deleted: false },
      { path: ['users', 'bob'], value: { tags: [] }, deleted: false },
      { path: ['users', 'alice'], value: undefined, deleted: true },
      { path: ['n'], value: 1, deleted: false },
    ]);
    expect(back).toEqual([]);
    expect(newCopy).toEqual({ users: { bob: { tags: [] } }, n: 1 });
    expect(isProxy(lib.data.cfg)).toBe(false);
    expect(lib.data.cfg).toBe(newCopy);
  });
});
