/**
 * The few statistics the benchmark reports, as small pure functions, so the
 * figures in RESULTS.md can be checked by hand and tested without a run.
 */

/** A distribution as the report prints it. All fields are NaN for an empty sample. */
export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * The p-th percentile (0–100) of an ascending sample, linearly interpolated
 * between closest ranks (the "R-7" rule numpy and spreadsheets use), so small
 * samples give stable, comparable numbers. NaN for an empty sample.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

/**
 * A distribution-free ~95 % confidence interval for the p-th percentile of
 * the population an ascending sample came from: the order statistics whose
 * ranks lie 1.96 binomial standard deviations either side of n·p/100. Says
 * how much a percentile of ~150 lags could move on a rerun, so a verdict
 * that close to its target is read as such. [NaN, NaN] for an empty sample.
 */
export function percentileInterval(sorted: readonly number[], p: number, z = 1.96): [number, number] {
  const n = sorted.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const q = p / 100;
  const spread = z * Math.sqrt(n * q * (1 - q));
  const lo = Math.max(0, Math.floor(n * q - spread) - 1);
  const hi = Math.min(n - 1, Math.ceil(n * q + spread) - 1);
  return [sorted[lo]!, sorted[hi]!];
}

/** min / mean / p50 / p95 / p99 / max of any sample (it is copied, not sorted in place). */
export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((x, y) => x - y);
  const n = sorted.length;
  if (n === 0) return { n: 0, min: NaN, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n,
    min: sorted[0]!,
    mean: sum / n,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[n - 1]!,
  };
}

/** Every field of a summary multiplied by `factor` (unit changes: ms → s, scaled → real time). */
export function scaleSummary(s: Summary, factor: number): Summary {
  return {
    n: s.n,
    min: s.min * factor,
    mean: s.mean * factor,
    p50: s.p50 * factor,
    p95: s.p95 * factor,
    p99: s.p99 * factor,
    max: s.max * factor,
  };
}

/**
 * The most events that fall into any half-open window [t, t + windowMs) —
 * "peak requests per second", "creates per 10 s". Two pointers over the
 * sorted times: O(n log n) for the sort, O(n) after.
 */
export function slidingWindowMax(times: readonly number[], windowMs: number): number {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  const sorted = [...times].sort((x, y) => x - y);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/** Sum of a sample (0 when empty). */
export const sum = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);

/** a / b, or NaN when b is 0 (a ratio of nothing is not a number, not Infinity). */
export const ratio = (a: number, b: number): number => (b === 0 ? Number.NaN : a / b);
