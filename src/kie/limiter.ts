/**
 * Client-side rate limits, so KIE never has to refuse us.
 *
 * KIE allows 20 new generation requests per 10 s and answers the 21st with
 * 429 instead of queueing it (NOTES.md), so creates pass a sliding window
 * that makes callers wait, first come first served, and never rejects them.
 * Reads (record-info, credits) pass a token bucket so a tracker polling many
 * jobs cannot flood KIE either.
 *
 * The scheduling math is pure functions over immutable state; `FifoGate`
 * adds the waiting (injectable clock and sleep, abortable).
 */
import { realSleep, type Sleep } from './retry.js';

// ---------------------------------------------------------------------------
// Pure scheduling math
// ---------------------------------------------------------------------------

/** How a gate decides: how long until the next grant, and the state after one. */
export interface Schedule<S> {
  readonly initial: S;
  /** Ms until one more grant is allowed at `now` (0 = now). */
  waitMs(state: S, now: number): number;
  /** The state after granting at `now`. */
  take(state: S, now: number): S;
}

export interface WindowLimit {
  /** Grants allowed in any window. */
  max: number;
  windowMs: number;
}

/** KIE's documented create limit. */
export const DEFAULT_CREATE_LIMIT: WindowLimit = { max: 20, windowMs: 10_000 };

/** Grant times still inside the window ending at `now` (a grant at now - windowMs has left it). */
export const windowGrants = (grants: readonly number[], now: number, windowMs: number): number[] =>
  grants.filter((t) => t > now - windowMs);

/**
 * Ms until a new grant keeps every window of `windowMs` at ≤ max grants:
 * 0 while fewer than max are in the window, else until the oldest one that
 * would make max+1 leaves it.
 */
export function windowWaitMs(grants: readonly number[], now: number, limit: WindowLimit): number {
  const live = windowGrants(grants, now, limit.windowMs);
  if (live.length < limit.max) return 0;
  const blocker = live[live.length - limit.max];
  return blocker === undefined ? 0 : Math.max(0, blocker + limit.windowMs - now);
}

/** Records a grant at `now`, forgetting grants that can no longer matter. */
export const windowTake = (grants: readonly number[], now: number, limit: WindowLimit): number[] =>
  [...windowGrants(grants, now, limit.windowMs), now].slice(-limit.max);

export function slidingWindowSchedule(limit: WindowLimit): Schedule<readonly number[]> {
  if (!(limit.max >= 1) || !(limit.windowMs > 0)) throw new RangeError('window limit needs max ≥ 1 and windowMs > 0');
  return {
    initial: [],
    waitMs: (grants, now) => windowWaitMs(grants, now, limit),
    take: (grants, now) => windowTake(grants, now, limit),
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
  };
}

// ---------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------

export interface GateDeps {
  now?: () => number;
  sleep?: Sleep;
}

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  detach: () => void;
}

/**
 * Lets callers through one at a time as the schedule allows, strictly in
 * arrival order. A single pump sleeps until the head may go; callers that
 * abort leave the line without disturbing the others.
 */
export class FifoGate<S> {
  private state: S;
  private readonly line: Waiter[] = [];
  private pumping = false;
  /** Cancels the pump's sleep when nobody is left waiting (so no timer keeps the process alive). */
  private pumpSleep: AbortController | null = null;
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

  /** Resolves when the caller may go; rejects only with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.line.indexOf(waiter);
        if (i >= 0) this.line.splice(i, 1);
        if (this.line.length === 0) this.pumpSleep?.abort();
        reject(signal?.reason);
      };
      const waiter: Waiter = { resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
      void this.pump();
    });
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
          this.state = this.schedule.take(this.state, now);
          this.line.shift();
          head.detach();
          head.resolve();
          continue;
        }
        this.pumpSleep = new AbortController();
        try {
          await this.sleep(wait, this.pumpSleep.signal);
        } catch {
          // Woken early because the line emptied; the loop re-checks.
        } finally {
          this.pumpSleep = null;
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** The create limiter: a sliding window, FIFO, never rejects. */
export class SlidingWindowLimiter extends FifoGate<readonly number[]> {
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
