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
import type { Ctx, Endpoint, Handler, HandlerResult, Header } from '../../sys/index.js';
import type { TtyState } from './state.js';

export interface TtyRegion {
  stamp: number;
  edit: string;
  lines: string[];
  eof: boolean;
  eofOnce: number;
  foreground: number | null;
}

export function withSsr<T extends Record<string, Handler<TtyState, never>>>(handlers: T): T {
  const out: Record<string, unknown> = {};
  for (const [type, h] of Object.entries(handlers)) {
    const handler = h as unknown as (s: TtyState, m: Header & { type: string }, c: Ctx) => HandlerResult | Promise<HandlerResult>;
    out[type] = async (state: TtyState, msg: Header & { type: string }, ctx: Ctx) => {
      const r = await handler(state, msg, ctx);
      if (ctx.ssr && state.mode === 'user') {
        state.stamp = Math.max(state.stamp + 1, ctx.now() * 1000);
        const region = ctx.ssr<TtyRegion>(() => ({ stamp: 0, edit: '', lines: [], eof: false, eofOnce: 0, foreground: null }));
        Object.assign(region, { stamp: state.stamp, edit: state.edit, lines: [...state.lines], eof: state.eof, eofOnce: state.eofOnce, foreground: state.foreground });
      }
      return r;
    };
  }
  return out as T;
}

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
