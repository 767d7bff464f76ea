/**
 * The job service: the one way a job enters the system, and the code that
 * puts jobs back on their feet after a restart.
 *
 * Submission order is fixed, because each step guards against a crash in
 * the next:
 *
 *   admission.admit → persist 'pending' → create the task at KIE →
 *   persist taskId + 'running' → admission.record → tracker.track
 *
 * A job is on disk before KIE hears of it, so a crash mid-call leaves a
 * 'pending' job without a taskId. On restart such a job is failed as
 * 'interrupted' and never sent again: KIE may already have it, and a second
 * create would charge twice.
 *
 * When a job ends (here, or in the tracker through its onTerminal hook) the
 * service tells admission, which may hand back queued jobs of that channel
 * to start now.
 */
import type { ImageProvider, ProviderRegistry } from './provider.js';
import { accountRefusal } from './accounts.js';
import { InteractionTakenError, UserError } from './errors.js';
import { resumeJobs } from './resume.js';
import { createWithAccount, failOverCreate, matchRevealed, type FailoverDeps } from './failover.js';
import {
  createOutcomeUnknown,
  createSentMark,
  CreateSentElsewhereError,
  submitErrorOf,
  type BatchHooks,
  type JobServiceDeps,
  type NewJob,
  type ResumeSummary,
  type SubmitHooks,
  type SubmitResult,
} from './submission.js';
import {
  InvalidTransitionError,
  newJob,
  newJobId,
  providerOf,
  specOf,
  transition,
  type Job,
  type JobError,
  type JobOrigin,
} from './job.js';
import { JobNotFoundError, type JobRepository } from './jobRepository.js';
import { openAdmission, type Admission, type AdmissionDecision, type Clock, type JobPresenter } from './ports.js';

export * from './submission.js';
import { describeError, silentLogger, type DomainLogger, type Tracker } from './tracker.js';

export class JobService {
  private readonly repo: JobRepository;
  private readonly providers: ProviderRegistry;
  private readonly tracker: Tracker;
  private readonly presenter: JobPresenter;
  private readonly admission: Admission;
  private readonly clock: Clock;
  private readonly logger: DomainLogger;
  private readonly random: () => number;
  private readonly callBackUrl: string | undefined;
  private readonly failover: (job: Job) => Promise<boolean>;
  private readonly onCreated: ((job: Job) => void) | undefined;
  private readonly unsubscribe: () => void;
  private readonly recovery: FailoverDeps & { repo: JobRepository };
  /** KIE creates under way (sent, answer not yet recorded), for a graceful shutdown. */
  private readonly sending = new Set<Promise<unknown>>();

  constructor(deps: JobServiceDeps) {
    this.repo = deps.repo;
    this.providers = deps.providers;
    this.tracker = deps.tracker;
    this.presenter = deps.presenter;
    this.admission = deps.admission ?? openAdmission;
    this.clock = deps.clock;
    this.logger = deps.logger ?? silentLogger;
    this.random = deps.random ?? Math.random;
    this.callBackUrl = deps.callBackUrl;
    this.failover = deps.failover ?? (async () => false);
    this.onCreated = deps.onCreated;
    this.recovery = { repo: this.repo, providers: this.providers, failover: this.failover, logger: this.logger, callBackUrl: this.callBackUrl };
    this.unsubscribe = this.tracker.onTerminal((job) => this.afterTerminal(job));
  }

  /** The provider a job names; a job of a provider no longer configured fails with a clear message. */
  private providerFor(job: Job): ImageProvider {
    const provider = this.providers.get(providerOf(job));
    if (!provider) throw new UserError(`The image service this job belongs to (${providerOf(job)}) is not configured any more.`);
    return provider;
  }

  /** Detach from the tracker (tests that build several services over one tracker). */
  dispose(): void {
    this.unsubscribe();
  }

