import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/domain/backoff.js';

const noJitter = () => 0;
const maxJitter = () => 0.999999;

describe('backoffDelay, equal jitter (the tracker: checks and deliveries)', () => {
  it.each<[number, number, number]>([
    [1, 500, 1_000],
    [2, 1_000, 2_000],
    [3, 2_000, 4_000],
    [10, 5_000, 10_000],
  ])('attempt %i stays within [%i, %i) (base 1 s, cap 10 s)', (attempt, lo, hi) => {
    const opts = { baseMs: 1_000, maxMs: 10_000, jitter: 'equal' } as const;
    expect(backoffDelay(attempt, opts, noJitter)).toBe(lo);
    expect(backoffDelay(attempt, opts, maxJitter)).toBe(hi - 1);
  });

  it('never waits less than half the ceiling', () => {
    for (let attempt = 1; attempt < 8; attempt++) {
      const ceiling = Math.min(60_000, 2_000 * 2 ** (attempt - 1));
      expect(backoffDelay(attempt, { baseMs: 2_000, maxMs: 60_000, jitter: 'equal' }, Math.random)).toBeGreaterThanOrEqual(ceiling / 2);
    }
  });
});

describe('backoffDelay, full jitter (the default: provider calls)', () => {
  it('draws in [0, ceiling)', () => {
    expect(backoffDelay(3, { baseMs: 100, maxMs: 1_000 }, noJitter)).toBe(0);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 1_000 }, maxJitter)).toBe(399);
    expect(backoffDelay(9, { baseMs: 100, maxMs: 1_000 }, () => 0.5)).toBe(500);
  });
});
