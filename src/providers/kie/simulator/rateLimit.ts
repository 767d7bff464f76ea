/**
 * KIE's create limit (NOTES.md: 20 new generation requests per 10 s per
 * account, excess rejected with 429, not queued): one sliding window per key
 * (../../../domain/slidingWindow.ts, the bot's one window). Rejected requests
 * are not logged, so a client that keeps retrying is not locked out for
 * longer than the window.
 */
import { SlidingWindow, type WindowLimit } from '../../../domain/slidingWindow.js';

export type RateLimit = WindowLimit;

export class SlidingWindowLimiter {
  private readonly windows = new Map<string, SlidingWindow>();

  constructor(private readonly limit: RateLimit) {
    if (!(Number.isInteger(limit.max) && limit.max >= 1)) throw new RangeError(`rate limit max must be >= 1, got ${limit.max}`);
    if (!(limit.windowMs > 0)) throw new RangeError(`rate limit windowMs must be > 0, got ${limit.windowMs}`);
  }

  /** Admit one request for `key` at time `now` if the window has room; returns whether it was admitted. */
  tryAcquire(key: string, now: number): boolean {
    let window = this.windows.get(key);
    if (!window) {
      window = new SlidingWindow(this.limit);
      this.windows.set(key, window);
    }
    return window.tryTake(now);
  }
}
