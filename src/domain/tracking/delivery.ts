/**
 * The tracker talking to people: progress edits while a job runs, and the
 * final delivery once it is terminal.
 *
 * Discord is protected: progress edits are throttled per job (≥ 5 s apart)
 * and per channel (a few per 5 s, each job its fair share, ../slidingWindow.ts),
 * and a final delivery waits for any progress edit of that job still in
 * flight, so a late "generating…" can never overwrite the result. A failed
 * delivery is retried with back-off (../backoff.ts); after the last attempt
 * the job stays delivered: false in the store, so the next start tries again.
 */
import { isTerminal, type Job } from '../job.js';
import type { JobRepository } from '../jobs.js';
import type { Clock, JobPresenter } from '../ports.js';
import { backoffDelay } from '../backoff.js';
import { describeError, type DomainLogger } from '../logger.js';
import { SlidingWindow } from '../slidingWindow.js';
import type { TrackerObserver } from './polling.js';

export interface DeliveryRetry {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

export interface DeliveryDeps {
  repo: JobRepository;
  presenter: JobPresenter;
  clock: Clock;
  logger: DomainLogger;
  observer: TrackerObserver;
  random: () => number;
  progressIntervalMs: number;
  editBudget: { edits: number; perMs: number };
  retry: DeliveryRetry;
  claimDelivery: ((jobId: string) => Promise<boolean>) | null;
  isTracked(jobId: string): boolean;
  scheduleDelivery(jobId: string, at: number): void;
  /** The tracker is done with the job (delivered, handed to another process, or given up until restart). */
  forgetJob(jobId: string): void;
}

export class Delivery {
  private readonly delivering = new Map<string, Promise<Job | undefined>>();
  private readonly progressing = new Map<string, Promise<void>>();
  private readonly attempts = new Map<string, number>();
  private readonly lastProgressAt = new Map<string, number>();
  private readonly channelEdits = new Map<string, SlidingWindow>();
  /** Jobs with progress edits per channel, for each job's fair share of the channel's edit budget. */
  private readonly channelJobs = new Map<string, Set<string>>();
  private readonly jobChannel = new Map<string, string>();

  constructor(private readonly d: DeliveryDeps) {}

  /** The delivery of this job under way, if any. */
  running(jobId: string): Promise<Job | undefined> | undefined {
    return this.delivering.get(jobId);
  }

  /** Deliver now (callers check `running` first). */
  start(jobId: string): Promise<Job | undefined> {
    const p = this.deliverOnce(jobId).finally(() => this.delivering.delete(jobId));
    this.delivering.set(jobId, p);
    return p;
  }

  inFlight(): Promise<unknown>[] {
    return [...this.delivering.values(), ...this.progressing.values()];
  }

  get size(): number {
    return this.delivering.size;
  }

  /** Forget the job's retry count. */
  forgetAttempts(jobId: string): void {
    this.attempts.delete(jobId);
  }

  /** Forget the job's progress throttling (it is terminal or no longer ours). */
  forgetProgress(jobId: string): void {
    this.lastProgressAt.delete(jobId);
    const channel = this.jobChannel.get(jobId);
    if (channel === undefined) return;
    this.jobChannel.delete(jobId);
    const members = this.channelJobs.get(channel);
    members?.delete(jobId);
    if (members?.size === 0) this.channelJobs.delete(channel);
  }

  /**
   * A progress edit if this job's and its channel's throttles allow; never
   * awaited by the poll. A job's edits are ≥ progressIntervalMs apart, and
   * further apart when its channel has many jobs (each gets its share of the
   * channel's budget), so the first jobs of a busy channel can't starve the rest.
   */
  progress(job: Job, now: number): void {
    const { editBudget } = this.d;
    const channel = job.origin.channelId;
    this.jobChannel.set(job.id, channel);
    let members = this.channelJobs.get(channel);
    if (!members) {
      members = new Set();
      this.channelJobs.set(channel, members);
    }
    members.add(job.id);
    const fairShareMs = Math.ceil((members.size * editBudget.perMs) / editBudget.edits);
    const last = this.lastProgressAt.get(job.id);
    if (last !== undefined && now - last < Math.max(this.d.progressIntervalMs, fairShareMs)) return;
    if (this.progressing.has(job.id)) return;
    let edits = this.channelEdits.get(channel);
    if (!edits) {
      edits = new SlidingWindow({ max: editBudget.edits, windowMs: editBudget.perMs });
      this.channelEdits.set(channel, edits);
    }
    if (!edits.tryTake(now)) return; // the channel is busy; the next poll tries again
    this.lastProgressAt.set(job.id, now);
    const p = this.d.presenter
      .progress(job)
      .then(async (patch) => {
        const origin = patch?.origin;
        if (origin) await this.d.repo.update(job.id, (j) => ({ ...j, origin }));
      })
      .catch((error: unknown) =>
        this.d.logger.warn({ jobId: job.id, err: describeError(error, [job.origin.interactionToken]) }, 'tracker: progress edit failed'),
      )
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
    const d = this.d;
    // Never let a late progress edit land on top of the final message.
    await this.progressing.get(jobId);
    const job = await d.repo.get(jobId);
    if (!job || job.delivered || !isTerminal(job.state)) {
      if (!job || job.delivered) d.forgetJob(jobId);
      return job;
    }
    let delivered: Job;
    try {
      if (d.claimDelivery && !(await d.claimDelivery(jobId))) {
        d.logger.info({ jobId }, 'tracker: another process holds this job; it delivers it');
        d.forgetJob(jobId);
        return job;
      }
      const patch = await d.presenter.deliver(job);
      delivered = await d.repo.update(jobId, (j) => ({
        ...j,
        origin: patch.origin ?? j.origin,
        results: patch.results ?? j.results,
        delivered: patch.delivered ?? true,
      }));
    } catch (error) {
      this.retryLater(job, error);
      return (await d.repo.get(jobId)) ?? job;
    }
    if (!delivered.delivered) {
      this.retryLater(delivered, new Error('presenter reported the job as not delivered'));
      return delivered;
    }
    const deliveredAt = d.clock.now();
    d.forgetJob(jobId);
    d.observer.onFinished?.(delivered, { kieCompletedAt: delivered.kieCompletedAt, deliveredAt });
    return delivered;
  }

  private retryLater(job: Job, error: unknown): void {
    const d = this.d;
    const attempts = (this.attempts.get(job.id) ?? 0) + 1;
    this.attempts.set(job.id, attempts);
    const { baseMs, maxMs, maxAttempts } = d.retry;
    const err = describeError(error, [job.origin.interactionToken]);
    if (attempts >= maxAttempts) {
      // Stays delivered: false in the store, so the next start tries again.
      d.logger.error({ jobId: job.id, attempts, err }, 'tracker: giving up delivering until restart');
      d.forgetJob(job.id);
      return;
    }
    const delay = backoffDelay(attempts, { baseMs, maxMs, jitter: 'equal' }, d.random);
    d.logger.warn({ jobId: job.id, attempts, retryInMs: delay, err }, 'tracker: delivery failed; will retry');
    if (d.isTracked(job.id)) d.scheduleDelivery(job.id, d.clock.now() + delay);
  }
}
