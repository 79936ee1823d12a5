/**
 * tty state: the line being edited, input waiting to be read, readers waiting for it,
 * the foreground process — and, with no shell in the boot image, the built-in command
 * queue. Plain data, so reads in progress survive a live update of tty.
 */
export interface TtyState {
  /** 'user': console input feeds processes' reads (init + sh); 'builtin': the minimal built-in commands. */
  mode: 'user' | 'builtin';
  /** The host console is a terminal: tty does the line discipline (echo, erase, ^C, ^D, ^U). */
  interactive: boolean;
  /** The line being edited (interactive only). */
  edit: string;
  /** Complete input lines (newline included) not read yet. */
  lines: string[];
  /** Input ended (the host's stdin closed). */
  eof: boolean;
  /** ^D on an empty line: the next read returns end of file once. */
  eofOnce: number;
  /** vfs's console reads waiting for input. */
  readers: Array<{ ticket: number; length: number }>;
  /** The process that gets INT on ^C. */
  foreground: number | null;
  /** Built-in mode: lines waiting to run, and whether one is running. */
  queue: string[];
  running: boolean;
  /** The last stamp given to a server state region snapshot (ssr.ts). */
  stamp: number;
}
