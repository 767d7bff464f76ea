/**
 * The boundaries the domain talks through. Implementations live elsewhere:
 * image providers behind ./provider.ts (src/providers/), JobPresenter in src/discord/, Clock here.
 */
import type { Job } from './job.js';

/**
 * Shows jobs to people (Discord in production). The tracker calls it; it never
 * throws for Discord-side failures it can work around (token expiry → channel
 * edit → new message) and returns what it learned (message id, attachment ids).
 */
export interface JobPresenter {
  /** A non-final status change (queued position, generating · elapsed). Best effort. */
  progress(job: Job): Promise<Partial<Pick<Job, 'origin'>> | void>;
  /** The final state: results (re-hosted) or failure. Returns the updated fields to persist. */
  deliver(job: Job): Promise<Partial<Pick<Job, 'origin' | 'results' | 'delivered'>>>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What team policy decides for a new job, before anything is sent to KIE. */
export type AdmissionDecision =
  | { verdict: 'run' }
  | { verdict: 'queue'; position: number }
  | { verdict: 'reject'; reason: string };

/**
 * What team policy decides for a batch (permutations, --repeat): all or
 * nothing. Admitted, each job gets its own verdict (run now, or wait in the
 * queue at a position), in the order given; refused, nothing was written.
 */
export type BatchDecision =
  | { verdict: 'reject'; reason: string }
  | { verdict: 'admit'; decisions: Array<Exclude<AdmissionDecision, { verdict: 'reject' }>> };

/**
 * Team policy and accounting (channel settings, limits, budgets, the ledger,
 * the queue). The job service asks it before every submission and tells it
 * when a job ends. Implementations must make admit() atomic per channel, so
 * two quick commands cannot both slip under a limit.
 */
export interface Admission {
  admit(job: Job): Promise<AdmissionDecision>;
  /**
   * Admit a whole batch (one channel) in one decision: the channel's budgets
   * and the user's daily limit apply to the sum, and either every job's
   * ledger line is written or none is.
   */
  admitBatch(jobs: readonly Job[]): Promise<BatchDecision>;
  /** Record a state change in the ledger (taskId known, succeeded, failed, cancelled). */
  record(job: Job): Promise<void>;
  /** A job ended (terminal state): return the queued jobs of its channel that may start now, oldest first. */
  release(job: Job): Promise<Job[]>;
  /**
   * A queued job whose line already holds a slot: it was taken out of its channel's queue to start,
   * and the process starting it stopped (crash, kill -9) before it did. Resuming starts it.
   */
  drained?(job: Job): Promise<boolean>;
}

/** Admits everything and keeps no books; the default until team policy is wired in. */
export const openAdmission: Admission = {
  admit: async () => ({ verdict: 'run' }),
  admitBatch: async (jobs) => ({ verdict: 'admit', decisions: jobs.map(() => ({ verdict: 'run' as const })) }),
  record: async () => {},
  release: async () => [],
};

/** An account whose remaining credits can be read (a provider's balance, in its own unit). */
export interface BalanceSource {
  credits(): Promise<number>;
}
