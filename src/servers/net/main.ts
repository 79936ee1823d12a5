/**
 * net — the network stack: TCP sockets for processes and daemons over the kernel's
 * host-TCP device. All socket state is net's plain data (state.ts); the host sockets
 * stay in the kernel, so net is live-updated (or restarted) under open connections. After
 * a crash it recovers its owners' sockets (server state regions and the device: ssr.ts).
 */
import { defineServer } from '../../sys/index.js';
import { doTcpEvent } from './device.js';
import { netProtocol } from './protocol.js';
import {
  doAccept, doAlarm, doBind, doClose, doConnect, doExit, doList, doListen, doRecv, doSelect, doSend, doShutdown, doSocket, doWatch,
} from './sockets.js';
import { recoverNet, withSsr } from './ssr.js';
import { emptyNetState, type NetState } from './state.js';

export default defineServer<NetState, typeof netProtocol>({
  protocol: netProtocol,
  init: emptyNetState,
  // After a crash: each owner's sockets from its region, checked against the kernel's TCP device (ssr.ts).
  recover: recoverNet,
  handlers: withSsr({
    'net.socket': doSocket,
    'net.bind': doBind,
    'net.listen': doListen,
    'net.accept': doAccept,
    'net.connect': doConnect,
    'net.send': doSend,
    'net.recv': doRecv,
    'net.shutdown': doShutdown,
    'net.close': doClose,
    'net.select': doSelect,
    'net.watch': doWatch,
    'net.list': doList,
    'net.exit': doExit,
    'clock.alarm': doAlarm,
    'kernel.tcp': doTcpEvent,
  }),
  check: (s) => {
    const out: string[] = [];
    for (const [h, id] of s.byHandle) if (!s.socks.has(id)) out.push(`handle ${h} maps to missing socket ${id}`);
    for (const sock of s.socks.values()) {
      const sum = sock.rx.reduce((n, c) => n + c.length, 0);
      if (sum !== sock.rxQueued) out.push(`socket ${sock.id}: rxQueued ${sock.rxQueued} but ${sum} bytes queued`);
    }
    return out;
  },
});
