/**
 * The user-process runtime: what runs in a user program's worker. The program itself
 * (an esbuild bundle of its `.ts` file with libc) runs inside a `node:vm` context that
 * has no Node built-ins, no `process`, no `require`, no dynamic `import` — only the
 * `__molt_sys` bridge below, created *inside* the context so that no object of this
 * (outer) realm is ever reachable from the program: the bridge passes only strings,
 * numbers and inner-realm byte arrays across, and calls back inner-realm functions.
 * Together with the worker (its own heap, memory limit, heartbeat) and the kernel's
 * privilege table (a process may send only where pm allows), that is the sandbox.
 *
 * Init args: `{ code, name, argv, env, pid }`. The program's default export
 * `main(argv, env)` is called; its resolved number is the exit status.
 *
 * Entry point: this module (bundled as a kernel tool, started by the `exec` kernel call).
 */
import { setPriority } from 'node:os';
import vm from 'node:vm';
import type { Down, InitInfo, Message, Outgoing } from '../kernel/abi.js';
import { KernelPort } from './kernel-port.js';

interface ProcessArgs {
  code: string;
  name: string;
  argv: string[];
  env: Record<string, string>;
  pid: number;
}

/** The inner-realm half of the bridge: built from source inside the context. */
const INNER_BRIDGE = `(function (outer) {
  'use strict';
  const pending = new Map();
  let seq = 0;
  let onSignal = null;
  const sys = Object.freeze({
    call(to, json, data) {
      return new Promise(function (resolve) {
        const id = ++seq;
        pending.set(id, resolve);
        outer.call(id, String(to), String(json), data instanceof Uint8Array ? data : null);
      });
    },
    send(to, json) { outer.send(String(to), String(json)); },
    exit(code) { outer.exit(Number(code) | 0); },
    setTimeout(fn, ms) { return outer.setTimeout(function () { fn(); }, Number(ms) || 0); },
    clearTimeout(id) { outer.clearTimeout(Number(id)); },
    now() { return outer.now(); },
    setSignalHandler(fn) { onSignal = typeof fn === 'function' ? fn : null; },
  });
  return {
    sys: sys,
    settle(id, json, bytes) {
      const r = pending.get(id);
      if (!r) return;
      pending.delete(id);
      const v = JSON.parse(json);
      if (bytes) v.bytes = bytes;
      r(v);
    },
    signal(name) {
      if (onSignal === null) return false;
      onSignal(String(name));
      return true;
    },
  };
})`;

/**
 * Web globals a program may expect that are not part of JavaScript itself, written in
 * the program's own realm (the host's would hand it the host's Function): UTF-8
 * TextEncoder/TextDecoder, and a console whose output goes to fds 1 and 2 through vfs.
 */
const INNER_GLOBALS = `
  const enc = (str) => {
    const out = [];
    for (let i = 0; i < str.length; i++) {
      let c = str.codePointAt(i);
      if (c > 0xffff) i++;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return Uint8Array.from(out);
  };
  const dec = (b) => {
    let s = '';
    for (let i = 0; i < b.length;) {
      const c = b[i++];
      let cp;
      if (c < 0x80) cp = c;
      else if (c >= 0xf0) cp = ((c & 7) << 18) | ((b[i++] & 63) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63);
      else if (c >= 0xe0) cp = ((c & 15) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63);
      else if (c >= 0xc0) cp = ((c & 31) << 6) | (b[i++] & 63);
      else cp = 0xfffd;
      s += String.fromCodePoint(cp);
    }
    return s;
  };
  class TextEncoder { get encoding() { return 'utf-8'; } encode(s = '') { return enc(String(s)); } }
  class TextDecoder { get encoding() { return 'utf-8'; } decode(b) { return b ? dec(b instanceof Uint8Array ? b : new Uint8Array(b)) : ''; } }
  const show = (a) => typeof a === 'string' ? a : (() => { try { return JSON.stringify(a); } catch { return String(a); } })();
  const line = (fd) => (...a) => { sys.call('vfs', JSON.stringify({ type: 'vfs.write', fd }), enc(a.map(show).join(' ') + '\\n')); };
  const console = Object.freeze({ log: line(1), info: line(1), warn: line(2), error: line(2) });
  for (const [k, v] of [['TextEncoder', TextEncoder], ['TextDecoder', TextDecoder], ['console', console]]) {
    Object.defineProperty(globalThis, k, { value: v, writable: true, configurable: true });
  }
`;

const kernel = new KernelPort();
let args: ProcessArgs;
let inner: { settle(id: number, json: string, bytes: Uint8Array | null): void; signal(name: string): boolean };

/** The longest timer Node accepts (~24.8 days): as good as none. */
const NO_DEADLINE = 2 ** 31 - 1;

const SIGNAL_NUMBERS: Record<string, number> = { INT: 2, KILL: 9, TERM: 15, XCPU: 24 };
let InnerU8: Uint8ArrayConstructor;
let exiting = false;

function exit(status: number, error?: string): void {
  if (exiting) return;
  exiting = true;
  kernel.post({ op: 'exit', status, ...(error ? { error } : {}) });
}

/** Run `f`; any exception (of this realm) is swallowed, never thrown into the program. */
function guard<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** Copy bytes into a Uint8Array of the program's realm. */
function toInner(bytes: Uint8Array): Uint8Array {
  const out = new InnerU8(bytes.length);
  out.set(bytes);
  return out;
}

