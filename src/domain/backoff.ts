/**
 * Exponential back-off: the one formula for every retry in the bot (KIE and
 * APIXO calls, the tracker's failed checks and failed deliveries).
 *
 * The ceiling grows `factor`× per attempt from `baseMs`, capped at `maxMs`;
 * the delay is drawn below it:
 * - 'full' jitter (the default): uniform in [0, ceiling). Spreads apart the
 *   retries of many callers that failed together (a 429 burst).
 * - 'equal' jitter: uniform in [ceiling/2, ceiling). Never shorter than half
 *   the ceiling, so a failing task is not re-asked at once (the tracker's
 *   checks and deliveries).
 *
 * Pure: randomness comes in as an argument.
 */

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Growth per attempt; 2 unless told. */
  factor?: number;
  /** 'full' unless told. */
  jitter?: 'full' | 'equal';
}

/**
 * The wait before the next try. `attempt` is the number of attempts already
 * made (1 after the first failure; 0 is treated as 1); `random` returns
 * [0, 1) and is clamped to [0, 1].
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const factor = opts.factor ?? 2;
  const ceiling = Math.max(0, Math.min(opts.maxMs, opts.baseMs * factor ** Math.max(0, attempt - 1)));
  const r = Math.min(Math.max(random(), 0), 1);
  const floor = opts.jitter === 'equal' ? ceiling / 2 : 0;
  return Math.floor(floor + r * (ceiling - floor));
}
