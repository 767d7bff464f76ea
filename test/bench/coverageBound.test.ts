import { describe, expect, it } from 'vitest';
import { minReadsBothTargets, minReadsPerSecond } from '../../bench/coverageBound.js';

describe('minReadsPerSecond', () => {
  it('one kind of task, every finish within L: checks L apart over the whole window, 1/2 + W / 2L on average', () => {
    // 60-s window, L = 3: 20 checks at 3, 6, … 60 s; the k-th is made if the task runs past the (k−1)-th:
    // 1 + Σ_{k=1..19} (60 − 3k) / 60 = 10.5 checks per task; one task every 10 s.
    expect(minReadsPerSecond([60, 60], 0.1, 1, 3)).toBeCloseTo(1.05, 6);
  });

  it('a share p of one kind: the last p·W seconds, 1 + p²·W / 2L − p / 2', () => {
    // p = 0.5: 10 checks over the last 30 s: 1 + 3·10·9 / 120 = 3.25.
    expect(minReadsPerSecond([60, 60, 60, 60], 1, 0.5, 3)).toBeCloseTo(3.25, 6);
  });

  it('mixed windows: covers the same length of each, the narrow ones first', () => {
    // Windows 10 and 100, half the tasks: solve (x/10 + x/100) / 2 = 0.5 → x = 100/11 (< 10).
    const x = 100 / 11;
    const cost = (w: number): number => 1 + ((x / w) ** 2 * w) / 6 - x / w / 2;
    expect(minReadsPerSecond([10, 100], 1, 0.5, 3)).toBeCloseTo((cost(10) + Math.max(1, cost(100))) / 2, 4);
  });

  it('is 0 without tasks, one check below one spacing, and grows as the lag allowed shrinks', () => {
    expect(minReadsPerSecond([], 1, 0.95, 3)).toBe(0);
    expect(minReadsPerSecond([2], 1, 1, 3)).toBe(1);
    expect(minReadsPerSecond([75, 175, 525], 0.25, 0.95, 1.5)).toBeGreaterThan(minReadsPerSecond([75, 175, 525], 0.25, 0.95, 3));
  });
});

describe('minReadsBothTargets', () => {
  it('costs at least the p95 cover, and a little more when the cover alone leaves under half within 1.5 s', () => {
    const windows = [75, 175, 175, 175, 525];
    const p95 = minReadsPerSecond(windows, 0.25, 0.95, 3);
    const both = minReadsBothTargets(windows, 0.25);
    expect(both).toBeGreaterThan(p95);
    expect(both - p95).toBeLessThan(0.05 * p95);
  });
});
