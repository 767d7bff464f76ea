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
import { FAILOVER_CATEGORIES, isProviderError, type ImageProvider, type ProviderRegistry } from './provider.js';
import { accountRefusal, createOnAccount } from './accounts.js';
import { InteractionTakenError, UserError } from './errors.js';
import {
  InvalidTransitionError,
  isFollowUpSpec,
  isTerminal,
  newJob,
  newJobId,
  providerOf,
  specOf,
  transition,
  type JobDraftFields,
  type Job,
  type JobError,
  type JobOrigin,
  type JobSpec,
} from './job.js';
import { JobNotFoundError, type JobRepository } from './jobs.js';
import { openAdmission, type Admission, type Clock, type JobPresenter } from './ports.js';
import { describeError, silentLogger, type DomainLogger, type Tracker } from './tracker.js';

/** A job as a command or button builds it: the service fills in the rest. `id` may be chosen up front (button claims). */
export type NewJob = JobDraftFields & { id?: string };

export type SubmitResult =
  /** Team policy said no; nothing was persisted or sent. */
  | { kind: 'rejected'; reason: string }
  /** Waiting in the channel's queue at `position` (1 = next). */
  | { kind: 'queued'; position: number; job: Job }
  /** KIE accepted it; the tracker follows it from here. */
  | { kind: 'running'; job: Job }
  /** KIE refused it; the failure has been delivered (or will be, with retries). */
  | { kind: 'failed'; job: Job }
  /** Sent, but the answer was lost: KIE may have it (and charge for it); counted, shown, no free retry. */
  | { kind: 'unknown'; job: Job };

export interface SubmitHooks {
  onAdmitted?: (job: Job) => Promise<Partial<JobOrigin> | void>;
}

export interface JobServiceDeps {
  repo: JobRepository;
  /** The configured image providers; a job goes to the one it names. */
  providers: ProviderRegistry;
  tracker: Tracker;
  presenter: JobPresenter;
  admission?: Admission;
  clock: Clock;
  logger?: DomainLogger;
  /** For job ids. */
  random?: () => number;
  /**
   * Whether a job's server lets a create fail over to another configured
   * provider when its own is unavailable (answered maintenance/5xx, or
   * unreachable: provably nothing created). Default: never.
   */
  failover?: (job: Job) => Promise<boolean>;
  /** Where KIE should POST task callbacks (see src/providers/kie/callbackServer.ts); unset = polling only. */
  callBackUrl?: string;
  /** A provider accepted a job's create (its credits are spent): for metrics. */
  onCreated?: (job: Job) => void;
}

/** What resume() found and did. */
export interface ResumeSummary {
  /** Running jobs handed back to the tracker. */
  polling: number;
  /** Pending jobs without a taskId, failed as 'interrupted'. */
  interrupted: number;
  /** Terminal jobs whose final state was not yet shown; delivered again. */
  redelivering: number;
  /** Queued jobs, left to admission's queue. */
  queued: number;
}

export const INTERRUPTED_ERROR: JobError = {
  code: 'interrupted',
  message: 'The bot restarted while sending this to KIE; press 🔄 to try again.',
};

const GENERIC_SUBMIT_ERROR = 'Something went wrong while sending this to KIE.';

/**
 * The provider call for a stored spec. `callbackUrl` is added at send time
 * (not stored), so it follows the bot's current address.
 */
export function createTask(provider: ImageProvider, spec: JobSpec, callbackUrl?: string, account?: string): Promise<{ taskId: string }> {
  const opts = { ...(callbackUrl && provider.capabilities.callbacks ? { callbackUrl } : {}), ...(account !== undefined ? { account } : {}) };
  return isFollowUpSpec(spec) ? provider.followUp(spec, opts) : provider.create(spec, opts);
}

