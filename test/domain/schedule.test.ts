import { describe, expect, it } from 'vitest';
import type { Speed } from '../../src/providers/kie/schemas.js';
import type { JobKind } from '../../src/domain/job.js';
import {
  DEFAULT_TUNING,
  expectedWindow,
  pollDelay,
  timeoutFor,
} from '../../src/domain/schedule.js';

const noJitter = () => 0;
const maxJitter = () => 0.999999;

/** Replay the schedule for a task that finishes at `finishMs`: how many checks, and how late the last one is. */
function replay(kind: JobKind, speed: Speed | null, finishMs: number): { polls: number; lagMs: number; firstAt: number } {
  let t = 0;
  let polls = 0;
  let firstAt = -1;
  for (;;) {
    t += pollDelay({ kind, speed, elapsedMs: t, polls, consecutiveErrors: 0 }, noJitter);
    polls++;
    if (firstAt < 0) firstAt = t;
    if (t >= finishMs) return { polls, lagMs: t - finishMs, firstAt };
  }
}

describe('expectedWindow', () => {
  it.each<[JobKind, Speed | null, number, number]>([
    ['grid', 'turbo', 10_000, 40_000],
    ['grid', 'fast', 30_000, 100_000],
    ['grid', 'relaxed', 90_000, 300_000],
    ['vary', 'fast', 30_000, 100_000],
    ['upscale', 'fast', 15_000, 50_000],
    ['upscale', 'relaxed', 45_000, 150_000],
    ['video', null, 45_000, 200_000],
    ['video_hd', null, 45_000, 200_000],
    ['extend', 'relaxed', 135_000, 600_000],
  ])('%s %s → %i–%i ms', (kind, speed, earliest, latest) => {
    expect(expectedWindow(kind, speed)).toEqual({ earliestMs: earliest, latestMs: latest });
  });
});

describe('timeoutFor', () => {
  it.each<[JobKind, Speed | null, number]>([
    ['grid', 'turbo', 10 * 60_000],
    ['grid', 'fast', 20 * 60_000],
    ['grid', 'relaxed', 2 * 3_600_000],
    ['upscale', 'fast', 20 * 60_000],
    ['grid', null, 20 * 60_000],
    ['video', null, 30 * 60_000],
    ['video_hd', 'relaxed', 3 * 3_600_000],
    ['extend', 'turbo', 15 * 60_000],
  ])('%s %s → %i ms', (kind, speed, ms) => {
    expect(timeoutFor(kind, speed)).toBe(ms);
  });
});

