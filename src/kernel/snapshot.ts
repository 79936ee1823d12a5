/**
 * What the kernel keeps so that `molt top` and `molt dashboard` can show a running
 * system: a bounded record of its rare lifecycle events (kept whether or not anyone
 * traces), the live updates in progress, and a probe of each incarnation's stats that
 * can never stall a snapshot or mask a hang.
 *
 * The message hot path gains nothing here: no `msg.*` event is ever recorded, and the
 * per-endpoint message counts a snapshot shows are the endpoint table's own counters.
 *
 * Entry points: `SystemEvents` (record / recent / inProgress / on), `StatsProbe.probe(inc)`.
 */
import type { ComponentStats, SystemEvent, UpdateInProgress } from './abi.js';
import type { Clock } from './clock.js';
import type { Incarnation } from './incarnation.js';

/** How many events of each kind (updates and faults; incarnations starting and ending) are kept. */
export const EVENT_RING = 200;
/** How long a snapshot waits for one incarnation's stats (ms): a busy one shows none. */
export const STATS_TIMEOUT_MS = 300;

type Listener = (e: SystemEvent) => void;

/**
 * The kernel's record of system events: two bounded rings — updates and faults in one,
 * incarnations starting and ending in the other, so that a shell running many short
 * programs does not push the last update out of sight — and the updates in progress.
 */
export class SystemEvents {
  private seq = 0;
  private readonly notable: Array<{ seq: number; e: SystemEvent }> = [];
  private readonly lifecycle: Array<{ seq: number; e: SystemEvent }> = [];
  /** Update id → what it is doing now; `reporter` is the rs incarnation that announced it. */
  private readonly updates = new Map<number, UpdateInProgress & { reporter: number | null }>();
  private listeners: Listener[] = [];

  /** Record one event (the kernel calls this for every system event; `reporter`: the incarnation that sent an `update-event`). */
  record(event: SystemEvent, reporter: number | null = null): void {
    // A crash's stack trace stays in the live trace; the record keeps the name and message.
    const e: SystemEvent = event.ev === 'incarnation.crashed'
      ? { ...event, error: { name: event.error.name, message: event.error.message, ...(event.error.code ? { code: event.error.code } : {}) } }
      : event;
    const ring = e.ev === 'incarnation.started' || e.ev === 'incarnation.ended' ? this.lifecycle : this.notable;
    ring.push({ seq: ++this.seq, e });
    if (ring.length > EVENT_RING) ring.shift();
    if (e.ev === 'update.phase') this.track(e, reporter);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A faulty observer must never break the kernel.
      }
    }
  }

  /** The recorded events, oldest first. */
  recent(): SystemEvent[] {
    return [...this.notable, ...this.lifecycle].sort((a, b) => a.seq - b.seq).map((x) => x.e);
  }

  /** Updates started and not yet ended, whose reporting rs incarnation is still alive. */
  inProgress(alive: (incarnation: number) => boolean): UpdateInProgress[] {
    const out: UpdateInProgress[] = [];
    for (const [id, u] of this.updates) {
      if (u.reporter !== null && !alive(u.reporter)) {
        this.updates.delete(id); // rs died mid-update: its end will never be announced
        continue;
      }
      out.push({ update: u.update, label: u.label, phase: u.phase, startedAt: u.startedAt, phaseStartedAt: u.phaseStartedAt });
    }
    return out;
  }

  /** Subscribe to events as they are recorded (no cost on the message path, unlike the full trace). */
  on(listener: Listener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * rs announces each phase's start and end, and the update's end once (`endUpdate`: an
   * end event carrying the outcome as `detail`). Update 0 is a function-level patch,
   * which is over when announced.
   */
  private track(e: Extract<SystemEvent, { ev: 'update.phase' }>, reporter: number | null): void {
    if (e.update <= 0) return;
    if (e.status === 'end' && e.detail !== undefined) {
      this.updates.delete(e.update);
      return;
    }
    const u = this.updates.get(e.update) ?? { update: e.update, label: e.label, phase: e.phase, startedAt: e.t, phaseStartedAt: e.t, reporter };
    if (e.status === 'start') {
      u.phase = e.phase;
      u.phaseStartedAt = e.t;
    }
    u.reporter = reporter ?? u.reporter;
    this.updates.set(e.update, u);
  }
}

/**
 * Asks incarnations for their `stats`, with a short deadline. A control operation in
 * flight suspends the kernel's heartbeat watch of that incarnation (it is how a long
 * state export is not mistaken for a hang), so a probe must not be sent to an
 * incarnation that may be hung, or a dashboard polling every half second would keep a
 * hung component from ever being detected: an incarnation late on a heartbeat is not
 * asked, and one that did not answer a probe in time is not asked again until the
 * heartbeat watch has had time to judge it.
 */
export class StatsProbe {
  /** Incarnation → no probe before this time (ms). */
  private readonly quietUntil = new WeakMap<Incarnation, number>();

  constructor(private readonly clock: Clock) {}

  async probe(inc: Incarnation): Promise<ComponentStats | null> {
    const now = this.clock.now();
    if (inc.state.phase !== 'ready') return null;
    if ((this.quietUntil.get(inc) ?? 0) > now) return null;
    if (inc.lastPing > inc.lastPong && now - inc.lastPing > 100) return null;
    const r = await inc.ctl({ c: 'stats' }, STATS_TIMEOUT_MS, this.clock);
    if (r.ok) return r.value as ComponentStats;
    if (r.code === 'ETIMEDOUT') this.quietUntil.set(inc, this.clock.now() + inc.limits.hangMs + inc.limits.heartbeatMs + 1_000);
    return null;
  }
}
