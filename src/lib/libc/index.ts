/**
 * libc: the system-call library user programs import (`import { … } from 'libc'`).
 * It runs inside the program's sandbox and reaches the system only through the
 * `__molt_sys` bridge the process runtime installs (src/sys/process.ts). Every call is
 * async; failures throw `SysError` with an errno-like `code`.
 *
 * Entry points: `syscall`, `send`, `exit`, `argv`, `env`, `sleep`, `SysError`,
 * `encodeUtf8`, `decodeUtf8`.
 */

interface Bridge {
  call(to: string, json: string, data: Uint8Array | null): Promise<{ ok: boolean; value?: unknown; code?: string; message?: string; bytes?: Uint8Array }>;
  send(to: string, json: string): void;
  exit(code: number): void;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
  now(): number;
  onSignal: ((name: string) => void) | null;
}

declare const __molt_sys: Bridge;
declare const __molt_argv: readonly string[];
declare const __molt_env: Readonly<Record<string, string>>;

/** A failed system call: `code` is an errno-like code (ENOENT, EPERM, …). */
export class SysError extends Error {
  constructor(
    readonly code: string,
    message?: string,
  ) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'SysError';
  }
}

/**
 * One request to a system server, answered with its value (or a SysError). `data`
 * travels as bytes; a reply carrying bytes resolves to a Uint8Array.
 */
export async function syscall<T = unknown>(server: string, type: string, fields: Record<string, unknown> = {}, data?: Uint8Array): Promise<T> {
  const r = await __molt_sys.call(server, JSON.stringify({ ...fields, type }), data ?? null);
  if (!r.ok) throw new SysError(r.code ?? 'EIO', r.message);
  return (r.bytes ?? r.value) as T;
}

/** A one-way message to a server. */
export function send(server: string, type: string, fields: Record<string, unknown> = {}): void {
  __molt_sys.send(server, JSON.stringify({ ...fields, type }));
}

/** End this process with `status` (the program may also just return it from main). */
export function exit(status = 0): void {
  __molt_sys.exit(status);
}

export const argv: readonly string[] = typeof __molt_argv === 'undefined' ? [] : __molt_argv;
export const env: Readonly<Record<string, string>> = typeof __molt_env === 'undefined' ? {} : __molt_env;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    __molt_sys.setTimeout(resolve, ms);
  });
}

export function now(): number {
  return __molt_sys.now();
}

/** Called with the signal's name (e.g. 'INT', 'TERM') when one arrives; default: exit 128+n. */
export function onSignal(handler: ((name: string) => void) | null): void {
  __molt_sys.onSignal = handler;
}

export function encodeUtf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

export function decodeUtf8(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i++]!;
    let cp: number;
    if (c < 0x80) cp = c;
    else if (c >= 0xf0) cp = ((c & 7) << 18) | ((b[i++]! & 63) << 12) | ((b[i++]! & 63) << 6) | (b[i++]! & 63);
    else if (c >= 0xe0) cp = ((c & 15) << 12) | ((b[i++]! & 63) << 6) | (b[i++]! & 63);
    else if (c >= 0xc0) cp = ((c & 31) << 6) | (b[i++]! & 63);
    else cp = 0xfffd;
    s += String.fromCodePoint(cp);
  }
  return s;
}
