/**
 * How long KIE takes, learned from the bot's own finished jobs.
 *
 * One distribution per job kind and speed. It starts as the notes' window
 * (a uniform prior over [earliest, latest], see ./schedule.ts) and moves to
 * what was observed: the prior's weight fades linearly to nothing over the
 * first `priorFadeJobs` observations, and each observation weighs
 * 0.5^(rank / halfLifeJobs), rank 0 being the newest, over at most the
 * `window` most recent ones. So a few jobs are enough to leave the notes'
 * guess behind, and when KIE's speed drifts the newest jobs win within
 * ~2 half-lives.
 *
 * Tasks still running are right-censored observations (see Censoring and
 * LearnedTimings.started/stillRunning): the observed part is a product-limit
 * (Kaplan–Meier) estimate, which without running tasks is exactly the
 * weighted empirical distribution above.
 *
 * The model answers the schedule's questions:
 * - `window()` — [q(earliestQuantile), q(latestQuantile)]: where polling is
 *   dense (silent before, back-off after);
 * - `survival(t)` — how likely a task of this age is still running; the
 *   poll priority under pressure (./pollPriority.ts) is built on it. A small
 *   exponential tail keeps it above zero past the last observation, so a
 *   task older than anything seen still gets a (small) chance.
 *
 * Everything here is pure: times are real-equivalent ms (unscaled); no I/O.
 * The learner that feeds it (./learnedTimings.ts) persists through the
 * DurationStore port (./durationStore.ts); ./durations.ts re-exports all three.
 */
import type { Speed } from './midjourney.js';
import type { JobKind } from './job.js';
import { DEFAULT_SPEED, type ExpectedWindow } from './schedule.js';

export interface LearnerTuning {
  /** Pseudo-observations the prior is worth before any job finished. */
  priorWeight: number;
  /** After this many observations the prior has no weight left (linear fade). */
  priorFadeJobs: number;
  /** An observation's weight halves every this many newer observations. */
  halfLifeJobs: number;
  /** Observations kept (and loaded from the store) per kind and speed. */
  window: number;
  /** Dense polling starts at this quantile… */
  earliestQuantile: number;
  /** …and ends at this one; back-off after. */
  latestQuantile: number;
  /** Share of probability given to an exponential tail beyond the observations (keeps survival > 0). */
  tailShare: number;
}

export const DEFAULT_LEARNER: LearnerTuning = {
  priorWeight: 5,
  priorFadeJobs: 10,
  halfLifeJobs: 10,
  window: 50,
  earliestQuantile: 0.03,
  latestQuantile: 0.97,
  tailShare: 0.02,
};

/** Video kinds are timed as fast (KIE takes no speed for them). */
export const timingSpeed = (speed: Speed | null): Speed => speed ?? DEFAULT_SPEED;

/**
 * Tasks still running when the model is built: right-censored observations.
 * `running` are their ages (real-equivalent ms: each is known to take at
 * least that long); `cohort` are the durations of finished tasks submitted
 * since the oldest running one started. Together they are every task
 * submitted since then — a sample with no survivorship bias — so they all
 * weigh 1, and the older finishes (`recent`) add a decaying history.
 */
export interface Censoring {
  running: readonly number[];
  cohort: readonly number[];
}

/**
 * A weighted mixture of a uniform prior and a product-limit (Kaplan–Meier)
 * estimate over finished and still-running tasks, plus a thin exponential
 * tail. Without running tasks the product-limit estimate is exactly the
 * weighted empirical distribution of the finished ones. Immutable; build a
 * new one when observations change.
 */
export class DurationModel {
  /** Event times (ascending) and the product-limit survival just after each. */
  private readonly xs: number[] = [];
  private readonly surv: number[] = [];
  /** Survival left after the last event or censoring time (> 0 only if the oldest subject is still running). */
  private readonly survEnd: number;
  private readonly lastAt: number;
  private readonly priorShare: number;
  private readonly tailMeanMs: number;
  readonly window: ExpectedWindow;
  readonly median: number;
  /** Finished observations behind the model (0: the prior alone). */
  readonly count: number;
  /** Running (censored) tasks behind the model. */
  readonly running: number;

