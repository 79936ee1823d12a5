/**
 * tty: the line discipline and console reads. On a terminal, input arrives as raw
 * characters: printable ones are echoed and edited into a line (erase, ^U kill line),
 * Enter completes it, ^C sends INT to the foreground process, ^D ends input (once) on
 * an empty line. Without a terminal, input arrives as whole lines. Complete lines
 * answer vfs's waiting reads (`vfs.ttydata`) in order.
 *
 * Entry points: `doInput`, `doEof`, `doRead`, `serveReaders`.
 */
import { type Ctx, type Handler } from '../../sys/index.js';
import { runBuiltin } from './commands.js';
import type { TtyRequest } from './protocol.js';
import type { TtyState } from './state.js';

type Req<K extends TtyRequest['type']> = Extract<TtyRequest, { type: K }>;

export const echo = (ctx: Ctx, text: string) => void ctx.kcall({ call: 'console-write', text });

/** A complete line goes to the built-in commands or to the readers. */
function lineDone(state: TtyState, line: string, ctx: Ctx): Promise<void> | void {
  if (state.mode === 'builtin') return runBuiltin(state, line, ctx);
  state.lines.push(`${line}\n`);
  serveReaders(state, ctx);
}

export function serveReaders(state: TtyState, ctx: Ctx): void {
  while (state.readers.length > 0) {
    let text: string;
    if (state.lines.length > 0) {
      const r = state.readers[0]!;
      const line = state.lines[0]!;
      // A read takes at most `length` bytes of the line; the rest stays for the next read.
      const bytes = new TextEncoder().encode(line);
      if (bytes.length > r.length) {
        text = new TextDecoder().decode(bytes.subarray(0, r.length));
        state.lines[0] = line.slice(text.length);
      } else {
        text = line;
        state.lines.shift();
      }
    } else if (state.eofOnce > 0) {
      state.eofOnce--;
      text = '';
    } else if (state.eof) {
      text = '';
    } else {
      return;
    }
    const r = state.readers.shift()!;
    ctx.send('vfs', { type: 'vfs.ttydata', ticket: r.ticket, data: new TextEncoder().encode(text) });
  }
}

export const doInput: Handler<TtyState, Req<'console.input'>> = async (state, msg, ctx) => {
  if (!state.interactive) {
    await lineDone(state, msg.line, ctx);
    return;
  }
  for (const ch of msg.line) {
    switch (ch) {
      case '\r':
      case '\n': {
        const line = state.edit;
        state.edit = '';
        echo(ctx, '\n'); // the host terminal's output processing adds the CR
        await lineDone(state, line, ctx);
        break;
      }
      case '\x7f':
      case '\b':
        if (state.edit.length > 0) {
          state.edit = state.edit.slice(0, -1);
          echo(ctx, '\b \b');
        }
        break;
      case '\x15': // ^U: kill the line
        echo(ctx, '\b \b'.repeat(state.edit.length));
        state.edit = '';
        break;
      case '\x03': // ^C
        echo(ctx, '^C\n');
        state.edit = '';
        if (state.foreground !== null) ctx.send('pm', { type: 'pm.kill', pid: state.foreground, signal: 'INT' });
        else if (state.mode === 'builtin') echo(ctx, 'molt# ');
        break;
      case '\x04': // ^D
        if (state.edit.length === 0) {
          if (state.mode === 'builtin') await runBuiltin(state, 'shutdown', ctx);
          else {
            state.eofOnce++;
            serveReaders(state, ctx);
          }
        } else {
          const line = state.edit;
          state.edit = '';
          state.lines.push(line); // what was typed, without a newline
          serveReaders(state, ctx);
        }
        break;
      default:
        if (ch >= ' ' || ch === '\t') {
          state.edit += ch;
          echo(ctx, ch);
        }
    }
  }
};

export const doEof: Handler<TtyState, Req<'console.eof'>> = async (state, _msg, ctx) => {
  state.eof = true;
  if (state.mode === 'builtin') {
    await runBuiltin(state, null, ctx);
    return;
  }
  serveReaders(state, ctx);
};

export const doRead: Handler<TtyState, Req<'tty.read'>> = (state, msg, ctx) => {
  if (state.readers.some((r) => r.ticket === msg.ticket)) return; // asked again (vfs re-asks after a restart)
  state.readers.push({ ticket: msg.ticket, length: Math.max(1, msg.length) });
  serveReaders(state, ctx);
};
