/** The sliding-window create limit. */
import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from '../../../src/providers/kie/simulator/rateLimit.js';

describe('SlidingWindowLimiter', () => {
  it('admits max per window per key and frees a slot as the oldest leaves the window', () => {
    const l = new SlidingWindowLimiter({ max: 2, windowMs: 100 });
    expect(l.tryAcquire('a', 0)).toBe(true);
    expect(l.tryAcquire('a', 50)).toBe(true);
    expect(l.tryAcquire('a', 60)).toBe(false);
    expect(l.tryAcquire('b', 60)).toBe(true);
    expect(l.tryAcquire('a', 100)).toBe(true); // the one at 0 has left
    expect(l.tryAcquire('a', 120)).toBe(false);
  });

  it('does not let rejected attempts extend the lockout', () => {
    const l = new SlidingWindowLimiter({ max: 1, windowMs: 100 });
    expect(l.tryAcquire('a', 0)).toBe(true);
    for (let t = 10; t < 100; t += 10) expect(l.tryAcquire('a', t)).toBe(false);
    expect(l.tryAcquire('a', 100)).toBe(true);
  });
});