  /**
   * @param prior the notes' window (real-equivalent ms)
   * @param recent observed durations, newest first (real-equivalent ms)
   * @param censoring tasks still running and the finished ones of their cohort (see Censoring)
   */
  constructor(
    readonly prior: ExpectedWindow,
    recent: readonly number[],
    private readonly tuning: LearnerTuning = DEFAULT_LEARNER,
    censoring: Censoring = { running: [], cohort: [] },
  ) {
    const ok = (d: number): boolean => Number.isFinite(d) && d > 0;
    const cohort = censoring.cohort.filter(ok);
    const running = censoring.running.filter((a) => Number.isFinite(a) && a >= 0);
    const history = recent.slice(0, Math.max(0, tuning.window - cohort.length)).filter(ok);
    this.count = cohort.length + history.length;
    this.running = running.length;
    const decay = 0.5 ** (1 / Math.max(1e-9, tuning.halfLifeJobs));
    // The cohort is the newest; history ranks after it.
    const items: Array<{ t: number; w: number; event: boolean }> = [
      ...cohort.map((t) => ({ t, w: 1, event: true })),
      ...running.map((t) => ({ t, w: 1, event: false })),
      ...history.map((t, rank) => ({ t, w: decay ** (cohort.length + rank), event: true })),
    ];
    // Ascending; at a tie an event comes before a censoring (the censored task was at risk at that time).
    items.sort((a, b) => a.t - b.t || (a.event === b.event ? 0 : a.event ? -1 : 1));
    const total = items.reduce((s, x) => s + x.w, 0);
    let atRisk = total;
    let s = 1;
    for (let i = 0; i < items.length; ) {
      const t = items[i]!.t;
      let events = 0;
      let leaving = 0;
      for (; i < items.length && items[i]!.t === t; i++) {
        if (items[i]!.event) events += items[i]!.w;
        leaving += items[i]!.w;
      }
      if (events > 0 && atRisk > 0) {
        s *= Math.max(0, 1 - events / atRisk);
        this.xs.push(t);
        this.surv.push(s);
      }
      atRisk -= leaving;
    }
    this.survEnd = items.length > 0 ? s : 0;
    this.lastAt = items.at(-1)?.t ?? 0;
    // Prior pseudo-weight fades with finished observations only: running tasks say little about the shape.
    const priorW = tuning.priorWeight * Math.max(0, 1 - this.count / Math.max(1, tuning.priorFadeJobs));
    const obsW = this.count > 0 ? total : 0;
    this.priorShare = obsW + priorW > 0 ? priorW / (obsW + priorW) : 1;
    this.median = this.bodyQuantile(0.5);
    const lo = this.bodyQuantile(tuning.earliestQuantile);
    const hi = this.bodyQuantile(tuning.latestQuantile);
    // Nothing seen yet: exactly the notes' window, so an untaught tracker polls as it always did.
    this.window = this.count === 0 ? { ...prior } : { earliestMs: Math.round(lo), latestMs: Math.round(Math.max(lo, hi)) };
    this.tailMeanMs = Math.max(1, this.window.latestMs);
  }

  /** The prior's survival past t (uniform over the notes' window). */
  private priorSurvival(t: number): number {
    const { earliestMs: a, latestMs: b } = this.prior;
    return t <= a ? 1 : t >= b ? 0 : b > a ? (b - t) / (b - a) : 0;
  }

  /**
   * The product-limit survival at t. Past the oldest subject, the mass still
   * running there finishes as the prior says (conditioned on having lasted
   * that long), or, past the prior's window too, exponentially with a mean
   * of half the window's width.
   */
  private observedSurvival(t: number): number {
    let lo = 0;
    let hi = this.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.xs[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    const s = lo === 0 ? 1 : this.surv[lo - 1]!;
    if (t <= this.lastAt || this.survEnd <= 0) return s;
    const from = this.lastAt;
    const pFrom = this.priorSurvival(from);
    if (pFrom > 0.05) return this.survEnd * (this.priorSurvival(t) / pFrom) + 0; // inside the notes' window
    const mean = Math.max(1_000, (this.prior.latestMs - this.prior.earliestMs) / 2);
    return this.survEnd * Math.exp(-(t - from) / mean);
  }

  /** P(duration ≤ t) of the body (prior + observations), without the tail. */
  private bodyCdf(t: number): number {
    const priorCdf = 1 - this.priorSurvival(t);
    if (this.count === 0) return priorCdf;
    return this.priorShare * priorCdf + (1 - this.priorShare) * (1 - this.observedSurvival(t));
  }

  /** The body's p-quantile (bisection on the CDF; 1 ms precision). */
  private bodyQuantile(p: number): number {
    const { earliestMs: a, latestMs: b } = this.prior;
    let lo = Math.min(a, this.xs[0] ?? a);
    let hi = Math.max(b, this.lastAt);
    if (this.bodyCdf(lo) >= p) return lo;
    // Running mass past the last subject decays exponentially: widen until the quantile is inside.
    for (let k = 0; k < 40 && this.bodyCdf(hi) < p; k++) hi = hi * 1.5 + 1_000;
    while (hi - lo > 1) {
      const mid = (lo + hi) / 2;
      if (this.bodyCdf(mid) >= p) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /** P(duration ≤ t): the body, plus a thin exponential tail so it is never exactly 1. */
  cdf(t: number): number {
    if (t <= 0) return 0;
    const tail = 1 - Math.exp(-t / this.tailMeanMs);
    return (1 - this.tuning.tailShare) * this.bodyCdf(t) + this.tuning.tailShare * tail;
  }

  /** P(still running at age t). Always > 0. */
  survival(t: number): number {
    return Math.max(1e-12, 1 - this.cdf(t));
  }

  /** The p-quantile of the body (what the schedule and the summary use). */
  quantile(p: number): number {
    return this.bodyQuantile(Math.min(1, Math.max(0, p)));
  }
}

const KIND_LABELS: Record<JobKind, string> = {
  grid: 'grids',
  vary: 'variations',
  upscale: 'upscales',
  video: 'videos',
  video_hd: 'HD videos',
  extend: 'video extensions',
};

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/**
 * What the tracker believes about one kind and speed, in one line:
 * "fast grids: median 41 s, 90 % within 28–77 s, from 312 jobs"
 * (or "… (the notes' estimate, no job seen yet)").
 */
export function describeModel(kind: JobKind, speed: Speed | null, model: DurationModel): string {
  const label = kind.startsWith('video') || kind === 'extend' ? KIND_LABELS[kind] : `${timingSpeed(speed)} ${KIND_LABELS[kind]}`;
  const source =
    model.count === 0 ? "the notes' estimate, no job seen yet" : `from ${model.count} recent job${model.count === 1 ? '' : 's'}`;
  return `${label}: median ${seconds(model.median)}, 90 % within ${Math.round(model.quantile(0.05) / 1000)}–${seconds(model.quantile(0.95))}, ${source}`;
}
