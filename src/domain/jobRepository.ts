/**
 * Jobs as the domain persists them: the repository port, and its errors.
 */
import { isTerminal, type Job } from './job.js';

/** A job still needs the bot: it hasn't ended, or its end isn't shown in Discord yet. */
export const needsWork = (job: Job): boolean => !isTerminal(job.state) || !job.delivered;

export class JobNotFoundError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} does not exist`);
    this.name = 'JobNotFoundError';
  }
}

export class JobExistsError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} already exists`);
    this.name = 'JobExistsError';
  }
}

/**
 * Durable jobs. Implemented in SQL (src/store/sql/jobs.ts): every change is
 * a read-modify-write in one transaction (row-locked on PostgreSQL), a
 * task id belongs to one job (unique index), and a button claim is decided
 * by a unique (parent, action, position) key, so all of this holds across
 * processes.
 */
export interface JobRepository {
  get(id: string): Promise<Job | undefined>;
  /** Like get(), for callers that know the job must exist (JobNotFoundError otherwise). */
  require(id: string): Promise<Job>;
  /** Store a new job; throws JobExistsError if the id is taken. */
  create(job: Job): Promise<Job>;
  /** Overwrite a job as given. Prefer update() when changing an existing job. */
  save(job: Job): Promise<Job>;
  /**
   * Read-modify-write in one transaction: `change` sees the latest stored
   * version. Whatever `change` throws is rethrown and nothing is written.
   */
  update(id: string, change: (job: Job) => Job): Promise<Job>;
  /** Every job that still needs work (see needsWork), oldest first (an indexed query). */
  listActive(): Promise<Job[]>;
  findByTaskId(taskId: string): Promise<Job | undefined>;
  /**
   * Reserve a button action on a parent job's result for `childJobId`.
   * Returns null when this call won, or the id of the child that already
   * holds it. Concurrent clicks, from any process: exactly one gets null.
   */
  claimAction(parentJobId: string, action: string, position: number, childJobId: string): Promise<string | null>;
  /** Give a button action back; with `childJobId`, only if that child still holds it. */
  releaseAction(parentJobId: string, action: string, position: number, childJobId?: string): Promise<boolean>;
}
