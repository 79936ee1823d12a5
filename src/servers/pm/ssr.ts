/**
 * pm's server state regions (DESIGN.md §5, CuriOS): what must survive a crash of pm —
 * the process table — kept by the kernel per client, outside pm's heap.
 *
 * - A process (or the system, pid 0) commits, after each of its requests, its own entry
 *   and its children's (it spawned them, so its spawn handler may record them), stamped.
 * - The kernel's exit and fault reports are requests *from the kernel*: their handlers
 *   commit the kernel's region, the exit statuses of processes that are zombies now.
 * - `recoverPm` merges them (the newest entry of a pid wins) with the kernel's endpoint
 *   table, the ground truth of which programs still run. Calls that were waiting (a
 *   parent's `pm.wait`) are given again by the kernel and wait again.
 *
 * Entry points: `withSsr(handlers)`, `recoverPm`.
 */
import { withAfter, type Ctx, type Endpoint, type EndpointInfo, type Handler, type Header } from '../../sys/index.js';
import { pidOfLabel } from './protocol.js';
import type { PmState, Proc } from './state.js';

export type PmRegion =
  | { kind: 'client'; stamp: number; pid: number; self: Proc | null; children: Proc[] }
  | { kind: 'kernel'; ended: Array<[number, number]> };

/** After the handler: commit the caller's region. */
async function commit(state: PmState, msg: Header & { type: string }, ctx: Ctx): Promise<void> {
  if (!ctx.ssr) return;
  if (msg.from === 0) {
    // The kernel's reports: the statuses of the zombies (bounded by the table itself).
    const region = ctx.ssr<PmRegion>(() => ({ kind: 'kernel', ended: [] }));
    if (region.kind === 'kernel') {
      region.ended = [...state.procs.values()].filter((p) => p.state === 'zombie').map((p) => [p.pid, p.status ?? 0]);
    }
    return;
  }
  const pid = pidOfLabel(await ctx.whois(msg.from));
  const self = state.procs.get(pid) ?? null;
  const children = [...state.procs.values()].filter((p) => p.ppid === pid);
  state.stamp = Math.max(state.stamp + 1, ctx.now() * 1000);
  const region = ctx.ssr<PmRegion>(() => ({ kind: 'client', stamp: 0, pid, self: null, children: [] }));
  if (region.kind !== 'client') return;
  Object.assign(region, { stamp: state.stamp, pid, self, children });
}

/** Every handler, followed by the commit of its caller's region. */
/** Every handler, followed by the commit of its caller's region. */
export const withSsr = <T extends Record<string, Handler<PmState, never>>>(handlers: T): T => withAfter(handlers, commit);

/**
 * Rebuild the process table: entries from the regions (newest per pid), running if the
 * kernel still has the program's incarnation, a zombie with its status if the kernel's
 * region says it ended; a process that ended while pm was down is finished by the
 * kernel's report, which waited for the new pm.
 */
export function recoverPm(regions: Array<{ client: Endpoint; value: unknown }>, endpoints: EndpointInfo[], initConfigured: boolean): PmState {
  const entries = new Map<number, { stamp: number; proc: Proc }>();
  const ended = new Map<number, number>();
  let stamp = 0;
  for (const { value } of regions) {
    const r = value as PmRegion;
    if (r?.kind === 'kernel') {
      for (const [pid, status] of r.ended) ended.set(pid, status);
      continue;
    }
    if (r?.kind !== 'client') continue;
    stamp = Math.max(stamp, r.stamp);
    for (const p of [...(r.self ? [r.self] : []), ...r.children]) {
      const cur = entries.get(p.pid);
      if (!cur || r.stamp > cur.stamp) entries.set(p.pid, { stamp: r.stamp, proc: { ...p } });
    }
  }
  const live = new Map(endpoints.filter((e) => e.status === 'bound' && pidOfLabel(e.label) > 0).map((e) => [e.label, e.incarnation]));
  const procs = new Map<number, Proc>();
  const labels = new Map<string, number>();
  let top = 0;
  for (const { proc } of entries.values()) {
    top = Math.max(top, proc.pid);
    const inc = live.get(proc.label);
    if (inc !== undefined && inc !== null) Object.assign(proc, { state: 'running', incarnation: inc, status: null });
    else if (ended.has(proc.pid)) Object.assign(proc, { state: 'zombie', incarnation: null, status: ended.get(proc.pid)! });
    else if (proc.state === 'running') proc.incarnation = null; // ended while pm was down: the kernel's report finishes it
    procs.set(proc.pid, proc);
    labels.set(proc.label, proc.pid);
  }
  for (const e of endpoints) top = Math.max(top, pidOfLabel(e.label));
  return { procs, labels, nextPid: top + 1, waits: [], initPid: initConfigured && procs.has(1) ? 1 : null, stamp };
}
