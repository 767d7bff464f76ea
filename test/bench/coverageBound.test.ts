import { describe, expect, it } from 'vitest';
import { minReadsPerSecond } from '../../bench/coverageBound.js';

describe('minReadsPerSecond', () => {
  it('one kind of task, every finish within L: 1 + W / 2L checks per task', () => {
    // 60-s window, L = 3: 1 + 60 / 6 = 11 checks per task; one task every 10 s.
    expect(minReadsPerSecond([60, 60], 0.1, 1, 3)).toBeCloseTo(1.1, 6);
  });

  it('a share p of one kind: the last p·W seconds, 1 + p²·W / 2L', () => {
    // p = 0.5: 1 + 0.25 · 60 / 6 = 3.5 checks per task.
    expect(minReadsPerSecond([60, 60, 60, 60], 1, 0.5, 3)).toBeCloseTo(3.5, 6);
  });

  it('mixed windows: covers the same length of each, the narrow ones first', () => {
    // Windows 10 and 100, half the tasks: x = 10 covers the narrow one fully and 10 % of the wide one.
    // Share covered = (1 + 0.1) / 2 = 0.55 ≥ 0.5, so x < 10: solve (x/10 + x/100) / 2 = 0.5 → x = 100/11.
    const x = 100 / 11;
    const expected = (1 + ((x / 10) ** 2 * 10) / 6 + 1 + ((x / 100) ** 2 * 100) / 6) / 2;
    expect(minReadsPerSecond([10, 100], 1, 0.5, 3)).toBeCloseTo(expected, 4);
  });

  it('is 0 without tasks, and grows as the lag allowed shrinks', () => {
    expect(minReadsPerSecond([], 1, 0.95, 3)).toBe(0);
    expect(minReadsPerSecond([75, 175, 525], 0.25, 0.95, 1.5)).toBeGreaterThan(minReadsPerSecond([75, 175, 525], 0.25, 0.95, 3));
  });
});
