/**
 * Client-side rate limits, so KIE never has to refuse us.
 *
 * KIE allows 20 new generation requests per 10 s and answers the 21st with
 * 429 instead of queueing it (NOTES.md), so creates pass a sliding window
 * that makes callers wait, first come first served, and never rejects them.
 * The window counts each request until windowMs after it *finished*, so it
 * holds at KIE whatever the network latency.
 * Reads (record-info, credits) pass a token bucket so a tracker polling many
 * jobs cannot flood KIE either.
 *
 * The scheduling math is pure functions over immutable state; `FifoGate`
 * adds the waiting (injectable clock and sleep, abortable).
 */
import { realSleep, type Sleep } from './retry.js';
import {
  checkWindowLimit,
  windowGrants,
  windowRelease,
  windowTake,
  windowWaitMs,
  type WindowGrant,
  type WindowLimit,
} from '../../domain/slidingWindow.js';

/** The sliding-window math is the domain's one (../../domain/slidingWindow.ts); this module adds the waiting. */
export { windowGrants, windowRelease, windowTake, windowWaitMs, type WindowGrant, type WindowLimit };

// ---------------------------------------------------------------------------
// Pure scheduling math
// ---------------------------------------------------------------------------

/** How a gate decides: how long until the next grant, and the state after one. */
export interface Schedule<S> {
  readonly initial: S;
  /** Ms until one more grant is allowed at `now` (0 = now; Infinity = only after a release). */
  waitMs(state: S, now: number): number;
  /** The state after granting ticket `id` at `now`. */
  take(state: S, now: number, id: number): S;
  /** The state after ticket `id`'s holder finished at `now` (schedules that do not care leave it out). */
  release?(state: S, id: number, now: number): S;
}

/** KIE's documented create limit. */
export const DEFAULT_CREATE_LIMIT: WindowLimit = { max: 20, windowMs: 10_000 };

export function slidingWindowSchedule(limit: WindowLimit): Schedule<readonly WindowGrant[]> {
  checkWindowLimit(limit);
  return {
    initial: [],
    waitMs: (grants, now) => windowWaitMs(grants, now, limit),
    take: (grants, now, id) => windowTake(grants, now, limit, id),
    release: (grants, id, now) => windowRelease(grants, id, now),
  };
}

export interface BucketLimit {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Most tokens the bucket holds (the largest burst); ratePerSecond unless told, at least 1. */
  capacity?: number;
}

export interface BucketState {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
}

export const DEFAULT_READS_PER_SECOND = 10;

const capacityOf = (limit: BucketLimit): number => Math.max(1, limit.capacity ?? limit.ratePerSecond);

/** The bucket brought up to `now`: tokens refilled at the rate, capped at capacity. */
export function bucketRefill(state: BucketState, now: number, limit: BucketLimit): BucketState {
  const elapsed = Math.max(0, now - state.at);
  const tokens = Math.min(capacityOf(limit), state.tokens + (elapsed * limit.ratePerSecond) / 1000);
  return { tokens, at: Math.max(now, state.at) };
}

/** Ms until one whole token is available (rounded up so a timer never fires a hair early). */
export function bucketWaitMs(state: BucketState, now: number, limit: BucketLimit): number {
  const { tokens } = bucketRefill(state, now, limit);
  return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / limit.ratePerSecond);
}

export function bucketTake(state: BucketState, now: number, limit: BucketLimit): BucketState {
  const refilled = bucketRefill(state, now, limit);
  return { tokens: refilled.tokens - 1, at: refilled.at };
}

export function tokenBucketSchedule(limit: BucketLimit, now: number): Schedule<BucketState> {
  if (!(limit.ratePerSecond > 0)) throw new RangeError('token bucket needs ratePerSecond > 0');
  return {
    initial: { tokens: capacityOf(limit), at: now },
    waitMs: (state, t) => bucketWaitMs(state, t, limit),
    take: (state, t) => bucketTake(state, t, limit),
    // A read is spent when sent; its end does not matter to the bucket.
  };
}

// ---------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------

export interface GateDeps {
  now?: () => number;
  sleep?: Sleep;
}

/** Tells the gate the holder is done (the request finished). Idempotent. */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

/**
 * Lets callers through one at a time as the schedule allows, strictly in
 * arrival order. A single pump sleeps until the head may go (or, when the
 * schedule waits for a release, until one comes); callers that abort leave
 * the line without disturbing the others.
 */
export class FifoGate<S> {
  private state: S;
  private readonly line: Waiter[] = [];
  private pumping = false;
  private nextId = 1;
  /** Wakes the pump early: on a release, or when nobody is left waiting (so no timer keeps the process alive). */
  private wake: AbortController | null = null;
  private readonly now: () => number;
  private readonly sleep: Sleep;

  constructor(
    private readonly schedule: Schedule<S>,
    deps: GateDeps = {},
  ) {
    this.state = schedule.initial;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? realSleep;
  }

  /** Number of callers waiting. */
  get waiting(): number {
    return this.line.length;
  }

  /**
   * Resolves with a Release when the caller may go; call it when the work is
   * done (in a finally). Rejects only with the signal's reason if it aborts first.
   */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Release>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.line.indexOf(waiter);
        if (i >= 0) this.line.splice(i, 1);
        if (this.line.length === 0) this.wake?.abort();
        reject(signal?.reason);
      };
      const waiter: Waiter = { resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
      void this.pump();
    });
  }

  private releaser(id: number): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const { release } = this.schedule;
      if (!release) return;
      this.state = release(this.state, id, this.now());
      this.wake?.abort();
    };
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const head = this.line[0];
        if (!head) return;
        const now = this.now();
        const wait = this.schedule.waitMs(this.state, now);
        if (wait <= 0) {
          const id = this.nextId++;
          this.state = this.schedule.take(this.state, now, id);
          this.line.shift();
          head.detach();
          head.resolve(this.releaser(id));
          continue;
        }
        this.wake = new AbortController();
        const { signal } = this.wake;
        try {
          if (Number.isFinite(wait)) await this.sleep(wait, signal);
          else await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        } catch {
          // Woken early (a release, or the line emptied); the loop re-checks.
        } finally {
          this.wake = null;
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** The create limiter: a sliding window counted from each request's end, FIFO, never rejects. */
export class SlidingWindowLimiter extends FifoGate<readonly WindowGrant[]> {
  constructor(limit: WindowLimit = DEFAULT_CREATE_LIMIT, deps: GateDeps = {}) {
    super(slidingWindowSchedule(limit), deps);
  }
}

/** The read limiter: a token bucket, FIFO, never rejects. */
export class TokenBucketLimiter extends FifoGate<BucketState> {
  constructor(limit: BucketLimit = { ratePerSecond: DEFAULT_READS_PER_SECOND }, deps: GateDeps = {}) {
    super(tokenBucketSchedule(limit, (deps.now ?? Date.now)()), deps);
  }
}