  /**
   * `hooks.onAdmitted` runs once team policy has admitted (or queued) the
   * job and before it is stored or sent: the interaction layer acknowledges
   * there, so a refusal can still be private, and returns where the job's
   * message lives. If it fails the job goes on (delivery falls back to a new
   * message).
   */
  async submit(draft: NewJob, hooks: SubmitHooks = {}): Promise<SubmitResult> {
    const candidate = this.candidate(draft);
    const refusal = await this.refusalOf(candidate);
    if (refusal) return { kind: 'rejected', reason: refusal };
    const decision = await this.admission.admit(candidate);
    if (decision.verdict === 'reject') return { kind: 'rejected', reason: decision.reason };
    return this.start(await this.acknowledge(candidate, hooks), decision);
  }

  /**
   * One user's batch in one channel, admitted all or nothing (Admission.admitBatch), then each job
   * stored and sent (or queued) as submit() does; `hooks.onAdmitted` returns each job's message.
   * A refusal is one 'rejected' result for the whole batch: nothing was written or sent.
   */
  async submitBatch(drafts: readonly NewJob[], hooks: BatchHooks = {}): Promise<SubmitResult[]> {
    const candidates = drafts.map((d) => this.candidate(d));
    for (const candidate of candidates) {
      const refusal = await this.refusalOf(candidate);
      if (refusal) return [{ kind: 'rejected', reason: refusal }];
    }
    const decision = await this.admission.admitBatch(candidates);
    if (decision.verdict === 'reject') return [{ kind: 'rejected', reason: decision.reason }];
    let origins: Array<Partial<JobOrigin> | void> = [];
    try {
      origins = (await hooks.onAdmitted?.(candidates)) ?? [];
    } catch (error) {
      this.logger.warn({ jobs: candidates.length, err: describeError(error) }, 'service: acknowledging the batch failed; going on');
    }
    const results: SubmitResult[] = [];
    for (const [i, candidate] of candidates.entries()) {
      const origin = origins[i];
      const placed = origin ? { ...candidate, origin: { ...candidate.origin, ...origin } } : candidate;
      try {
        results.push(await this.start(placed, decision.decisions[i]!));
      } catch (error) {
        // One job's store or send failing must not strand the rest of the batch.
        this.logger.error({ jobId: candidate.id, err: describeError(error) }, 'service: could not start a job of a batch');
        results.push({ kind: 'failed', job: placed });
      }
    }
    return results;
  }

  private candidate(draft: NewJob): Job {
    const now = this.clock.now();
    const { id, ...fields } = draft;
    return newJob(fields, id ?? newJobId(now, this.random), 'pending', now);
  }

  /**
   * The provider's own validation first: a request it would refuse is refused privately, before
   * admission counts it. Several accounts: the one it must use (pinned, or its parent's) is out of
   * rotation, or none is usable: refused, nothing sent.
   */
  private async refusalOf(candidate: Job): Promise<string | null> {
    const provider = this.providers.get(providerOf(candidate));
    if (!provider) return `The image service ${providerOf(candidate)} is not configured.`;
    return provider.check(specOf(candidate))?.userMessage ?? (await accountRefusal(candidate, provider));
  }

  /** An admitted job: stored as queued (and shown so), or stored as pending and sent. */
  private async start(placed: Job, decision: Exclude<AdmissionDecision, { verdict: 'reject' }>): Promise<SubmitResult> {
    if (decision.verdict === 'queue') {
      const queued = await this.repo.create({ ...placed, state: 'queued' });
      return { kind: 'queued', position: decision.position, job: await this.showProgress(queued) };
    }
    return this.send(await this.repo.create(placed));
  }

  private async acknowledge(job: Job, hooks: SubmitHooks): Promise<Job> {
    if (!hooks.onAdmitted) return job;
    try {
      const origin = await hooks.onAdmitted(job);
      return origin ? { ...job, origin: { ...job.origin, ...origin } } : job;
    } catch (error) {
      if (error instanceof InteractionTakenError) {
        // Another process owns this interaction and sends the job itself: give back what admission reserved, send nothing.
        this.logger.warn({ jobId: job.id }, 'service: the interaction was acknowledged elsewhere; not sending the job');
        await this.afterTerminal(transition({ ...job, state: 'queued' }, 'cancelled', { finishedAt: this.clock.now() }));
        throw error;
      }
      this.logger.warn({ jobId: job.id, err: describeError(error) }, 'service: acknowledging the job failed; going on');
      return job;
    }
  }

