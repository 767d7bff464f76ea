/**
 * The tracker takes running jobs to "results shown": it asks KIE about each
 * task on the schedule in ./schedule.ts, records what it learns, and hands
 * finished jobs to the presenter — surviving restarts, because every step is
 * persisted through the JobRepository before the next one starts.
 *
 * This class is the façade and the bookkeeping of which jobs it holds; the
 * work is in three rooms under ./tracking/:
 * - scheduler.ts — when each job's next poll or delivery runs: one heap, one
 *   timer, KIE's read budget and the bound on polls in flight, and who gets
 *   the budget when more polls are due than it allows;
 * - polling.ts — one poll and what follows from the answer (next check,
 *   terminal state, error back-off), and teaching the learned timings;
 * - delivery.ts — progress edits (throttled per job and channel) and the
 *   final delivery with its retries.
 *
 * With `timings` (./durations.ts) the schedule's window comes from what the
 * bot has seen KIE take, and every finished task teaches it; without, the
 * notes' windows hold.
 *
 * Pure domain code: KIE only through the provider port, people only through
 * JobPresenter, time only through Clock.
 */
import type { ProviderId, ProviderRegistry } from './provider.js';
import { isTerminal, type Job } from './job.js';
import type { JobRepository } from './jobRepository.js';
import type { Clock, JobPresenter } from './ports.js';
import { LearnedTimings, ProviderTimings } from './durations.js';
import { describeError, silentLogger, type DomainLogger } from './logger.js';
import type { PollOrder } from './pollPriority.js';
import { DEFAULT_TUNING, type ScheduleTuning } from './schedule.js';
import { PollScheduler } from './tracking/scheduler.js';
import { JobPoller, type TrackerObserver } from './tracking/polling.js';
import { Delivery, type DeliveryRetry } from './tracking/delivery.js';

export { describeError, silentLogger, type DomainLogger } from './logger.js';
export { isRecordMissing, type TrackerObserver } from './tracking/polling.js';

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
   * finished task is recorded. One LearnedTimings serves every provider;
   * ProviderTimings keeps one per provider (the app's). Omitted: the notes'
   * fixed windows, nothing learned.
   */
  timings?: LearnedTimings | ProviderTimings;
  /**
   * Who gets the budget when more polls are due than it allows (./tracking/scheduler.ts):
   * - 'auto' (the default): due order (first-come) while the backlog is small, ranked by
   *   'likely-done' once more than `overloadAt` polls wait;
   * - 'due': always first-come (the tracker before issue 11);
   * - 'likely-done': always ranked by the chance the task finished since its last check.
   * Callback-named and starved jobs go first in every order. See bench/RESULTS.md, "Poll order under pressure".
   */
  pollOrder?: PollOrder;
  /** With 'auto': polls waiting beyond which they are ranked. Default: 4 dense intervals' worth of budget (≈ 90 at 8/s). */
  overloadAt?: number;
  /** A job unchecked this long goes before every ranked one. Default 3 min × the schedule's timeScale. */
  starveAfterMs?: number;
  /** Least time between two progress edits of one job. Default 5 s. */
  progressIntervalMs?: number;
  /** Progress edits allowed per channel per window. Default 5 per 5 s (Discord limits edits per channel). */
  channelEditBudget?: { edits: number; perMs: number };
  /** Back-off for failed deliveries. Default 5 s doubling to 5 min, 12 attempts per process. */
  deliveryRetry?: DeliveryRetry;
  /**
   * Several processes (./leases.ts): asked right before a final delivery is
   * posted; false means another live process holds the job, which then
   * delivers it, so this one lets go. A conditional write in the database,
   * so two processes never both post. Omitted: one process, always true.
   */
  claimDelivery?: (jobId: string) => Promise<boolean>;
}

