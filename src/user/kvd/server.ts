/**
 * kvd: the parts of the server definition every version shares — the handler table,
 * start (load the AOF, then listen), stop (flush + sync), quiescence and invariants.
 * A version supplies its state root (its database class) around them (main.ts, and
 * test/corpus/kvd/v2.ts).
 *
 * Entry points: `kvdHandlers`, `startKvd`, `stopKvd`, `kvdPrepare`, `checkKvd`.
 */
import type { Ctx } from '../../sys/index.js';
import type { SockInfo } from '../../servers/net/protocol.js';
import { flushAndSync, loadAof } from './aof.js';
import { armTick, doAlarm, doNetEvent, doStats, listen, releaseHeld } from './conn.js';
import { DATABASES, type KvdCore } from './state.js';

export const kvdHandlers = {
  'net.event': doNetEvent,
  'clock.alarm': doAlarm,
  'kvd.stats': doStats,
};

/**
 * Start (fresh start or restart; not after a live update, where the state arrives):
 * 1. replay the AOF; 2. listen — unless this label still owns a listener in net (after
 * a crash: net keeps the sockets, the endpoint is the same), which is taken back, so
 * the port does not change and open connections keep working (their sessions are made
 * afresh, in database 0, as their data comes: what came during 1 is run now); 3. start
 * the tick.
 */
export async function startKvd(st: KvdCore, ctx: Ctx): Promise<void> {
  st.phase = 'loading';
  await loadAof(st, ctx);
  const r = await ctx.sendrec<SockInfo[]>('net', { type: 'net.list' }, { timeoutMs: 10_000 });
  const mine = r.ok ? r.value.find((s) => s.owner === ctx.self.label && s.state === 'listening' && (st.port === 0 || s.local?.port === st.port)) : undefined;
  if (mine) {
    st.listener = mine.sock;
    st.boundPort = mine.local?.port ?? st.port;
    await ctx.sendrec('net', { type: 'net.watch', sock: mine.sock }, { timeoutMs: 10_000 });
  } else {
    await listen(st, ctx);
  }
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
