/**
 * Job leases in SQL (columns lease_owner, lease_until on jobs; migration
 * 004_job_leases). Acquiring reads the unfinished jobs through the partial
 * index jobs_needs_work and, on PostgreSQL, locks what it takes with
 * FOR UPDATE SKIP LOCKED, so processes acquiring at once split the free jobs
 * instead of queueing on each other; on SQLite (one process) the write
 * transaction is enough. Every change is one conditional UPDATE, so a
 * lease changes hands only when it is free, lapsed or already the caller's.
 */
import { sql } from 'kysely';
import type { Job } from '../../domain/job.js';
import { JobExistsError } from '../../domain/jobRepository.js';
import type { Acquired, JobLeases } from '../../domain/leases.js';
import type { SqlDatabase } from './database.js';
import { jobRow } from './jobs.js';

export class SqlJobLeases implements JobLeases {
  constructor(private readonly sdb: SqlDatabase) {}

  async create(job: Job, owner: string, now: number, ttlMs: number): Promise<Job> {
    const result = await this.sdb.db
      .insertInto('jobs')
      .values({ ...jobRow(job, now), lease_owner: owner, lease_until: now + ttlMs })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) throw new JobExistsError(job.id);
    return job;
  }

  async acquire(owner: string, now: number, ttlMs: number, limit: number): Promise<Acquired[]> {
    return this.sdb.write(async (tx) => {
      const rows = await tx
        .selectFrom('jobs')
        .select(['id', 'lease_owner'])
        // needs_work as a literal so the partial index applies.
        .where('needs_work', '=', sql.lit(1))
        .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_until', '<', now)]))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .$if(this.sdb.locks, (q) => q.forUpdate().skipLocked())
        .execute();
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.id);
      await tx
        .updateTable('jobs')
        .set({ lease_owner: owner, lease_until: now + ttlMs })
        .where('id', 'in', ids)
        .execute();
      return rows.map((r) => ({ jobId: r.id, from: r.lease_owner === owner ? null : (r.lease_owner ?? null) }));
    });
  }

  async renew(owner: string, now: number, ttlMs: number): Promise<string[]> {
    const rows = await this.sdb.db
      .updateTable('jobs')
      .set({ lease_until: now + ttlMs })
      .where('lease_owner', '=', owner)
      .where('needs_work', '=', sql.lit(1))
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async take(jobId: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const result = await this.sdb.db
      .updateTable('jobs')
      .set({ lease_owner: owner, lease_until: now + ttlMs })
      .where('id', '=', jobId)
      .where('delivered', '=', sql.lit(0))
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async release(owner: string, jobIds?: readonly string[]): Promise<number> {
    if (jobIds && jobIds.length === 0) return 0;
    const result = await this.sdb.db
      .updateTable('jobs')
      .set({ lease_owner: null, lease_until: null })
      .where('lease_owner', '=', owner)
      .$if(jobIds !== undefined, (q) => q.where('id', 'in', jobIds!))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async nudge(jobId: string): Promise<void> {
    await this.sdb.db.updateTable('jobs').set({ poll_now: 1 }).where('id', '=', jobId).where('needs_work', '=', sql.lit(1)).execute();
  }

  async takeNudges(owner: string): Promise<string[]> {
    const rows = await this.sdb.db
      .updateTable('jobs')
      .set({ poll_now: 0 })
      .where('lease_owner', '=', owner)
      .where('poll_now', '=', sql.lit(1))
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  async holder(jobId: string): Promise<{ owner: string; until: number } | null> {
    const row = await this.sdb.db.selectFrom('jobs').select(['lease_owner', 'lease_until']).where('id', '=', jobId).executeTakeFirst();
    return row?.lease_owner ? { owner: row.lease_owner, until: Number(row.lease_until) } : null;
  }
}
