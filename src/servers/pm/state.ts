/**
 * pm state: the process table and the waits in progress — plain data reachable from
 * `PmState`, so live update and recovery carry every process.
 */
import type { ReplyToken } from '../../sys/index.js';

export interface Proc {
  pid: number;
  ppid: number;
  uid: number;
  argv: string[];
  /** The kernel label of its incarnation (`p<pid>`). */
  label: string;
  incarnation: number | null;
  state: 'running' | 'zombie';
  status: number | null;
  startedAt: number;
}

export interface PmState {
  procs: Map<number, Proc>;
  /** label → pid. */
  labels: Map<string, number>;
  nextPid: number;
  /** Parents waiting for a child: deferred replies. */
  waits: Array<{ parent: number; pid: number; token: ReplyToken }>;
  /** pid of init (its exit shuts the system down), or null. */
  initPid: number | null;
  /** The last stamp given to a server state region (ssr.ts): ordered across incarnations. */
  stamp: number;
}
