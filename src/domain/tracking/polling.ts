/**
 * One poll of a running job, and what follows from the answer: the next
 * check on the schedule (../schedule.ts, with the learned window when the
 * tracker has timings), a terminal state persisted, or an error backed off.
 * Every finished task teaches the learned timings (../durations.ts), and
 * every check tells them which tasks are still running (censored
 * observations). It also answers the scheduler's question under pressure:
 * how likely a job's task finished since its last check (../pollPriority.ts).
 */
import { isProviderError, type ProviderId, type ProviderRegistry, type TaskStatus } from '../provider.js';
import { InvalidTransitionError, isTerminal, outcomeOf, providerOf, resultKindFor, transition, type Job, type JobError, type JobState } from '../job.js';
import type { JobRepository } from '../jobRepository.js';
import type { Clock } from '../ports.js';
import { describeModel, type DurationModel } from '../durationModel.js';
import type { LearnedTimings } from '../learnedTimings.js';
import { describeError, type DomainLogger } from '../logger.js';
import { pollPriority } from '../pollPriority.js';
import { pollDelay, timeoutFor, type ScheduleTuning } from '../schedule.js';
import type { Entry, PollScheduler } from './scheduler.js';

/** Hooks for metrics and the benchmark. Called synchronously; must not throw. */
export interface TrackerObserver {
  /** After every record-info request, with the job as persisted (polls counted). */
  onPoll?(job: Job): void;
  /** After a terminal job was delivered. */
  onFinished?(job: Job, times: { kieCompletedAt: number | null; deliveredAt: number }): void;
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

/** Time the task has been at KIE: from submission (creation for jobs that never got there). */
export const startedAt = (job: Job): number => job.submittedAt ?? job.createdAt;

export interface PollingDeps {
  repo: JobRepository;
  providers: ProviderRegistry;
  clock: Clock;
  logger: DomainLogger;
  observer: TrackerObserver;
  random: () => number;
  tuning: ScheduleTuning;
  /** The learned timings of a provider's jobs (KIE and APIXO each learn their own). */
  timingsFor(provider: ProviderId): LearnedTimings;
  /** Whether the timings learn (and shape the schedule); else the notes' windows. */
  learning: boolean;
  starveAfterMs: number;
  scheduler: PollScheduler;
  isTracked(jobId: string): boolean;
  untrack(jobId: string): void;
  /** Forget the job's per-poll state everywhere (it is terminal now). */
  forgetPollState(jobId: string): void;
  /** The job reached a terminal state and was persisted: tell listeners and deliver. */
  terminal(job: Job): void;
  /** A progress edit, if the throttles allow. */
  progress(job: Job, now: number): void;
  /** Work nobody awaits but idle() waits for. */
  spawn(work: Promise<unknown>): void;
}

export class JobPoller {
  private readonly pollErrors = new Map<string, number>();
  /** When each job was last checked (this process), for its poll priority. */
  private readonly lastCheckAt = new Map<string, number>();
  private readonly jobInfo = new Map<string, { startedAt: number; timings: LearnedTimings; model: () => DurationModel }>();

  constructor(private readonly d: PollingDeps) {}

  /** When the first check of a newly tracked job is due: at once if it was polled before (a restart). */
  firstPollAt(job: Job, now: number): number {
    return now + (job.polls > 0 ? 0 : this.nextPollDelay(job, now, 0));
  }

  async poll(jobId: string): Promise<void> {
    const d = this.d;
    const job = await d.repo.get(jobId);
    if (!job) {
      d.untrack(jobId);
      return;
    }
    if (job.state !== 'running' || !job.taskId) {
      // Finished elsewhere (or never started): deliver if needed, else let go.
      if (isTerminal(job.state) && !job.delivered) d.scheduler.schedule(jobId, 'deliver', d.clock.now());
      else d.untrack(jobId);
      return;
    }
    const askedAt = d.clock.now();
    const timings = this.noteJob(job);
    this.lastCheckAt.set(jobId, askedAt);
    if (d.learning) d.spawn(timings.maybeRefresh());
    let record: TaskStatus;
    try {
      const provider = d.providers.get(providerOf(job));
      if (!provider) throw new Error(`provider '${providerOf(job)}' is not configured`);
      // Its own account (KIE key): a task exists only for the key that made it.
      record = await provider.status(job.taskId, job.account !== undefined ? { account: job.account } : undefined);
    } catch (error) {
      await this.onPollError(job, error);
      return;
    }
    this.pollErrors.delete(jobId);
    const now = d.clock.now();
    const outcome = outcomeOf(record);
    if (d.learning && outcome.kind === 'running') timings.stillRunning(jobId, askedAt);
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
      const updated = await d.repo.update(jobId, (j) => ({ ...j, polls: j.polls + 1 }));
      d.observer.onPoll?.(updated);
      d.progress(updated, now);
      this.scheduleNextPoll(updated, askedAt);
    }
  }

