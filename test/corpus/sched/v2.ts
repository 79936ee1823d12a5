/**
 * sched, version 2 (update corpus): version 1 with a `stats` field added to its state
 * (see ../os-v2.ts). It keeps version 1's `start` (which os-v2 drops): sched's sampling
 * is started there, and a restart of version 2 must sample too.
 */
import v1 from '../../../src/servers/sched/main.js';
import { withCallStats } from '../os-v2.js';

export default { ...withCallStats(v1), start: v1.start };