  /**
   * Start a job admission released from the queue: queued → pending → KIE.
   * Null when it is no longer queued (cancelled meanwhile, or already started).
   */
  async startQueued(job: Job): Promise<SubmitResult | null> {
    let pending: Job;
    try {
      pending = await this.repo.update(job.id, (j) => transition(j, 'pending'));
    } catch (error) {
      if (!(error instanceof InvalidTransitionError || error instanceof JobNotFoundError)) throw error;
      this.logger.info({ jobId: job.id }, 'service: released job is no longer queued');
      return null;
    }
    const result = await this.send(pending);
    if (result.kind === 'running') return { kind: 'running', job: await this.showProgress(result.job) };
    return result;
  }

  /** The author cancels their queued job. Throws UserError for anyone else or any other state. */
  async cancel(jobId: string, userId: string): Promise<Job> {
    const job = await this.repo.get(jobId);
    if (!job) throw new UserError('That job no longer exists.');
    if (job.origin.userId !== userId) throw new UserError('Only the person who asked for this can cancel it.');
    let cancelled: Job;
    try {
      cancelled = await this.repo.update(jobId, (j) => transition(j, 'cancelled', { finishedAt: this.clock.now() }));
    } catch (error) {
      if (!(error instanceof InvalidTransitionError)) throw error;
      throw new UserError(
        error.from === 'cancelled' ? 'That job is already cancelled.' : 'That job has already started, so it can no longer be cancelled.',
      );
    }
    await this.afterTerminal(cancelled);
    return (await this.tracker.deliver(cancelled.id)) ?? cancelled;
  }

  /**
   * Put every unfinished job (or the given ones) back to work after a start.
   * Call before tracker.start(). Never re-sends anything that may have reached
   * the provider; sends pending jobs whose create never left (resume.ts).
   */
  resume(only?: readonly Job[]): Promise<ResumeSummary> {
    return resumeJobs(
      {
        repo: this.repo,
        tracker: this.tracker,
        clock: this.clock,
        logger: this.logger,
        afterTerminal: (job) => this.afterTerminal(job),
        ...(this.admission.drained ? { drained: (job: Job) => this.admission.drained!(job) } : {}),
        startQueued: async (job) => (await this.startQueued(job)) !== null,
        sendPending: async (job) => (await this.send(job)).kind === 'running',
      },
      only,
    );
  }

  /** Resolves when every KIE create under way now has been answered and recorded. */
  sendsInFlight(): Promise<void> {
    return Promise.allSettled([...this.sending]).then(() => undefined);
  }

  /** A persisted 'pending' job goes to KIE; see the module comment for the order. */
  private send(pending: Job): Promise<SubmitResult> {
    const p = this.sendNow(pending);
    this.sending.add(p);
    void p.finally(() => this.sending.delete(p)).catch(() => {});
    return p;
  }

  private async sendNow(pending: Job): Promise<SubmitResult> {
    let taskId: string;
    // Written right before the request leaves: a resumer can tell "never sent" from "maybe sent".
    const onSending = createSentMark(this.repo, this.clock, pending.id);
    try {
      ({ taskId, pending } = await createWithAccount(this.recovery, this.providerFor(pending), pending, onSending));
    } catch (error) {
      if (error instanceof CreateSentElsewhereError) throw error;
      if (createOutcomeUnknown(error)) return { kind: 'unknown', job: await this.markOutcomeUnknown(pending, error) };
      const moved = await this.failOver(pending, error, onSending);
      if (!moved) return { kind: 'failed', job: await this.failSubmission(pending, error) };
      ({ taskId, pending } = moved);
    }
    let running: Job;
    try {
      running = await this.repo.update(pending.id, (j) =>
        transition(j, 'running', { taskId, submittedAt: this.clock.now() }),
      );
    } catch (error) {
      // The task exists at KIE but we could not record it; say which, so it can be found.
      this.logger.error({ jobId: pending.id, taskId, err: describeError(error) }, 'service: KIE accepted a task we could not record');
      throw error;
    }
    await this.recordSafely(running);
    this.onCreated?.(running);
    this.tracker.track(running);
    return { kind: 'running', job: running };
  }

