import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEARNER,
  describeModel,
  describeUsualWindows,
  DurationModel,
  InMemoryDurationStore,
  LearnedTimings,
  ProviderTimings,
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
  it('describes what it learned in a fixed order (kind, then turbo → fast → relaxed), of the kinds asked for', async () => {
    const t = new LearnedTimings({ clock: new ManualClock() });
    expect(t.describe()).toEqual([]);
    await t.observe('upscale', 'fast', s(15), 1);
    await t.observe('grid', 'relaxed', s(120), 2);
    await t.observe('grid', 'turbo', s(20), 3);
    expect(t.describe().map((l) => l.replace(/:.*/, ''))).toEqual(['turbo grids', 'relaxed grids', 'fast upscales']);
    expect(t.describe(['grid', 'vary']).map((l) => l.replace(/:.*/, ''))).toEqual(['turbo grids', 'relaxed grids']);
    expect(t.describe(['video'])).toEqual([]);
    expect(describeUsualWindows()).toBe('turbo 10–40 s, fast 30–100 s, relaxed 90–300 s');
  });

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

describe('DurationModel: running tasks are right-censored observations (product-limit)', () => {
  it('without running tasks is the weighted empirical distribution, as before', () => {
    const obs = spread(40, 30, 100);
    const plain = new DurationModel(FAST, obs);
    const none = new DurationModel(FAST, obs, DEFAULT_LEARNER, { running: [], cohort: [] });
    for (const t of [20, 45, 70, 99, 150]) expect(none.cdf(s(t))).toBeCloseTo(plain.cdf(s(t)), 9);
  });

  it('is not biased short by a burst in which only the quick tasks have finished', () => {
    // 100 tasks submitted at once, true durations even over 30–100 s; 60 s later the 43 shortest
    // have finished and 57 are still running (all checked just now, at age 60 s).
    const all = spread(100, 30, 100);
    const finished = all.filter((d) => d <= s(60));
    const running = all.filter((d) => d > s(60)).map(() => s(60));
    const naive = new DurationModel(FAST, finished);
    const km = new DurationModel(FAST, [], DEFAULT_LEARNER, { running, cohort: finished });
    expect(naive.median).toBeLessThan(s(50)); // what the old learner believed: everything running is overdue
    expect(km.median).toBeGreaterThan(s(60)); // more than half are still running at 60 s
    expect(km.survival(s(60))).toBeCloseTo(0.57 * (1 - DEFAULT_LEARNER.tailShare) + DEFAULT_LEARNER.tailShare * Math.exp(-60 / (km.window.latestMs / 1000)), 2);
    // Past the oldest running task the rest finishes as the notes' window says (conditioned on age 60 s).
    expect(km.window.latestMs).toBeGreaterThan(s(95));
    expect(km.window.latestMs).toBeLessThanOrEqual(s(100));
    // The naive model thinks every running task is overdue (it should have finished already) and
    // gives it a poor chance of finishing in the next 10 s; the product-limit one ~1/4 (10 of 40 s left).
    expect(naive.survival(s(60))).toBeLessThan(0.05);
    const next10 = (m: DurationModel): number => 1 - m.survival(s(70)) / m.survival(s(60));
    expect(next10(km)).toBeGreaterThan(0.2);
    expect(next10(km)).toBeGreaterThan(next10(naive));
  });

  it('matches the true distribution on a simulated burst, where the finished-only estimate does not', () => {
    // Tasks arrive 1 per second for 120 s, durations even over 30–100 s; look at t = 90 s.
    const subs = Array.from({ length: 120 }, (_, i) => ({ at: s(i), d: s(30 + ((i * 37) % 70) + 0.5) }));
    const T = s(90);
    const seen = subs.filter((x) => x.at <= T);
    const done = seen.filter((x) => x.at + x.d <= T).map((x) => x.d);
    const run = seen.filter((x) => x.at + x.d > T).map((x) => T - x.at);
    const km = new DurationModel(FAST, [], DEFAULT_LEARNER, { running: run, cohort: done });
    const naive = new DurationModel(FAST, done);
    expect(Math.abs(km.median - s(65))).toBeLessThan(s(8));
    expect(Math.abs(naive.median - s(65))).toBeGreaterThan(s(10));
  });

  it('a task still running counts at its age when last found running, not its age now', async () => {
    const clock = new ManualClock(0);
    const t = new LearnedTimings({ clock, rebuildMs: 0 });
    for (const d of spread(20, 30, 100)) await t.observe('grid', 'fast', d, 0);
    t.started('a', 'grid', 'fast', 0);
    t.stillRunning('a', s(40));
    const m1 = t.model('grid', 'fast');
    expect(m1.running).toBe(1);
    await clock.advance(s(500)); // nobody checked it since: it may well be done
    const m2 = t.model('grid', 'fast');
    expect(m2.survival(s(150))).toBeCloseTo(m1.survival(s(150)), 9);
    t.ended('a');
    expect(t.model('grid', 'fast').running).toBe(0);
  });

  it('learns the cohort from finished tasks it saw start, once each', async () => {
    const clock = new ManualClock(0);
    const t = new LearnedTimings({ clock, rebuildMs: 0 });
    t.started('a', 'grid', 'fast', 0);
    t.started('b', 'grid', 'fast', 0);
    t.stillRunning('b', s(50));
    await t.observe('grid', 'fast', s(40), s(40), 'a');
    const m = t.model('grid', 'fast');
    expect(m.count).toBe(1); // not twice (cohort and history)
    expect(m.running).toBe(1);
  });
});

describe('ProviderTimings', () => {
  it("catches up with another process's finishes on refresh, at most once a minute, for the provider asked", async () => {
    const clock = new ManualClock();
    const shared = { kie: new InMemoryDurationStore(), apixo: new InMemoryDurationStore() } as Record<string, InMemoryDurationStore>;
    const processOf = (): ProviderTimings => new ProviderTimings((p) => new LearnedTimings({ clock, store: shared[p]! }), ['kie', 'apixo']);
    const a = processOf();
    const b = processOf();
    await b.load();
    await a.for('kie').observe('grid', 'fast', 40_000, clock.now());
    expect(b.describe('kie')).toEqual([]);
    await b.refresh('kie'); // loaded just now: not due yet
    expect(b.describe('kie')).toEqual([]);
    await clock.advance(60_000);
    await b.refresh('kie');
    expect(b.describe('kie', ['grid'])[0]).toMatch(/^fast grids: .* from 1 recent job$/);
    expect(b.describe('apixo')).toEqual([]);
  });
});
