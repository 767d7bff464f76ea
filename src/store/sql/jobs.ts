/**
 * JobRepository in SQL: one row per job (indexed columns plus the whole Job
 * as JSON). Updates are read-modify-write transactions (FOR UPDATE on
 * PostgreSQL, the write lock on SQLite); a task id belongs to one job
 * (partial unique index); a button claim is the unique key of `claims`.
 */
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Job } from '../../domain/job.js';
import { JobExistsError, JobNotFoundError, needsWork, type JobRepository } from '../../domain/jobRepository.js';
import type { SqlDatabase } from './database.js';
import type { JobsTable, Schema } from './schema.js';

export function jobRow(job: Job, now: number = Date.now()): Insertable<JobsTable> {
  return {
    id: job.id,
    state: job.state,
    guild_id: job.origin.guildId,
    channel_id: job.origin.channelId,
    user_id: job.origin.userId,
    kind: job.kind,
    speed: job.speed,
    task_id: job.taskId,
    parent_job_id: job.parent?.jobId ?? null,
    created_at: job.createdAt,
    updated_at: now,
    finished_at: job.finishedAt,
    delivered: job.delivered ? 1 : 0,
    needs_work: needsWork(job) ? 1 : 0,
    data: JSON.stringify(job),
    prompt: job.promptText ?? '',
    message_id: job.origin.messageId,
    account: job.account ?? null,
    create_sent_at: job.createSentAt ?? null,
  };
}

const parse = (row: Pick<Selectable<JobsTable>, 'data'>): Job => JSON.parse(row.data) as Job;

export class SqlJobRepository implements JobRepository {
  constructor(private readonly sdb: SqlDatabase) {}

  private get db(): Kysely<Schema> {
    return this.sdb.db;
  }

  async get(id: string): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').select('data').where('id', '=', id).executeTakeFirst();
    return row ? parse(row) : undefined;
  }

  async require(id: string): Promise<Job> {
    const job = await this.get(id);
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  async create(job: Job): Promise<Job> {
    const result = await this.db
      .insertInto('jobs')
      .values(jobRow(job))
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) throw new JobExistsError(job.id);
    return job;
  }

  async save(job: Job): Promise<Job> {
    const row = jobRow(job);
    const { id: _id, ...changes } = row;
    await this.db
      .insertInto('jobs')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(changes))
      .execute();
    return job;
  }

  async update(id: string, change: (job: Job) => Job): Promise<Job> {
    return this.sdb.write(async (tx) => {
      const row = await tx
        .selectFrom('jobs')
        .select('data')
        .where('id', '=', id)
        .$if(this.sdb.locks, (q) => q.forUpdate())
        .executeTakeFirst();
      if (!row) throw new JobNotFoundError(id);
      const next = change(parse(row));
      const { id: _id, ...changes } = jobRow(next);
      await tx.updateTable('jobs').set(changes).where('id', '=', id).execute();
      return next;
    });
  }

  async listActive(): Promise<Job[]> {
    // needs_work as a literal, not a parameter, so the partial index jobs_needs_work applies.
    const rows = await this.db.selectFrom('jobs').select('data').where('needs_work', '=', sql.lit(1)).orderBy('created_at').orderBy('id').execute();
    return rows.map(parse);
  }

  async findByTaskId(taskId: string): Promise<Job | undefined> {
    const row = await this.db.selectFrom('jobs').select('data').where('task_id', '=', taskId).executeTakeFirst();
    return row ? parse(row) : undefined;
  }

  async claimAction(parentJobId: string, action: string, position: number, childJobId: string): Promise<string | null> {
    for (;;) {
      const inserted = await this.db
        .insertInto('claims')
        .values({ parent_job_id: parentJobId, action, position, child_job_id: childJobId })
        .onConflict((oc) => oc.columns(['parent_job_id', 'action', 'position']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return null;
      const holder = await this.db
        .selectFrom('claims')
        .select('child_job_id')
        .where('parent_job_id', '=', parentJobId)
        .where('action', '=', action)
        .where('position', '=', position)
        .executeTakeFirst();
      if (holder) return holder.child_job_id;
      // Released between our insert and our read: try again.
    }
  }

  async releaseAction(parentJobId: string, action: string, position: number, childJobId?: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('claims')
      .where('parent_job_id', '=', parentJobId)
      .where('action', '=', action)
      .where('position', '=', position)
      .$if(childJobId !== undefined, (q) => q.where('child_job_id', '=', childJobId!))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
