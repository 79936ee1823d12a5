/** net, version 2 (update corpus): version 1 with a `stats` field added to its state (see ../os-v2.ts). */
import v1 from '../../../src/servers/net/main.js';
import { withCallStats } from '../os-v2.js';

export default withCallStats(v1);
