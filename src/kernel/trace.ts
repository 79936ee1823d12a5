/**
 * The kernel's trace event stream: a typed, synchronous publish/subscribe of
 * `TraceEvent`s. Emitting costs one branch when nobody listens, so the message hot
 * path can call `trace.active` before building an event.
 *
 * Entry points: `Trace.on(listener)`, `Trace.emit(event)`, `Trace.active`.
 */
import type { TraceEvent } from './abi.js';

export type TraceListener = (event: TraceEvent) => void;

export class Trace {
  private listeners: TraceListener[] = [];

  /** True when at least one listener is subscribed (check before building an event). */
  get active(): boolean {
    return this.listeners.length > 0;
  }

  /** Subscribe; returns the unsubscribe function. */
  on(listener: TraceListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: TraceEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A faulty observer must never break the kernel.
      }
    }
  }
}
