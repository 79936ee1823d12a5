/**
 * The server library's runtime inside a component's worker: receives the kernel's
 * messages, runs init, dispatches requests through the handler table (validating each
 * against the protocol first), counts handlers in flight, answers pings (the
 * heartbeat), and turns a throwing handler into this incarnation's crash — only.
 *
 * Entry point: `runComponent(def)` (called by the loader's generated entry).
 */
import { parentPort } from 'node:worker_threads';
import { ERR_CODES, type Down, type Header, type KCall, type Message, type Result, type Up, type WireError } from '../kernel/abi.js';
import type { Protocol } from './schema.js';
import { DEFERRED, type Ctx, type HandlerResult, type ReplyToken, type SendOptions, type ServerDef } from './server.js';

const DEFAULT_TIMEOUT_MS = 30_000;

interface Waiter {
  resolve(r: Result): void;
  timer: NodeJS.Timeout | null;
}

export function runComponent<S, P extends Protocol>(def: ServerDef<S, P>): void {
  const port = parentPort;
  if (!port) throw new Error('a Molt component must run inside a worker');
  const post = (up: Up) => port.postMessage(up);

  let state: S | undefined;
  let ready = false;
  let inflight = 0;
  let nextId = 1;
  const early: Message[] = [];
  const calls = new Map<number, Waiter>();
  const kcalls = new Map<number, Waiter>();
  const handlers = def.handlers as unknown as Record<string, (s: S, m: Message, c: Ctx) => HandlerResult | Promise<HandlerResult>>;
  const protocol = def.protocol as Protocol;

  const wait = (map: Map<number, Waiter>, id: number, what: string, opts?: SendOptions, onTimeout?: () => void) =>
    new Promise<Result>((resolve) => {
      const ms = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        map.delete(id);
        onTimeout?.();
        resolve({ ok: false, code: 'ETIMEDOUT', message: `${what}: no reply within ${ms} ms` });
      }, ms);
      map.set(id, { resolve, timer });
    });

  let self: Ctx['self'];
  const ctx: Ctx = {
    get self() {
      return self;
    },
    send: (to, msg) => post({ op: 'send', to, msg }),
    sendrec: <T>(to: Parameters<Ctx['send']>[0], msg: Parameters<Ctx['send']>[1], opts?: SendOptions) => {
      const id = nextId++;
      post({ op: 'call', to, id, msg });
      return wait(calls, id, `sendrec ${String(to)} ${msg.type}`, opts, () => post({ op: 'cancel', id })) as Promise<Result<T>>;
    },
    notify: (to) => post({ op: 'notify', to }),
    kcall: <T>(kcall: KCall, opts?: SendOptions) => {
      const id = nextId++;
      post({ op: 'kcall', id, kcall });
      return wait(kcalls, id, `kernel call ${kcall.call}`, opts) as Promise<Result<T>>;
    },
    defer: (msg: Header): ReplyToken => ({ to: msg.from, id: msg.id }),
    reply: (token, result) => {
      if (token.id) post({ op: 'reply', to: token.to, id: token.id, result: checked(result) });
    },
    now: () => Date.now(),
    get inflight() {
      return inflight;
    },
  };

  /** A throw in a handler ends this incarnation (uncaught in the worker), nothing else. */
  const crash = (e: unknown) => {
    process.nextTick(() => {
      throw e instanceof Error ? e : new Error(`handler threw a non-Error: ${String(e)}`);
    });
  };

  const finish = (msg: Message, r: HandlerResult) => {
    inflight--;
    if (!msg.id || r === DEFERRED) return;
    post({ op: 'reply', to: msg.from, id: msg.id, result: checked((r as Result | undefined) ?? { ok: true, value: null }) });
  };

  const dispatch = (msg: Message) => {
    const type = msg.type;
    const handler = Object.hasOwn(handlers, type) ? handlers[type] : undefined;
    if (!handler) {
      if (msg.id) post({ op: 'reply', to: msg.from, id: msg.id, result: { ok: false, code: 'ENOSYS', message: `${self.label} has no handler for ${type}` } });
      return;
    }
    const schema = protocol[type];
    const bad = schema ? schema.check(msg, '') : null;
    if (bad) {
      if (msg.id) post({ op: 'reply', to: msg.from, id: msg.id, result: { ok: false, code: 'EINVAL', message: `${type}: ${bad}` } });
      return;
    }
    inflight++;
    let r: HandlerResult | Promise<HandlerResult>;
    try {
      r = handler(state as S, msg, ctx);
    } catch (e) {
      return crash(e);
    }
    if (r instanceof Promise) r.then((v) => finish(msg, v), crash);
    else finish(msg, r);
  };

  const init = async (info: Extract<Down, { op: 'init' }>['info']) => {
    self = info;
    try {
      const make = info.kind === 'restart' && def.restart ? def.restart : def.init;
      state = await make(ctx);
    } catch (e) {
      post({ op: 'init-failed', error: wireError(e) });
      return;
    }
    ready = true;
    post({ op: 'ready' });
    for (const m of early.splice(0)) dispatch(m);
    if (def.start) {
      try {
        await def.start(state as S, ctx);
      } catch (e) {
        crash(e);
      }
    }
  };

  port.on('message', (down: Down) => {
    switch (down.op) {
      case 'msg':
        if (ready) dispatch(down.msg);
        else early.push(down.msg);
        return;
      case 'reply':
      case 'kreply': {
        const map = down.op === 'reply' ? calls : kcalls;
        const w = map.get(down.id);
        if (!w) return; // timed out already
        map.delete(down.id);
        if (w.timer) clearTimeout(w.timer);
        w.resolve(down.result);
        return;
      }
      case 'ping':
        post({ op: 'pong', seq: down.seq });
        return;
      case 'init':
        void init(down.info);
        return;
    }
  });
}

/** A handler's result must be a well-formed Result; anything else is the handler's bug. */
function checked(r: Result): Result {
  if (r && typeof r === 'object' && (r.ok === true || (r.ok === false && ERR_CODES.includes(r.code)))) return r;
  throw new TypeError(`handler returned a malformed result: ${JSON.stringify(r)}`);
}

function wireError(e: unknown): WireError {
  if (e instanceof Error) return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { name: 'Error', message: String(e) };
}