  /** How much a poll of this job is worth now (../pollPriority.ts). */
  priority(entry: Entry, now: number): number {
    const info = this.jobInfo.get(entry.jobId);
    if (!info) return entry.urgent ? 1e6 : 0; // not polled by this process yet: by due time
    const scale = this.d.tuning.timeScale;
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
      this.d.starveAfterMs,
    );
  }

  /**
   * Remember what the poll priority needs of a job (its start and its timing model), without a store read;
   * returns the timings of its provider.
   */
  noteJob(job: Job): LearnedTimings {
    const known = this.jobInfo.get(job.id);
    if (known) return known.timings;
    const { kind, speed } = job;
    const { learning, tuning } = this.d;
    const timings = this.d.timingsFor(providerOf(job));
    this.jobInfo.set(job.id, { startedAt: startedAt(job), timings, model: () => timings.model(kind, speed) });
    // A running task is a censored observation: the learner knows it takes at least its age.
    if (learning) timings.started(job.id, kind, speed, startedAt(job), tuning.timeScale);
    return timings;
  }

  /** Forget what polling kept about the job. */
  forget(jobId: string): void {
    this.pollErrors.delete(jobId);
    this.lastCheckAt.delete(jobId);
    const info = this.jobInfo.get(jobId);
    if (!info) return;
    this.jobInfo.delete(jobId);
    if (this.d.learning) info.timings.ended(jobId);
  }

  private nextPollDelay(job: Job, now: number, consecutiveErrors: number): number {
    const window = this.d.learning ? this.d.timingsFor(providerOf(job)).model(job.kind, job.speed).window : undefined;
    return pollDelay(
      { kind: job.kind, speed: job.speed, elapsedMs: now - startedAt(job), polls: job.polls, consecutiveErrors, ...(window ? { window } : {}) },
      this.d.random,
      this.d.tuning,
    );
  }

  /**
   * Teach the timings how long a task took: from submission to KIE's
   * completeTime when that is plausible (KIE's clock may differ from ours),
   * else to when we saw it done. Real-equivalent ms.
   */
  private learnFrom(job: Job, kieCompletedAt: number | null, seenAt: number): void {
    const { learning, tuning, logger } = this.d;
    if (!learning) return;
    const timings = this.d.timingsFor(providerOf(job));
    const start = startedAt(job);
    const end = kieCompletedAt !== null && kieCompletedAt > start && kieCompletedAt <= seenAt ? kieCompletedAt : seenAt;
    const durationMs = (end - start) / tuning.timeScale;
    this.d.spawn(timings.observe(job.kind, job.speed, durationMs, end, job.id));
    logger.debug({ kind: job.kind, speed: job.speed }, `tracker timings: ${describeModel(job.kind, job.speed, timings.model(job.kind, job.speed))}`);
  }

  private timeoutMs(job: Job): number {
    return timeoutFor(job.kind, job.speed, this.d.tuning.timeScale);
  }

  /**
   * Next poll per the schedule, counted from `from` (when the last check was
   * asked, so KIE's answer time doesn't stretch every interval), never in
   * the past, and never later than the job's timeout (checked by that poll).
   */
  private scheduleNextPoll(job: Job, from: number): void {
    if (!this.d.isTracked(job.id)) return;
    const delay = this.nextPollDelay(job, from, this.pollErrors.get(job.id) ?? 0);
    const deadline = startedAt(job) + this.timeoutMs(job);
    this.d.scheduler.schedule(job.id, 'poll', Math.max(this.d.clock.now(), Math.min(from + delay, deadline)));
  }

  private async onPollError(job: Job, error: unknown): Promise<void> {
    const d = this.d;
    if (isRecordMissing(error)) {
      d.logger.warn({ jobId: job.id, taskId: job.taskId }, 'tracker: KIE has no record of the task');
      await this.finish(job.id, 'failed', { error: recordMissingError(error) });
      return;
    }
    const errors = (this.pollErrors.get(job.id) ?? 0) + 1;
    this.pollErrors.set(job.id, errors);
    const now = d.clock.now();
    d.logger.warn({ jobId: job.id, taskId: job.taskId, errors, err: describeError(error) }, 'tracker: record-info failed');
    if (now - startedAt(job) >= this.timeoutMs(job)) {
      await this.finish(job.id, 'failed', { error: timeoutError(this.timeoutMs(job)) });
      return;
    }
    const updated = await d.repo.update(job.id, (j) => ({ ...j, polls: j.polls + 1 }));
    d.observer.onPoll?.(updated);
    this.scheduleNextPoll(updated, now);
  }

  /** Persist the terminal state (counting this poll), then hand the job on (listeners, delivery). */
  private async finish(jobId: string, to: JobState, patch: Partial<Job>): Promise<void> {
    const d = this.d;
    let done: Job;
    try {
      done = await d.repo.update(jobId, (j) => transition(j, to, { ...patch, polls: j.polls + 1, finishedAt: d.clock.now() }));
    } catch (error) {
      if (!(error instanceof InvalidTransitionError)) throw error;
      d.logger.warn({ jobId, from: error.from, to }, 'tracker: job changed under us; leaving it');
      d.untrack(jobId);
      return;
    }
    d.forgetPollState(jobId);
    d.observer.onPoll?.(done);
    d.logger.info({ jobId, taskId: done.taskId, state: done.state, polls: done.polls }, 'tracker: job finished');
    d.terminal(done);
  }
}
