/**
 * rs — the reincarnation server: starts the boot image, watches for faults the kernel
 * reports, restarts by each service's recovery policy (stateless or ssr, with backoff and
 * give-up limits), records every fault, injects faults on request, answers `service …`.
 */
import { defineServer } from '../../sys/index.js';
import { rsProtocol } from './protocol.js';
import { bootImage, doAlarm, doFault, doRestart, rebuildFromKernel } from './reincarnate.js';
import { doDown, doUp } from './daemons.js';
import { doFaults, doFi } from './faults.js';
import { doList } from './list.js';
import { doPolicy, fillAddedPolicyFields } from './policy.js';
import { doHistory, doRollback, doUpdate, finishSelfUpdate } from './update.js';
import { doPatch } from './patch.js';
import type { RsState } from './state.js';

const empty = (): RsState => ({ config: null, services: new Map(), booted: false, updates: new Map(), nextUpdate: 1, patches: [], nextPatch: 1 });

export default defineServer({
  protocol: rsProtocol,
  init: empty,
  restart: async (ctx) => {
    const state = empty();
    await rebuildFromKernel(state, ctx);
    return state;
  },
  start: (state, ctx) => (state.booted ? undefined : bootImage(state, ctx)),
  handlers: {
    'kernel.fault': doFault,
    'clock.alarm': doAlarm,
    'rs.list': doList,
    'rs.restart': doRestart,
    'rs.update': doUpdate,
    'rs.rollback': doRollback,
    'rs.history': doHistory,
    'rs.up': doUp,
    'rs.down': doDown,
    'rs.policy': doPolicy,
    'rs.faults': doFaults,
    'rs.fi': doFi,
    'rs.patch': doPatch,
  },
  transfer: {
    afterTransfer: (state, report, ctx) => {
      fillAddedPolicyFields(state, report.added);
      finishSelfUpdate(state, ctx);
    },
  },
});
