/**
 * KIE's create limit (NOTES.md: 20 new generation requests per 10 s per
 * account, excess rejected with 429, not queued) as a sliding-window log.
 * Rejected requests are not logged, so a client that keeps retrying is not
 * locked out for longer than the window.
 */
export interface RateLimit {
  max: number;
  windowMs: number;
}

export class SlidingWindowLimiter {
  private readonly log = new Map<string, number[]>();

  constructor(private readonly limit: RateLimit) {
    if (!(Number.isInteger(limit.max) && limit.max >= 1)) throw new RangeError(`rate limit max must be >= 1, got ${limit.max}`);
    if (!(limit.windowMs > 0)) throw new RangeError(`rate limit windowMs must be > 0, got ${limit.windowMs}`);
  }

  /** Admit one request for `key` at time `now` if the window has room; returns whether it was admitted. */
  tryAcquire(key: string, now: number): boolean {
    const since = now - this.limit.windowMs;
    const recent = (this.log.get(key) ?? []).filter((t) => t > since);
    const admitted = recent.length < this.limit.max;
    if (admitted) recent.push(now);
    this.log.set(key, recent);
    return admitted;
  }
}
