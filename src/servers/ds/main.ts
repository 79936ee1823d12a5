/**
 * ds — the data store: naming (label → endpoint, subscriptions to changes) and a
 * small published key/value store.
 */
import { defineServer } from '../../sys/index.js';
import { doLookup, doService } from './naming.js';
import { dsProtocol } from './protocol.js';
import type { DsState } from './state.js';
import { doDelete, doKeys, doPublish, doRetrieve, doSubscribe, doUnsubscribe } from './store.js';

export default defineServer({
  protocol: dsProtocol,
  init: (): DsState => ({ entries: new Map(), subscriptions: [] }),
  handlers: {
    'ds.service': doService,
    'ds.lookup': doLookup,
    'ds.publish': doPublish,
    'ds.retrieve': doRetrieve,
    'ds.delete': doDelete,
    'ds.subscribe': doSubscribe,
    'ds.unsubscribe': doUnsubscribe,
    'ds.keys': doKeys,
  },
});
