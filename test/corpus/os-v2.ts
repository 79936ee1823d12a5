/**
 * Second versions of the OS servers for the update corpus: each is version 1 with a
 * changed state layout — a `calls` table (message type → count) and the time the
 * version took over — kept by wrapping every handler. Updating a server to its
 * version 2 and back must keep every client-visible effect (open files, offsets,
 * pipes, waiting reads, processes, console input).
 */
import type { HandlerTable, ServerDef } from '../../src/sys/server.js';
import type { Protocol } from '../../src/sys/schema.js';
import type { Ctx, Message, HandlerResult } from '../../src/sys/index.js';

export interface CallStats {
  calls: Record<string, number>;
  since: number;
}

export type WithStats<S> = S & { stats: CallStats };

export function withCallStats<S, P extends Protocol>(v1: ServerDef<S, P>): ServerDef<WithStats<S>, P> {
  const base = v1.handlers as unknown as Record<string, (s: S, m: Message, c: Ctx) => HandlerResult | Promise<HandlerResult>>;
  const handlers: Record<string, (s: WithStats<S>, m: Message, c: Ctx) => HandlerResult | Promise<HandlerResult>> = {};
  for (const [type, h] of Object.entries(base)) {
    handlers[type] = (s, m, c) => {
      s.stats.calls[type] = (s.stats.calls[type] ?? 0) + 1;
      return h(s, m, c);
    };
  }
  return {
    ...v1,
    init: async (ctx: Ctx): Promise<WithStats<S>> => Object.assign((await v1.init(ctx)) as object, { stats: { calls: {}, since: ctx.now() } }) as WithStats<S>,
    restart: undefined,
    // Recovery from server state regions builds version 1's state: add this version's field.
    recover: v1.recover
      ? async (ssrs: Parameters<NonNullable<typeof v1.recover>>[0], ctx: Ctx): Promise<WithStats<S>> =>
          Object.assign((await v1.recover!(ssrs, ctx)) as object, { stats: { calls: {}, since: ctx.now() } }) as WithStats<S>
      : undefined,
    start: undefined,
    handlers: handlers as unknown as HandlerTable<WithStats<S>, P>,
  } as ServerDef<WithStats<S>, P>;
}
