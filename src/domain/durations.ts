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
 * The model answers the schedule's questions:
 * - `window()` — [q(earliestQuantile), q(latestQuantile)]: where polling is
 *   dense (silent before, back-off after);
 * - `survival(t)` — how likely a task of this age is still running; the
 *   poll priority under pressure (./pollPriority.ts) is built on it. A small
 *   exponential tail keeps it above zero past the last observation, so a
 *   task older than anything seen still gets a (small) chance.
 *
 * Everything here is pure: times are real-equivalent ms (unscaled); no I/O.
 * Persistence goes through the DurationStore port; LearnedTimings (below)
 * drives it.
 */
import type { Speed } from './midjourney.js';
import type { Clock } from './ports.js';
import type { JobKind } from './job.js';
import { DEFAULT_SPEED, expectedWindow, type ExpectedWindow } from './schedule.js';

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
 * A weighted mixture of a uniform prior and point observations, plus a thin
 * exponential tail. Immutable; build a new one when observations change.
 */
export class DurationModel {
  /** Observations sorted ascending, with cumulative (normalised) weights. */
  private readonly xs: number[];
  private readonly cum: number[];
  private readonly priorShare: number;
  private readonly tailMeanMs: number;
  readonly window: ExpectedWindow;
  readonly median: number;

  /**
   * @param prior the notes' window (real-equivalent ms)
   * @param recent observed durations, newest first (real-equivalent ms)
   */
  constructor(
    readonly prior: ExpectedWindow,
    recent: readonly number[],
    private readonly tuning: LearnerTuning = DEFAULT_LEARNER,
  ) {
    const kept = recent.slice(0, tuning.window).filter((d) => Number.isFinite(d) && d > 0);
    this.count = kept.length;
    const decay = 0.5 ** (1 / Math.max(1e-9, tuning.halfLifeJobs));
    const weighted = kept.map((d, rank) => ({ d, w: decay ** rank })).sort((a, b) => a.d - b.d);
    const obsWeight = weighted.reduce((s, x) => s + x.w, 0);
    const priorW = tuning.priorWeight * Math.max(0, 1 - kept.length / Math.max(1, tuning.priorFadeJobs));
    const total = obsWeight + priorW;
    this.priorShare = total > 0 ? priorW / total : 1;
    this.xs = weighted.map((x) => x.d);
    let acc = 0;
    this.cum = weighted.map((x) => (acc += total > 0 ? x.w / total : 0));
    this.median = this.bodyQuantile(0.5);
    const lo = this.bodyQuantile(tuning.earliestQuantile);
    const hi = this.bodyQuantile(tuning.latestQuantile);
    // Nothing seen yet: exactly the notes' window, so an untaught tracker polls as it always did.
    this.window = kept.length === 0 ? { ...prior } : { earliestMs: Math.round(lo), latestMs: Math.round(Math.max(lo, hi)) };
    this.tailMeanMs = Math.max(1, this.window.latestMs);
  }

  /** Observations behind the model (0: the prior alone). */
  readonly count: number;

