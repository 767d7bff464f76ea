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
 *
 * It also counts the tasks still running in this process (`started()` /
 * `ended()`, from the tracker) as right-censored observations: without
 * them, during a burst the only tasks seen are the ones that finished first
 * — the short ones — and the model would believe everything still running
 * is overdue. Each counts at its age when last found running. When they
 * change, the model is rebuilt at most every `rebuildMs`.
 */
export class LearnedTimings {
  private readonly tuning: LearnerTuning;
  private readonly samples = new Map<string, number[]>();
  private readonly models = new Map<string, { model: DurationModel; builtAt: number }>();
  /** Running tasks per kind/speed: job id → start (clock ms) and time scale. */
  private readonly runningTasks = new Map<string, Map<string, { startedAt: number; checkedAt: number; scale: number }>>();
  /** Kinds whose running tasks changed since their model was built. */
  private readonly dirty = new Set<string>();
  /** Finished tasks of this process per kind/speed that started after the oldest running one (their cohort). */
  private readonly cohorts = new Map<string, Array<{ durationMs: number; startedAt: number }>>();
  private readonly refreshMs: number;
  private readonly rebuildMs: number;
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | null = null;

  constructor(private readonly options: LearnedTimingsOptions & { rebuildMs?: number }) {
    this.tuning = { ...DEFAULT_LEARNER, ...options.tuning };
    this.refreshMs = options.refreshMs ?? 60_000;
    this.rebuildMs = options.rebuildMs ?? 1_000;
  }

  /** The current model (the prior until something is observed or loaded). */
  model(kind: JobKind, speed: Speed | null): DurationModel {
    const s = timingSpeed(speed);
    const key = `${kind}/${s}`;
    const cached = this.models.get(key);
    const now = this.options.clock.now();
    if (cached && (!this.dirty.has(key) || now - cached.builtAt < this.rebuildMs)) return cached.model;
    return this.build(kind, s, false);
  }

  /**
   * A task of this kind and speed started at `startedAt` (clock ms;
   * `timeScale` as the tracker's) and is running: a censored observation,
   * at age 0 until a check finds it still running.
   */
  started(jobId: string, kind: JobKind, speed: Speed | null, startedAt: number, timeScale = 1): void {
    const key = `${kind}/${timingSpeed(speed)}`;
    let m = this.runningTasks.get(key);
    if (!m) {
      m = new Map();
      this.runningTasks.set(key, m);
    }
    if (m.has(jobId)) return;
    m.set(jobId, { startedAt, checkedAt: startedAt, scale: timeScale });
    this.dirty.add(key);
  }

  /**
   * A check at `checkedAt` found the task still running. Its censoring time
   * is its age then — not now: a task not checked since may well be done
   * (under pressure many are), and counting its current age would make
   * the model believe in long tasks that do not exist.
   */
  stillRunning(jobId: string, checkedAt: number): void {
    for (const [key, m] of this.runningTasks) {
      const r = m.get(jobId);
      if (!r) continue;
      if (checkedAt > r.checkedAt) {
        r.checkedAt = checkedAt;
        this.dirty.add(key);
      }
      return;
    }
  }

  /** The task is no longer running here (finished, failed, or handed elsewhere). */
  ended(jobId: string): void {
    for (const [key, m] of this.runningTasks) {
      if (!m.delete(jobId)) continue;
      this.pruneCohort(key);
      this.dirty.add(key);
      return;
    }
  }

  /** A task of this kind and speed ran `durationMs` (real-equivalent) and finished at `finishedAt`. */
  observe(kind: JobKind, speed: Speed | null, durationMs: number, finishedAt: number, jobId?: string): Promise<void> {
    if (!(durationMs > 0) || !Number.isFinite(durationMs)) return Promise.resolve();
    const s = timingSpeed(speed);
    const key = `${kind}/${s}`;
    const run = jobId !== undefined ? this.runningTasks.get(key)?.get(jobId) : undefined;
    if (run && jobId !== undefined) {
      this.runningTasks.get(key)!.delete(jobId);
      const list = this.cohorts.get(key) ?? [];
      list.push({ durationMs: Math.round(durationMs), startedAt: run.startedAt });
      this.cohorts.set(key, list);
      this.pruneCohort(key);
    }
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
    this.samples.set(`${kind}/${speed}`, list);
    this.build(kind, speed, true);
  }

  /** Drop cohort entries older than the oldest running task (they are plain history now). */
  private pruneCohort(key: string): void {
    const list = this.cohorts.get(key);
    if (!list) return;
    const running = this.runningTasks.get(key);
    if (!running || running.size === 0) {
      this.cohorts.delete(key);
      return;
    }
    let oldest = Number.POSITIVE_INFINITY;
    for (const r of running.values()) oldest = Math.min(oldest, r.startedAt);
    const kept = list.filter((c) => c.startedAt >= oldest);
    if (kept.length === 0) this.cohorts.delete(key);
    else this.cohorts.set(key, kept);
  }

  private build(kind: JobKind, speed: Speed, tell: boolean): DurationModel {
    const key = `${kind}/${speed}`;
    const now = this.options.clock.now();
    const history = [...(this.samples.get(key) ?? [])];
    const running = this.runningTasks.get(key);
    let model: DurationModel;
    if (!running || running.size === 0) {
      model = new DurationModel(expectedWindow(kind, speed), history, this.tuning);
    } else {
      const cohort = (this.cohorts.get(key) ?? []).map((c) => c.durationMs);
      // The cohort's tasks are in the history too (newest first): count each once.
      for (const d of cohort) {
        const i = history.indexOf(d);
        if (i >= 0) history.splice(i, 1);
      }
      const ages = [...running.values()].map((r) => Math.max(0, r.checkedAt - r.startedAt) / r.scale);
      model = new DurationModel(expectedWindow(kind, speed), history, this.tuning, { running: ages, cohort });
    }
    this.models.set(key, { model, builtAt: now });
    this.dirty.delete(key);
    if (tell) this.options.onModel?.(kind, speed, model);
    return model;
  }
}
