/**
 * Update corpus: a broken object-level version of kvd — its `List` transfer throws on a
 * list holding the element `poison`. An object-level update to it must roll back whole
 * (every list keeps version 1's representation) with kvd serving throughout.
 */
import { defineServer } from '../../../src/sys/index.js';
import { kvdProtocol } from '../../../src/user/kvd/protocol.js';
import { checkKvd, kvdHandlers, kvdPrepare, startKvd, stopKvd, withListener } from '../../../src/user/kvd/server.js';
import { Db, freshState, type KvdState } from '../../../src/user/kvd/state.js';
import { readOldList } from '../../../src/user/kvd/transfer.js';
import { List as Base } from './lists-v2.js';

export class List extends Base {}

export default defineServer<KvdState, typeof kvdProtocol>({
  protocol: kvdProtocol,
  init: withListener((ctx): KvdState => freshState(ctx.self.args, ctx.self.incarnation, ctx.now())),
  start: startKvd,
  stop: stopKvd,
  handlers: kvdHandlers,
  classes: { Db },
  objects: { List },
  prepare: kvdPrepare,
  check: checkKvd,
  transfer: {
    typeTransfer: {
      List: (old) => {
        const items = readOldList(old);
        if (items.includes('poison')) throw new Error('this version cannot hold poison');
        const l = new List();
        l.items = items;
        return l;
      },
    },
  },
});