  /** See failOverCreate: the job then names the other provider, and its message says why. */
  private async failOver(pending: Job, error: unknown, onSending: () => Promise<void>): Promise<{ taskId: string; pending: Job } | null> {
    const moved = await failOverCreate(this.recovery, pending, error, onSending);
    if (!moved) return null;
    // The other provider's account is its default one: the job's KIE key means nothing there.
    const job = await this.repo.update(pending.id, ({ account: _account, ...j }) => ({ ...j, provider: moved.provider, failover: { from: moved.from, reason: moved.reason } }));
    return { taskId: moved.taskId, pending: job };
  }

  private async failSubmission(pending: Job, error: unknown): Promise<Job> {
    const jobError = submitErrorOf(error);
    this.logger.warn({ jobId: pending.id, code: jobError.code, err: describeError(error) }, 'service: KIE refused the task');
    const failed = await this.repo.update(pending.id, (j) =>
      transition(j, 'failed', { error: jobError, finishedAt: this.clock.now() }),
    );
    await this.afterTerminal(failed);
    return (await this.tracker.deliver(failed.id)) ?? failed;
  }

  /**
   * The create went out but its answer did not come back. KIE may have made
   * the task, so the job is not failed (failed jobs may not count, and carry
   * a free Retry) but 'unknown': counted, shown, and revealed later if KIE
   * reports a task that matches it (revealTask).
   */
  private async markOutcomeUnknown(pending: Job, error: unknown): Promise<Job> {
    const jobError: JobError = { code: 'outcome_unknown', message: submitErrorOf(error).message };
    this.logger.warn({ jobId: pending.id, err: describeError(error) }, 'service: KIE may have the task but its answer was lost');
    const unknown = await this.repo.update(pending.id, (j) => transition(j, 'unknown', { error: jobError, finishedAt: this.clock.now() }));
    await this.afterTerminal(unknown);
    return (await this.tracker.deliver(unknown.id)) ?? unknown;
  }

  /**
   * A task KIE told us about that no job has may be that of a job whose create answer was lost
   * (matchRevealed): the one match becomes 'running' with that task and is tracked to delivery.
   */
  async revealTask(taskId: string, candidateIds: readonly string[]): Promise<Job | null> {
    const job = await matchRevealed(this.recovery, taskId, candidateIds);
    if (!job) return null;
    const running = await this.repo.update(job.id, (j) =>
      transition(j, 'running', { taskId, error: null, delivered: false, finishedAt: null, submittedAt: j.submittedAt ?? j.createdAt }),
    );
    this.logger.info({ jobId: job.id, taskId }, 'service: found the task of a job whose outcome was unknown');
    await this.recordSafely(running);
    this.tracker.track(running);
    return running;
  }

  /** A job ended: book it, free its slot, and start whatever admission releases. */
  private async afterTerminal(job: Job): Promise<void> {
    await this.recordSafely(job);
    let released: Job[] = [];
    try {
      released = await this.admission.release(job);
    } catch (error) {
      this.logger.error({ jobId: job.id, err: describeError(error) }, 'service: admission.release failed');
    }
    for (const next of released) {
      try {
        await this.startQueued(next);
      } catch (error) {
        this.logger.error({ jobId: next.id, err: describeError(error) }, 'service: could not start a released job');
      }
    }
  }

  /** Ledger bookkeeping must never stop a job that KIE already has. */
  private async recordSafely(job: Job): Promise<void> {
    try {
      await this.admission.record(job);
    } catch (error) {
      this.logger.error({ jobId: job.id, state: job.state, err: describeError(error) }, 'service: admission.record failed');
    }
  }

  /** Best-effort status edit (queued position, started); keeps what the presenter learned. */
  private async showProgress(job: Job): Promise<Job> {
    try {
      const patch = await this.presenter.progress(job);
      const origin = patch?.origin;
      return origin ? await this.repo.update(job.id, (j) => ({ ...j, origin })) : job;
    } catch (error) {
      this.logger.warn({ jobId: job.id, err: describeError(error, [job.origin.interactionToken]) }, 'service: progress edit failed');
      return job;
    }
  }
}