/** The user-facing error for a failed create: the provider's own sentence when it is a ProviderError. */
export function submitErrorOf(error: unknown): JobError {
  if (isProviderError(error)) return { code: error.providerCode, message: error.userMessage };
  if (error instanceof UserError) return { code: 'refused', message: error.message };
  return { code: 'error', message: GENERIC_SUBMIT_ERROR };
}

/** Whether a failed create may nevertheless have made (and charged for) a task. */
export const createOutcomeUnknown = (error: unknown): boolean => isProviderError(error) && error.maybeCreated;

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
    const now = this.clock.now();
    const { id, ...fields } = draft;
    const candidate = newJob(fields, id ?? newJobId(now, this.random), 'pending', now);
    // The provider's own validation first: a request it would refuse is refused privately, before admission counts it.
    const provider = this.providers.get(providerOf(candidate));
    if (!provider) return { kind: 'rejected', reason: `The image service ${providerOf(candidate)} is not configured.` };
    const refusal = provider.check(specOf(candidate));
    if (refusal) return { kind: 'rejected', reason: refusal.userMessage };
    // Several accounts: the one it must use (pinned, or its parent's) is out of rotation, or none is usable: refused, nothing sent.
    const noAccount = await accountRefusal(candidate, provider);
    if (noAccount) return { kind: 'rejected', reason: noAccount };
    const decision = await this.admission.admit(candidate);
    if (decision.verdict === 'reject') return { kind: 'rejected', reason: decision.reason };
    const placed = await this.acknowledge(candidate, hooks);
    switch (decision.verdict) {
      case 'queue': {
        const queued = await this.repo.create({ ...placed, state: 'queued' });
        return { kind: 'queued', position: decision.position, job: await this.showProgress(queued) };
      }
      case 'run':
        return this.send(await this.repo.create(placed));
    }
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
   * Call before tracker.start(). Never re-sends anything to KIE.
   */
  async resume(only?: readonly Job[]): Promise<ResumeSummary> {
    const summary: ResumeSummary = { polling: 0, interrupted: 0, redelivering: 0, queued: 0 };
    // Several processes: only the jobs whose leases this one just took (src/domain/leases.ts).
    for (const job of only ?? (await this.repo.listActive())) {
      try {
        await this.resumeOne(job, summary);
      } catch (error) {
        this.logger.error({ jobId: job.id, state: job.state, err: describeError(error) }, 'service: could not resume job');
      }
    }
    this.logger.info({ ...summary }, 'service: resumed jobs');
    return summary;
  }

  private async resumeOne(job: Job, summary: ResumeSummary): Promise<void> {
    switch (job.state) {
      case 'queued':
        // Taken out of the queue to start by a process that died before starting it: nobody else will.
        // (startQueued's queued → pending write is atomic, so a live starter and this one never both send.)
        if (await this.admission.drained?.(job)) {
          if (await this.startQueued(job)) summary.polling++;
          return;
        }
        summary.queued++;
        return;
      case 'pending': {
        if (job.taskId) {
          // KIE accepted it but the 'running' write was lost: follow it.
          const running = await this.repo.update(job.id, (j) =>
            transition(j, 'running', { submittedAt: j.submittedAt ?? j.createdAt }),
          );
          this.tracker.track(running);
          summary.polling++;
          return;
        }
        const failed = await this.repo.update(job.id, (j) =>
          transition(j, 'failed', { error: INTERRUPTED_ERROR, finishedAt: this.clock.now() }),
        );
        this.logger.warn({ jobId: job.id }, 'service: job was interrupted while being sent to KIE; not re-sending');
        summary.interrupted++;
        await this.afterTerminal(failed);
        this.tracker.track(failed);
        return;
      }
      case 'running':
        this.tracker.track(job);
        summary.polling++;
        return;
      default:
        if (isTerminal(job.state) && !job.delivered) {
          this.tracker.track(job);
          summary.redelivering++;
        }
    }
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
    try {
      ({ taskId, pending } = await this.createWithAccount(pending));
    } catch (error) {
      if (createOutcomeUnknown(error)) return { kind: 'unknown', job: await this.markOutcomeUnknown(pending, error) };
      const moved = await this.failOver(pending, error);
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

  /** The create on the job's account (src/domain/accounts.ts: chosen and recorded first; a free choice moves on after a 401/402). */
  private createWithAccount(pending: Job): Promise<{ taskId: string; pending: Job }> {
    const provider = this.providerFor(pending);
    return createOnAccount(this.repo, provider, pending, (job, account) => createTask(provider, specOf(job), this.callBackUrl, account), (account, category) =>
      this.logger.warn({ jobId: pending.id, account, category }, 'service: the account refused the create; trying another'),
    );
  }

  /**
   * A create (never a follow-up: its result lives at one provider) that its
   * provider provably did not take (FAILOVER_CATEGORIES), on a server that
   * allows it, goes to the next configured provider that accepts the
   * request. The job then names that provider, and its message says why.
   */
  private async failOver(pending: Job, error: unknown): Promise<{ taskId: string; pending: Job } | null> {
    const spec = specOf(pending);
    if (isFollowUpSpec(spec) || !isProviderError(error) || !FAILOVER_CATEGORIES.has(error.category)) return null;
    let allowed = false;
    try {
      allowed = await this.failover(pending);
    } catch (e) {
      this.logger.warn({ jobId: pending.id, err: describeError(e) }, 'service: could not read the failover setting; not failing over');
    }
    if (!allowed) return null;
    const from = providerOf(pending);
    for (const id of this.providers.ids()) {
      const other = this.providers.get(id);
      if (id === from || !other || other.check(spec) !== null) continue;
      let taskId: string;
      try {
        ({ taskId } = await createTask(other, spec, this.callBackUrl));
      } catch (e) {
        this.logger.warn({ jobId: pending.id, provider: id, err: describeError(e) }, 'service: failover create failed too');
        if (isProviderError(e) && FAILOVER_CATEGORIES.has(e.category)) continue;
        return null;
      }
      this.logger.warn({ jobId: pending.id, from, to: id, category: error.category }, 'service: create failed over to another provider');
      // The other provider's account is its default one: the job's KIE key means nothing there.
      const moved = await this.repo.update(pending.id, ({ account: _account, ...j }) => ({ ...j, provider: id, failover: { from, reason: error.userMessage } }));
      return { taskId, pending: moved };
    }
    return null;
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
   * KIE told us about `taskId` (a callback) and no job has it: it may be the
   * task of a job whose create answer was lost. Its record (read from KIE,
   * never from the callback body) is matched against those jobs' requests;
   * exactly one match becomes 'running' with that task and is tracked to
   * delivery. Returns the revealed job, if any.
   */
  async revealTask(taskId: string, candidateIds: readonly string[]): Promise<Job | null> {
    const candidates: Job[] = [];
    for (const id of candidateIds) {
      const job = await this.repo.get(id);
      if (job?.state === 'unknown' && job.taskId === null) candidates.push(job);
    }
    if (candidates.length === 0) return null;
    // Only a provider that can tell whether one of its tasks is a given request can reveal it.
    const byProvider = new Map<string, Job[]>();
    for (const job of candidates) byProvider.set(providerOf(job), [...(byProvider.get(providerOf(job)) ?? []), job]);
    const matching: Job[] = [];
    for (const [id, jobs] of byProvider) {
      const provider = this.providers.get(id);
      if (!provider?.taskMatches) continue;
      const matches = await provider.taskMatches(taskId, jobs.map((job) => specOf(job)));
      jobs.forEach((job, i) => {
        if (matches[i]) matching.push(job);
      });
    }
    if (matching.length !== 1) {
      if (matching.length > 1) this.logger.warn({ taskId, jobs: matching.map((j) => j.id) }, 'service: a revealed task matches several jobs; leaving them');
      return null;
    }
    const job = matching[0]!;
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
