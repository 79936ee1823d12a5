import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { extractStateMeta, MetadataError } from '../../src/update/metadata.js';
import { exportGraph, UntransferableError } from '../../src/update/graph.js';
import { importState, TransferError } from '../../src/update/transfer.js';
import { checkState } from '../../src/update/check.js';
import * as v1 from './transfer-src/v1.js';
import * as v2 from './transfer-src/v2.js';

const src = (f: string) => fileURLToPath(new URL(`./transfer-src/${f}`, import.meta.url));
const meta2 = extractStateMeta(src('v2.ts'));

function oldState() {
  const a = new v1.Inode(1, 100, 1);
  const b = new v1.Inode(2, 5, 2);
  const s: v1.State = {
    files: new Map([[3, { inode: a, offset: 10, flags: 'r' }], [4, { inode: a, offset: 0, flags: 'w' }], [5, { inode: b, offset: 1, flags: 'r' }]]),
    inodes: [a, b],
    count: 7,
    big: 2n ** 40n,
    label: 'x',
    removedLater: ['gone', 'too'],
    when: new Date(1234),
    bytes: new Uint8Array([1, 2, 3]),
    pair: [1, 'one'],
    tags: new Set(['a', 'b']),
  };
  s.self = s;
  return s;
}

/** The same path a live update takes: export on the old side, structured clone, import on the new side. */
function transfer(state: unknown, callbacks = {}) {
  const exported = exportGraph(state);
  const copy = structuredClone(exported);
  const fresh = v2.default.init({} as never) as v2.State;
  return importState(copy, meta2, fresh, { Inode: v2.Inode }, callbacks);
}

describe('state transfer (export → structured clone → import against new metadata)', () => {
  it('applies the default rules and keeps shared references and cycles', () => {
    const { state, report } = transfer(oldState(), { fields: { Inode: { nlink: 'links' } } });
    const s = state as v2.State;
    const f3 = s.files.get(3)!;
    expect(f3.inode).toBeInstanceOf(v2.Inode); // the new version's class
    expect(f3.inode.size).toBe(100n); // number → bigint
    expect(f3.inode.nlink).toBe(1); // renamed field via pairing
    expect(f3.inode.mode).toBe(0); // added, zero value
    expect(s.files.get(4)!.inode).toBe(f3.inode); // shared reference kept
    expect(s.inodes[0]).toBe(f3.inode);
    expect(s.self).toBe(s); // cycle kept
    expect(s.count).toBe('7'); // number → string
    expect(s.big).toBe(2 ** 40); // bigint → number, lossless
    expect(s.added).toEqual({ hits: 42 }); // from the new init
    expect((s as unknown as Record<string, unknown>).removedLater).toBeUndefined();
    expect(report.removed['State.removedLater']).toBe(1);
    expect(s.when.getTime()).toBe(1234);
    expect([...s.bytes]).toEqual([1, 2, 3]);
    expect(s.pair).toEqual([1, 'one']);
    expect([...s.tags]).toEqual(['a', 'b']);
    expect(report.dropped).toBe(1); // the removedLater array
    f3.inode.grow(1n);
    expect(s.inodes[0]!.size).toBe(101n); // new code runs on transferred instances
    expect(checkState(s, meta2, { Inode: v2.Inode })).toEqual([]);
  });

  it('refuses a lossy conversion, naming the path', () => {
    const s = oldState();
    s.big = 2n ** 60n + 1n;
    expect(() => transfer(s)).toThrow(TransferError);
    expect(() => transfer(s)).toThrow(/state\.big: bigint \d+ does not fit a number without loss/);
  });

  it('refuses a function in the state at export, naming the path', () => {
    const s = oldState() as unknown as Record<string, unknown>;
    (s.files as Map<number, Record<string, unknown>>).get(3)!.flags = (() => 1) as never;
    expect(() => exportGraph(s)).toThrow(UntransferableError);
    expect(() => exportGraph(s)).toThrow('state.files.get(3).flags: a function cannot be transferred');
  });

  it('callbacks: per-field and per-type transfer', () => {
    const { state } = transfer(oldState(), {
      fieldTransfer: { 'Inode.nlink': (o: Record<string, unknown>) => (o.links as number) * 10 },
      typeTransfer: { File: (old: unknown, h: { convert(v: unknown, t: string): unknown }) => ({ ...(old as object), inode: h.convert((old as { inode: unknown }).inode, 'Inode'), flags: 'rw' }) },
    });
    const s = state as v2.State;
    expect(s.files.get(3)!.flags).toBe('rw');
    expect(s.files.get(3)!.inode.nlink).toBe(10);
  });

  it('the checker names the path of a wrong value', () => {
    const { state } = transfer(oldState(), { fields: { Inode: { nlink: 'links' } } });
    const s = state as v2.State;
    (s.files.get(5)!.inode as unknown as Record<string, unknown>).size = 'big';
    expect(checkState(s, meta2, { Inode: v2.Inode })).toEqual(['state.files.get(3).inode.size: expected bigint, got string "big"'.replace('get(3)', 'get(5)')]);
  });

  it('a state type that cannot be described is refused before anything runs', () => {
    expect(() => extractStateMeta(src('nope.ts'))).toThrow(MetadataError);
  });
});
