/**
 * The words of a submission, shared by the job service and its callers:
 * what a command hands in (NewJob), what comes back (SubmitResult), and the
 * pure helpers around a provider create (which call, which user-facing
 * error, whether a failed create may still have made a task).
 */
import { isProviderError, type ImageProvider, type ProviderRegistry } from './provider.js';
import type { JobRepository } from './jobRepository.js';
import type { Admission, Clock, JobPresenter } from './ports.js';
import type { DomainLogger, Tracker } from './tracker.js';
import { UserError } from './errors.js';
import { isFollowUpSpec, type Job, type JobDraftFields, type JobError, type JobOrigin, type JobSpec } from './job.js';

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

/** For a batch: acknowledge once every job is admitted; returns where each job's message lives, in order. */
export interface BatchHooks {
  onAdmitted?: (jobs: Job[]) => Promise<Array<Partial<JobOrigin> | void>>;
}

export interface SubmitHooks {
  onAdmitted?: (job: Job) => Promise<Partial<JobOrigin> | void>;
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
export function createTask(
  provider: ImageProvider,
  spec: JobSpec,
  callbackUrl?: string,
  account?: string,
  onSending?: () => Promise<void>,
): Promise<{ taskId: string }> {
  const opts = {
    ...(callbackUrl && provider.capabilities.callbacks ? { callbackUrl } : {}),
    ...(account !== undefined ? { account } : {}),
    ...(onSending ? { onSending } : {}),
  };
  return isFollowUpSpec(spec) ? provider.followUp(spec, opts) : provider.create(spec, opts);
}

/**
 * The create-sent mark of `pending` was written by another sender (a second
 * process resuming the same job): this one must not send it too.
 */
export class CreateSentElsewhereError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId}: another process is sending its create`);
    this.name = 'CreateSentElsewhereError';
  }
}

/**
 * The hook a create awaits right before its request leaves (after any
 * rate-limit wait): writes Job.createSentAt, so a process resuming the job
 * after a crash knows whether the provider may have it. Conditional: the job
 * must still be pending without a task, and not marked by another sender;
 * a failed write throws, so nothing is sent. Re-run before a retried attempt
 * (this sender's own mark is rewritten).
 */
export function createSentMark(repo: JobRepository, clock: Pick<Clock, 'now'>, jobId: string): () => Promise<void> {
  let mine: number | undefined;
  return async () => {
    await repo.update(jobId, (j) => {
      if (j.state !== 'pending' || j.taskId !== null) throw new Error(`job ${jobId} is no longer waiting to be sent (${j.state})`);
      if (j.createSentAt !== undefined && j.createSentAt !== mine) throw new CreateSentElsewhereError(jobId);
      mine = Math.max(clock.now(), (mine ?? 0) + 1);
      return { ...j, createSentAt: mine };
    });
  };
}

/** The user-facing error for a failed create: the provider's own sentence when it is a ProviderError. */
export function submitErrorOf(error: unknown): JobError {
  if (isProviderError(error)) return { code: error.providerCode, message: error.userMessage };
  if (error instanceof UserError) return { code: 'refused', message: error.message };
  return { code: 'error', message: GENERIC_SUBMIT_ERROR };
}

/** Whether a failed create may nevertheless have made (and charged for) a task. */
export const createOutcomeUnknown = (error: unknown): boolean => isProviderError(error) && error.maybeCreated;

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
