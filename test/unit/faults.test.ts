/** Fault injection's pure parts: when a plan fires, and what `corrupt` changes (deterministic with a seed). */
import { describe, expect, it } from 'vitest';
import { corruptOne, FaultInjector, prng } from '../../src/sys/faults.js';

const state = () => ({ count: 12, name: 'molt', on: true, files: new Map([[1, { size: 4096, path: '/a' }]]), list: [1, 2, 3] });

describe('corrupt', () => {
  it('changes exactly one primitive, the same one for the same seed', () => {
    const a = state();
    const b = state();
    const ca = corruptOne(a, prng(42));
    const cb = corruptOne(b, prng(42));
    expect(ca).not.toBeNull();
    expect(ca).toBe(cb);
    expect(a).toEqual(b);
    expect(a).not.toEqual(state());
    // Different seeds reach different places (over a few tries).
    const seen = new Set<string>();
    for (let s = 1; s <= 20; s++) seen.add(corruptOne(state(), prng(s))!.split(':')[0]!);
    expect(seen.size).toBeGreaterThan(3);
  });
  it('has nothing to change in an empty state', () => {
    expect(corruptOne({}, prng(1))).toBeNull();
  });
});

describe('FaultInjector', () => {
  it('fires at the given type, after N, the given number of times', () => {
    const fi = new FaultInjector();
    fi.set({ kind: 'throw', at: 'x.write', after: 2, times: 2 });
    const run = (type: string) => {
      try {
        fi.before(type, {});
        return 'ok';
      } catch {
        return 'fault';
      }
    };
    expect(['x.read', 'x.write', 'x.write', 'x.read', 'x.write', 'x.write', 'x.write'].map(run)).toEqual(['ok', 'ok', 'ok', 'ok', 'fault', 'fault', 'ok']);
    expect(fi.armed).toBe(false);
  });
  it('corrupt lets the handler run and records what it changed; null disarms', () => {
    const fi = new FaultInjector();
    fi.set({ kind: 'corrupt', seed: 7, times: 0 });
    const s = state();
    fi.before('any', s);
    expect(fi.lastCorruption).toMatch(/^state\./);
    fi.set(null);
    expect(fi.armed).toBe(false);
  });
});
