/**
 * A function-level patch of kvd (`molt patch apply kvd test/corpus/kvd/patch-info.ts`):
 * ECHO answers in upper case, and the server version the command table carries changes
 * representation — from a string (`{ version: '7.0.0' }`) to its parts
 * (`{ parts: [7, 0, 0], tag }`) — with INFO, the one function that reads it, replaced to
 * match. While old invocations of INFO run, writes to either copy are synchronised; undo
 * after completion rebuilds the string with `revert`.
 */
import { definePatch } from '../../../src/patch/index.js';
import { infoReply, type Call } from '../../../src/user/kvd/engine.js';
import { bulk } from '../../../src/user/kvd/resp.js';

interface Server {
  parts: number[];
  tag: string;
}

const parse = (version: string): Server => ({ parts: version.split('.').map(Number), tag: 'patched' });

export default definePatch<{ server: Server }>({
  target: 'kvd.commands',
  description: 'ECHO in upper case; the version kept as parts',
  functions: {
    echo: (_d, x: Call) => bulk(x.argv[1]!.toUpperCase()),
    info: (d, x: Call) => infoReply(x, `${d.server.parts.join('.')}-${d.server.tag}`),
  },
  data: {
    server: {
      init: (old: { version: string }) => parse(old.version),
      toNew: (old: { version: string }, neu: Server) => {
        neu.parts = parse(old.version).parts;
      },
      toOld: (neu: Server, old: { version: string }) => {
        old.version = neu.parts.join('.');
      },
      revert: (neu: Server) => ({ version: neu.parts.join('.') }),
    },
  },
});
