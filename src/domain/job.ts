/**
 * Jobs: one Discord-originated unit of work backed by one KIE task.
 * Pure data and the state machine; knows nothing of Discord or HTTP.
 */
import type { Speed } from './midjourney.js';
import type { CreateRequest, FollowUpRequest, ProviderId, TaskStatus } from './provider.js';
import { legacySpecOf } from './legacyRequest.js';

/** What the user asked for; also the ledger's kinds. */
export const JOB_KINDS = ['grid', 'upscale', 'vary', 'video', 'video_hd', 'extend'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * queued      waiting in the channel's FIFO (over its concurrency limit)
 * pending     persisted, not yet sent to KIE (a crash here is resolved on startup)
 * running     KIE accepted it; we have a taskId and poll it
 * succeeded   KIE finished with results; `delivered` says whether Discord shows them
 * failed      KIE or we gave up; `error` says why
 * cancelled   removed from the queue by its author
 * unknown     the create was sent but its answer was lost (timeout, reset,
 *             5xx): KIE may have made (and charged for) the task, so it
 *             counts like a run job, is final for the user (no free Retry),
 *             and moves to running only if a later record-info or callback
 *             reveals its task
 */
export const JOB_STATES = ['queued', 'pending', 'running', 'succeeded', 'failed', 'cancelled', 'unknown'] as const;
export type JobState = (typeof JOB_STATES)[number];

const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  queued: ['pending', 'cancelled', 'failed'],
  pending: ['running', 'failed', 'unknown'],
  running: ['succeeded', 'failed'],
  succeeded: [],
  failed: [],
  cancelled: [],
  unknown: ['running'],
};

/** Final as far as anyone waits for it: shown to the user, slot freed. `unknown` may still be revealed later. */
export const isTerminal = (s: JobState): boolean => TRANSITIONS[s].length === 0 || s === 'unknown';
export const canTransition = (from: JobState, to: JobState): boolean => TRANSITIONS[from].includes(to);

export class InvalidTransitionError extends Error {
  constructor(
    readonly jobId: string,
    readonly from: JobState,
    readonly to: JobState,
  ) {
    super(`job ${jobId}: cannot go from ${from} to ${to}`);
    this.name = 'InvalidTransitionError';
  }
}

/** Where a job came from in Discord, and where its result goes. Plain ids only. */
export interface JobOrigin {
  guildId: string | null;
  /** Where the job's messages go (a thread or forum post, when it was asked for there). */
  channelId: string;
  /**
   * The channel whose policy, budget, limits, queue and ledger the job
   * belongs to: a thread's parent channel, else channelId. Absent on jobs
   * stored before threads were mapped (policyChannelOf falls back).
   */
  policyChannelId?: string;
  userId: string;
  applicationId: string;
  /** The interaction token that lets us edit the reply for 15 minutes. Never logged. */
  interactionToken: string | null;
  /** When the interaction was created (ms since epoch); tokens expire 15 min later. */
  interactionAt: number | null;
  /** The reply message once known (for channel-endpoint edits after the token expires). */
  messageId: string | null;
  /** For button jobs: the message the new result replies to. */
  replyToMessageId: string | null;
  /** Discord's upload limit for this interaction (bytes), if it told us. */
  attachmentSizeLimit: number | null;
}

/** The channel a job counts in (see JobOrigin.policyChannelId). */
export const policyChannelOf = (origin: Pick<JobOrigin, 'channelId' | 'policyChannelId'>): string => origin.policyChannelId ?? origin.channelId;

export interface JobResult {
  /** KIE's URL (expires after ~14 days). */
  url: string;
  kind: 'image' | 'video';
  /** The Discord attachment that re-hosts it, once uploaded. */
  attachmentId?: string | null;
  /** Why it is linked rather than attached (too large, download failed). */
  linkedBecause?: string | null;
}

export interface JobError {
  /** KIE code, successFlag, or our own label ('timeout', 'network', ...). */
  code: string;
  message: string;
}

