/**
 * tty — the console server (minimal: runs built-in commands from console lines).
 */
import { defineServer } from '../../sys/index.js';
import { doEof, doInput, prompt } from './commands.js';
import { ttyProtocol } from './protocol.js';
import type { TtyState } from './state.js';

export default defineServer<TtyState, typeof ttyProtocol>({
  protocol: ttyProtocol,
  init: async (ctx) => {
    const info = await ctx.kcall<{ attached: boolean; isTTY: boolean }>({ call: 'console-info' });
    return { queue: [], running: false, eof: false, interactive: info.ok && info.value.isTTY };
  },
  start: (state, ctx) => prompt(state, ctx),
  handlers: {
    'console.input': doInput,
    'console.eof': doEof,
  },
});
