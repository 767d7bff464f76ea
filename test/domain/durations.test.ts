import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEARNER,
  describeModel,
  DurationModel,
  InMemoryDurationStore,
  LearnedTimings,
  type DurationStore,
} from '../../src/domain/durations.js';
import { expectedWindow } from '../../src/domain/schedule.js';
import { ManualClock } from '../support/manualClock.js';

const FAST = expectedWindow('grid', 'fast'); // 30–100 s
const s = (x: number): number => x * 1000;
/** n durations spread evenly over [lo, hi] seconds, newest first. */
const spread = (n: number, lo: number, hi: number): number[] =>
  Array.from({ length: n }, (_, i) => s(lo + ((hi - lo) * (i + 0.5)) / n));

describe('DurationModel: the prior', () => {
  it('with no observation is the notes’ window exactly', () => {
    const m = new DurationModel(FAST, []);
    expect(m.count).toBe(0);
    expect(m.quantile(0)).toBe(s(30));
    expect(m.window).toEqual({ earliestMs: s(30), latestMs: s(100) });
    expect(m.median).toBeCloseTo(s(65), -2);
  });

  it('still weighs in after a few jobs, and not at all after priorFadeJobs', () => {
    const fast = spread(5, 8, 20);
    const few = new DurationModel(FAST, fast);
    // 5 of 10 fade steps: the prior is still worth 2.5 pseudo-jobs against ~4.2 observed.
    expect(few.window.latestMs).toBeGreaterThan(s(40));
    const enough = new DurationModel(FAST, spread(DEFAULT_LEARNER.priorFadeJobs, 8, 20));
    expect(enough.window.latestMs).toBeLessThanOrEqual(s(20));
    expect(enough.window.earliestMs).toBeGreaterThanOrEqual(s(8));
  });
});

describe('DurationModel: learning', () => {
  it('moves to the observed distribution after a few jobs', () => {
    const m = new DurationModel(FAST, spread(20, 10, 33)); // KIE 3× faster than the notes
    expect(m.count).toBe(20);
    expect(m.window.earliestMs).toBeLessThan(s(12));
    expect(m.window.latestMs).toBeLessThan(s(34));
    expect(m.median).toBeGreaterThan(s(15));
    expect(m.median).toBeLessThan(s(28));
  });

  it('weighs recent jobs more, so a drift wins within a couple of half-lives', () => {
    // Newest first: 20 quick ones after 30 slow ones.
    const recent = [...spread(20, 8, 20), ...spread(30, 60, 100)];
    const m = new DurationModel(FAST, recent);
    expect(m.median).toBeLessThan(s(20));
    // The old regime still holds the upper tail (so a slow straggler is not ignored)…
    expect(m.window.latestMs).toBeGreaterThan(s(60));
    // …but the dense window starts where the new regime does.
    expect(m.window.earliestMs).toBeLessThan(s(9));
  });

  it('lowers the silent period at once when tasks get faster (one quick job is enough)', () => {
    const before = new DurationModel(FAST, spread(30, 30, 100));
    const after = new DurationModel(FAST, [s(9), ...spread(30, 30, 100)]);
    expect(before.window.earliestMs).toBeGreaterThan(s(30));
    expect(after.window.earliestMs).toBeLessThanOrEqual(s(9));
  });

  it('keeps only the newest `window` observations', () => {
    const m = new DurationModel(FAST, [...spread(DEFAULT_LEARNER.window, 10, 20), ...spread(100, 200, 300)]);
    expect(m.count).toBe(DEFAULT_LEARNER.window);
    expect(m.window.latestMs).toBeLessThanOrEqual(s(20));
  });

  it('ignores nonsense durations', () => {
    expect(new DurationModel(FAST, [Number.NaN, -5, 0, Infinity]).count).toBe(0);
  });

  it('has a survival that falls with age and never reaches zero', () => {
    const m = new DurationModel(FAST, spread(20, 30, 60));
    expect(m.survival(s(10))).toBeGreaterThan(0.97);
    expect(m.survival(s(45))).toBeLessThan(m.survival(s(35)));
    expect(m.survival(s(3_600))).toBeGreaterThan(0);
  });
});