describe('pollDelay', () => {
  it.each<[string, Parameters<typeof pollDelay>[0], number]>([
    ['first check of a fast grid waits for the earliest finish', { kind: 'grid', speed: 'fast', elapsedMs: 0, polls: 0, consecutiveErrors: 0 }, 30_000],
    ['first check counts time already spent', { kind: 'grid', speed: 'fast', elapsedMs: 12_000, polls: 0, consecutiveErrors: 0 }, 18_000],
    ['first check after a restart past the earliest finish is immediate', { kind: 'grid', speed: 'fast', elapsedMs: 50_000, polls: 0, consecutiveErrors: 0 }, 0],
    ['first check of a turbo upscale', { kind: 'upscale', speed: 'turbo', elapsedMs: 0, polls: 0, consecutiveErrors: 0 }, 5_000],
    ['first check of a video', { kind: 'video', speed: null, elapsedMs: 0, polls: 0, consecutiveErrors: 0 }, 45_000],
    ['dense inside the window', { kind: 'grid', speed: 'fast', elapsedMs: 31_000, polls: 1, consecutiveErrors: 0 }, 2_800],
    ['dense late in the relaxed window', { kind: 'grid', speed: 'relaxed', elapsedMs: 250_000, polls: 59, consecutiveErrors: 0 }, 2_800],
    ['just past the window: still dense', { kind: 'grid', speed: 'fast', elapsedMs: 103_000, polls: 20, consecutiveErrors: 0 }, 2_800],
    ['past the window: half the overdue time', { kind: 'grid', speed: 'fast', elapsedMs: 120_000, polls: 25, consecutiveErrors: 0 }, 10_000],
    ['long past the window: capped (fast 15 s)', { kind: 'grid', speed: 'fast', elapsedMs: 600_000, polls: 60, consecutiveErrors: 0 }, 15_000],
    ['long past the window: capped (relaxed 30 s)', { kind: 'grid', speed: 'relaxed', elapsedMs: 3_600_000, polls: 150, consecutiveErrors: 0 }, 30_000],
    ['long past the window: capped (turbo 10 s)', { kind: 'grid', speed: 'turbo', elapsedMs: 300_000, polls: 40, consecutiveErrors: 0 }, 10_000],
    ['cost floor: too many checks already', { kind: 'grid', speed: 'turbo', elapsedMs: 30_000, polls: 10, consecutiveErrors: 0 }, 10_000],
    ['first error: 1–2 s, never under the normal gap', { kind: 'grid', speed: 'fast', elapsedMs: 40_000, polls: 3, consecutiveErrors: 1 }, 2_800],
    ['third error: 4–8 s (no jitter → 4 s)', { kind: 'grid', speed: 'fast', elapsedMs: 40_000, polls: 3, consecutiveErrors: 3 }, 4_000],
    ['many errors: capped at 30–60 s', { kind: 'grid', speed: 'fast', elapsedMs: 40_000, polls: 3, consecutiveErrors: 20 }, 30_000],
    ['error before the first check waits for the earliest finish anyway', { kind: 'grid', speed: 'fast', elapsedMs: 0, polls: 0, consecutiveErrors: 1 }, 30_000],
  ])('%s', (_name, state, expected) => {
    expect(pollDelay(state, noJitter)).toBe(expected);
  });

  it('jitters error back-off within [half, full) of the exponential step', () => {
    const state = { kind: 'grid' as const, speed: 'fast' as const, elapsedMs: 40_000, polls: 3, consecutiveErrors: 4 };
    expect(pollDelay(state, noJitter)).toBe(8_000);
    expect(pollDelay(state, () => 0.5)).toBe(12_000);
    expect(pollDelay(state, maxJitter)).toBe(15_999);
  });

  it('never polls a fast 45 s job before 30 s and needs only a handful of checks', () => {
    const r = replay('grid', 'fast', 45_000);
    expect(r.firstAt).toBe(30_000);
    expect(r.polls).toBeLessThanOrEqual(8);
    expect(45_000 / r.polls).toBeGreaterThanOrEqual(4_000);
    expect(r.lagMs).toBeLessThan(DEFAULT_TUNING.denseIntervalMs);
  });

  it.each<[Speed, number, number]>([
    // speed, max p50 lag, min task-ms per check (aggregate)
    ['fast', 1_500, 4_000],
    ['relaxed', 1_500, 4_000],
    ['turbo', 1_500, 3_500],
  ])('meets the lag targets across the %s window at bounded cost', (speed, p50Max, msPerPollMin) => {
    const { earliestMs, latestMs } = expectedWindow('grid', speed);
    const lags: number[] = [];
    let polls = 0;
    let taskMs = 0;
    for (let finish = earliestMs; finish <= latestMs; finish += 97) {
      const r = replay('grid', speed, finish);
      lags.push(r.lagMs);
      polls += r.polls;
      taskMs += finish;
    }
    lags.sort((a, b) => a - b);
    const pct = (p: number) => lags[Math.floor(lags.length * p)] ?? Infinity;
    expect(pct(0.5)).toBeLessThanOrEqual(p50Max);
    expect(pct(0.95)).toBeLessThanOrEqual(speed === 'turbo' ? 3_200 : 3_000);
    expect(taskMs / polls).toBeGreaterThanOrEqual(msPerPollMin);
  });

  it('keeps a very slow relaxed job to about two checks a minute', () => {
    const inWindow = replay('grid', 'relaxed', 300_000).polls;
    const twoHours = replay('grid', 'relaxed', 7_200_000).polls;
    expect((twoHours - inWindow) / 115).toBeLessThanOrEqual(2.1);
  });
});

describe('timeScale', () => {
  const fast20 = { ...DEFAULT_TUNING, timeScale: 0.05 };
  it('scales windows, intervals and timeouts alike', () => {
    expect(expectedWindow('grid', 'fast', 0.05)).toEqual({ earliestMs: 1_500, latestMs: 5_000 });
    expect(timeoutFor('video', null, 0.05)).toBe(90_000);
    expect(pollDelay({ kind: 'grid', speed: 'fast', elapsedMs: 0, polls: 0, consecutiveErrors: 0 }, noJitter, fast20)).toBe(1_500);
    expect(pollDelay({ kind: 'grid', speed: 'fast', elapsedMs: 2_000, polls: 2, consecutiveErrors: 0 }, noJitter, fast20)).toBe(140);
    expect(pollDelay({ kind: 'grid', speed: 'fast', elapsedMs: 60_000, polls: 40, consecutiveErrors: 0 }, noJitter, fast20)).toBe(750);
  });
  it('does not scale error back-off', () => {
    expect(pollDelay({ kind: 'grid', speed: 'fast', elapsedMs: 2_000, polls: 2, consecutiveErrors: 3 }, noJitter, fast20)).toBe(4_000);
  });
});
