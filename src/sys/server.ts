/**
 * The component contract (DESIGN.md §2): what a server declares with `defineServer` —
 * one state root, a protocol, a handler table the compiler checks against it, init
 * kinds and the hooks later issues fill in (update, restart, prepare, transfer, check,
 * recover).
 *
 * Entry points: `defineServer`, `ServerDef`, `Handler`, `Ctx`, `ok`, `err`, `DEFERRED`.
 */
import type {
  Address, Endpoint, ErrCode, Header, InitInfo, KCall, Outgoing, PrepareMode, Result,
} from '../kernel/abi.js';
import type { ObjectDecls } from '../objects/types.js';
import type { TransferCallbacks, TransferReport } from '../update/transfer.js';
import type { Infer, Protocol } from './schema.js';

/** A deferred reply's address: plain data, so it can live in (and transfer with) state. */
export interface ReplyToken {
  to: Endpoint;
  id: number;
}

/** Returned by a handler that will answer later with `ctx.reply(token, …)`. */
export const DEFERRED = Object.freeze({ deferred: true as const });
export type Deferred = typeof DEFERRED;

export type HandlerResult = Result | Deferred | void;

export interface SendOptions {
  /** Give up waiting after this long (ms); the result is ETIMEDOUT. */
  timeoutMs?: number;
}

/** What a handler (and the init / start hooks) may do. */
export interface Ctx {
  readonly self: InitInfo;
  send(to: Address, msg: Outgoing): void;
  sendrec<T = unknown>(to: Address, msg: Outgoing, opts?: SendOptions): Promise<Result<T>>;
  notify(to: Address): void;
  kcall<T = unknown>(k: KCall, opts?: SendOptions): Promise<Result<T>>;
  /** A kernel call whose result is not wanted (no reply comes back): cheaper on a hot path. */
  kcast(k: KCall): void;
  /** Defer the reply to `msg` (a call): store the token and answer later. */
  defer(msg: Header): ReplyToken;
  reply(token: ReplyToken, result: Result): void;
  now(): number;
  /** The label behind an endpoint (a message's `from`), or null if there is none; cached (endpoints are never reused). */
  whois(endpoint: Endpoint): Promise<string | null>;
  /** Handlers currently running (async ones count until they settle). */
  readonly inflight: number;
  /**
   * The server state region of the client this handler serves (a server with `recover`
   * only): `make` builds it on the client's first request. Changes are committed when the
   * handler completes; a crash before that leaves the region as it was.
   */
  ssr?<R>(make: () => R): R;
  /** Remove this client's region when the handler completes (the client is gone). */
  dropSsr?(): void;
}

export type Handler<S, M> = (state: S, msg: M & Header, ctx: Ctx) => HandlerResult | Promise<HandlerResult>;

export type HandlerTable<S, P extends Protocol> = {
  [K in keyof P & string]: Handler<S, { type: K } & Infer<P[K]>>;
};

export interface ServerDef<S, P extends Protocol> {
  /** The protocol this server answers: message type → field schema. */
  protocol: P;
  /** Fresh start: build the state root. */
  init: (ctx: Ctx) => S | Promise<S>;
  /** After a crash (init kind `restart`) without `recover`; default: `init`. */
  restart?: (ctx: Ctx) => S | Promise<S>;
  /**
   * After a crash, with the server state regions its clients' completed handlers
   * committed (`ctx.ssr`): rebuild the internal state from them (CuriOS). Declaring it
   * gives every handler `ctx.ssr`.
   */
  recover?: (ssrs: Array<{ client: Endpoint; value: unknown }>, ctx: Ctx) => S | Promise<S>;
  /** Runs once the incarnation is ready and bound (e.g. `rs` starts the boot image here). */
  start?: (state: S, ctx: Ctx) => void | Promise<void>;
  handlers: HandlerTable<S, P>;
  /**
   * The classes whose instances live in the state, by name: a live update re-creates
   * each instance from the new version's class of the same name.
   */
  classes?: Record<string, new (...args: never[]) => object>;
  /**
   * Updatable classes (src/objects, K42): their instances are made with `create(Class, …)`
   * and held as `Obj<Class>` references; `service update --mode objects` replaces these
   * classes in place, inside the running incarnation.
   */
  objects?: ObjectDecls;
  /** Live-update callbacks: pairing (renames), per-type and per-field transfer, afterTransfer. */
  transfer?: TransferCallbacks & {
    afterTransfer?: (state: S, report: TransferReport, ctx: Ctx) => void | Promise<void>;
  };
  /** Invariants run after a transfer (and by tests): the violations, empty when the state is sound. */
  check?: (state: S) => string[];
  /**
   * Quiescence: `mode`, what an update waits for when it names none (default
   * work-free); `protocolFree`, the predicate of `protocol-free` (true when no protocol
   * exchange is half done).
   */
  prepare?: { mode?: Exclude<PrepareMode, 'default'>; protocolFree?: (state: S) => boolean };
  /** The system is shutting down: last chance to make state durable (e.g. flush to disk). */
  stop?: (state: S, ctx: Ctx) => void | Promise<void>;
}

/** Declare a server. The returned definition is what a component's entry file default-exports. */
export function defineServer<S, P extends Protocol>(def: ServerDef<S, P>): ServerDef<S, P> {
  for (const [type, schema] of Object.entries(def.protocol)) {
    const fields = (schema as { fields?: readonly string[] }).fields ?? [];
    const clash = fields.filter((f) => HEADER_FIELDS.includes(f));
    if (clash.length > 0) throw new TypeError(`${type}: field ${clash.join(', ')} clashes with the message header (type, id, from)`);
  }
  return def;
}

const HEADER_FIELDS = ['type', 'id', 'from'];

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err(code: ErrCode, message?: string): Result<never> {
  return message === undefined ? { ok: false, code } : { ok: false, code, message };
}

/**
 * A handler table whose every handler is followed, in the same request, by `after` — e.g.
 * committing a snapshot into the caller's server state region, which the runtime commits
 * only if the whole request completes.
 */
export function withAfter<S, T extends Record<string, Handler<S, never>>>(
  handlers: T,
  after: (state: S, msg: Header & { type: string }, ctx: Ctx) => void | Promise<void>,
): T {
  const out: Record<string, unknown> = {};
  for (const [type, h] of Object.entries(handlers)) {
    const handler = h as unknown as (s: S, m: Header & { type: string }, c: Ctx) => HandlerResult | Promise<HandlerResult>;
    out[type] = async (state: S, msg: Header & { type: string }, ctx: Ctx) => {
      const r = await handler(state, msg, ctx);
      await after(state, msg, ctx);
      return r;
    };
  }
  return out as T;
}
