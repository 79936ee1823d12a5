/**
 * kvd: the parts of the server definition every version shares — the handler table,
 * start (load the AOF, then listen), stop (flush + sync), quiescence and invariants.
 * A version supplies its state root (its database class) around them (main.ts, and
 * test/corpus/kvd/v2.ts).
 *
 * Entry points: `kvdHandlers`, `withListener`, `startKvd`, `stopKvd`, `kvdPrepare`, `checkKvd`.
 */
import type { Ctx } from '../../sys/index.js';
import { flushAndSync, loadAof } from './aof.js';
import { armTick, claimListener, doAlarm, doNetEvent, doStats, releaseHeld } from './conn.js';
import { DATABASES, type KvdCore } from './state.js';

export const kvdHandlers = {
  'net.event': doNetEvent,
  'clock.alarm': doAlarm,
  'kvd.stats': doStats,
};

/**
 * A version's init with the listener claimed (fresh start or restart; not a live
 * update, where the state — listener included — arrives from the old version).
 */
export function withListener<S extends KvdCore>(init: (ctx: Ctx) => S): (ctx: Ctx) => Promise<S> {
  return async (ctx) => {
    const st = init(ctx);
    if (ctx.self.kind !== 'update') await claimListener(st, ctx);
    return st;
  };
}

/**
 * Start (fresh start or restart; not after a live update): 1. replay the AOF; 2. watch
 * the listener claimed in init — connections that waited in its backlog come now, and
 * after a restart the open connections' data comes again (their sessions are made
 * afresh, in database 0); what came during 1 is run now; 3. start the tick.
 */
export async function startKvd(st: KvdCore, ctx: Ctx): Promise<void> {
  st.phase = 'loading';
  await loadAof(st, ctx);
  const w = await ctx.sendrec('net', { type: 'net.watch', sock: st.listener }, { timeoutMs: 10_000 });
  if (!w.ok) throw new Error(`kvd: net.watch: ${w.code} ${w.message ?? ''}`);
  st.phase = 'serving';
  releaseHeld(st, ctx);
  armTick(st, ctx);
}

/**
 * Stop (system shutdown, or `service down kvd`): everything appended is written and
 * synced; then the listener and the connections are closed.
 */
export async function stopKvd(st: KvdCore, ctx: Ctx): Promise<void> {
  await flushAndSync(st, ctx);
  st.phase = 'stopped';
  for (const sock of st.sessions.keys()) ctx.send('net', { type: 'net.close', sock });
  st.sessions.clear();
  if (st.listener >= 0) ctx.send('net', { type: 'net.close', sock: st.listener });
  st.listener = -1;
}

/**
 * A live update waits until kvd is between AOF operations (`protocol-free`): an I/O
 * operation in flight is a local continuation that cannot move to a new version. The
 * data path itself never waits: requests are handled synchronously.
 */
export const kvdPrepare = {
  mode: 'protocol-free' as const,
  protocolFree: (st: KvdCore) => st.phase !== 'loading' && !st.aof.busy,
};

export function checkKvd(st: KvdCore): string[] {
  const out: string[] = [];
  if (st.dbs.length !== DATABASES) out.push(`${st.dbs.length} databases, not ${DATABASES}`);
  for (const [sock, s] of st.sessions) {
    if (s.db < 0 || s.db >= DATABASES) out.push(`session ${sock} selects database ${s.db}`);
    const sum = s.pending.reduce((n, p) => n + p.length, 0);
    if (sum !== s.pendingBytes) out.push(`session ${sock}: pendingBytes ${s.pendingBytes} but ${sum} bytes pending`);
  }
  if (st.aof.on && st.aof.fd < 0) out.push('the AOF is on but has no fd');
  return out;
}
