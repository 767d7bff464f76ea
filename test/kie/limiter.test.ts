import { describe, expect, it } from 'vitest';
import {
  bucketRefill,
  bucketTake,
  bucketWaitMs,
  FifoGate,
  SlidingWindowLimiter,
  slidingWindowSchedule,
  TokenBucketLimiter,
  windowRelease,
  windowTake,
  windowWaitMs,
  type Schedule,
  type WindowGrant,
} from '../../src/providers/kie/limiter.js';

/**
 * Virtual time: sleeping moves the clock forward at once (after letting
 * pending callbacks run, so callers observe the time they were let through).
 * Only the gate's single pump sleeps, so this models real waiting exactly,
 * in no real time.
 */
function virtualClock(start = 0) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    sleeps,
    sleep: async (ms: number, signal?: AbortSignal): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      signal?.throwIfAborted();
      sleeps.push(ms);
      t += ms;
    },
  };
}

/** A clock whose sleep only resolves when the test says so (to hold callers in line). */
function manualClock() {
  let t = 0;
  let wake: (() => void) | null = null;
  return {
    now: () => t,
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        wake = () => {
          t += ms;
          resolve();
        };
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    wake: () => wake?.(),
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('sliding window math', () => {
  const limit = { max: 3, windowMs: 1000 };
  /** Grants that finished the moment they started, at these times. */
  const done = (...times: number[]): WindowGrant[] => times.map((at, i) => ({ id: i + 1, at, doneAt: at }));
  it.each([
    // grants, now, expected wait
    [[], 0, 0],
    [[0], 0, 0],
    [[0, 0], 0, 0],
    [[0, 0, 0], 0, 1000],
    [[0, 0, 0], 400, 600],
    [[0, 0, 0], 1000, 0], // a grant released exactly windowMs ago has left the window
    [[0, 100, 200], 500, 500],
    [[0, 100, 200], 1000, 0],
    [[0, 100, 200], 1050, 0],
    [[-5000, 0, 100, 200], 500, 500], // old grants ignored
    [[0, 100, 200, 300], 1000, 100], // one must leave: the oldest counting one
    [[300, 0, 200, 100], 1000, 100], // order does not matter
  ])('grants done at %o, now %i → wait %i', (times, now, expected) => {
    expect(windowWaitMs(done(...times), now, limit)).toBe(expected);
  });

  it('counts a grant from its end, and forever while it is in flight', () => {
    const slow: WindowGrant = { id: 1, at: 0, doneAt: 700 };
    expect(windowWaitMs([slow, ...done(900, 950).map((g) => ({ ...g, id: g.id + 1 }))], 1200, limit)).toBe(500);
    const inFlight: WindowGrant[] = [
      { id: 1, at: 0, doneAt: null },
      { id: 2, at: 0, doneAt: null },
      { id: 3, at: 0, doneAt: null },
    ];
    expect(windowWaitMs(inFlight, 60_000, limit)).toBe(Number.POSITIVE_INFINITY);
    expect(windowWaitMs(windowRelease(inFlight, 2, 100), 500, limit)).toBe(600);
  });

  it('take records an in-flight grant and forgets grants that left', () => {
    expect(windowTake([], 0, limit, 1)).toEqual([{ id: 1, at: 0, doneAt: null }]);
    expect(windowTake(done(-2000, 0), 5, limit, 9)).toEqual([
      { id: 2, at: 0, doneAt: 0 },
      { id: 9, at: 5, doneAt: null },
    ]);
  });

  it('release marks the end once', () => {
    const g: WindowGrant[] = [{ id: 1, at: 0, doneAt: null }];
    const once = windowRelease(g, 1, 50);
    expect(once).toEqual([{ id: 1, at: 0, doneAt: 50 }]);
    expect(windowRelease(once, 1, 90)).toEqual(once);
    expect(windowRelease(g, 2, 50)).toEqual(g);
  });

  it('rejects nonsense limits', () => {
    expect(() => slidingWindowSchedule({ max: 0, windowMs: 10 })).toThrow(RangeError);
    expect(() => slidingWindowSchedule({ max: 1, windowMs: 0 })).toThrow(RangeError);
  });
});

describe('token bucket math', () => {
  const limit = { ratePerSecond: 10 };
  it.each([
    // tokens, at, now, expected wait
    [10, 0, 0, 0],
    [1, 0, 0, 0],
    [0, 0, 0, 100],
    [0, 0, 40, 60],
    [0, 0, 100, 0],
    [0.5, 0, 0, 50],
    [-2, 0, 0, 300],
  ])('%d tokens at %i, now %i → wait %i', (tokens, at, now, expected) => {
    expect(bucketWaitMs({ tokens, at }, now, limit)).toBe(expected);
  });

  it('refills at the rate up to capacity and never goes back in time', () => {
    expect(bucketRefill({ tokens: 0, at: 0 }, 250, limit)).toEqual({ tokens: 2.5, at: 250 });
    expect(bucketRefill({ tokens: 0, at: 0 }, 60_000, limit)).toEqual({ tokens: 10, at: 60_000 });
    expect(bucketRefill({ tokens: 0, at: 0 }, 60_000, { ratePerSecond: 10, capacity: 3 })).toEqual({ tokens: 3, at: 60_000 });
    expect(bucketRefill({ tokens: 1, at: 500 }, 100, limit)).toEqual({ tokens: 1, at: 500 });
    expect(bucketRefill({ tokens: 0, at: 0 }, 10_000, { ratePerSecond: 0.5 })).toEqual({ tokens: 1, at: 10_000 });
  });

  it('take spends one token', () => {
    expect(bucketTake({ tokens: 10, at: 0 }, 0, limit)).toEqual({ tokens: 9, at: 0 });
    expect(bucketTake({ tokens: 0.5, at: 0 }, 50, limit)).toEqual({ tokens: 0, at: 50 });
  });
});

describe('SlidingWindowLimiter', () => {
  it('lets max through per window and makes the rest wait, in order', async () => {
    const clock = virtualClock();
    const limiter = new SlidingWindowLimiter({ max: 5, windowMs: 300 }, clock);
    const grantedAt: Array<[number, number]> = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        limiter.acquire().then((release) => {
          grantedAt.push([i, clock.now()]);
          release(); // an instant request: counts from now
        }),
      ),
    );
    expect(grantedAt.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(grantedAt.map(([, t]) => t)).toEqual([0, 0, 0, 0, 0, 300, 300, 300, 300, 300, 600, 600]);
  });

  it('keeps every window under the limit for 25 spread-out requests (default 20 per 10 s)', async () => {
    const clock = virtualClock();
    const limiter = new SlidingWindowLimiter(undefined, clock);
    const times: number[] = [];
    for (let i = 0; i < 25; i++) {
      const release = await limiter.acquire();
      times.push(clock.now());
      clock.advance(137);
      release();
    }
    for (const t of times) {
      expect(times.filter((u) => u >= t && u < t + 10_000).length).toBeLessThanOrEqual(20);
    }
    expect(times[20]).toBe(10_137); // the 21st waits until 10 s after the 1st *finished*
  });

  it('holds a slot while its request is in flight, then for windowMs after it ends', async () => {
    const clock = manualClock();
    const limiter = new SlidingWindowLimiter({ max: 1, windowMs: 100 }, clock);
    const release = await limiter.acquire();
    let granted = false;
    const next = limiter.acquire().then((r) => {
      granted = true;
      return r;
    });
    await flush();
    expect(granted).toBe(false); // waiting for the release, not for a timer
    release();
    release(); // idempotent
    await flush();
    expect(granted).toBe(false); // now waiting windowMs after the end
    clock.wake();
    (await next)();
    expect(granted).toBe(true);
  });

  it('an aborted caller leaves the line; the others keep their order', async () => {
    const clock = manualClock();
    const limiter = new SlidingWindowLimiter({ max: 1, windowMs: 100 }, clock);
    const order: string[] = [];
    (await limiter.acquire())();
    const controller = new AbortController();
    const a = limiter.acquire(controller.signal).then(
      () => order.push('a'),
      (e: unknown) => order.push(`a aborted: ${(e as Error).message}`),
    );
    const b = limiter.acquire().then((release) => {
      order.push('b');
      release();
    });
    const c = limiter.acquire().then(() => order.push('c'));
    expect(limiter.waiting).toBe(3);
    controller.abort(new Error('gone'));
    await a;
    expect(limiter.waiting).toBe(2);
    clock.wake();
    await flush();
    clock.wake();
    await Promise.all([b, c]);
    expect(order).toEqual(['a aborted: gone', 'b', 'c']);
  });

  it('rejects at once with an already-aborted signal and stops sleeping when nobody waits', async () => {
    const clock = manualClock();
    const limiter = new SlidingWindowLimiter({ max: 1, windowMs: 100 }, clock);
    const reason = new Error('pre-aborted');
    await expect(limiter.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    (await limiter.acquire())();
    const controller = new AbortController();
    const p = limiter.acquire(controller.signal);
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    await flush();
    expect(limiter.waiting).toBe(0);
    // The pump's sleep was cancelled: a newcomer is served once time allows.
    const late = limiter.acquire();
    clock.wake();
    await expect(late).resolves.toBeTypeOf('function');
  });
});

describe('TokenBucketLimiter', () => {
  it('allows a burst of capacity, then one per 1/rate', async () => {
    const clock = virtualClock(1_000);
    const limiter = new TokenBucketLimiter({ ratePerSecond: 10 }, clock);
    const times: number[] = [];
    await Promise.all(Array.from({ length: 13 }, () => limiter.acquire().then(() => times.push(clock.now()))));
    expect(times).toEqual([...Array(10).fill(1_000), 1_100, 1_200, 1_300]);
  });

  it('handles fractional rates', async () => {
    const clock = virtualClock();
    const limiter = new TokenBucketLimiter({ ratePerSecond: 0.5 }, clock);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      await limiter.acquire();
      times.push(clock.now());
    }
    expect(times).toEqual([0, 2000, 4000]);
  });

  it('rejects a zero rate', () => {
    expect(() => new TokenBucketLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
  });
});

describe('FifoGate', () => {
  it('runs any schedule (here: one grant per 50 ms)', async () => {
    const every50: Schedule<number> = {
      initial: Number.NEGATIVE_INFINITY,
      waitMs: (last, now) => Math.max(0, last + 50 - now),
      take: (_last, now) => now,
    };
    const clock = virtualClock();
    const gate = new FifoGate(every50, clock);
    const times: number[] = [];
    await Promise.all([1, 2, 3].map(() => gate.acquire().then(() => times.push(clock.now()))));
    expect(times).toEqual([0, 50, 100]);
    expect(clock.sleeps).toEqual([50, 50]);
  });
});
