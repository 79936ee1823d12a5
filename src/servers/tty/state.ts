/**
 * tty state: the lines waiting to run, in order.
 */
export interface TtyState {
  queue: string[];
  /** A line is being run (lines run one at a time, in order). */
  running: boolean;
  /** End of input seen: shut down once the queue is empty. */
  eof: boolean;
  interactive: boolean;
}
