/**
 * The job repository: durable jobs in the store, plus the small indexes the
 * bot needs to survive a restart and to keep buttons idempotent.
 *
 *  - 'jobs'  namespace: job id → Job.
 *  - 'index' namespace:
 *      'active'                          → ids of jobs that still need work
 *                                          (not terminal, or not yet shown)
 *      'task:<taskId>'                   → job id (callbacks arrive by taskId)
 *      'action:<parent>:<action>:<pos>'  → child job id (one job per button)
 *
 * Every write for one job runs under that job's lock, and the shared 'active'
 * list and each action key have their own locks, so concurrent updates in
 * this process never lose each other's fields. Use `update()` for changes
 * (read-modify-write under the lock); `save()` overwrites.
 */
import type { Collection, Store } from '../store/store.js';
import { isTerminal, type Job } from './job.js';
import { KeyedMutex } from './mutex.js';

type IndexValue = string | string[];

const ACTIVE_KEY = 'active';
const taskKey = (taskId: string): string => `task:${taskId}`;
const actionKey = (parentJobId: string, action: string, position: number): string =>
  `action:${parentJobId}:${action}:${position}`;

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

export class JobRepository {
  private readonly jobs: Collection<Job>;
  private readonly index: Collection<IndexValue>;
  /** Per job id, plus one key per index record that several jobs share. */
  private readonly locks = new KeyedMutex();

  constructor(store: Store) {
    this.jobs = store.collection<Job>('jobs');
    this.index = store.collection<IndexValue>('index');
  }

  async get(id: string): Promise<Job | undefined> {
    return this.jobs.get(id);
  }

  /** Like get(), for callers that know the job must exist. */
  async require(id: string): Promise<Job> {
    const job = await this.jobs.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  /** Store a new job; throws JobExistsError if the id is taken (ids come from callers too). */
  async create(job: Job): Promise<Job> {
    return this.locks.run(jobKey(job.id), async () => {
      if (await this.jobs.get(job.id)) throw new JobExistsError(job.id);
      return this.write(undefined, job);
    });
  }

  /** Overwrite a job as given. Prefer update() when changing an existing job. */
  async save(job: Job): Promise<Job> {
    return this.locks.run(jobKey(job.id), async () => this.write(await this.jobs.get(job.id), job));
  }

  /**
   * Read-modify-write under the job's lock: `change` sees the latest stored
   * version. Whatever `change` throws (e.g. InvalidTransitionError) is
   * rethrown and nothing is written.
   */
  async update(id: string, change: (job: Job) => Job): Promise<Job> {
    return this.locks.run(jobKey(id), async () => {
      const current = await this.jobs.get(id);
      if (!current) throw new JobNotFoundError(id);
      return this.write(current, change(current));
    });
  }

  /**
   * Every job that still needs work (see needsWork), oldest first. Ids of
   * finished-and-shown jobs are pruned (they can never need work again); a
   * missing job is only skipped, since create() lists an id just before
   * writing its job.
   */
  async listActive(): Promise<Job[]> {
    const ids = await this.activeIds();
    const found = await Promise.all(ids.map(async (id) => [id, await this.jobs.get(id)] as const));
    const stale = found.filter(([, job]) => job !== undefined && !needsWork(job)).map(([id]) => id);
    if (stale.length > 0) await this.removeActive(stale);
    return found
      .map(([, job]) => job)
      .filter((j): j is Job => j !== undefined && needsWork(j))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async findByTaskId(taskId: string): Promise<Job | undefined> {
    const id = await this.index.get(taskKey(taskId));
    return typeof id === 'string' ? this.jobs.get(id) : undefined;
  }

  /**
   * Reserve a button action on a parent job's result for `childJobId`.
   * Returns null when this call won (go ahead and submit the child), or the
   * id of the child that already holds it. Two concurrent clicks: exactly one
   * gets null.
   */
  async claimAction(parentJobId: string, action: string, position: number, childJobId: string): Promise<string | null> {
    const key = actionKey(parentJobId, action, position);
    return this.locks.run(indexLockKey(key), async () => {
      const existing = await this.index.get(key);
      if (typeof existing === 'string') return existing;
      await this.index.set(key, childJobId);
      return null;
    });
  }

  /**
   * Give a button action back (its child job failed), so it can be tried again.
   * With `childJobId`, only releases if that child still holds it, so a late
   * release can't free a newer claim.
   */
  async releaseAction(parentJobId: string, action: string, position: number, childJobId?: string): Promise<boolean> {
    const key = actionKey(parentJobId, action, position);
    return this.locks.run(indexLockKey(key), async () => {
      const existing = await this.index.get(key);
      if (typeof existing !== 'string') return false;
      if (childJobId !== undefined && existing !== childJobId) return false;
      return this.index.delete(key);
    });
  }

  /**
   * Persist `next` and keep the indexes in step with what changed since
   * `previous`. Ordered for crashes: a job joins 'active' before it is
   * written and leaves it after, so a crash in between leaves an extra id
   * (pruned by listActive) rather than a job nobody resumes.
   */
  private async write(previous: Job | undefined, next: Job): Promise<Job> {
    const wasActive = previous !== undefined && needsWork(previous);
    const isActive = needsWork(next);
    if (isActive && !wasActive) await this.setActive(next.id, true);
    await this.jobs.set(next.id, next);
    if (next.taskId && next.taskId !== previous?.taskId) await this.index.set(taskKey(next.taskId), next.id);
    if (!isActive && (wasActive || previous === undefined)) await this.setActive(next.id, false);
    return next;
  }

  private async activeIds(): Promise<string[]> {
    const ids = await this.index.get(ACTIVE_KEY);
    return Array.isArray(ids) ? ids : [];
  }

  private async setActive(id: string, active: boolean): Promise<void> {
    if (!active) return this.removeActive([id]);
    await this.locks.run(indexLockKey(ACTIVE_KEY), async () => {
      const ids = await this.activeIds();
      if (!ids.includes(id)) await this.index.set(ACTIVE_KEY, [...ids, id]);
    });
  }

  private async removeActive(remove: string[]): Promise<void> {
    await this.locks.run(indexLockKey(ACTIVE_KEY), async () => {
      const ids = await this.activeIds();
      const kept = ids.filter((x) => !remove.includes(x));
      if (kept.length !== ids.length) await this.index.set(ACTIVE_KEY, kept);
    });
  }
}

// Lock keys are namespaced so a job id can never collide with an index key.
const jobKey = (id: string): string => `job:${id}`;
const indexLockKey = (key: string): string => `index:${key}`;
