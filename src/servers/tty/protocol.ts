/**
 * tty protocol: the console driver. Console input arrives from the kernel's console
 * device; the line discipline (echo, backspace, Ctrl-C, Ctrl-D, Ctrl-U) runs here when
 * the host terminal is raw; vfs forwards reads and writes of the console fds (0, 1, 2).
 * The foreground process receives INT on Ctrl-C.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const ttyProtocol = {
  /** Raw console input (a chunk of characters in raw mode, or a whole line with its newline in line mode). */
  'console.input': t.object({ line: t.string }),
  'console.eof': t.object({}),
  /**
   * A console read vfs forwards (one-way): tty answers, when a line is there, with a
   * one-way `vfs.ttydata { ticket, data }` (the next line's bytes, newline included;
   * empty at end of input).
   */
  'tty.read': t.object({ length: t.int, ticket: t.int }),
  /** Write bytes (Uint8Array) to the console → bytes written. */
  'tty.write': t.object({ data: t.any, stream: t.optional(t.oneOf('out', 'err')) }),
  /** The foreground process (receives Ctrl-C). */
  'tty.setfg': t.object({ pid: t.int }),
  /** → { isTTY, foreground }. */
  'tty.info': t.object({}),
} as const;

export type TtyRequest = MessagesOf<typeof ttyProtocol>;
