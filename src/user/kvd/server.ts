/**
 * kvd: the parts of the server definition every version shares — the handler table,
 * start (load the AOF, then listen), stop (flush + sync), quiescence and invariants.
 * A version supplies its state root (its database class) around them (main.ts, and
 * test/corpus/kvd/v2.ts).
 *
 * Entry points: `kvdHandlers`, `withListener`, `startKvd`, `stopKvd`, `kvdPrepare`, `checkKvd`.
 */
import type { Ctx, Endpoint } from '../../sys/index.js';
import type { SockInfo } from '../../servers/net/protocol.js';
import { flushAndSync, loadAof } from './aof.js';
import { armTick, claimListener, doAlarm, doNetEvent, doStats, releaseHeld, resumeSession } from './conn.js';
import { DATABASES, type KvdCore, type KvdRegion, type SessionRegion } from './state.js';

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
 * After a crash (policy ssr-restart): as `withListener`, and the sessions the regions kept
 * (newest entry of each socket) for `startKvd` to give back to the open connections.
 */
export function withRecovery<S extends KvdCore>(init: (ctx: Ctx) => S): (ssrs: Array<{ client: Endpoint; value: unknown }>, ctx: Ctx) => Promise<S> {
  const make = withListener(init);
  return async (ssrs, ctx) => {
    const st = await make(ctx);
    const best = new Map<number, SessionRegion>();
    for (const { value } of ssrs) {
      const r = value as KvdRegion | null;
      for (const [sock, e] of Object.entries(r?.sessions ?? {})) {
        const k = Number(sock);
        const cur = best.get(k);
        if (!cur || e.stamp > cur.stamp) best.set(k, e);
        st.regionStamp = Math.max(st.regionStamp, e.stamp);
      }
    }
    st.recovered = [...best];
    return st;
  };
}

/**
 * Start (fresh start or restart; not after a live update): 1. replay the AOF; 2. watch
 * the listener claimed in init — connections that waited in its backlog come now — and
 * opt its delegated connections into acknowledged delivery (an empty write on the
 * listener: the kernel's TCP device then keeps what kvd has not answered); 3. after a
 * restart, each open connection gets its session back (its database and name, from the
 * regions) and is watched again — the device delivers again what the crashed kvd had not
 * answered; what came during 1 is run now; 4. start the tick.
 */
export async function startKvd(st: KvdCore, ctx: Ctx): Promise<void> {
  st.phase = 'loading';
  await loadAof(st, ctx);
  const net = async <T>(msg: { type: string } & Record<string, unknown>): Promise<T> => {
    const r = await ctx.sendrec<T>('net', msg, { timeoutMs: 10_000 });
    if (!r.ok) throw new Error(`kvd: ${msg.type}: ${r.code} ${r.message ?? ''}`);
    return r.value;
  };
  await net({ type: 'net.watch', sock: st.listener });
  const mine = (await net<SockInfo[]>({ type: 'net.list' })).filter((r) => r.owner === ctx.self.label);
  const lrow = mine.find((r) => r.sock === st.listener);
  if (lrow?.delegated && typeof lrow.handle === 'number') ctx.kcast({ call: 'tcp-write', handle: lrow.handle, data: new Uint8Array(0) });
  if (ctx.self.kind === 'restart') {
    const kept = new Map(st.recovered ?? []);
    st.recovered = null;
    for (const row of mine) {
      if (row.sock === st.listener || row.state !== 'connected') continue;
      if (!resumeSession(st, ctx, row, kept.get(row.sock))) continue;
      // From here the device delivers again what kvd had not answered.
      const w = await ctx.sendrec('net', { type: 'net.watch', sock: row.sock }, { timeoutMs: 10_000 });
      if (!w.ok && w.code !== 'EBADF') throw new Error(`kvd: net.watch ${row.sock}: ${w.code} ${w.message ?? ''}`);
    }
  }
  st.answered.clear();
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
