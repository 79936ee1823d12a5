/**
 * kvd's two database layouts (version 1: src/user/kvd/state.ts, values and expiry times
 * in two Maps; version 2: test/corpus/kvd/v2.ts, one Map of entries with the expiry
 * inside): the same engine over either answers every request identically, and the
 * state moves v1 → v2 → v1 through the live-update machinery (type metadata from the
 * sources, export, import with each version's callbacks, the state checker) with every
 * key, value, expiry time, session and pending AOF byte intact.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { exportGraph } from '../../src/update/graph.js';
import { checkState } from '../../src/update/check.js';
import { extractStateMeta } from '../../src/update/metadata.js';
import { importState } from '../../src/update/transfer.js';
import { adoptImported, checkHooks, importHooks } from '../../src/objects/space.js';
import { activeExpire, execute } from '../../src/user/kvd/engine.js';
import v1 from '../../src/user/kvd/main.js';
import { freshCore, freshSession, freshState, DATABASES, List, type KvdCore, type Session } from '../../src/user/kvd/state.js';
import v2, { Db as DbV2 } from '../corpus/kvd/v2.js';
import { snapshot } from '../helpers/kvd.js';

const T0 = 1_700_000_000_000;
const path = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

function v2State(): KvdCore {
  return freshCore({}, Array.from({ length: DATABASES }, () => new DbV2()), 1, T0);
}

const session = (): Session => freshSession('t', 0);


/** A scripted workload with expiry and time passing: every reply, in order. */
function run(st: KvdCore): string[] {
  const c = session();
  let now = T0;
  const out: string[] = [];
  const r = (...argv: string[]) => out.push(execute(st, c, argv, now));
  for (let i = 0; i < 400; i++) {
    r('SET', `s${i % 37}`, `v${i}`, ...(i % 5 === 0 ? ['PX', String(50 + (i % 200))] : []));
    r('RPUSH', `l${i % 7}`, `e${i}`);
    if (i % 3 === 0) r('LPOP', `l${(i + 1) % 7}`);
    r('HSET', `h${i % 5}`, `f${i % 11}`, String(i));
    r('SADD', `z${i % 4}`, `m${i % 13}`);
    if (i % 9 === 0) r('EXPIRE', `h${i % 5}`, String(1 + (i % 3)));
    if (i % 17 === 0) r('PERSIST', `s${(i + 3) % 37}`);
    if (i % 23 === 0) r('SELECT', String(i % 3));
    r('TTL', `s${(i * 7) % 37}`);
    r('GET', `s${(i * 3) % 37}`);
    now += 7;
    if (i % 50 === 0) activeExpire(st, now, 10);
  }
  // KEYS order is unspecified (Redis's too): compare the set of lines.
  out.push(execute(st, c, ['KEYS', '*'], now).split('\r\n').sort().join('|'));
  r('DBSIZE');
  r('INFO', 'keyspace');
  return out;
}

describe('kvd database layouts', () => {
  it('version 1 and version 2 answer the same workload identically', () => {
    const a = freshState({}, 1, T0);
    const b = v2State();
    const ra = run(a);
    const rb = run(b);
    expect(rb.length).toBe(ra.length);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) expect([i, rb[i]]).toEqual([i, ra[i]]);
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('the state goes v1 → v2 → v1 through export, import and check with nothing lost', () => {
    const meta1 = extractStateMeta(path('../../src/user/kvd/main.ts'));
    const meta2 = extractStateMeta(path('../corpus/kvd/v2.ts'));
    const a = freshState({ dir: '/x' }, 1, T0);
    a.aof.on = true;
    a.aof.fd = 3;
    run(a);
    a.sessions.set(7, { ...session(), db: 2, name: 'client', pending: [new Uint8Array([42, 49, 13])], pendingBytes: 3, need: 0 });
    const before = snapshot(a);
    const pendingAof = a.aof.buf;
    expect(before.flat().length).toBeGreaterThan(20);

    const move = (st: unknown, meta: typeof meta1, def: typeof v1 | typeof v2, fresh: unknown) => {
      const graph = structuredClone(exportGraph(st));
      // As the server library's runtime does: lists are updatable objects (references cross with their List).
      const classes = { ...(def.classes ?? {}), List };
      const { state, report } = importState(graph, meta, fresh, classes, def.transfer ?? {}, importHooks(true));
      adoptImported();
      expect(checkState(state, meta, classes, checkHooks)).toEqual([]);
      expect(def.check!(state as never)).toEqual([]);
      return { state: state as KvdCore, report };
    };
    const up = move(a, meta2, v2, v2State());
    expect(up.state.dbs[0]).toBeInstanceOf(DbV2);
    expect(snapshot(up.state)).toEqual(before);
    expect(up.state.aof.buf).toBe(pendingAof);
    expect(up.state.sessions.get(7)).toMatchObject({ db: 2, name: 'client', pendingBytes: 3 });
    expect(up.state.sessions.get(7)!.pending[0]).toEqual(new Uint8Array([42, 49, 13]));
    // The new code on the moved state: lists are the new version's class, expiry works.
    const c = session();
    expect(execute(up.state, c, ['RPUSH', 'l1', 'new'], T0)).toMatch(/^:\d+\r\n$/);

    const back = move(up.state, meta1, v1, freshState({}, 1, T0));
    expect(back.state.dbs[0]!.constructor.name).toBe('Db');
    expect((back.state.dbs[0] as unknown as { keys: Map<string, unknown> }).keys).toBeInstanceOf(Map);
    execute(a, c, ['RPUSH', 'l1', 'new'], T0);
    expect(snapshot(back.state)).toEqual(snapshot(a));
  }, 60_000);
});
