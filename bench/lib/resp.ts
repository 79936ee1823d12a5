/**
 * A small RESP (Redis protocol) client for the benchmarks' load generators (the
 * granularity and soak experiments' client threads): pipelined requests, one promise per
 * reply in order, every pending reply failed when the connection breaks.
 *
 * Entry points: `Resp.open(port)`, `resp.send(commands)`, `resp.one(args)`, `Reply`, `withTimeout`.
 */
import { connect, type Socket } from 'node:net';

export type Reply = { kind: 'ok' | 'err' | 'int' | 'bulk'; text: string | null } | { kind: 'array'; items: Array<string | null> | null };

export class Resp {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<(r: Reply | Error) => void> = [];
  private closed: Error | null = null;

  constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.pump();
    });
    const fail = (e?: Error) => {
      this.closed ??= e ?? new Error('connection closed');
      for (const w of this.waiting.splice(0)) w(this.closed);
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  static open(port: number): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.removeListener('error', reject);
        resolve(new Resp(s));
      });
      s.once('error', reject);
    });
  }

  /** Send requests (pipelined); one promise per reply, in order. */
  send(commands: string[][]): Array<Promise<Reply>> {
    if (this.closed) return commands.map(() => Promise.reject(this.closed!));
    const parts: string[] = [];
    for (const args of commands) {
      parts.push(`*${args.length}\r\n`);
      for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
    }
    const replies = commands.map(() => new Promise<Reply>((resolve, reject) => this.waiting.push((r) => (r instanceof Error ? reject(r) : resolve(r)))));
    this.sock.write(parts.join(''));
    return replies;
  }

  /** One request, its reply. */
  one(args: string[]): Promise<Reply> {
    return this.send([args])[0]!;
  }

  close(): void {
    this.sock.destroy();
  }

  private pump(): void {
    let at = 0;
    while (this.waiting.length > 0) {
      const r = parse(this.buf, at);
      if (!r) break;
      at = r.next;
      this.waiting.shift()!(r.reply);
    }
    if (at > 0) this.buf = this.buf.subarray(at);
  }
}

/** One reply from `buf` at `at`, or null if it is not all there yet. */
export function parse(buf: Buffer, at: number): { reply: Reply; next: number } | null {
  const line = (from: number): { text: string; next: number } | null => {
    const nl = buf.indexOf('\r\n', from);
    return nl < 0 ? null : { text: buf.toString('utf8', from, nl), next: nl + 2 };
  };
  const bulk = (from: number): { text: string | null; next: number } | null => {
    const head = line(from);
    if (!head) return null;
    if (head.text[0] !== '$') throw new Error(`unexpected reply line ${JSON.stringify(head.text)}`);
    const n = Number(head.text.slice(1));
    if (n < 0) return { text: null, next: head.next };
    if (buf.length < head.next + n + 2) return null;
    return { text: buf.toString('utf8', head.next, head.next + n), next: head.next + n + 2 };
  };
  if (at >= buf.length) return null;
  switch (String.fromCharCode(buf[at]!)) {
    case '+':
    case '-':
    case ':': {
      const l = line(at);
      if (!l) return null;
      const kind = l.text[0] === '+' ? 'ok' : l.text[0] === '-' ? 'err' : 'int';
      return { reply: { kind, text: l.text.slice(1) }, next: l.next };
    }
    case '$': {
      const b = bulk(at);
      return b && { reply: { kind: 'bulk', text: b.text }, next: b.next };
    }
    case '*': {
      const head = line(at);
      if (!head) return null;
      const n = Number(head.text.slice(1));
      if (n < 0) return { reply: { kind: 'array', items: null }, next: head.next };
      const items: Array<string | null> = [];
      let next = head.next;
      for (let i = 0; i < n; i++) {
        const b = bulk(next);
        if (!b) return null;
        items.push(b.text);
        next = b.next;
      }
      return { reply: { kind: 'array', items }, next };
    }
    default:
      throw new Error(`unexpected reply byte ${JSON.stringify(String.fromCharCode(buf[at]!))}`);
  }
}

/** `p`, or a rejection after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms))),
  ]);
}
