/**
 * Team policy: the `Admission` the job service asks before anything is sent
 * to KIE. It refuses what the channel's settings forbid (with the numbers),
 * queues what is over the channel's concurrency limit, reserves the job's
 * credits in the ledger, and hands queued jobs back when slots free up.
 *
 * Atomicity: every step that reads limits and writes the ledger or the queue
 * runs in one channel transaction (TeamStore.inChannel: a row lock on
 * PostgreSQL, the write lock on SQLite), so two commands racing for the last
 * credit or slot are decided one after the other, in any process. Budgets
 * and the per-user daily limit are per channel precisely so one channel
 * transaction covers every number a decision reads.
 *
 * The decisions themselves are pure functions (channelUsage,
 * evaluateAdmission, checkPrompt, checkButtonPermission), tested without a
 * store.
 */
import { policyChannelOf, type Job } from '../job.js';
import type { Admission, AdmissionDecision, BatchDecision, Clock } from '../ports.js';
import type { ChannelSettings, EffectiveSettings } from './settings.js';
import { entryFromJob, isActive, type ChannelTx, type TeamStore } from './ledger.js';
import { evaluateAdmission, evaluateBatch } from './admission.js';

export type { ChannelUsage } from './ledger.js';
export * from './banned.js';
export * from './admission.js';

// ---------------------------------------------------------------------------
// The stateful part
// ---------------------------------------------------------------------------

export interface TeamPolicyDeps {
  settings: ChannelSettings;
  store: TeamStore;
  clock: Pick<Clock, 'now'>;
  /**
   * Called with queued jobs that may start now when a slot frees up outside
   * `release` (a raised concurrency limit, jobs left waiting by a crash). The
   * job service starts them as it starts the jobs `release` returns. Without
   * it those jobs stay queued until the next `release` in their channel.
   */
  onStartable?: (jobs: Job[]) => void;
  /**
   * Called when jobs left a channel's queue (started, cancelled, closed) with
   * the jobs still waiting there, oldest first (position = index + 1), so
   * their "Queued · position N" replies can be refreshed.
   */
  onQueueChanged?: (channelId: string, waiting: Job[]) => void;
}

/** What a drain did: the jobs to start, and whether the queue got shorter. */
interface Drained {
  start: Job[];
  shrank: boolean;
}

export class TeamPolicy implements Admission {
  constructor(private readonly deps: TeamPolicyDeps) {}

  /**
   * Decide a new job and, unless refused, write its ledger line (pending or
   * queued) in the same transaction, reserving its credits and slot.
   */
  async admit(job: Job): Promise<AdmissionDecision> {
    const channelId = policyChannelOf(job.origin);
    let drained: Drained = { start: [], shrank: false };
    // Settings are key-value (keyv), read before the transaction so it stays short.
    const { values } = await this.deps.settings.resolve(job.origin.guildId, channelId);
    const decision = await this.deps.store.inChannel(channelId, async (tx) => {
      drained = { start: [], shrank: false };
      // Anyone left waiting though a slot is free goes first (if someone will start them),
      // so the new job can't jump the line.
      if (this.deps.onStartable) drained = await this.drainIn(tx, values);
      const now = this.deps.clock.now();
      const usage = await tx.usage({ userId: job.origin.userId, now, countFailed: values.countFailed, excludeJobId: job.id });
      const verdict = evaluateAdmission(job, values, usage);
      if (verdict.verdict === 'reject') return verdict;
      const entry = { ...entryFromJob(job, now), createdAt: now };
      if (verdict.verdict === 'run') {
        await tx.put({ ...entry, state: 'pending' });
        return verdict;
      }
      await tx.put({ ...entry, state: 'queued' });
      const position = await tx.queue.enqueue({ ...job, state: 'queued' });
      return { verdict: 'queue', position } as const;
    });
    this.notifyStartable(drained.start);
    await this.announce(channelId, drained.shrank);
    return decision;
  }

