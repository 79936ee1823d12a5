/** A patch of kvd naming a function its command table does not have: refused, nothing changes. */
import { definePatch } from '../../../src/patch/index.js';
import { bulk } from '../../../src/user/kvd/resp.js';

export default definePatch({
  target: 'kvd.commands',
  functions: {
    echo: () => bulk('should never answer'),
    nosuchcommand: () => bulk('nor this'),
  },
});