describe('describeModel', () => {
  it('says what the tracker believes in one line', () => {
    const m = new DurationModel(FAST, spread(40, 28, 77));
    expect(describeModel('grid', 'fast', m)).toMatch(/^fast grids: median \d+ s, 90 % within \d+–\d+ s, from 40 recent jobs$/);
    expect(describeModel('video', null, new DurationModel(FAST, []))).toBe(
      "videos: median 65 s, 90 % within 34–97 s, the notes' estimate, no job seen yet",
    );
  });
});

describe('LearnedTimings', () => {
  it('learns from observations and records them in the store (real-equivalent ms, video as fast)', async () => {
    const store = new InMemoryDurationStore();
    const t = new LearnedTimings({ clock: new ManualClock(), store });
    for (const d of spread(20, 8, 20)) await t.observe('grid', 'fast', d, 1);
    expect(t.model('grid', 'fast').window.latestMs).toBeLessThanOrEqual(s(20));
    expect(t.model('grid', 'turbo').count).toBe(0); // other speeds keep their prior
    await t.observe('video', null, s(50), 2);
    expect(await store.recent('video', 'fast', 10)).toEqual([s(50)]);
    expect(t.describe()).toHaveLength(2);
  });

  it('survives a restart and is shared: a new learner loads the newest window per kind from the store', async () => {
    const store = new InMemoryDurationStore();
    const clock = new ManualClock();
    const a = new LearnedTimings({ clock, store });
    for (const [i, d] of spread(30, 8, 20).entries()) await a.observe('grid', 'fast', d, 1_000 + i);
    const b = new LearnedTimings({ clock, store });
    expect(b.model('grid', 'fast').count).toBe(0);
    await b.load();
    expect(b.model('grid', 'fast').count).toBe(30);
    expect(b.model('grid', 'fast').window.latestMs).toBeLessThanOrEqual(s(20));
  });

  it('reads a bounded window per kind and speed, and refreshes at most every refreshMs', async () => {
    const calls: Array<[string, string, number]> = [];
    const inner = new InMemoryDurationStore();
    const store: DurationStore = {
      recent: (kind, speed, limit) => {
        calls.push([kind, speed, limit]);
        return inner.recent(kind, speed, limit);
      },
      record: (...args) => inner.record(...args),
    };
    const clock = new ManualClock();
    const t = new LearnedTimings({ clock, store, refreshMs: 60_000 });
    await t.maybeRefresh();
    expect(calls).toHaveLength(18); // 6 kinds × 3 speeds
    expect(calls.every(([, , limit]) => limit === DEFAULT_LEARNER.window)).toBe(true);
    await t.maybeRefresh();
    expect(calls).toHaveLength(18);
    // Another process records; after refreshMs this one converges on it.
    await inner.record('upscale', 'turbo', s(4), clock.now());
    await clock.advance(60_000);
    await t.maybeRefresh();
    expect(calls).toHaveLength(36);
    expect(t.model('upscale', 'turbo').count).toBe(1);
  });

  it('keeps what it learned when the store fails', async () => {
    const errors: string[] = [];
    const store: DurationStore = {
      recent: () => Promise.reject(new Error('db down')),
      record: () => Promise.reject(new Error('db down')),
    };
    const t = new LearnedTimings({ clock: new ManualClock(), store, onError: (_e, what) => errors.push(what) });
    await t.observe('grid', 'fast', s(12), 1);
    await t.load();
    expect(t.model('grid', 'fast').count).toBe(1);
    expect(errors).toContain('record');
    expect(errors).toContain('recent');
  });
});

describe('InMemoryDurationStore', () => {
  it('returns the newest first by finish time, bounded', async () => {
    const store = new InMemoryDurationStore(3);
    await store.record('grid', 'fast', 1, 10);
    await store.record('grid', 'fast', 3, 30);
    await store.record('grid', 'fast', 2, 20);
    await store.record('grid', 'fast', 4, 40);
    expect(await store.recent('grid', 'fast', 10)).toEqual([4, 3, 2]);
    expect(await store.recent('grid', 'fast', 2)).toEqual([4, 3]);
    expect(await store.recent('grid', 'turbo', 2)).toEqual([]);
  });
});
