/**
 * tty: console output, the foreground process, and what the console is.
 *
 * Entry points: `doWrite`, `doSetfg`, `doInfo`.
 */
import { err, ok, type Handler } from '../../sys/index.js';
import type { TtyRequest } from './protocol.js';
import type { TtyState } from './state.js';

type Req<K extends TtyRequest['type']> = Extract<TtyRequest, { type: K }>;

const MAX_WRITE = 1 << 20;

export const doWrite: Handler<TtyState, Req<'tty.write'>> = async (_state, msg, ctx) => {
  if (!(msg.data instanceof Uint8Array)) return err('EINVAL', 'data must be bytes');
  if (msg.data.length > MAX_WRITE) return err('EINVAL', `a console write is at most ${MAX_WRITE} bytes`);
  const r = await ctx.kcall({ call: 'console-write', text: new TextDecoder().decode(msg.data), ...(msg.stream ? { stream: msg.stream } : {}) });
  return r.ok ? ok(msg.data.length) : r;
};

export const doSetfg: Handler<TtyState, Req<'tty.setfg'>> = (state, msg) => {
  state.foreground = msg.pid > 0 ? msg.pid : null;
  return ok(null);
};

export const doInfo: Handler<TtyState, Req<'tty.info'>> = (state) =>
  ok({ isTTY: state.interactive, foreground: state.foreground, mode: state.mode });
