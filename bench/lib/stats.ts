/**
 * Summary statistics of latency samples. Plain functions over arrays of numbers, with
 * no imports, so component fixtures and raw baseline workers can share them.
 *
 * Entry points: `summarize(samples)`, `percentile(sorted, p)`, `median(values)`.
 */

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    min: sorted.length ? sorted[0]! : NaN,
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

export function median(values: ArrayLike<number>): number {
  return percentile(Float64Array.from(values).sort(), 50);
}
