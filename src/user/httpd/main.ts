/**
 * httpd — an HTTP/1.1 static file server: files under a document root on the Molt file
 * system (through vfs), served to TCP clients (through net) with keep-alive, pipelining,
 * GET and HEAD, and a small-file cache. All of its state is plain data in one root
 * (state.ts), so it is live-updated under open connections and restarted behind the same
 * endpoint (a restarted httpd takes its listening socket back from net).
 *
 * Args (boot configuration, or `service up httpd KEY=VALUE`): `host`, `port` (0: an
 * ephemeral one, see `httpd.stats`), `root`; optionally `cacheFileMax`, `cacheMax`
 * (bytes) and `statValidMs` (default 0: every response reflects a `vfs.stat` answered
 * after its request arrived; > 0 lets a stat serve requests for that long, much faster).
 *
 * Entry points: the default export; `makeHttpd` (what later versions build on).
 */
import { defineServer, type Ctx, type ServerDef } from '../../sys/index.js';
import { afterTransfer, claimListener, idle, listen, netEventHandler, statsHandler, unlisten, type Hooks } from './conn.js';
import { httpdProtocol } from './protocol.js';
import { freshState, type HttpdState } from './state.js';

/** An httpd whose state is `S` (HttpdState plus what a version adds), built by `init`. */
export function makeHttpd<S extends HttpdState>(init: (ctx: Ctx) => S, hooks: Hooks<S> = {}): ServerDef<S, typeof httpdProtocol> {
  return defineServer<S, typeof httpdProtocol>({
    protocol: httpdProtocol,
    // The listener is claimed in init (fresh start or restart; a live update brings it in the state).
    init: async (ctx) => {
      const st = init(ctx);
      if (ctx.self.kind !== 'update') await claimListener(st, ctx);
      return st;
    },
    start: async (st, ctx) => {
      await listen(st, ctx);
    },
    stop: (st, ctx) => unlisten(st, ctx),
    handlers: {
      'net.event': netEventHandler(hooks),
      'httpd.stats': statsHandler(hooks),
    },
    // A live update waits until no response is being produced (the interface filter holds new events meanwhile).
    prepare: { mode: 'protocol-free', protocolFree: idle },
    transfer: { afterTransfer: (st, _report, ctx) => afterTransfer(st, ctx) },
    check: (st) => {
      const out: string[] = [];
      if (st.openFds < 0) out.push(`openFds is ${st.openFds}`);
      let bytes = 0;
      for (const f of st.cache.values()) bytes += f.data.length;
      if (bytes !== st.cacheBytes) out.push(`cacheBytes ${st.cacheBytes} but ${bytes} bytes cached`);
      for (const [sock, c] of st.conns) {
        if (c.sock !== sock) out.push(`connection ${sock} says it is ${c.sock}`);
        if (c.parked && !c.busy) out.push(`connection ${sock} is parked but not busy`);
      }
      return out;
    },
  });
}

export default makeHttpd((ctx): HttpdState => freshState(ctx.self.args));
