/**
 * pm — the process manager: pids, parent/child, spawn/exit/wait/kill, the process
 * table. With `args.init`, it starts init (pid 1) on the console once it runs.
 */
import { defineServer, type EndpointInfo } from '../../sys/index.js';
import { recoverPm, withSsr } from './ssr.js';
import { doGetpid, doKernelExit, doKernelFault, doKill, doPs, doSpawn, doWait, spawnProcess } from './procs.js';
import { pmProtocol } from './protocol.js';
import type { PmState } from './state.js';

export default defineServer<PmState, typeof pmProtocol>({
  protocol: pmProtocol,
  init: () => ({ procs: new Map(), labels: new Map(), nextPid: 1, waits: [], initPid: null, stamp: 0 }),
  // After a crash: the process table from the clients' regions and the kernel's endpoint table.
  recover: async (regions, ctx) => {
    const eps = await ctx.kcall<EndpointInfo[]>({ call: 'endpoints' });
    if (!eps.ok) throw new Error(`pm: cannot read the endpoint table: ${eps.code}`);
    return recoverPm(regions, eps.value, Boolean(ctx.self.args.init));
  },
  start: async (state, ctx) => {
    const init = ctx.self.args.init as string | undefined;
    // init is started once, at boot: a restarted pm finds it (or its end) in the table.
    if (!init || ctx.self.kind !== 'fresh') return;
    const r = await spawnProcess(state, { parent: 0, path: init, argv: ['init'], env: { PATH: '/bin', HOME: '/' }, fds: [[0, 0], [1, 1], [2, 2]] }, ctx);
    if (r.ok) state.initPid = r.value;
    else {
      ctx.send('tty', { type: 'tty.write', data: new TextEncoder().encode(`pm: cannot start ${init}: ${r.code} ${r.message ?? ''}\n`) });
      await ctx.kcall({ call: 'shutdown', code: 1 });
    }
  },
  handlers: withSsr({
    'pm.spawn': doSpawn,
    'pm.wait': doWait,
    'pm.kill': doKill,
    'pm.getpid': doGetpid,
    'pm.ps': doPs,
    'kernel.exit': doKernelExit,
    'kernel.fault': doKernelFault,
  }),
});
