/**
 * The tracker takes running jobs to "results shown": it asks KIE about each
 * task on the schedule in ./schedule.ts, records what it learns, and hands
 * finished jobs to the presenter — surviving restarts, because every step is
 * persisted through the JobRepository before the next one starts.
 *
 * One scheduler for all jobs: a min-heap of (dueAt, jobId) and a single timer
 * on the injected Clock, armed for whatever is due first. Never a timer per
 * job: a thousand jobs cost one timer and a heap.
 *
 * Two limits protect KIE: a global budget of record-info requests per second
 * and a bound on polls in flight. When more polls are due than they allow,
 * the due jobs wait in a ready set; a job told about by a callback, or
 * unchecked for `starveAfterMs`, goes first, then by `pollOrder`: due order
 * (default), or with 'likely-done' the job most likely to have finished
 * since its last check (./pollPriority.ts, from the learned durations).
 *
 * With `timings` (./durations.ts) the schedule's window comes from what the
 * bot has seen KIE take, and every finished task teaches it; without, the
 * notes' windows hold. Discord is protected too: progress edits are throttled per job
 * (≥ 5 s apart) and per channel (a few per 5 s), and a final delivery waits
 * for any progress edit of that job still in flight, so a late "generating…"
 * can never overwrite the result.
 *
 * Pure domain code: KIE only through KieApi, people only through
 * JobPresenter, time only through Clock.
 */
import { isProviderError, type ProviderRegistry, type TaskStatus } from './provider.js';
import { sanitizeMessage } from './sanitize.js';
import {
  InvalidTransitionError,
  isTerminal,
  outcomeOf,
  providerOf,
  resultKindFor,
  transition,
  type Job,
  type JobError,
  type JobState,
} from './job.js';
import type { JobRepository } from './jobs.js';
import type { Clock, JobPresenter } from './ports.js';
import { describeModel, LearnedTimings, type DurationModel } from './durations.js';
import { pickBest, pollPriority, type PollOrder } from './pollPriority.js';
import { backoffDelay, DEFAULT_TUNING, pollDelay, timeoutFor, type ScheduleTuning } from './schedule.js';

/** pino-compatible logging (object first, message second); optional everywhere. */
export interface DomainLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: DomainLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Hooks for metrics and the benchmark. Called synchronously; must not throw. */
export interface TrackerObserver {
  /** After every record-info request, with the job as persisted (polls counted). */
  onPoll?(job: Job): void;
  /** After a terminal job was delivered. */
  onFinished?(job: Job, times: { kieCompletedAt: number | null; deliveredAt: number }): void;
}

/** Told when a job reaches a terminal state (before it is delivered). */
export type TerminalListener = (job: Job) => Promise<void> | void;

export interface TrackerOptions {
  repo: JobRepository;
  /** The configured image providers; each job is polled at its own. */
  providers: ProviderRegistry;
  presenter: JobPresenter;
  clock: Clock;
  logger?: DomainLogger;
  observer?: TrackerObserver;
  /** Jitter source for back-off; [0, 1). */
  random?: () => number;
  /** Overrides of the polling schedule (e.g. `timeScale` for the simulator). */
  schedule?: Partial<ScheduleTuning>;
  /** Global budget of record-info requests per second (per `pollBudgetWindowMs`). Default 8. */
  maxPollsPerSecond?: number;
  /**
   * The budget's sliding window, ms. Default 1000 (the budget is per real
   * second); the benchmark scales it with its time scale so a compressed run
   * keeps the budget's shape, not only its average rate.
   */
  pollBudgetWindowMs?: number;
  /** Polls in flight at once. Default 8. */
  maxConcurrentPolls?: number;
  /**
   * Learned task durations: the schedule's windows come from them and every
   * finished task is recorded. Omitted: the notes' fixed windows, nothing learned.
   */
  timings?: LearnedTimings;
  /**
   * Who gets the budget when more polls are due than it allows: 'due' (first-come, the default) or
   * 'likely-done' (the chance the task finished since its last check, from the censoring-aware
   * learned model). likely-done lowers lag p50 and the mean where the budget binds but lengthens
   * the tail (up to `starveAfterMs`), so it is not the default — see bench/RESULTS.md, "Poll order
   * under pressure".
   */
  pollOrder?: PollOrder;
  /** A job unchecked this long goes before every ranked one. Default 2 min × the schedule's timeScale. */
  starveAfterMs?: number;
  /** Least time between two progress edits of one job. Default 5 s. */
  progressIntervalMs?: number;
  /** Progress edits allowed per channel per window. Default 5 per 5 s (Discord limits edits per channel). */
  channelEditBudget?: { edits: number; perMs: number };
  /** Back-off for failed deliveries. Default 5 s doubling to 5 min, 12 attempts per process. */
  deliveryRetry?: { baseMs: number; maxMs: number; maxAttempts: number };
  /**
   * Several processes (./leases.ts): asked right before a final delivery is
   * posted; false means another live process holds the job, which then
   * delivers it, so this one lets go. A conditional write in the database,
   * so two processes never both post. Omitted: one process, always true.
   */
  claimDelivery?: (jobId: string) => Promise<boolean>;
}

