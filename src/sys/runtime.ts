/**
 * The server library's runtime inside a component's worker: receives the kernel's
 * messages, runs init, dispatches requests through the handler table (validating each
 * against the protocol first), counts handlers in flight, answers pings (the
 * heartbeat), and turns a throwing handler into this incarnation's crash — only.
 *
 * Entry point: `runComponent(def)` (called by the loader's generated entry).
 */
import { ERR_CODES, type ComponentStats, type Ctl, type Down, type ExportResult, type Header, type Message, type Result, type WireError } from '../kernel/abi.js';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { adoptImported, checkHooks, declareObjects, discardImported, importHooks, objectClasses, updateObjects } from '../objects/space.js';
import { applyPatch, listPatches, undoPatch } from '../patch/index.js';
import { checkState } from '../update/check.js';
import { exportGraph, type ExportedGraph } from '../update/graph.js';
import { importState } from '../update/transfer.js';
import type { Protocol } from './schema.js';
import { FaultInjector } from './faults.js';
import { KernelPort } from './kernel-port.js';
import { DEFERRED, type Ctx, type HandlerResult, type ReplyToken, type ServerDef } from './server.js';

/**
 * Set by the loader (esbuild `define`): false builds a component with the live-update
 * machinery compiled out — only to measure what being updatable costs (bench update).
 */
declare const MOLT_UPDATABLE: boolean;

/** Set while this worker loads another version's bundle (an object-level update): that bundle must not start a second runtime. */
const LOADING = Symbol.for('molt.runtime.loading-version');
type Flagged = Record<symbol, boolean | undefined>;

