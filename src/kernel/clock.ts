/**
 * The clock: time and timers come in through this interface (never `Date.now()` or
 * `setTimeout` directly in kernel logic), so tests can simulate time.
 *
 * Entry points: `Clock`, `realClock`.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