type Task = 'poll' | 'deliver';

interface Entry {
  dueAt: number;
  seq: number;
  jobId: string;
  task: Task;
  /** Asked for by pollSoon (a callback): first in line for the budget. */
  urgent?: boolean;
}

const ONE_SECOND = 1_000;
const DEFAULTS = {
  maxPollsPerSecond: 8,
  maxConcurrentPolls: 8,
  progressIntervalMs: 5_000,
  channelEditBudget: { edits: 5, perMs: 5_000 },
  deliveryRetry: { baseMs: 5_000, maxMs: 5 * 60_000, maxAttempts: 12 },
} as const;

/**
 * KIE's completeTime: an ISO string in its docs, epoch ms in some mirrors
 * (epoch seconds tolerated). Null when absent or unreadable.
 */
export function parseKieTime(value: string | null): number | null {
  if (value == null || value === '') return null;
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return n < 1e12 ? Math.round(n * 1000) : Math.round(n);
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** The provider has no such task (any more; KIE's 422 "Record does not exist"). Polling again won't help. */
export function isRecordMissing(error: unknown): boolean {
  return isProviderError(error) && error.category === 'not_found';
}

const recordMissingError = (error: unknown): JobError => ({
  code: isProviderError(error) ? error.providerCode : 'not_found',
  message: `${isProviderError(error) && error.provider !== 'kie' ? error.provider.toUpperCase() : 'KIE'} no longer knows this task (${isProviderError(error) && error.detail ? error.detail : 'Record does not exist'}).`,
});

const timeoutError = (ms: number): JobError => ({
  code: 'timeout',
  message: `KIE did not finish this within ${Math.round(ms / 60_000)} minutes, so the bot stopped waiting. Press 🔄 to try again.`,
});

/**
 * Error text safe for logs. KieError messages are sanitized by construction,
 * but a presenter's error may quote a webhook URL, whose last segment is an
 * interaction token: mask those, the given secrets and any Bearer token, and
 * cap the length.
 */
export function describeError(error: unknown, secrets: ReadonlyArray<string | null> = []): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const masked = text.replace(/(webhooks\/\d+\/)[^\s/?#"']+/gi, '$1***');
  return sanitizeMessage(masked, secrets.filter((x): x is string => !!x));
}

/** A binary min-heap ordered by (dueAt, seq): due order, ties in scheduling order. */
class EntryHeap {
  private readonly items: Entry[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Entry | undefined {
    return this.items[0];
  }
  push(e: Entry): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}
const before = (x: Entry, y: Entry): boolean => x.dueAt < y.dueAt || (x.dueAt === y.dueAt && x.seq < y.seq);

/** Sliding-window counter: at most `max` events in any `windowMs`. */
class SlidingWindow {
  private readonly times: number[] = [];
  constructor(
    public max: number,
    private readonly windowMs: number,
  ) {}
  /** The earliest time an event may happen, at or after `now`. */
  nextSlot(now: number): number {
    this.prune(now);
    return this.times.length < this.max ? now : this.times[0]! + this.windowMs;
  }
  take(now: number): void {
    this.prune(now);
    this.times.push(now);
  }
  /** Events allowed right now. */
  available(now: number): number {
    this.prune(now);
    return Math.max(0, this.max - this.times.length);
  }
  get empty(): boolean {
    return this.times.length === 0;
  }
  private prune(now: number): void {
    while (this.times.length > 0 && this.times[0]! <= now - this.windowMs) this.times.shift();
  }
}

export class Tracker {
  private readonly repo: JobRepository;
  private readonly providers: ProviderRegistry;
  private readonly presenter: JobPresenter;
  private readonly clock: Clock;
  private readonly logger: DomainLogger;
  private readonly observer: TrackerObserver;
  private readonly random: () => number;
  private readonly tuning: ScheduleTuning;
  private readonly maxConcurrent: number;
  private readonly progressIntervalMs: number;
  private readonly editBudget: { edits: number; perMs: number };
  private readonly deliveryRetry: { baseMs: number; maxMs: number; maxAttempts: number };
  private readonly claimDelivery: ((jobId: string) => Promise<boolean>) | null;

  private readonly timings: LearnedTimings;
  private readonly learning: boolean;
  private readonly pollOrder: PollOrder;
  private readonly starveAfterMs: number;

  private readonly heap = new EntryHeap();
  /** Polls that are due but wait for the budget or a concurrency slot (their entries left the heap). */
  private readonly ready = new Map<string, Entry>();
  /** When each job was last checked (this process), for its poll priority. */
  private readonly lastCheckAt = new Map<string, number>();
  private readonly jobInfo = new Map<string, { startedAt: number; model: () => DurationModel }>();
  /** The one live heap entry per job; any other entry for it is stale and skipped. */
  private readonly scheduled = new Map<string, Entry>();
  private readonly tracked = new Set<string>();
  private readonly polling = new Map<string, Promise<void>>();
  /** Jobs due for a poll (pollSoon, or their next check) while a poll of theirs was still in flight. */
  private readonly pollAgain = new Set<string>();
  private readonly delivering = new Map<string, Promise<Job | undefined>>();
  private readonly progressing = new Map<string, Promise<void>>();
  /** Fire-and-forget work (listeners, progress, deliveries) that stop()/idle() wait for. */
  private readonly background = new Set<Promise<unknown>>();
  private readonly pollErrors = new Map<string, number>();
  private readonly deliveryAttempts = new Map<string, number>();
  private readonly lastProgressAt = new Map<string, number>();
  private readonly channelEdits = new Map<string, SlidingWindow>();
  /** Jobs with progress edits per channel, for each job's fair share of the channel's edit budget. */
  private readonly channelJobs = new Map<string, Set<string>>();
  private readonly jobChannel = new Map<string, string>();
  private readonly pollBudget: SlidingWindow;
  private readonly terminalListeners: TerminalListener[] = [];

  private seq = 0;
  private started = false;
  private timer: unknown = null;
  private timerAt: number | null = null;

  constructor(options: TrackerOptions) {
    this.repo = options.repo;
    this.providers = options.providers;
    this.presenter = options.presenter;
    this.clock = options.clock;
    this.logger = options.logger ?? silentLogger;
    this.observer = options.observer ?? {};
    this.random = options.random ?? Math.random;
    this.tuning = { ...DEFAULT_TUNING, ...options.schedule };
    this.maxConcurrent = Math.max(1, options.maxConcurrentPolls ?? DEFAULTS.maxConcurrentPolls);
    this.progressIntervalMs = options.progressIntervalMs ?? DEFAULTS.progressIntervalMs;
    this.editBudget = options.channelEditBudget ?? DEFAULTS.channelEditBudget;
    this.deliveryRetry = options.deliveryRetry ?? DEFAULTS.deliveryRetry;
    this.claimDelivery = options.claimDelivery ?? null;
    this.learning = options.timings !== undefined;
    this.timings = options.timings ?? new LearnedTimings({ clock: options.clock });
    this.pollOrder = options.pollOrder ?? 'due';
    this.starveAfterMs = options.starveAfterMs ?? 120_000 * this.tuning.timeScale;
    this.pollBudget = new SlidingWindow(
      Math.max(1, options.maxPollsPerSecond ?? DEFAULTS.maxPollsPerSecond),
      options.pollBudgetWindowMs ?? ONE_SECOND,
    );
  }

  // -------------------------------------------------------------------------
  // Public API
  // -------------------------------------------------------------------------

  /** Change the status-read budget (a fleet's share of it, src/domain/pollShare.ts); takes effect at the next poll. */
  setMaxPollsPerSecond(perSecond: number): void {
    this.pollBudget.max = Math.max(1, Math.floor(perSecond));
    this.pump();
  }

  /** Register a listener for terminal states (the job service releases admission slots here). Returns an unsubscribe. */
  onTerminal(listener: TerminalListener): () => void {
    this.terminalListeners.push(listener);
    return () => {
      const i = this.terminalListeners.indexOf(listener);
      if (i >= 0) this.terminalListeners.splice(i, 1);
    };
  }

  /**
   * Take responsibility for a job: a running job is polled (first check at
   * the earliest plausible finish; at once if it was polled before, e.g.
   * after a restart), a terminal undelivered one is delivered. Anything else
   * is ignored. Idempotent.
   */
  track(job: Job): void {
    if (job.state === 'running' && job.taskId) {
      this.tracked.add(job.id);
      this.noteJob(job);
      if (this.scheduled.has(job.id) || this.polling.has(job.id)) return;
      const now = this.clock.now();
      const first = job.polls > 0 ? 0 : this.nextPollDelay(job, now, 0);
      this.schedule(job.id, 'poll', now + first);
    } else if (isTerminal(job.state) && !job.delivered) {
      this.tracked.add(job.id);
      if (!this.delivering.has(job.id)) this.schedule(job.id, 'deliver', this.clock.now());
    } else {
      this.logger.debug({ jobId: job.id, state: job.state }, 'tracker: nothing to do for this job');
    }
  }

  /** Stop working on a job (pending timers are dropped; a poll in flight finishes but is not followed up). */
  untrack(jobId: string): void {
    this.tracked.delete(jobId);
    this.scheduled.delete(jobId);
    this.ready.delete(jobId);
    this.pollAgain.delete(jobId);
    this.forgetPollState(jobId);
    this.deliveryAttempts.delete(jobId);
  }

  /** Whether this tracker works on the job (with several processes: whether this one holds it). */
  isTracking(jobId: string): boolean {
    return this.tracked.has(jobId);
  }

  /** Poll a tracked job as soon as the budget allows (a callback said it changed). */
  pollSoon(jobId: string): void {
    if (!this.tracked.has(jobId)) return;
    if (this.polling.has(jobId)) {
      this.pollAgain.add(jobId);
      return;
    }
    const current = this.scheduled.get(jobId);
    if (current?.task !== 'poll') return;
    const now = this.clock.now();
    if (current.dueAt > now || !current.urgent) this.schedule(jobId, 'poll', now, true);
  }

  /**
   * Show a terminal job's final state now, waiting for any delivery of it
   * already under way. On failure it is retried later with back-off (and
   * after a restart, since it stays delivered: false). Resolves with the job
   * as stored afterwards.
   */
  async deliver(jobId: string): Promise<Job | undefined> {
    const running = this.delivering.get(jobId);
    if (running) return running;
    this.tracked.add(jobId);
    const p = this.deliverOnce(jobId).finally(() => this.delivering.delete(jobId));
    this.delivering.set(jobId, p);
    return p;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pump();
  }

  /** Clear the timer and wait for work in flight. Scheduled work stays in memory; start() resumes it. */
  async stop(): Promise<void> {
    this.started = false;
    this.disarm();
    await this.idle();
  }

  /** Resolves once no poll, delivery, progress edit or listener is running. */
  async idle(): Promise<void> {
    for (;;) {
      const work = [...this.polling.values(), ...this.delivering.values(), ...this.progressing.values(), ...this.background];
      if (work.length === 0) return;
      await Promise.allSettled(work);
    }
  }

  /** What the tracker holds, for tests and health output. */
  stats(): { tracked: number; scheduled: number; polling: number; delivering: number } {
    return { tracked: this.tracked.size, scheduled: this.scheduled.size, polling: this.polling.size, delivering: this.delivering.size };
  }

  /** When the job's next poll or delivery is due, if any. */
  dueAt(jobId: string): number | null {
    return this.scheduled.get(jobId)?.dueAt ?? null;
  }

  // -------------------------------------------------------------------------
  // The scheduler
  // -------------------------------------------------------------------------

  private schedule(jobId: string, task: Task, dueAt: number, urgent = false): void {
    const entry: Entry = { dueAt, seq: this.seq++, jobId, task, ...(urgent ? { urgent } : {}) };
    this.scheduled.set(jobId, entry);
    this.heap.push(entry);
    if (this.started) this.arm();
  }

  /** The first live entry, dropping stale ones. */
  private peek(): Entry | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top || this.scheduled.get(top.jobId) === top) return top;
      this.heap.pop();
    }
  }

  /** Start everything that is due and allowed, then arm the timer for what comes next. */
  private pump(): void {
    if (!this.started) return;
    const now = this.clock.now();
    for (;;) {
      const top = this.peek();
      if (!top || top.dueAt > now) break;
      this.heap.pop();
      if (top.task === 'deliver') {
        this.scheduled.delete(top.jobId);
        this.spawn(this.deliver(top.jobId));
      } else if (this.polling.has(top.jobId)) {
        // Its previous poll is still settling: run this one right after it.
        this.scheduled.delete(top.jobId);
        this.pollAgain.add(top.jobId);
      } else {
        this.ready.set(top.jobId, top); // still the job's scheduled entry, until its poll starts
      }
    }
    this.startReadyPolls(now);
    this.arm();
  }

  /**
   * Start as many ready polls as the budget and the concurrency bound allow:
   * all of them if they fit, else the best by `pollOrder`.
   */
  private startReadyPolls(now: number): void {
    if (this.ready.size === 0) return;
    const live: Entry[] = [];
    for (const [jobId, entry] of this.ready) {
      if (this.scheduled.get(jobId) === entry && !this.polling.has(jobId)) live.push(entry);
      else this.ready.delete(jobId);
    }
    const slots = Math.min(this.maxConcurrent - this.polling.size, this.pollBudget.available(now));
    if (slots <= 0 || live.length === 0) return;
    let chosen: Entry[];
    if (live.length <= slots) chosen = live.sort((a, b) => (before(a, b) ? -1 : 1));
    else if (this.pollOrder === 'due') chosen = pickBest(live, slots, () => 0);
    else chosen = pickBest(live, slots, (e) => this.priorityOf(e, now));
    for (const entry of chosen) {
      this.ready.delete(entry.jobId);
      this.scheduled.delete(entry.jobId);
      this.pollBudget.take(now);
      this.startPoll(entry.jobId);
    }
  }

  /** How much a poll of this job is worth now (./pollPriority.ts). */
  private priorityOf(entry: Entry, now: number): number {
    const info = this.jobInfo.get(entry.jobId);
    if (!info) return entry.urgent ? 1e6 : 0; // not polled by this process yet: by due time
    const scale = this.tuning.timeScale;
    const lastCheck = this.lastCheckAt.get(entry.jobId) ?? info.startedAt;
    return pollPriority(
      info.model(),
      {
        dueAt: entry.dueAt,
        seq: entry.seq,
        urgent: entry.urgent === true,
        ageMs: (now - info.startedAt) / scale,
        lastCheckAgeMs: Math.max(0, lastCheck - info.startedAt) / scale,
        sinceCheckMs: now - lastCheck,
      },
      this.starveAfterMs,
    );
  }

  /** One timer for the whole tracker: at the next due entry, or the next budget slot if that is later. */
  private arm(): void {
    if (!this.started) return;
    const top = this.peek();
    const now = this.clock.now();
    let wakeAt: number | null = null;
    if (top) {
      const blockedByConcurrency = top.task === 'poll' && top.dueAt <= now && this.polling.size >= this.maxConcurrent;
      if (!blockedByConcurrency) {
        wakeAt = top.task === 'poll' ? Math.max(top.dueAt, this.pollBudget.nextSlot(now)) : top.dueAt;
      }
    }
    // Ready polls wait for the next budget slot (a finishing poll pumps when concurrency is what holds them).
    if (this.ready.size > 0 && this.polling.size < this.maxConcurrent) {
      const slot = Math.max(now + 1, this.pollBudget.nextSlot(now));
      wakeAt = wakeAt === null ? slot : Math.min(wakeAt, slot);
    }
    if (wakeAt === this.timerAt) return;
    this.disarm();
    if (wakeAt === null) return;
    this.timerAt = wakeAt;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = null;
      this.pump();
    }, Math.max(0, wakeAt - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = null;
  }

  private startPoll(jobId: string): void {
    const p = this.poll(jobId)
      .catch((error: unknown) => {
        // A bug or a store failure; try again later rather than lose the job.
        this.logger.error({ jobId, err: describeError(error) }, 'tracker: poll crashed');
        if (this.tracked.has(jobId)) this.schedule(jobId, 'poll', this.clock.now() + this.tuning.errorMaxMs);
      })
      .finally(() => {
        if (this.polling.get(jobId) === p) this.polling.delete(jobId);
        // Asked for again while in flight: poll now, unless it is already waiting to be delivered.
        if (this.pollAgain.delete(jobId) && this.tracked.has(jobId) && this.scheduled.get(jobId)?.task !== 'deliver') {
          this.schedule(jobId, 'poll', this.clock.now());
        }
        this.pump();
      });
    this.polling.set(jobId, p);
  }

  private nextPollDelay(job: Job, now: number, consecutiveErrors: number): number {
    const window = this.learning ? this.timings.model(job.kind, job.speed).window : undefined;
    return pollDelay(
      { kind: job.kind, speed: job.speed, elapsedMs: now - startedAt(job), polls: job.polls, consecutiveErrors, ...(window ? { window } : {}) },
      this.random,
      this.tuning,
    );
  }

  /** Remember what the poll priority needs of a job (its start and its timing model), without a store read. */
  private noteJob(job: Job): void {
    if (this.jobInfo.has(job.id)) return;
    const { kind, speed } = job;
    this.jobInfo.set(job.id, { startedAt: startedAt(job), model: () => this.timings.model(kind, speed) });
    // A running task is a censored observation: the learner knows it takes at least its age.
    if (this.learning) this.timings.started(job.id, kind, speed, startedAt(job), this.tuning.timeScale);
  }

  /**
   * Teach the timings how long a task took: from submission to KIE's
   * completeTime when that is plausible (KIE's clock may differ from ours),
   * else to when we saw it done. Real-equivalent ms.
   */
  private learnFrom(job: Job, kieCompletedAt: number | null, seenAt: number): void {
    if (!this.learning) return;
    const start = startedAt(job);
    const end = kieCompletedAt !== null && kieCompletedAt > start && kieCompletedAt <= seenAt ? kieCompletedAt : seenAt;
    const durationMs = (end - start) / this.tuning.timeScale;
    this.spawn(this.timings.observe(job.kind, job.speed, durationMs, end, job.id));
    this.logger.debug({ kind: job.kind, speed: job.speed }, `tracker timings: ${describeModel(job.kind, job.speed, this.timings.model(job.kind, job.speed))}`);
  }

  private timeoutMs(job: Job): number {
    return timeoutFor(job.kind, job.speed, this.tuning.timeScale);
  }

  /**
   * Next poll per the schedule, counted from `from` (when the last check was
   * asked, so KIE's answer time doesn't stretch every interval), never in
   * the past, and never later than the job's timeout (checked by that poll).
   */
  private scheduleNextPoll(job: Job, from: number): void {
    if (!this.tracked.has(job.id)) return;
    const delay = this.nextPollDelay(job, from, this.pollErrors.get(job.id) ?? 0);
    const deadline = startedAt(job) + this.timeoutMs(job);
    this.schedule(job.id, 'poll', Math.max(this.clock.now(), Math.min(from + delay, deadline)));
  }

  // -------------------------------------------------------------------------
  // One poll
  // -------------------------------------------------------------------------

  private async poll(jobId: string): Promise<void> {
    const job = await this.repo.get(jobId);
    if (!job) {
      this.untrack(jobId);
      return;
    }
    if (job.state !== 'running' || !job.taskId) {
      // Finished elsewhere (or never started): deliver if needed, else let go.
      if (isTerminal(job.state) && !job.delivered) this.schedule(jobId, 'deliver', this.clock.now());
      else this.untrack(jobId);
      return;
    }
    const askedAt = this.clock.now();
    this.noteJob(job);
    this.lastCheckAt.set(jobId, askedAt);
    if (this.learning) this.spawn(this.timings.maybeRefresh());
    let record: TaskStatus;
    try {
      const provider = this.providers.get(providerOf(job));
      if (!provider) throw new Error(`provider '${providerOf(job)}' is not configured`);
      record = await provider.status(job.taskId);
    } catch (error) {
      await this.onPollError(job, error);
      return;
    }
    this.pollErrors.delete(jobId);
    const now = this.clock.now();
    const outcome = outcomeOf(record);
    if (this.learning && outcome.kind === 'running') this.timings.stillRunning(jobId, askedAt);
    if (outcome.kind === 'succeeded') {
      this.learnFrom(job, record.timings.completedAt, now);
      const kind = resultKindFor(job.kind);
      await this.finish(jobId, 'succeeded', {
        results: outcome.urls.map((url) => ({ url, kind })),
        kieCompletedAt: record.timings.completedAt,
      });
    } else if (outcome.kind === 'failed') {
      await this.finish(jobId, 'failed', { error: outcome.error, kieCompletedAt: record.timings.completedAt });
    } else if (now - startedAt(job) >= this.timeoutMs(job)) {
      await this.finish(jobId, 'failed', { error: timeoutError(this.timeoutMs(job)) });
    } else {
      const updated = await this.repo.update(jobId, (j) => ({ ...j, polls: j.polls + 1 }));
      this.observer.onPoll?.(updated);
      this.maybeProgress(updated, now);
      this.scheduleNextPoll(updated, askedAt);
    }
  }

  private async onPollError(job: Job, error: unknown): Promise<void> {
    if (isRecordMissing(error)) {
      this.logger.warn({ jobId: job.id, taskId: job.taskId }, 'tracker: KIE has no record of the task');
      await this.finish(job.id, 'failed', { error: recordMissingError(error) });
      return;
    }
    const errors = (this.pollErrors.get(job.id) ?? 0) + 1;
    this.pollErrors.set(job.id, errors);
    const now = this.clock.now();
    this.logger.warn({ jobId: job.id, taskId: job.taskId, errors, err: describeError(error) }, 'tracker: record-info failed');
    if (now - startedAt(job) >= this.timeoutMs(job)) {
      await this.finish(job.id, 'failed', { error: timeoutError(this.timeoutMs(job)) });
      return;
    }
    const updated = await this.repo.update(job.id, (j) => ({ ...j, polls: j.polls + 1 }));
    this.observer.onPoll?.(updated);
    this.scheduleNextPoll(updated, now);
  }

  /** Persist the terminal state (counting this poll), tell listeners, then deliver. */
  private async finish(jobId: string, to: JobState, patch: Partial<Job>): Promise<void> {
    let done: Job;
    try {
      done = await this.repo.update(jobId, (j) =>
        transition(j, to, { ...patch, polls: j.polls + 1, finishedAt: this.clock.now() }),
      );
    } catch (error) {
      if (!(error instanceof InvalidTransitionError)) throw error;
      this.logger.warn({ jobId, from: error.from, to }, 'tracker: job changed under us; leaving it');
      this.untrack(jobId);
      return;
    }
    this.forgetPollState(jobId);
    this.observer.onPoll?.(done);
    this.logger.info({ jobId, taskId: done.taskId, state: done.state, polls: done.polls }, 'tracker: job finished');
    this.notifyTerminal(done);
    this.spawn(this.deliver(jobId));
  }

  private notifyTerminal(job: Job): void {
    for (const listener of this.terminalListeners) {
      this.spawn(
        Promise.resolve()
          .then(() => listener(job))
          .catch((error: unknown) =>
            this.logger.error({ jobId: job.id, err: describeError(error) }, 'tracker: terminal listener failed'),
          ),
      );
    }
  }

  /** Run work nobody awaits, but that idle()/stop() wait for. */
  private spawn(work: Promise<unknown>): void {
    const p: Promise<unknown> = work.catch(() => {}).finally(() => this.background.delete(p));
    this.background.add(p);
  }

  private forgetPollState(jobId: string): void {
    this.pollErrors.delete(jobId);
    this.lastCheckAt.delete(jobId);
    if (this.jobInfo.delete(jobId) && this.learning) this.timings.ended(jobId);
    this.ready.delete(jobId);
    this.lastProgressAt.delete(jobId);
    const channel = this.jobChannel.get(jobId);
    if (channel === undefined) return;
    this.jobChannel.delete(jobId);
    const members = this.channelJobs.get(channel);
    members?.delete(jobId);
    if (members?.size === 0) this.channelJobs.delete(channel);
  }

  // -------------------------------------------------------------------------
  // Talking to people
  // -------------------------------------------------------------------------

  /**
   * A progress edit if this job's and its channel's throttles allow; never
   * awaited by the poll. A job's edits are ≥ progressIntervalMs apart, and
   * further apart when its channel has many jobs (each gets its share of the
   * channel's budget), so the first jobs of a busy channel can't starve the rest.
   */
  private maybeProgress(job: Job, now: number): void {
    const channel = job.origin.channelId;
    this.jobChannel.set(job.id, channel);
    let members = this.channelJobs.get(channel);
    if (!members) {
      members = new Set();
      this.channelJobs.set(channel, members);
    }
    members.add(job.id);
    const fairShareMs = Math.ceil((members.size * this.editBudget.perMs) / this.editBudget.edits);
    const last = this.lastProgressAt.get(job.id);
    if (last !== undefined && now - last < Math.max(this.progressIntervalMs, fairShareMs)) return;
    if (this.progressing.has(job.id)) return;
    let edits = this.channelEdits.get(channel);
    if (!edits) {
      edits = new SlidingWindow(this.editBudget.edits, this.editBudget.perMs);
      this.channelEdits.set(channel, edits);
    }
    if (edits.nextSlot(now) > now) return; // the channel is busy; the next poll tries again
    edits.take(now);
    this.lastProgressAt.set(job.id, now);
    const p = this.presenter
      .progress(job)
      .then(async (patch) => {
        const origin = patch?.origin;
        if (origin) await this.repo.update(job.id, (j) => ({ ...j, origin }));
      })
      .catch((error: unknown) => this.logger.warn({ jobId: job.id, err: describeError(error, [job.origin.interactionToken]) }, 'tracker: progress edit failed'))
      .finally(() => {
        this.progressing.delete(job.id);
        this.pruneChannels(now);
      });
    this.progressing.set(job.id, p);
  }

  private pruneChannels(now: number): void {
    for (const [channel, window] of this.channelEdits) {
      window.nextSlot(now);
      if (window.empty) this.channelEdits.delete(channel);
    }
  }

  private async deliverOnce(jobId: string): Promise<Job | undefined> {
    // Never let a late progress edit land on top of the final message.
    await this.progressing.get(jobId);
    const job = await this.repo.get(jobId);
    if (!job || job.delivered || !isTerminal(job.state)) {
      if (!job || job.delivered) this.forgetJob(jobId);
      return job;
    }
    let delivered: Job;
    try {
      if (this.claimDelivery && !(await this.claimDelivery(jobId))) {
        this.logger.info({ jobId }, 'tracker: another process holds this job; it delivers it');
        this.forgetJob(jobId);
        return job;
      }
      const patch = await this.presenter.deliver(job);
      delivered = await this.repo.update(jobId, (j) => ({
        ...j,
        origin: patch.origin ?? j.origin,
        results: patch.results ?? j.results,
        delivered: patch.delivered ?? true,
      }));
    } catch (error) {
      this.retryDeliveryLater(job, error);
      return (await this.repo.get(jobId)) ?? job;
    }
    if (!delivered.delivered) {
      this.retryDeliveryLater(delivered, new Error('presenter reported the job as not delivered'));
      return delivered;
    }
    const deliveredAt = this.clock.now();
    this.forgetJob(jobId);
    this.observer.onFinished?.(delivered, { kieCompletedAt: delivered.kieCompletedAt, deliveredAt });
    return delivered;
  }

  private retryDeliveryLater(job: Job, error: unknown): void {
    const attempts = (this.deliveryAttempts.get(job.id) ?? 0) + 1;
    this.deliveryAttempts.set(job.id, attempts);
    const { baseMs, maxMs, maxAttempts } = this.deliveryRetry;
    if (attempts >= maxAttempts) {
      // Stays delivered: false in the store, so the next start tries again.
      this.logger.error({ jobId: job.id, attempts, err: describeError(error, [job.origin.interactionToken]) }, 'tracker: giving up delivering until restart');
      this.forgetJob(job.id);
      return;
    }
    const delay = backoffDelay(attempts, this.random, baseMs, maxMs);
    this.logger.warn({ jobId: job.id, attempts, retryInMs: delay, err: describeError(error, [job.origin.interactionToken]) }, 'tracker: delivery failed; will retry');
    if (this.tracked.has(job.id)) this.schedule(job.id, 'deliver', this.clock.now() + delay);
  }

  private forgetJob(jobId: string): void {
    this.tracked.delete(jobId);
    if (this.scheduled.get(jobId)?.task === 'deliver') this.scheduled.delete(jobId);
    this.deliveryAttempts.delete(jobId);
    this.forgetPollState(jobId);
  }
}

/** Time the task has been at KIE: from submission (creation for jobs that never got there). */
const startedAt = (job: Job): number => job.submittedAt ?? job.createdAt;