export function runComponent<S, P extends Protocol>(def: ServerDef<S, P>): void {
  if ((globalThis as Flagged)[LOADING]) return;
  declareObjects(def.objects ?? {}, { classes: def.classes ?? {}, transfer: def.transfer ?? {} });
  /** Every class a transfer into this version may re-create: its state classes and its updatable ones. */
  const allClasses = () => ({ ...(def.classes ?? {}), ...objectClasses() });
  const kernel = new KernelPort();
  const faults = new FaultInjector();
  const post = kernel.post.bind(kernel);

  let state: S | undefined;
  let ready = false;
  /** Frozen for a live update: messages that still arrive are parked, not dispatched. */
  let frozen = false;
  const parked: Message[] = [];
  /** Bumped by `resume`: a prepare still waiting for its predicate is cancelled. */
  let prepareGen = 0;
  let inflight = 0;
  const early: Message[] = [];
  /** endpoint → label: a cache of a fact that never changes (not state). */
  const labels = new Map<number, string>();
  const handlers = def.handlers as unknown as Record<string, (s: S, m: Message, c: Ctx) => HandlerResult | Promise<HandlerResult>>;
  const protocol = def.protocol as Protocol;

  let self: Ctx['self'];
  const ctx: Ctx = {
    get self() {
      return self;
    },
    send: (to, msg) => kernel.send(to, msg),
    sendrec: (to, msg, opts) => kernel.sendrec(to, msg, opts?.timeoutMs),
    notify: (to) => kernel.notify(to),
    kcall: (k, opts) => kernel.kcall(k, opts?.timeoutMs),
    kcast: (k) => kernel.kcast(k),
    defer: (msg: Header): ReplyToken => ({ to: msg.from, id: msg.id }),
    reply: (token, result) => {
      if (token.id) post({ op: 'reply', to: token.to, id: token.id, result: checked(result) });
    },
    now: () => Date.now(),
    whois: async (endpoint) => {
      const known = labels.get(endpoint);
      if (known !== undefined) return known;
      const r = await kernel.kcall<string>({ call: 'whois', endpoint });
      if (!r.ok) return null;
      labels.set(endpoint, r.value);
      return r.value;
    },
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
    // A server with SSRs: this handler sees its client's region (a working copy) and no other.
    const scope = ssrs ? new SsrScope(msg.from) : null;
    try {
      if (faults.armed) faults.before(type, state);
      r = handler(state as S, msg, scope ? scope.ctx(ctx) : ctx);
    } catch (e) {
      return crash(e);
    }
    if (r instanceof Promise) {
      r.then((v) => {
        scope?.commit();
        finish(msg, v);
      }, crash);
    } else {
      scope?.commit();
      finish(msg, r);
    }
  };

  /**
   * Server state regions (DESIGN.md §5): the committed regions, by client, as the kernel
   * keeps them (this copy is what the kernel has: a handler only ever changes a clone,
   * committed — here and in the kernel — when it completes; a crash in between leaves
   * both as they were before the request). Null for a server without `recover`.
   */
  const ssrs: Map<number, unknown> | null = def.recover ? new Map() : null;

  class SsrScope {
    private working: unknown = undefined;
    private touched = false;
    private dropped = false;

    constructor(readonly client: number) {}

    ctx(base: Ctx): Ctx {
      const scope = this;
      return Object.create(base, {
        ssr: {
          value: <R>(make: () => R): R => {
            if (!scope.touched) {
              scope.touched = true;
              scope.dropped = false;
              const committed = ssrs!.get(scope.client);
              scope.working = committed === undefined ? make() : structuredClone(committed);
            }
            return scope.working as R;
          },
        },
        dropSsr: {
          value: () => {
            scope.touched = true;
            scope.dropped = true;
            scope.working = undefined;
          },
        },
      }) as Ctx;
    }

    commit(): void {
      if (!this.touched) return;
      if (this.dropped) {
        ssrs!.delete(this.client);
        post({ op: 'ssr', client: this.client, value: null });
      } else {
        ssrs!.set(this.client, this.working);
        post({ op: 'ssr', client: this.client, value: this.working });
      }
    }
  }

  const init = async (info: Extract<Down, { op: 'init' }>['info']) => {
    self = info;
    try {
      if (info.kind === 'restart' && def.recover) {
        // Recovery: the regions the clients' completed handlers committed, from the kernel.
        const r = await kernel.kcall<Array<{ client: number; value: unknown }>>({ call: 'ssr-list' });
        if (!r.ok) throw new Error(`cannot read the server state regions: ${r.code} ${r.message ?? ''}`);
        for (const { client, value } of r.value) ssrs!.set(client, value);
        state = await def.recover(r.value, ctx);
      } else {
        const make = info.kind === 'restart' && def.restart ? def.restart : def.init;
        state = await make(ctx);
      }
    } catch (e) {
      post({ op: 'init-failed', error: wireError(e) });
      return;
    }
    ready = true;
    post({ op: 'ready' });
    for (const m of early.splice(0)) dispatch(m);
    if (def.start && info.kind !== 'update') {
      try {
        await def.start(state as S, ctx);
      } catch (e) {
        crash(e);
      }
    }
  };

  /** Wait (checking at the end of every event-loop iteration) until `pred` holds. */
  const whenTrue = (pred: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const tick = () => {
        let okNow: boolean;
        try {
          okNow = pred();
        } catch (e) {
          return reject(e);
        }
        if (okNow) resolve();
        else setImmediate(tick);
      };
      tick();
    });

  const control = async (ctl: Ctl): Promise<Result> => {
    switch (ctl.c) {
      case 'prepare': {
        let pred: () => boolean;
        const mode = ctl.mode === 'default' ? def.prepare?.mode ?? 'work-free' : ctl.mode;
        switch (mode) {
          case 'work-free':
            pred = () => true;
            break;
          case 'request-free':
            pred = () => inflight === 0;
            break;
          case 'protocol-free': {
            const pf = def.prepare?.protocolFree;
            if (!pf) return { ok: false, code: 'ENOSYS', message: `${self.label} defines no protocol-free predicate` };
            pred = () => pf(state as S);
            break;
          }
          case 'state': {
            let fn: (s: S) => unknown;
            try {
              fn = new Function('state', `"use strict"; return (${ctl.expr ?? 'true'});`) as (s: S) => unknown;
            } catch (e) {
              return { ok: false, code: 'EINVAL', message: `state filter does not parse: ${(e as Error).message}` };
            }
            pred = () => Boolean(fn(state as S));
            break;
          }
        }
        const gen = ++prepareGen;
        try {
          await whenTrue(() => gen !== prepareGen || pred());
        } catch (e) {
          return { ok: false, code: 'EINVAL', message: `prepare predicate threw: ${(e as Error).message}` };
        }
        if (gen !== prepareGen) return { ok: false, code: 'ECANCELED', message: 'prepare cancelled' };
        frozen = true;
        return { ok: true, value: null };
      }
      case 'export': {
        try {
          const graph = exportGraph(state);
          ctl.port.postMessage(graph);
          // Parked messages are copied, not taken: if the update rolls back, this incarnation runs them.
          const value: ExportResult = { parked: parked.slice(), objects: graph.objects };
          return { ok: true, value };
        } catch (e) {
          return { ok: false, code: 'EINVAL', message: (e as Error).message };
        } finally {
          ctl.port.close();
        }
      }
      case 'resume': {
        prepareGen++;
        frozen = false;
        for (const m of parked.splice(0)) dispatch(m);
        return { ok: true, value: null };
      }
      case 'drain':
        await whenTrue(() => inflight === 0);
        return { ok: true, value: null };
      case 'warm':
        try {
          const graph = exportGraph(state);
          const { state: copy } = importState(structuredClone(graph), ctl.meta, state, allClasses(), {}, importHooks(false));
          checkState(copy, ctl.meta, allClasses(), checkHooks);
        } catch {
          // a warm-up only: the real transfer reports any problem
        }
        return { ok: true, value: null };
      case 'stop':
        try {
          await def.stop?.(state as S, ctx);
          return { ok: true, value: null };
        } catch (e) {
          return { ok: false, code: 'EIO', message: `stop: ${(e as Error).message}` };
        }
      case 'fi':
        faults.set(ctl.plan);
        return { ok: true, value: null };
      case 'import': {
        // A throw here (import, afterTransfer, check) is a failed update, answered as a value;
        // a crash of this incarnation is seen by the kernel as a crash during transfer.
        try {
          const graph = await new Promise<ExportedGraph>((resolve, reject) => {
            ctl.port.once('message', resolve);
            ctl.port.once('close', () => reject(new Error('the old version sent no state')));
          });
          ctl.port.close();
          const { state: next, report } = importState(graph, ctl.meta, state, allClasses(), def.transfer ?? {}, importHooks(true));
          await def.transfer?.afterTransfer?.(next as S, report, ctx);
          const violations = checkState(next, ctl.meta, allClasses(), checkHooks);
          if (violations.length === 0 && def.check) violations.push(...def.check(next as S));
          if (violations.length > 0) {
            discardImported();
            return { ok: false, code: 'EINVAL', message: `state check failed: ${violations.join('; ')}` };
          }
          state = next as S;
          adoptImported();
          return { ok: true, value: report };
        } catch (e) {
          discardImported();
          return { ok: false, code: 'EINVAL', message: `${(e as Error).name}: ${(e as Error).message}` };
        }
      }
      case 'objects': {
        const t0 = performance.now();
        let next: ServerDef<unknown, Protocol>;
        try {
          next = await loadVersion(ctl.file);
        } catch (e) {
          return { ok: false, code: 'EINVAL', message: `the new version does not load: ${(e as Error).message}` };
        }
        const loadMs = Math.round((performance.now() - t0) * 1000) / 1000;
        try {
          const report = await updateObjects(next.objects ?? {}, ctl.meta, { classes: next.classes ?? {}, transfer: next.transfer ?? {} }, { lazy: ctl.lazy, deadlineMs: ctl.deadlineMs });
          const changed = Object.keys(next.handlers).filter((k) => !Object.hasOwn(handlers, k) || String(handlers[k]) !== String((next.handlers as Record<string, unknown>)[k]));
          if (changed.length > 0) report.notes.push(`handlers that differ in the new version stay the running ones until a process-level update: ${changed.join(', ')}`);
          return { ok: true, value: { ...report, loadMs } };
        } catch (e) {
          return { ok: false, code: (e as Error).name === 'SwapError' && /cancelled/.test((e as Error).message) ? 'ETIMEDOUT' : 'EINVAL', message: (e as Error).message };
        }
      }
      case 'patch':
        return patchControl(ctl);
      case 'stats': {
        // Observation for `molt top` / the dashboard: answered even while frozen for an update.
        const value: ComponentStats = { inflight, heapUsed: getHeapStatistics().used_heap_size };
        return { ok: true, value };
      }
    }
  };

  kernel.onDown((down: Down) => {
    if (kernel.handle(down)) return;
    switch (down.op) {
      case 'msg':
        if (!ready) early.push(down.msg);
        else if (MOLT_UPDATABLE && frozen) parked.push(down.msg);
        else dispatch(down.msg);
        return;
      case 'ctl':
        if (!MOLT_UPDATABLE && down.ctl.c !== 'fi') return void post({ op: 'ctl-reply', id: down.id, result: { ok: false, code: 'ENOSYS', message: 'built without live update' } });
        void control(down.ctl).then((result) => post({ op: 'ctl-reply', id: down.id, result }));
        return;
      case 'init':
        void init(down.info);
        return;
    }
  });
}

