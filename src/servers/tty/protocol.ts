/**
 * tty protocol (minimal console, until the OS issue's tty + sh replace it): console
 * lines and end of input arrive from the kernel's console device.
 */
import { t, type MessagesOf } from '../../sys/schema.js';

export const ttyProtocol = {
  'console.input': t.object({ line: t.string }),
  'console.eof': t.object({}),
} as const;

export type TtyRequest = MessagesOf<typeof ttyProtocol>;