export interface Job {
  id: string;
  kind: JobKind;
  state: JobState;
  /** The provider that runs it (absent on jobs stored before there were several: KIE). Its follow-ups go to the same provider. */
  provider?: ProviderId;
  /** What is (or will be) asked of the provider, in the port's provider-neutral words (absent on jobs stored before the port: see specOf). */
  spec?: JobSpec;
  /** Jobs stored before the port kept KIE's request body here; read only through specOf. */
  request?: unknown;
  /**
   * The provider account (a KIE key, by name, never the key) the task was sent
   * with, or is pinned to before it is sent; its buttons and polls use the
   * same one. Absent: the provider's only (or first) account.
   */
  account?: string;
  /** Set when the create went to another provider because the chosen one was unavailable (the reply says so). */
  failover?: { from: ProviderId; reason: string };
  /** The prompt as the user typed it (flags included), for display and the extend modal. */
  promptText: string;
  speed: Speed | null;
  estimatedCredits: number;
  origin: JobOrigin;
  /** For button-created jobs: the job whose result was acted on, and on which image/clip (0-based). */
  parent: { jobId: string; position: number; action: string } | null;
  taskId: string | null;
  results: JobResult[];
  error: JobError | null;
  /** True once Discord shows the final state (results or failure). */
  delivered: boolean;
  /** Buttons already used on this job's result message (custom_id actions such as 'upscale:1'), shown as pressed. */
  pressed: string[];
  polls: number;
  createdAt: number;
  submittedAt: number | null;
  /**
   * When its create request last left for the provider (written right before
   * the HTTP send, after any rate-limit wait). Absent on a pending job: the
   * create was never sent, so resuming it may send it.
   */
  createSentAt?: number;
  finishedAt: number | null;
  /** When KIE says the task finished (from record-info), when known. */
  kieCompletedAt: number | null;
}

/** The fields a new job starts with; everything else comes from its draft. */
export type JobDraftFields = Omit<
  Job,
  'id' | 'state' | 'taskId' | 'results' | 'error' | 'delivered' | 'pressed' | 'polls' | 'createdAt' | 'submittedAt' | 'finishedAt' | 'kieCompletedAt'
>;

/** A fresh job in `state`, nothing sent yet. */
export function newJob(draft: JobDraftFields, id: string, state: JobState, now: number): Job {
  return {
    ...draft,
    id,
    state,
    taskId: null,
    results: [],
    error: null,
    delivered: false,
    pressed: [],
    polls: 0,
    createdAt: now,
    submittedAt: null,
    finishedAt: null,
    kieCompletedAt: null,
  };
}

export function transition(job: Job, to: JobState, patch: Partial<Job> = {}): Job {
  if (!canTransition(job.state, to)) throw new InvalidTransitionError(job.id, job.state, to);
  return { ...job, ...patch, state: to };
}

/** Short, URL/custom_id-safe, sortable-enough id: time (base36) + random. */
export function newJobId(now: number = Date.now(), random: () => number = Math.random): string {
  const rand = Math.floor(random() * 36 ** 5)
    .toString(36)
    .padStart(5, '0');
  return `${now.toString(36)}${rand}`;
}

/** When newJobId made `id`: its time, before the 5 random characters; null for an id of another shape. */
export function jobIdTime(id: string): number | null {
  const t = Number.parseInt(id.slice(0, -5), 36);
  return Number.isFinite(t) ? t : null;
}

/** What a job asks of its provider. */
export type JobSpec = CreateRequest | FollowUpRequest;

export const isFollowUpSpec = (spec: JobSpec): spec is FollowUpRequest => 'action' in spec;

/** The job's request in the port's words (converting a pre-port KIE body once read). */
export function specOf(job: Pick<Job, 'spec' | 'request'>): JobSpec {
  if (job.spec) return job.spec;
  const legacy = legacySpecOf(job.request);
  if (!legacy) throw new Error('job has neither a spec nor a readable legacy request');
  return legacy;
}

/** The default provider id for jobs stored before there were several. */
export const LEGACY_PROVIDER_ID: ProviderId = 'kie';
export const providerOf = (job: Pick<Job, 'provider'>): ProviderId => job.provider ?? LEGACY_PROVIDER_ID;

/** The prompt the provider saw for a job (imagine/animate/edit carry it; manual extends too; others inherit). */
export function providerPromptOf(job: Pick<Job, 'spec' | 'request'>): string | null {
  const spec = specOf(job);
  if (isFollowUpSpec(spec)) {
    const carries = spec.action === 'extend_manual' || spec.action === 'animate_high' || spec.action === 'animate_low';
    return carries ? (spec.prompt ?? null) : null;
  }
  return spec.prompt ?? null;
}

/** Outcome of a provider's task status, as the tracker decides it. */
export type TaskOutcome =
  | { kind: 'running' }
  | { kind: 'succeeded'; urls: string[] }
  | { kind: 'failed'; error: JobError };

export function outcomeOf(status: TaskStatus): TaskOutcome {
  switch (status.state) {
    case 'pending':
    case 'running':
      return { kind: 'running' };
    case 'succeeded':
      return { kind: 'succeeded', urls: status.results.map((r) => r.url) };
    case 'failed':
      return {
        kind: 'failed',
        error: { code: status.failure?.code ?? 'failed', message: status.failure?.message ?? 'the generation failed' },
      };
  }
}

export function resultKindFor(kind: JobKind): JobResult['kind'] {
  return kind === 'video' || kind === 'video_hd' || kind === 'extend' ? 'video' : 'image';
}