/**
 * `patch apply | undo | list` (src/patch): a patch bundle's default export is its
 * `definePatch({...})`, applied to this component's trampoline tables at once.
 */
async function patchControl(ctl: Extract<Ctl, { c: 'patch' }>): Promise<Result> {
  try {
    switch (ctl.op) {
      case 'apply': {
        const mod = (await import(pathToFileURL(ctl.file).href)) as { default?: unknown };
        return { ok: true, value: applyPatch(mod.default as Parameters<typeof applyPatch>[0]) };
      }
      case 'undo':
        return { ok: true, value: undoPatch(ctl.id) };
      case 'list':
        return { ok: true, value: listPatches() };
    }
  } catch (e) {
    return { ok: false, code: 'EINVAL', message: (e as Error).message };
  }
}

/** Load another version's bundle into this worker (its entry default-exports its definition; it does not start). */
async function loadVersion(file: string): Promise<ServerDef<unknown, Protocol>> {
  (globalThis as Flagged)[LOADING] = true;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } finally {
    (globalThis as Flagged)[LOADING] = false;
  }
  const next = mod.default as ServerDef<unknown, Protocol> | undefined;
  if (!next || typeof next !== 'object' || typeof next.handlers !== 'object') throw new Error(`${file} does not export a component definition`);
  return next;
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
