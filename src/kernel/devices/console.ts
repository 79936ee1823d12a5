/**
 * The console device: the host's stdin/stdout as the kernel owns them. Input arrives
 * as lines (the host terminal does the line editing until the tty server's line
 * discipline takes over); output is written as the console component asks.
 *
 * Entry points: `new ConsoleDevice(options, sink)`, `write`, `close`.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  isTTY: boolean;
}

export interface ConsoleSink {
  line(text: string): void;
  eof(): void;
}

export class ConsoleDevice {
  private readonly rl: Interface;
  private closed = false;

  constructor(
    private readonly options: ConsoleOptions,
    sink: ConsoleSink,
  ) {
    this.rl = createInterface({ input: options.input, terminal: false, crlfDelay: Infinity });
    this.rl.on('line', (l) => sink.line(l));
    this.rl.on('close', () => {
      if (!this.closed) sink.eof();
    });
  }

  write(text: string): void {
    this.options.output.write(text);
  }

  close(): void {
    this.closed = true;
    this.rl.close();
  }
}