const DEFAULTS = {
  maxPollsPerSecond: 8,
  starveAfterMs: 180_000,
  /** 'auto' ranks once more polls wait than the budget serves in this many dense intervals. */
  overloadIntervals: 4,
  maxConcurrentPolls: 8,
  progressIntervalMs: 5_000,
  channelEditBudget: { edits: 5, perMs: 5_000 },
  deliveryRetry: { baseMs: 5_000, maxMs: 5 * 60_000, maxAttempts: 12 },
} as const;

/** The timings each provider's jobs use: its own with ProviderTimings, the one given for all, or a never-taught default. */
function timingsLookup(timings: LearnedTimings | ProviderTimings | undefined, clock: Clock): (provider: ProviderId) => LearnedTimings {
  if (timings instanceof ProviderTimings) return (provider) => timings.for(provider);
  const one = timings ?? new LearnedTimings({ clock });
  return () => one;
}

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

export class Tracker {
  private readonly clock: Clock;
  private readonly logger: DomainLogger;
  private readonly tuning: ScheduleTuning;
  private readonly scheduler: PollScheduler;
  private readonly poller: JobPoller;
  private readonly delivery: Delivery;
  private readonly tracked = new Set<string>();
  /** Fire-and-forget work (listeners, progress, deliveries) that stop()/idle() wait for. */
  private readonly background = new Set<Promise<unknown>>();
  private readonly terminalListeners: TerminalListener[] = [];

  constructor(options: TrackerOptions) {
    const clock = options.clock;
    const logger = options.logger ?? silentLogger;
    const observer = options.observer ?? {};
    const random = options.random ?? Math.random;
    this.clock = clock;
    this.logger = logger;
    this.tuning = { ...DEFAULT_TUNING, ...options.schedule };
    const isTracked = (jobId: string): boolean => this.tracked.has(jobId);
    const maxPolls = Math.max(1, options.maxPollsPerSecond ?? DEFAULTS.maxPollsPerSecond);
    const budgetWindowMs = options.pollBudgetWindowMs ?? 1_000;
    const starveAfterMs = options.starveAfterMs ?? DEFAULTS.starveAfterMs * this.tuning.timeScale;
    this.scheduler = new PollScheduler({
      clock,
      maxPolls,
      budgetWindowMs,
      maxConcurrent: options.maxConcurrentPolls ?? DEFAULTS.maxConcurrentPolls,
      pollOrder: options.pollOrder ?? 'auto',
      overloadAt: options.overloadAt ?? (DEFAULTS.overloadIntervals * maxPolls * this.tuning.denseIntervalMs * this.tuning.timeScale) / budgetWindowMs,
      hooks: {
        poll: (jobId) => this.runPoll(jobId),
        deliver: (jobId) => this.spawn(this.deliver(jobId)),
        isTracked,
        priority: (entry, now) => this.poller.priority(entry, now),
      },
    });
    this.poller = new JobPoller({
      repo: options.repo,
      providers: options.providers,
      clock,
      logger,
      observer,
      random,
      tuning: this.tuning,
      timingsFor: timingsLookup(options.timings, clock),
      learning: options.timings !== undefined,
      starveAfterMs,
      scheduler: this.scheduler,
      isTracked,
      untrack: (jobId) => this.untrack(jobId),
      forgetPollState: (jobId) => this.forgetPollState(jobId),
      terminal: (job) => {
        this.notifyTerminal(job);
        this.spawn(this.deliver(job.id));
      },
      progress: (job, now) => this.delivery.progress(job, now),
      spawn: (work) => this.spawn(work),
    });
    this.delivery = new Delivery({
      repo: options.repo,
      presenter: options.presenter,
      clock,
      logger,
      observer,
      random,
      progressIntervalMs: options.progressIntervalMs ?? DEFAULTS.progressIntervalMs,
      editBudget: options.channelEditBudget ?? DEFAULTS.channelEditBudget,
      retry: options.deliveryRetry ?? DEFAULTS.deliveryRetry,
      claimDelivery: options.claimDelivery ?? null,
      isTracked,
      scheduleDelivery: (jobId, at) => this.scheduler.schedule(jobId, 'deliver', at),
      forgetJob: (jobId) => this.forgetJob(jobId),
    });
  }

