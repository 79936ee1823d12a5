/**
 * The patch registry: one per module instance, i.e. per bundle or worker, the way a
 * kernel keeps one patch list per address space. It holds the trampoline tables by name,
 * the patches by id (ids increase from 1), and the event listeners.
 *
 * Entry points: `registry` (internal state, for table.ts and patch.ts), `resetRegistry()`
 * (tests), `onPatchEvent(listener)`, `emit(epoch, event)` (internal).
 */
import type { Patch } from './patch.js';
import type { TableState } from './table.js';
import type { PatchEvent, PatchListener } from './types.js';

export interface Registry {
  readonly tables: Map<string, TableState>;
  readonly patches: Map<number, Patch>;
  nextId: number;
  readonly listeners: Set<PatchListener>;
  /** Bumped by resetRegistry: patches of an earlier epoch no longer report events. */
  epoch: number;
}

export const registry: Registry = {
  tables: new Map(),
  patches: new Map(),
  nextId: 1,
  listeners: new Set(),
  epoch: 0,
};

/**
 * Forget every table, patch and listener (tests). Tables created before keep working
 * through their trampolines, but are no longer found by name; their names can be reused.
 */
export function resetRegistry(): void {
  registry.tables.clear();
  registry.patches.clear();
  registry.listeners.clear();
  registry.nextId = 1;
  registry.epoch++;
}

/** Subscribe to patch events; returns the unsubscribe function. */
export function onPatchEvent(listener: PatchListener): () => void {
  registry.listeners.add(listener);
  return () => {
    registry.listeners.delete(listener);
  };
}

/** Deliver an event (built lazily: nothing is built without listeners). */
export function emit(epoch: number, build: () => PatchEvent): void {
  if (epoch !== registry.epoch || registry.listeners.size === 0) return;
  const event = build();
  for (const listener of [...registry.listeners]) {
    try {
      listener(event);
    } catch {
      // A listener is an observer: its failure must not break the patch step it watches.
    }
  }
}
