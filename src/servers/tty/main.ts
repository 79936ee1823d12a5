/**
 * tty — the console driver: line discipline, console reads and writes, the foreground
 * process. `args.mode: 'builtin'` runs the built-in commands instead of feeding
 * processes (a boot image without init and sh).
 */
import { defineServer, type Ctx } from '../../sys/index.js';
import { prompt } from './commands.js';
import { doEof, doInput, doRead } from './discipline.js';
import { doInfo, doSetfg, doWrite } from './io.js';
import { ttyProtocol } from './protocol.js';
import type { TtyState } from './state.js';
import { recoverTty, withSsr } from './ssr.js';

const fresh = async (ctx: Ctx): Promise<TtyState> => {
  const info = await ctx.kcall<{ attached: boolean; isTTY: boolean }>({ call: 'console-info' });
  return {
    mode: ctx.self.args.mode === 'user' ? 'user' : 'builtin',
    interactive: info.ok && info.value.isTTY,
    edit: '',
    lines: [],
    eof: false,
    eofOnce: 0,
    readers: [],
    foreground: null,
    queue: [],
    running: false,
    stamp: 0,
  };
};

export default defineServer<TtyState, typeof ttyProtocol>({
  protocol: ttyProtocol,
  init: fresh,
  // After a crash: the console reads vfs had forwarded are gone with the old state; ask vfs
  // to forward them again (held until this incarnation is bound).
  restart: async (ctx) => {
    const state = await fresh(ctx);
    if (state.mode === 'user') ctx.send('vfs', { type: 'vfs.ttyreset' });
    return state;
  },
  // Under ssr-restart: the unread input and the foreground process come back too.
  recover: async (regions, ctx) => {
    const state = recoverTty(await fresh(ctx), regions);
    if (state.mode === 'user') ctx.send('vfs', { type: 'vfs.ttyreset' });
    return state;
  },
  start: (state, ctx) => prompt(state, ctx),
  handlers: withSsr({
    'console.input': doInput,
    'console.eof': doEof,
    'tty.read': doRead,
    'tty.write': doWrite,
    'tty.setfg': doSetfg,
    'tty.info': doInfo,
  }),
});