function start(info: InitInfo): void {
  args = info.args as unknown as ProcessArgs;
  const context = vm.createContext(Object.create(null), { name: args.name, codeGeneration: { strings: true, wasm: false } });
  InnerU8 = vm.runInContext('Uint8Array', context) as Uint8ArrayConstructor;
  const timers = new Map<number, NodeJS.Timeout>();
  let timerSeq = 0;
  // Every function the program can reach returns primitives and never throws: an error
  // object of this realm reaching the program would hand it this realm's Function.
  const outer = {
    call: (id: number, to: string, json: string, data: Uint8Array | null) => guard(() => {
      let msg: Outgoing;
      try {
        msg = JSON.parse(json) as Outgoing;
        if (data) msg.data = new Uint8Array(data); // an outer copy of the program's bytes
      } catch {
        return inner.settle(id, JSON.stringify({ ok: false, code: 'EINVAL', message: 'malformed system call' }), null);
      }
      // No deadline: a system call may block as long as it must (a console read, a wait);
      // it ends when the server answers or the process ends.
      void kernel.sendrec(to, msg, NO_DEADLINE).then((r) => {
        const value = r.ok ? (r.value as unknown) : undefined;
        const bytes = value instanceof Uint8Array ? value : null;
        const plain = r.ok ? { ok: true, value: bytes ? null : value } : r;
        inner.settle(id, JSON.stringify(plain), bytes ? toInner(bytes) : null);
      });
    }),
    send: (to: string, json: string) => guard(() => kernel.send(to, JSON.parse(json) as Outgoing)),
    exit: (code: number) => guard(() => exit(code)),
    setTimeout: (fn: () => void, ms: number) =>
      guard(() => {
        const id = ++timerSeq;
        timers.set(id, setTimeout(() => {
          timers.delete(id);
          fn();
        }, ms));
        return id;
      }),
    clearTimeout: (id: number) =>
      guard(() => {
        clearTimeout(timers.get(id));
        timers.delete(id);
      }),
    now: () => guard(() => Date.now()),
  };
  const makeBridge = vm.runInContext(INNER_BRIDGE, context) as (o: typeof outer) => { sys: unknown } & typeof inner;
  const bridge = makeBridge(outer);
  inner = bridge;
  // The program sees only inner-realm values: the bridge, and its arguments as parsed JSON.
  const setup = vm.runInContext(
    `(function (sys, argvJson, envJson) {
      'use strict';
      Object.defineProperty(globalThis, '__molt_sys', { value: sys });
      Object.defineProperty(globalThis, '__molt_argv', { value: Object.freeze(JSON.parse(argvJson)) });
      Object.defineProperty(globalThis, '__molt_env', { value: Object.freeze(JSON.parse(envJson)) });
      ${INNER_GLOBALS}
    })`,
    context,
  ) as (sys: unknown, a: string, e: string) => void;
  setup(bridge.sys, JSON.stringify(args.argv), JSON.stringify(args.env));
  kernel.post({ op: 'ready' });
  let run: (onDone: (status: number) => void, onError: (message: string) => void) => void;
  try {
    // No importModuleDynamically: a dynamic import() in the program fails.
    vm.runInContext(args.code, context, { filename: args.name });
    run = vm.runInContext(
      `(function (onDone, onError) {
        'use strict';
        const p = globalThis.__molt_program;
        const main = p && (p.default || p.main);
        if (typeof main !== 'function') { onError('the program has no default export main(argv, env)'); return; }
        Promise.resolve()
          .then(function () { return main(__molt_argv, __molt_env); })
          .then(function (s) { onDone(typeof s === 'number' ? s | 0 : 0); },
                function (e) { onError(String(e && e.stack || e)); });
      })`,
      context,
    ) as typeof run;
  } catch (e) {
    fail(`${args.name}: ${(e as Error).message}`);
    return;
  }
  run(
    (status) => exit(status),
    (message) => fail(message),
  );
}

/** An uncaught error in the program: exit status 1, the message to the manager (pm prints it). */
function fail(message: string): void {
  exit(1, message.slice(0, 4000));
}

kernel.onDown((down: Down) => {
  if (kernel.handle(down)) return;
  switch (down.op) {
    case 'init':
      start(down.info);
      return;
    case 'msg':
      deliver(down.msg);
      return;
    case 'ctl':
      kernel.post({ op: 'ctl-reply', id: down.id, result: { ok: false, code: 'ENOSYS', message: 'a user process is not live-updated' } });
      return;
  }
});

/** Messages to a process: signals from pm. Anything else is refused. */
function deliver(msg: Message): void {
  if (msg.type === 'proc.signal' && typeof msg.signal === 'string') {
    // The program's handler, if it set one (libc onSignal); else the default: end with 128 + n.
    const handled = guard(() => inner?.signal(msg.signal as string)) ?? false;
    if (!handled) exit(128 + (SIGNAL_NUMBERS[msg.signal] ?? 15));
    if (msg.id) kernel.post({ op: 'reply', to: msg.from, id: msg.id, result: { ok: true, value: null } });
    return;
  }
  if (msg.type === 'proc.nice' && typeof msg.nice === 'number') {
    // sched's niceness, made real: on Linux, setpriority on "the process" sets the calling thread's — this worker's.
    let result: { ok: true; value: null } | { ok: false; code: 'EACCES'; message: string } = { ok: true, value: null };
    try {
      setPriority(0, Math.max(-20, Math.min(19, Math.trunc(msg.nice))));
    } catch (e) {
      result = { ok: false, code: 'EACCES', message: (e as Error).message };
    }
    if (msg.id) kernel.post({ op: 'reply', to: msg.from, id: msg.id, result });
    return;
  }
  if (msg.id) kernel.post({ op: 'reply', to: msg.from, id: msg.id, result: { ok: false, code: 'ENOSYS', message: `a process does not answer ${msg.type}` } });
}