  /** P(duration ≤ t) of the body (prior + observations), without the tail. */
  private bodyCdf(t: number): number {
    const { earliestMs: a, latestMs: b } = this.prior;
    const priorCdf = t <= a ? 0 : t >= b ? 1 : b > a ? (t - a) / (b - a) : 1;
    // Cumulative observation weight at or below t (binary search).
    let lo = 0;
    let hi = this.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.xs[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    const obs = lo === 0 ? 0 : this.cum[lo - 1]!;
    return this.priorShare * priorCdf + obs;
  }

  /** The body's p-quantile (bisection on the CDF; 1 ms precision). */
  private bodyQuantile(p: number): number {
    const { earliestMs: a, latestMs: b } = this.prior;
    let lo = Math.min(a, this.xs[0] ?? a);
    let hi = Math.max(b, this.xs.at(-1) ?? b);
    if (this.bodyCdf(lo) >= p) return lo;
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

// ---------------------------------------------------------------------------
// Persistence port and the learner that uses it
// ---------------------------------------------------------------------------

/**
 * Where finished tasks' durations are kept, so learned timings survive a
 * restart and every process on one database learns from all of them.
 *
 * The SQL implementation is one table, `task_durations(kind, speed,
 * duration_ms, finished_at)`, indexed on (kind, speed, finished_at):
 * - `recent`: `SELECT duration_ms … WHERE kind = ? AND speed = ? ORDER BY
 *   finished_at DESC LIMIT ?` — newest first, never more than `limit`;
 * - `record`: one INSERT. Old rows may be pruned freely (only the newest
 *   `limit` per kind and speed are ever read).
 *
 * `speed` is always a Speed here (video kinds are recorded as 'fast'), and
 * durations are real-equivalent ms (a time-scaled simulator run divides by
 * its scale first).
 */
export interface DurationStore {
  /** The newest `limit` durations (ms) of this kind and speed, newest first. */
  recent(kind: JobKind, speed: Speed, limit: number): Promise<number[]>;
  /** One finished task: how long it ran (ms) and when it finished (epoch ms). */
  record(kind: JobKind, speed: Speed, durationMs: number, finishedAt: number): Promise<void>;
}

/** DurationStore in memory: for tests, the bench, and a bot without a database for timings. Bounded per key. */
export class InMemoryDurationStore implements DurationStore {
  private readonly rows = new Map<string, Array<{ durationMs: number; finishedAt: number }>>();
  constructor(private readonly keepPerKey = 500) {}

  async recent(kind: JobKind, speed: Speed, limit: number): Promise<number[]> {
    const rows = this.rows.get(`${kind}/${speed}`) ?? [];
    return rows.slice(-limit).reverse().map((r) => r.durationMs);
  }

  async record(kind: JobKind, speed: Speed, durationMs: number, finishedAt: number): Promise<void> {
    const key = `${kind}/${speed}`;
    let rows = this.rows.get(key);
    if (!rows) {
      rows = [];
      this.rows.set(key, rows);
    }
    // Kept in finished_at order, as the SQL query would return them.
    let i = rows.length;
    while (i > 0 && rows[i - 1]!.finishedAt > finishedAt) i--;
    rows.splice(i, 0, { durationMs, finishedAt });
    if (rows.length > this.keepPerKey) rows.splice(0, rows.length - this.keepPerKey);
  }
}

export interface LearnedTimingsOptions {
  /** Omit to learn in memory only (this process, until it stops). */
  store?: DurationStore;
  clock: Clock;
  tuning?: Partial<LearnerTuning>;
  /** Re-read every kind's recent window this often, so processes sharing a database converge. Default 60 s. */
  refreshMs?: number;
  /** Told when a store call fails (timings then keep what they have). */
  onError?: (error: unknown, what: string) => void;
  /** Told when a model changes (the tracker logs describeModel() at debug level). */
  onModel?: (kind: JobKind, speed: Speed, model: DurationModel) => void;
}

const KINDS: readonly JobKind[] = ['grid', 'vary', 'upscale', 'video', 'video_hd', 'extend'];
const SPEEDS: readonly Speed[] = ['turbo', 'fast', 'relaxed'];

/**
 * The learner: one DurationModel per kind and speed, fed by finished jobs and
 * by the store. Reads are synchronous (the schedule is pure and hot); the
 * store is read at `load()` and every `refreshMs` (the newest `window` rows
 * per kind and speed — never the whole history) and written once per
 * finished task.
 */
export class LearnedTimings {
  private readonly tuning: LearnerTuning;
  private readonly samples = new Map<string, number[]>();
  private readonly models = new Map<string, DurationModel>();
  private readonly refreshMs: number;
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly options: LearnedTimingsOptions) {
    this.tuning = { ...DEFAULT_LEARNER, ...options.tuning };
    this.refreshMs = options.refreshMs ?? 60_000;
  }

  /** The current model (the prior until something is observed or loaded). */
  model(kind: JobKind, speed: Speed | null): DurationModel {
    const s = timingSpeed(speed);
    const key = `${kind}/${s}`;
    let m = this.models.get(key);
    if (!m) {
      m = new DurationModel(expectedWindow(kind, s), this.samples.get(key) ?? [], this.tuning);
      this.models.set(key, m);
    }
    return m;
  }

  /** A task of this kind and speed ran `durationMs` (real-equivalent) and finished at `finishedAt`. */
  observe(kind: JobKind, speed: Speed | null, durationMs: number, finishedAt: number): Promise<void> {
    if (!(durationMs > 0) || !Number.isFinite(durationMs)) return Promise.resolve();
    const s = timingSpeed(speed);
    const key = `${kind}/${s}`;
    const list = [Math.round(durationMs), ...(this.samples.get(key) ?? [])].slice(0, this.tuning.window);
    this.setSamples(kind, s, list);
    const store = this.options.store;
    if (!store) return Promise.resolve();
    return store.record(kind, s, Math.round(durationMs), finishedAt).catch((error: unknown) => this.options.onError?.(error, 'record'));
  }

  /** Read every kind's recent window from the store. Safe to call often: at most once per `refreshMs`. */
  maybeRefresh(): Promise<void> {
    if (!this.options.store || this.refreshing) return this.refreshing ?? Promise.resolve();
    if (this.options.clock.now() - this.lastRefresh < this.refreshMs) return Promise.resolve();
    return this.load();
  }

  /** Read every kind's recent window from the store now. */
  load(): Promise<void> {
    const store = this.options.store;
    if (!store) return Promise.resolve();
    if (this.refreshing) return this.refreshing;
    this.lastRefresh = this.options.clock.now();
    this.refreshing = (async () => {
      for (const kind of KINDS) {
        for (const speed of SPEEDS) {
          try {
            const rows = await store.recent(kind, speed, this.tuning.window);
            const key = `${kind}/${speed}`;
            if (rows.length > 0 || this.samples.has(key)) this.setSamples(kind, speed, rows);
          } catch (error) {
            this.options.onError?.(error, 'recent');
          }
        }
      }
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Every kind and speed something was learned for, one line each (for a log line or /settings). */
  describe(): string[] {
    const out: string[] = [];
    for (const key of this.samples.keys()) {
      const [kind, speed] = key.split('/') as [JobKind, Speed];
      out.push(describeModel(kind, speed, this.model(kind, speed)));
    }
    return out;
  }

  private setSamples(kind: JobKind, speed: Speed, list: number[]): void {
    const key = `${kind}/${speed}`;
    this.samples.set(key, list);
    const model = new DurationModel(expectedWindow(kind, speed), list, this.tuning);
    this.models.set(key, model);
    this.options.onModel?.(kind, speed, model);
  }
}
