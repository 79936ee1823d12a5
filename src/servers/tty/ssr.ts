/**
 * tty's server state regions (DESIGN.md §5): what a crash of tty must not lose is the
 * console's input not yet read (the line being edited, complete lines, end of input)
 * and the foreground process. Both are small and shared by all of tty's clients, so each
 * handler commits a stamped snapshot of them into the region of the client it serves
 * (the kernel for typed input, vfs for reads, a shell for `setfg`); after a crash the
 * newest snapshot is the state as of the last request tty completed. The reads vfs had
 * forwarded are not kept: vfs gives them again (`vfs.ttyreset`).
 *
 * Entry points: `withSsr(handlers)`, `recoverTty`.
 */
import { withAfter, type Ctx, type Endpoint, type Handler, type Header } from '../../sys/index.js';
import type { TtyState } from './state.js';

export interface TtyRegion {
  stamp: number;
  edit: string;
  lines: string[];
  eof: boolean;
  eofOnce: number;
  foreground: number | null;
}

/** After a request: a stamped snapshot of the input and the foreground process into the caller's region. */
function commit(state: TtyState, _msg: Header, ctx: Ctx): void {
  if (!ctx.ssr || state.mode !== 'user') return;
  state.stamp = Math.max(state.stamp + 1, ctx.now() * 1000);
  const region = ctx.ssr<TtyRegion>(() => ({ stamp: 0, edit: '', lines: [], eof: false, eofOnce: 0, foreground: null }));
  Object.assign(region, { stamp: state.stamp, edit: state.edit, lines: [...state.lines], eof: state.eof, eofOnce: state.eofOnce, foreground: state.foreground });
}

/** Every handler, followed by the commit of its caller's region. */
export const withSsr = <T extends Record<string, Handler<TtyState, never>>>(handlers: T): T => withAfter(handlers, commit);

/** The newest snapshot, over a fresh state. */
export function recoverTty(fresh: TtyState, regions: Array<{ client: Endpoint; value: unknown }>): TtyState {
  let best: TtyRegion | null = null;
  for (const { value } of regions) {
    const r = value as TtyRegion;
    if (typeof r?.stamp === 'number' && (!best || r.stamp > best.stamp)) best = r;
  }
  if (!best) return fresh;
  return { ...fresh, edit: best.edit, lines: [...best.lines], eof: best.eof, eofOnce: best.eofOnce, foreground: best.foreground, stamp: best.stamp };
}