  /** Change the status-read budget (a fleet's share of it, src/domain/pollShare.ts); takes effect at the next poll. */
  setMaxPollsPerSecond(perSecond: number): void {
    this.scheduler.setMaxPolls(perSecond);
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
      this.poller.noteJob(job);
      if (this.scheduler.entry(job.id) || this.scheduler.isPolling(job.id)) return;
      this.scheduler.schedule(job.id, 'poll', this.poller.firstPollAt(job, this.clock.now()));
    } else if (isTerminal(job.state) && !job.delivered) {
      this.tracked.add(job.id);
      if (!this.delivery.running(job.id)) this.scheduler.schedule(job.id, 'deliver', this.clock.now());
    } else {
      this.logger.debug({ jobId: job.id, state: job.state }, 'tracker: nothing to do for this job');
    }
  }

  /** Stop working on a job (pending timers are dropped; a poll in flight finishes but is not followed up). */
  untrack(jobId: string): void {
    this.tracked.delete(jobId);
    this.scheduler.cancel(jobId);
    this.forgetPollState(jobId);
    this.delivery.forgetAttempts(jobId);
  }

  /** Whether this tracker works on the job (with several processes: whether this one holds it). */
  isTracking(jobId: string): boolean {
    return this.tracked.has(jobId);
  }

  /** Poll a tracked job as soon as the budget allows (a callback said it changed). */
  pollSoon(jobId: string): void {
    if (this.tracked.has(jobId)) this.scheduler.pollSoon(jobId);
  }

  /**
   * Show a terminal job's final state now, waiting for any delivery of it
   * already under way. On failure it is retried later with back-off (and
   * after a restart, since it stays delivered: false). Resolves with the job
   * as stored afterwards.
   */
  async deliver(jobId: string): Promise<Job | undefined> {
    const running = this.delivery.running(jobId);
    if (running) return running;
    this.tracked.add(jobId);
    return this.delivery.start(jobId);
  }

  start(): void {
    this.scheduler.start();
  }

  /** Clear the timer and wait for work in flight. Scheduled work stays in memory; start() resumes it. */
  async stop(): Promise<void> {
    this.scheduler.stop();
    await this.idle();
  }

  /** Resolves once no poll, delivery, progress edit or listener is running. */
  async idle(): Promise<void> {
    for (;;) {
      const work = [...this.scheduler.inFlight(), ...this.delivery.inFlight(), ...this.background];
      if (work.length === 0) return;
      await Promise.allSettled(work);
    }
  }

  /** What the tracker holds, for tests and health output. */
  stats(): { tracked: number; scheduled: number; polling: number; delivering: number } {
    return { tracked: this.tracked.size, ...this.scheduler.stats(), delivering: this.delivery.size };
  }

  /** When the job's next poll or delivery is due, if any. */
  dueAt(jobId: string): number | null {
    return this.scheduler.entry(jobId)?.dueAt ?? null;
  }

  /** One poll; a crash (a bug or a store failure) is logged and the job tried again later rather than lost. */
  private runPoll(jobId: string): Promise<void> {
    return this.poller.poll(jobId).catch((error: unknown) => {
      this.logger.error({ jobId, err: describeError(error) }, 'tracker: poll crashed');
      if (this.tracked.has(jobId)) this.scheduler.schedule(jobId, 'poll', this.clock.now() + this.tuning.errorMaxMs);
    });
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
    this.poller.forget(jobId);
    this.scheduler.unready(jobId);
    this.delivery.forgetProgress(jobId);
  }

  private forgetJob(jobId: string): void {
    this.tracked.delete(jobId);
    this.scheduler.cancelDelivery(jobId);
    this.delivery.forgetAttempts(jobId);
    this.forgetPollState(jobId);
  }
}
