/**
 * The endpoint table: label ↔ stable endpoint ↔ live incarnation, and the messages
 * held back for each endpoint (by interface filters, or because no incarnation is
 * bound while it restarts or updates).
 *
 * Holding preserves order per sender: once one message from a sender is held, every
 * later message from that sender is held behind it, whatever its type, so a release
 * never lets a later message overtake an earlier one.
 *
 * Entry points: `EndpointTable.ensure/get`, `EndpointEntry.shouldHold`,
 * `EndpointEntry.hold`, `EndpointEntry.takeReleasable`.
 */
import { FIRST_COMPONENT_ENDPOINT, type Address, type Endpoint, type FilterMatch, type Message, type Recovery } from './abi.js';
import type { Incarnation } from './incarnation.js';

/** A message on its way: the message and, for a call, the kernel's call id. */
export interface Envelope {
  msg: Message;
  /** Kernel call id (0 for send / notify). */
  call: number;
}

export type EndpointStatus =
  | { status: 'bound'; incarnation: Incarnation }
  | { status: 'unbound' }
  | { status: 'failed'; reason: string };

export class EndpointEntry {
  state: EndpointStatus = { status: 'unbound' };
  delivered = 0;
  binds = 0;
  /** A live update has quiesced the bound incarnation: hold everything until commit or abort. */
  frozen = false;
  readonly filters = new Map<number, FilterMatch>();
  /** How its calls are treated when its incarnation crashes (null: stateless). */
  recovery: Recovery | null = null;
  /**
   * Its server state regions, by client endpoint (DESIGN.md §5): outside every
   * incarnation's heap, so they outlive a crash; each is what the client's last completed
   * handler committed.
   */
  readonly ssrs = new Map<Endpoint, unknown>();
  private held: Envelope[] = [];
  private heldFrom = new Map<Endpoint, number>();

  constructor(
    readonly label: string,
    readonly endpoint: Endpoint,
  ) {}

  get bound(): Incarnation | null {
    return this.state.status === 'bound' ? this.state.incarnation : null;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Must this message wait instead of being delivered now? */
  shouldHold(msg: Message): boolean {
    if (this.filters.size === 0 && this.heldFrom.size === 0 && !this.frozen) return this.state.status !== 'bound'; // the common case
    if (this.state.status !== 'bound' || this.frozen) return true;
    if (this.heldFrom.size > 0 && this.heldFrom.has(msg.from)) return true;
    for (const m of this.filters.values()) if (matches(m, msg)) return true;
    return false;
  }

  hold(env: Envelope): void {
    this.held.push(env);
    this.heldFrom.set(env.msg.from, (this.heldFrom.get(env.msg.from) ?? 0) + 1);
  }

  /** Hold messages ahead of everything held (requests a crashed incarnation was handling, to be given again first). */
  holdFirst(envs: Envelope[]): void {
    if (envs.length === 0) return;
    const rest = this.held;
    this.held = [];
    this.heldFrom.clear();
    for (const env of [...envs, ...rest]) this.hold(env);
  }

  /**
   * Re-examine every held message in order; return those that may now be delivered
   * (in order) and keep the rest held, in order.
   */
  takeReleasable(): Envelope[] {
    const all = this.held;
    this.held = [];
    this.heldFrom.clear();
    const out: Envelope[] = [];
    for (const env of all) {
      if (this.shouldHold(env.msg)) this.hold(env);
      else out.push(env);
    }
    return out;
  }

  /** Remove and return everything held (the endpoint failed). */
  takeAll(): Envelope[] {
    const all = this.held;
    this.held = [];
    this.heldFrom.clear();
    return all;
  }
}

export function matches(m: FilterMatch, msg: Message): boolean {
  if (m.from && !m.from.includes(msg.from)) return false;
  if (m.types && !m.types.some((t) => typeMatches(t, msg.type))) return false;
  return true;
}

/** `'*'`, an exact type, or a prefix pattern `'vfs.*'`. */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

export class EndpointTable {
  private readonly byLabel = new Map<string, EndpointEntry>();
  private readonly byEndpoint = new Map<Endpoint, EndpointEntry>();
  private next: Endpoint = FIRST_COMPONENT_ENDPOINT;

  /** The entry for `label`, creating its endpoint on first use. Endpoints are never reused. */
  ensure(label: string): EndpointEntry {
    let e = this.byLabel.get(label);
    if (!e) {
      e = new EndpointEntry(label, this.next++);
      this.byLabel.set(label, e);
      this.byEndpoint.set(e.endpoint, e);
    }
    return e;
  }

  get(addr: Address): EndpointEntry | undefined {
    return typeof addr === 'number' ? this.byEndpoint.get(addr) : this.byLabel.get(addr);
  }

  all(): EndpointEntry[] {
    return [...this.byLabel.values()];
  }
}
