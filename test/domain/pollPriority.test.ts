import { describe, expect, it } from 'vitest';
import { DurationModel } from '../../src/domain/durations.js';
import { pickBest, pollPriority, type PollCandidate } from '../../src/domain/pollPriority.js';
import { expectedWindow } from '../../src/domain/schedule.js';

const s = (x: number): number => x * 1000;
const fast = new DurationModel(expectedWindow('grid', 'fast'), []); // uniform 30–100 s
const turbo = new DurationModel(expectedWindow('grid', 'turbo'), []); // uniform 10–40 s
const STARVE = s(120);

const cand = (over: Partial<PollCandidate>): PollCandidate => ({
  dueAt: 0,
  seq: 0,
  urgent: false,
  ageMs: s(50),
  lastCheckAgeMs: s(47),
  sinceCheckMs: s(3),
  ...over,
});

describe('pollPriority (hazard)', () => {
  it('is the chance the task finished since its last check', () => {
    // Uniform 30–100 s, running at 50 s, now 60 s: 10 of the remaining 50 s.
    expect(pollPriority(fast, cand({ ageMs: s(60), lastCheckAgeMs: s(50) }), STARVE)).toBeCloseTo(0.2, 1);
  });

  it('prefers the job late in its window over one early in it (same time since check)', () => {
    const late = pollPriority(fast, cand({ ageMs: s(95), lastCheckAgeMs: s(92) }), STARVE);
    const early = pollPriority(fast, cand({ ageMs: s(35), lastCheckAgeMs: s(32) }), STARVE);
    expect(late).toBeGreaterThan(early * 5);
  });

  it('prefers a kind that finishes quickly over a slow one at the same age', () => {
    const c = cand({ ageMs: s(35), lastCheckAgeMs: s(30) });
    expect(pollPriority(turbo, c, STARVE)).toBeGreaterThan(pollPriority(fast, c, STARVE));
  });

  it('grows with the time since the last check', () => {
    const a = pollPriority(fast, cand({ ageMs: s(60), lastCheckAgeMs: s(57) }), STARVE);
    const b = pollPriority(fast, cand({ ageMs: s(60), lastCheckAgeMs: s(40) }), STARVE);
    expect(b).toBeGreaterThan(a);
  });

  it('is small but not zero for a task older than anything seen (it still gets checked)', () => {
    const p = pollPriority(fast, cand({ ageMs: s(900), lastCheckAgeMs: s(880) }), STARVE);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(0.5);
  });

  it('puts a callback first, then starved jobs (longest-unchecked first), then the ranked ones', () => {
    const ranked = pollPriority(fast, cand({ ageMs: s(99), lastCheckAgeMs: s(60), sinceCheckMs: s(39) }), STARVE);
    const starved = pollPriority(fast, cand({ ageMs: s(600), lastCheckAgeMs: s(470), sinceCheckMs: s(130) }), STARVE);
    const starvedLonger = pollPriority(fast, cand({ ageMs: s(600), lastCheckAgeMs: s(400), sinceCheckMs: s(200) }), STARVE);
    const urgent = pollPriority(fast, cand({ urgent: true }), STARVE);
    expect(ranked).toBeLessThanOrEqual(1);
    expect(starved).toBeGreaterThan(ranked);
    expect(starvedLonger).toBeGreaterThan(starved);
    expect(urgent).toBeGreaterThan(starvedLonger);
  });
});

describe('pickBest', () => {
  const items = [5, 1, 9, 3, 9, 7].map((score, i) => ({ dueAt: 100 - i, seq: i, score }));
  it('takes the k highest, ties by due time', () => {
    expect(pickBest(items, 3, (x) => x.score).map((x) => x.seq)).toEqual([4, 2, 5]);
  });
  it('takes all when k covers them, in score order', () => {
    expect(pickBest(items, 10, (x) => x.score).map((x) => x.score)).toEqual([9, 9, 7, 5, 3, 1]);
  });
  it('with equal scores is due order (first-come)', () => {
    expect(pickBest(items, 2, () => 0).map((x) => x.seq)).toEqual([5, 4]);
  });
});

describe('pollPriority with a censoring-aware model (a burst)', () => {
  // 100 fast tasks submitted at once, durations even over 30–100 s; at 60 s the quickest 43 are done,
  // the other 57 were last found running at 60 s.
  const all = Array.from({ length: 100 }, (_, i) => s(30 + 0.7 * (i + 0.5)));
  const done = all.filter((d) => d <= s(60));
  const running = all.filter((d) => d > s(60)).map(() => s(60));
  const km = new DurationModel(expectedWindow('grid', 'fast'), [], undefined, { running, cohort: done });
  const naive = new DurationModel(expectedWindow('grid', 'fast'), done);

  it('gives a task checked a while ago the chance its window really leaves, not a straggler’s', () => {
    const c = cand({ ageMs: s(75), lastCheckAgeMs: s(60), sinceCheckMs: s(15) });
    // 15 s of the 40 s left: about 3/8. The finished-only model has seen nothing past 60 s, so it
    // takes every task still running for a straggler (only its thin tail is left).
    expect(pollPriority(km, c, STARVE)).toBeGreaterThan(0.3);
    expect(pollPriority(km, c, STARVE)).toBeLessThan(0.45);
    expect(pollPriority(naive, c, STARVE)).toBeLessThan(0.75 * pollPriority(km, c, STARVE));
  });

  it('is the expected lag saved per poll: the task unchecked longer (more likely done) goes first', () => {
    const a = cand({ ageMs: s(75), lastCheckAgeMs: s(60), sinceCheckMs: s(15), seq: 1 });
    const b = cand({ ageMs: s(75), lastCheckAgeMs: s(72), sinceCheckMs: s(3), seq: 0 });
    expect(pickBest([b, a], 1, (x) => pollPriority(km, x, STARVE))).toEqual([a]);
  });
});
