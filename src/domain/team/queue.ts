/**
 * The per-channel waiting line: jobs over a channel's concurrency limit wait
 * here, oldest first, instead of being refused. Persisted in the 'queue'
 * collection (key = channel id → the waiting jobs in order) so a restart
 * loses nobody's place.
 *
 * A whole job is kept, not just its id, so the queue can hand back what to
 * start without reaching into the job service's own records; `update` keeps
 * the copy current. Every method reads and writes one channel's list, so
 * callers must serialise per channel (TeamPolicy does, under its channel
 * lock); this class adds no locking of its own.
 */
import { policyChannelOf, type Job } from '../job.js';
import type { Collection } from '../../store/store.js';

export type StoredQueue = Job[];

export class JobQueue {
  constructor(private readonly collection: Collection<StoredQueue>) {}

  /** The waiting jobs of a channel, oldest first. */
  async list(channelId: string): Promise<Job[]> {
    return (await this.collection.get(channelId)) ?? [];
  }

  /** Append a job (or keep its place if already waiting); returns its 1-based position. */
  async enqueue(job: Job): Promise<number> {
    const channelId = policyChannelOf(job.origin);
    const list = await this.list(channelId);
    const at = list.findIndex((j) => j.id === job.id);
    if (at >= 0) {
      list[at] = job;
      await this.save(channelId, list);
      return at + 1;
    }
    list.push(job);
    await this.save(channelId, list);
    return list.length;
  }

  /** Replace the stored copy of a waiting job; false if it isn't waiting. */
  async update(job: Job): Promise<boolean> {
    const channelId = policyChannelOf(job.origin);
    const list = await this.list(channelId);
    const at = list.findIndex((j) => j.id === job.id);
    if (at < 0) return false;
    list[at] = job;
    await this.save(channelId, list);
    return true;
  }

  /** Take jobs out of the line (started, cancelled, failed) in one write; returns how many were there. */
  async remove(channelId: string, jobIds: readonly string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    const drop = new Set(jobIds);
    const list = await this.list(channelId);
    const next = list.filter((j) => !drop.has(j.id));
    if (next.length === list.length) return 0;
    await this.save(channelId, next);
    return list.length - next.length;
  }

  /** Take up to `count` jobs from the front, oldest first. */
  async shift(channelId: string, count: number): Promise<Job[]> {
    if (count <= 0) return [];
    const list = await this.list(channelId);
    if (list.length === 0) return [];
    const taken = list.slice(0, count);
    await this.save(channelId, list.slice(taken.length));
    return taken;
  }

  /** 1-based position of a waiting job, or null. */
  async position(channelId: string, jobId: string): Promise<number | null> {
    const at = (await this.list(channelId)).findIndex((j) => j.id === jobId);
    return at < 0 ? null : at + 1;
  }

  /** Channels that have someone waiting (for resuming after a restart). */
  async channels(): Promise<string[]> {
    const out: string[] = [];
    for await (const [channelId, list] of this.collection.entries()) if (list.length > 0) out.push(channelId);
    return out;
  }

  private async save(channelId: string, list: Job[]): Promise<void> {
    if (list.length === 0) await this.collection.delete(channelId);
    else await this.collection.set(channelId, list);
  }
}
