/**
 * kvd — a Redis-protocol (RESP2) key-value daemon: sixteen databases of strings, lists,
 * hashes and sets with expiry times, served over TCP through net, made durable in an
 * append-only file through vfs, live-updatable under open connections.
 *
 * Layout: resp.ts (protocol parser/encoders) · engine.ts (commands, pure) · glob.ts ·
 * state.ts (the state root, `Db`, `List`) · conn.ts (net events, the data path, the tick)
 * · aof.ts (load, append, sync, rewrite) · server.ts (what every version shares) ·
 * transfer.ts (database layouts across versions) · protocol.ts.
 *
 * Boot configuration: `KVD` in src/boot/os.ts; args `{ host, port, dir }`.
 */
import { defineServer } from '../../sys/index.js';
import { kvdProtocol } from './protocol.js';
import { checkKvd, kvdHandlers, kvdPrepare, startKvd, stopKvd, withListener, withRecovery } from './server.js';
import { Db, freshState, List, type KvdState } from './state.js';
import { dbFromOld, readOldList } from './transfer.js';

export default defineServer<KvdState, typeof kvdProtocol>({
  protocol: kvdProtocol,
  init: withListener((ctx): KvdState => freshState(ctx.self.args, ctx.self.incarnation, ctx.now())),
  // After a crash: the listener back, and the open connections' sessions from the regions (server.ts).
  recover: withRecovery((ctx): KvdState => freshState(ctx.self.args, ctx.self.incarnation, ctx.now())),
  start: startKvd,
  stop: stopKvd,
  handlers: kvdHandlers,
  classes: { Db },
  // Lists are updatable objects (K42): `service update kvd FILE --mode objects [--lazy]`.
  objects: { List },
  prepare: kvdPrepare,
  check: checkKvd,
  transfer: {
    // A database from any version (v2 keeps expiry inside each entry): rebuilt in this layout.
    typeTransfer: {
      Db: dbFromOld,
      // A list of any representation (test/corpus/kvd/lists-v2.ts keeps one array and an offset).
      List: (old) => {
        const l = new List();
        l.back = readOldList(old);
        return l;
      },
    },
  },
});
