/**
 * vfs state: processes' fd tables, the open-file table, pipes and mounts — all plain
 * data reachable from `VfsState`, so live update and recovery carry every open file.
 */
import type { ReplyToken } from '../../sys/index.js';

export interface Mount {
  /** Absolute path, normalised ('/', '/bin'). */
  path: string;
  /** The file-system server's label (mfs, bootfs). */
  server: string;
  readonly: boolean;
}

/** One open file description (shared by dup'ed fds and by parent and child). */
export type OpenFile =
  | { kind: 'file'; server: string; ino: number; offset: number; read: boolean; write: boolean; append: boolean; refs: number }
  | { kind: 'pipe'; pipe: number; end: 'read' | 'write'; refs: number }
  | { kind: 'tty'; read: boolean; write: boolean; refs: number; /** fd 2: the console's error stream */ err?: boolean }
  /** /dev/null: reads end at once, writes vanish. */
  | { kind: 'null'; refs: number };

export interface Pipe {
  chunks: Uint8Array[];
  size: number;
  readers: number;
  writers: number;
  /** Reads waiting for data (deferred replies). */
  waitingReads: Array<{ token: ReplyToken; length: number }>;
  /** Writes waiting for room. */
  waitingWrites: Array<{ token: ReplyToken; data: Uint8Array }>;
}

export interface Proc {
  /** fd → open-file id (null: closed). */
  fds: Array<number | null>;
  cwd: string;
  uid: number;
}

export interface VfsState {
  procs: Map<number, Proc>;
  files: Map<number, OpenFile>;
  nextFile: number;
  pipes: Map<number, Pipe>;
  nextPipe: number;
  mounts: Mount[];
  /** Console reads waiting for tty: ticket → the reader's deferred reply (re-sent if tty restarts). */
  ttyReads: Map<number, { token: ReplyToken; length: number }>;
  nextTicket: number;
  /** The last stamp given to a server state region snapshot (ssr.ts): ordered across incarnations. */
  stamp: number;
}
