/**
 * The console device: the host's stdin/stdout as the kernel owns them. On a terminal
 * the device puts it in raw mode and passes characters as they are typed (the tty
 * server does the line discipline); otherwise input arrives as whole lines.
 *
 * Entry points: `new ConsoleDevice(options, sink)`, `write`, `close`.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  /** Where the error stream (fd 2) goes; default: `output`. */
  error?: Writable;
  isTTY: boolean;
}

export interface ConsoleSink {
  line(text: string): void;
  eof(): void;
}

export class ConsoleDevice {
  private closed = false;

  private readonly raw: boolean;

  constructor(
    private readonly options: ConsoleOptions,
    sink: ConsoleSink,
  ) {
    const input = options.input as Readable & { setRawMode?: (on: boolean) => void; isTTY?: boolean };
    this.raw = options.isTTY && typeof input.setRawMode === 'function';
    if (this.raw) {
      input.setRawMode!(true);
      input.setEncoding('utf8');
      const onData = (chunk: string) => sink.line(chunk);
      input.on('data', onData);
      input.on('end', () => {
        if (!this.closed) sink.eof();
      });
      this.detach = () => {
        input.off('data', onData);
        input.setRawMode!(false);
        input.pause();
      };
    } else {
      const rl = createInterface({ input: options.input, terminal: false, crlfDelay: Infinity });
      rl.on('line', (l) => sink.line(l));
      rl.on('close', () => {
        if (!this.closed) sink.eof();
      });
      this.detach = () => rl.close();
    }
  }

  private readonly detach: () => void;

  write(text: string, err = false): void {
    const out = err ? this.options.error ?? this.options.output : this.options.output;
    out.write(text); // (libuv's raw mode keeps the terminal's own newline translation, ONLCR)
  }

  close(): void {
    this.closed = true;
    this.detach();
  }
}