  /**
   * Decide a batch (every job of one channel) in one transaction: all of it
   * fits the channel's budgets and the user's daily limit, and every job's
   * ledger line (pending or queued) is written, or nothing is written.
   */
  async admitBatch(jobs: readonly Job[]): Promise<BatchDecision> {
    const first = jobs[0];
    if (!first) return { verdict: 'admit', decisions: [] };
    const channelId = policyChannelOf(first.origin);
    if (jobs.some((j) => policyChannelOf(j.origin) !== channelId || j.origin.userId !== first.origin.userId)) {
      throw new Error('admitBatch: a batch is one user\'s jobs in one channel');
    }
    let drained: Drained = { start: [], shrank: false };
    const { values } = await this.deps.settings.resolve(first.origin.guildId, channelId);
    const decision = await this.deps.store.inChannel(channelId, async (tx): Promise<BatchDecision> => {
      drained = { start: [], shrank: false };
      if (this.deps.onStartable) drained = await this.drainIn(tx, values);
      const now = this.deps.clock.now();
      const usage = await tx.usage({ userId: first.origin.userId, now, countFailed: values.countFailed });
      const verdict = evaluateBatch(jobs, values, usage);
      if (verdict.verdict === 'reject') return verdict;
      const decisions: Array<Exclude<AdmissionDecision, { verdict: 'reject' }>> = [];
      for (const [i, job] of jobs.entries()) {
        const entry = { ...entryFromJob(job, now), createdAt: now };
        if (verdict.decisions[i]!.verdict === 'run') {
          await tx.put({ ...entry, state: 'pending' });
          decisions.push({ verdict: 'run' });
        } else {
          await tx.put({ ...entry, state: 'queued' });
          decisions.push({ verdict: 'queue', position: await tx.queue.enqueue({ ...job, state: 'queued' }) });
        }
      }
      return { verdict: 'admit', decisions };
    });
    this.notifyStartable(drained.start);
    await this.announce(channelId, drained.shrank);
    return decision;
  }

  /** Bring the ledger line up to date with the job; a job that left the queue leaves the stored line. */
  async record(job: Job): Promise<void> {
    const channelId = policyChannelOf(job.origin);
    const shrank = await this.deps.store.inChannel(channelId, (tx) => this.recordIn(tx, job));
    await this.announce(channelId, shrank);
  }

  /**
   * A job ended: record it, then hand back as many waiting jobs as there are
   * free slots, oldest first. They are marked pending in the ledger before
   * this returns (so a new admission can't take their slots); the caller
   * moves them from 'queued' to 'pending' and submits them.
   */
  async drained(job: Job): Promise<boolean> {
    const line = await this.deps.store.ledger.get(job.id);
    return line !== undefined && isActive(line);
  }

  async release(job: Job): Promise<Job[]> {
    const channelId = policyChannelOf(job.origin);
    const { values } = await this.deps.settings.resolve(job.origin.guildId, channelId);
    const drained = await this.deps.store.inChannel(channelId, async (tx) => {
      const left = await this.recordIn(tx, job);
      const d = await this.drainIn(tx, values);
      return { start: d.start, shrank: d.shrank || left };
    });
    await this.announce(channelId, drained.shrank);
    return drained.start;
  }

  /**
   * Start whatever may start in a channel now (after its concurrency limit
   * was raised, say). Returns the jobs; the caller starts them.
   */
  async drain(channelId: string): Promise<Job[]> {
    const first = (await this.deps.store.queues.list(channelId))[0];
    if (!first) return [];
    const { values } = await this.deps.settings.resolve(first.origin.guildId, channelId);
    const drained = await this.deps.store.inChannel(channelId, (tx) => this.drainIn(tx, values));
    await this.announce(channelId, drained.shrank);
    return drained.start;
  }

  /**
   * Hand whatever may start now in a channel (or in every channel with a
   * queue) to `onStartable`, e.g. after /settings raised the concurrency
   * limit. Does nothing without `onStartable`: jobs then wait for the next
   * release in their channel rather than leave the queue with nobody to
   * start them.
   */
  async refresh(channelId?: string): Promise<void> {
    if (!this.deps.onStartable) return;
    const channels = channelId === undefined ? await this.deps.store.queues.channels() : [channelId];
    for (const id of channels) this.notifyStartable(await this.drain(id));
  }

  /**
   * After a restart, before `resume`: ledger lines of unfinished jobs the job
   * service has no record of (a crash between admission and the service's
   * first write) are marked failed and leave the queue, so they stop holding
   * a slot and credits. Returns how many were closed.
   */
  async reconcile(jobExists: (jobId: string) => Promise<boolean>): Promise<number> {
    const open = await this.deps.store.ledger.open();
    let closed = 0;
    for (const e of open) {
      if (await jobExists(e.jobId)) continue;
      const shrank = await this.deps.store.inChannel(e.channelId, async (tx) => {
        const current = await tx.get(e.jobId);
        if (!current || !(current.state === 'queued' || isActive(current))) return false;
        await tx.put({ ...current, state: 'failed', finishedAt: this.deps.clock.now() });
        return (await tx.queue.remove([e.jobId])) > 0;
      });
      await this.announce(e.channelId, shrank);
      closed += 1;
    }
    return closed;
  }

