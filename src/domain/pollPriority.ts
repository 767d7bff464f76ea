/**
 * Which due polls go first when more are due than the poll budget allows.
 *
 * First-come order (the old way) lets every job slip equally: with 1,000
 * jobs in flight and 8 polls/s, each is checked about every two minutes and
 * every author waits about that long. Instead each due job is ranked by the
 * chance that its task finished since it was last checked, from the learned
 * duration distribution (./durations.ts):
 *
 *     P(done since last check) = 1 − S(age now) / S(age at last check)
 *
 * A poll that finds a finished task ends one author's wait; a skipped task
 * waits for the next free slot, about the same for every task, so this
 * chance is the expected lag a poll saves, and the poll with the highest
 * chance relieves the most waiting (the sum of authors' waits falls
 * fastest). The model counts running tasks as censored observations
 * (./durations.ts), so a burst, in which only the quick tasks have finished,
 * does not make every running task look overdue. The chance grows with the time since the last check,
 * so a job passed over becomes likelier each round; and a job not checked for
 * `starveAfterMs` (or told about by a callback) goes before any ranked one,
 * the longest-unchecked first, so no job starves.
 *
 * The ranking wins on lag p50 and the mean when the backlog is deep (1,000
 * jobs at 8 polls/s) but lengthens the tail when the budget only just binds
 * (a few polls waiting now and then: there first-come, which serves the
 * longest-waiting check first, keeps every gap near the dense interval). So
 * the default order, 'auto', is first-come until more polls wait than the
 * budget serves in a few dense intervals, and ranked beyond (bench/RESULTS.md).
 *
 * Pure: no clock, no I/O.
 */
import type { DurationModel } from './durationModel.js';

export interface PollCandidate {
  dueAt: number;
  seq: number;
  /** A KIE callback (or a caller) said this task changed: check it first. */
  urgent: boolean;
  /** The task's age now, and when it was last checked (0 if never), real-equivalent ms. */
  ageMs: number;
  lastCheckAgeMs: number;
  /** Time since the last check (or since submission), in the run's own ms. */
  sinceCheckMs: number;
}

export type PollOrder = 'likely-done' | 'due' | 'auto';

/** Higher goes first. Urgent > starved (longest-unchecked first) > likelihood of being done (0–1). */
export function pollPriority(model: DurationModel, c: PollCandidate, starveAfterMs: number): number {
  if (c.urgent) return 1e6;
  if (c.sinceCheckMs >= starveAfterMs) return 10 + c.sinceCheckMs / Math.max(1, starveAfterMs);
  if (c.ageMs <= c.lastCheckAgeMs) return 0;
  return 1 - model.survival(c.ageMs) / model.survival(c.lastCheckAgeMs);
}

/**
 * The `k` best of `items` by `score` (higher first; ties by due time, then
 * scheduling order), without sorting them all: O(n·k) for the few slots a
 * budget frees at once.
 */
export function pickBest<T extends { dueAt: number; seq: number }>(items: readonly T[], k: number, score: (x: T) => number): T[] {
  const best: Array<{ x: T; s: number }> = [];
  const better = (a: { x: T; s: number }, b: { x: T; s: number }): boolean =>
    a.s > b.s || (a.s === b.s && (a.x.dueAt < b.x.dueAt || (a.x.dueAt === b.x.dueAt && a.x.seq < b.x.seq)));
  for (const x of items) {
    const cand = { x, s: score(x) };
    if (best.length === k && !better(cand, best[k - 1]!)) continue;
    let i: number;
    if (best.length < k) {
      best.push(cand);
      i = best.length - 1;
    } else {
      best[k - 1] = cand;
      i = k - 1;
    }
    while (i > 0 && better(best[i]!, best[i - 1]!)) {
      [best[i], best[i - 1]] = [best[i - 1]!, best[i]!];
      i--;
    }
  }
  return best.map((b) => b.x);
}
