/**
 * The learner: how long KIE takes per job kind and speed, from the bot's own
 * finished jobs (persisted through the DurationStore port, ./durationStore.ts)
 * and the tasks still running in this process. Each kind and speed's
 * distribution is a DurationModel (./durationModel.ts).
 */
import type { Speed } from './midjourney.js';
import type { Clock } from './ports.js';
import type { JobKind } from './job.js';
import { expectedWindow } from './schedule.js';
import { DEFAULT_LEARNER, describeModel, DurationModel, timingSpeed, type LearnerTuning } from './durationModel.js';
import type { DurationStore } from './durationStore.js';

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

  /**
   * Every kind and speed something was learned for (of `kinds`, default all),
   * one line each, kind by kind and turbo → fast → relaxed: the tracker's
   * debug log at start, and /info's "How long KIE takes now".
   */
  describe(kinds: readonly JobKind[] = KINDS): string[] {
    const out: string[] = [];
    for (const kind of KINDS) {
      if (!kinds.includes(kind)) continue;
      for (const speed of SPEEDS) {
        if (!this.samples.get(`${kind}/${speed}`)?.length) continue;
        out.push(describeModel(kind, speed, this.model(kind, speed)));
      }
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

/**
 * The windows the tracker uses for a kind before it has learned anything
 * (the notes' estimates), e.g. "turbo 10–40 s, fast 30–100 s, relaxed 90–300 s".
 */
export function describeUsualWindows(kind: JobKind = 'grid'): string {
  return SPEEDS.map((speed) => {
    const w = expectedWindow(kind, speed);
    return `${speed} ${Math.round(w.earliestMs / 1000)}–${Math.round(w.latestMs / 1000)} s`;
  }).join(', ');
}