  /**
   * After a restart, before `resume`: settle every open ledger line against
   * its job. A line whose job is gone is closed as in `reconcile`; a line
   * whose job has ended (a crash between the job's terminal write and the
   * ledger's release) takes the job's final state and frees its slot; a line
   * whose job has started leaves the queue; a queued job missing from its
   * channel's line goes back into it. `resume` then starts what may start.
   * With `createdBefore`, newer lines are left alone (another process may be
   * writing their job right now). Returns how many lines changed.
   */
  async settle(jobOf: (jobId: string) => Promise<Job | undefined>, options: { createdBefore?: number } = {}): Promise<number> {
    const open = await this.deps.store.ledger.open();
    let changed = 0;
    for (const e of open) {
      // Several processes: a line admitted moments ago may be another live process's job not yet written.
      if (options.createdBefore !== undefined && e.createdAt >= options.createdBefore) continue;
      const job = await jobOf(e.jobId);
      const now = this.deps.clock.now();
      const result = await this.deps.store.inChannel(e.channelId, async (tx) => {
        const current = await tx.get(e.jobId);
        if (!current || !(current.state === 'queued' || isActive(current))) return { changed: false, shrank: false };
        if (!job) {
          await tx.put({ ...current, state: 'failed', finishedAt: now });
          return { changed: true, shrank: (await tx.queue.remove([e.jobId])) > 0 };
        }
        if (job.state === 'queued') {
          if (current.state !== 'queued') return { changed: false, shrank: false };
          if (await tx.queue.update(job)) return { changed: false, shrank: false };
          await tx.queue.enqueue(job);
          return { changed: true, shrank: false };
        }
        if (job.state === current.state) return { changed: false, shrank: false };
        await tx.put(entryFromJob(job, now));
        return { changed: true, shrank: (await tx.queue.remove([e.jobId])) > 0 };
      });
      await this.announce(e.channelId, result.shrank);
      if (result.changed) changed += 1;
    }
    return changed;
  }

  /** After a restart: every queued job, in every channel, that may start now. */
  async resume(): Promise<Job[]> {
    const out: Job[] = [];
    for (const channelId of await this.deps.store.queues.channels()) out.push(...(await this.drain(channelId)));
    return out;
  }

  /** The jobs waiting in a channel, oldest first (position = index + 1), for refreshing "Queued · position N". */
  async waiting(channelId: string): Promise<Job[]> {
    return this.deps.store.queues.list(channelId);
  }

  /** 1-based place of a job in its channel's queue, or null if it isn't waiting. */
  async position(job: Pick<Job, 'id' | 'origin'>): Promise<number | null> {
    return this.deps.store.queues.position(policyChannelOf(job.origin), job.id);
  }

  /** Returns whether the job left the queue. */
  private async recordIn(tx: ChannelTx, job: Job): Promise<boolean> {
    const entry = await tx.put(entryFromJob(job, this.deps.clock.now()));
    if (entry.state === 'queued') {
      await tx.queue.update(job);
      return false;
    }
    return (await tx.queue.remove([job.id])) > 0;
  }

  /**
   * Move jobs from the front of the queue into free slots. Each is marked
   * pending in the ledger in the same transaction that takes it out of the
   * queue. Lines the ledger already shows as started or ended are dropped
   * from the queue on the way.
   */
  private async drainIn(tx: ChannelTx, values: EffectiveSettings): Promise<Drained> {
    const waiting = await tx.queue.list();
    if (waiting.length === 0) return { start: [], shrank: false };
    let free = values.maxConcurrent - (await tx.activeCount());
    const start: Job[] = [];
    const leaving: string[] = [];
    for (const job of waiting) {
      const state = (await tx.get(job.id))?.state ?? 'queued';
      if (state === 'pending') {
        start.push(job); // handed out before a crash, never started: its slot is already counted
      } else if (state !== 'queued') {
        // started or ended meanwhile; just leaves the queue
      } else if (free > 0) {
        await tx.put({ ...entryFromJob(job, this.deps.clock.now()), state: 'pending' });
        start.push(job);
        free -= 1;
      } else {
        break;
      }
      leaving.push(job.id);
    }
    const removed = await tx.queue.remove(leaving);
    return { start, shrank: removed > 0 };
  }

  private notifyStartable(jobs: Job[]): void {
    if (jobs.length > 0 && this.deps.onStartable) this.deps.onStartable(jobs);
  }

  /** Tell onQueueChanged who is still waiting, after the transaction. */
  private async announce(channelId: string, shrank: boolean): Promise<void> {
    if (!shrank || !this.deps.onQueueChanged) return;
    const waiting = await this.waiting(channelId);
    if (waiting.length > 0) this.deps.onQueueChanged(channelId, waiting);
  }
}
