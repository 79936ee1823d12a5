/**
 * pm — the process manager: pids, parent/child, spawn/exit/wait/kill, the process
 * table. With `args.init`, it starts init (pid 1) on the console once it runs.
 */
import { defineServer } from '../../sys/index.js';
import { doGetpid, doKernelExit, doKernelFault, doKill, doPs, doSpawn, doWait, spawnProcess } from './procs.js';
import { pmProtocol } from './protocol.js';
import type { PmState } from './state.js';

export default defineServer<PmState, typeof pmProtocol>({
  protocol: pmProtocol,
  init: () => ({ procs: new Map(), labels: new Map(), nextPid: 1, waits: [], initPid: null }),
  start: async (state, ctx) => {
    const init = ctx.self.args.init as string | undefined;
    if (!init) return;
    const r = await spawnProcess(state, { parent: 0, path: init, argv: ['init'], env: { PATH: '/bin', HOME: '/' }, fds: [[0, 0], [1, 1], [2, 2]] }, ctx);
    if (r.ok) state.initPid = r.value;
    else {
      ctx.send('tty', { type: 'tty.write', data: new TextEncoder().encode(`pm: cannot start ${init}: ${r.code} ${r.message ?? ''}\n`) });
      await ctx.kcall({ call: 'shutdown', code: 1 });
    }
  },
  handlers: {
    'pm.spawn': doSpawn,
    'pm.wait': doWait,
    'pm.kill': doKill,
    'pm.getpid': doGetpid,
    'pm.ps': doPs,
    'kernel.exit': doKernelExit,
    'kernel.fault': doKernelFault,
  },
});
