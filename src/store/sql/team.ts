/**
 * TeamStore in SQL: the ledger (one line per job) and the per-channel
 * queues. A decision runs in one transaction per channel: on PostgreSQL it
 * locks the channel's row in `channel_locks` (an upsert whose DO UPDATE
 * holds the row lock), on SQLite it holds the database write lock (BEGIN
 * IMMEDIATE). Sums are aggregates over indexed columns; reading the ledger
 * outside decisions is ledgerReader.ts.
 */
import { sql, type Kysely } from 'kysely';
import type { Job } from '../../domain/job.js';
import {
  counts,
  mergeEntry,
  roundCredits,
  utcDayStart,
  utcMonthStart,
  type ChannelTx,
  type ChannelUsage,
  type ChannelUsageQuery,
  type LedgerEntry,
  type LedgerReader,
  type TeamStore,
} from '../../domain/team/ledger.js';
import type { SqlDatabase } from './database.js';
import { SqlLedgerReader } from './ledgerReader.js';
import { countedSql, isOpenState, OPEN_STATES, toEntry, toRow } from './ledgerSql.js';
import type { Schema } from './schema.js';

class SqlChannelTx implements ChannelTx {
  readonly queue;
  /** Job ids whose line usage() found missing in this transaction (the channel's lock keeps it so). */
  private readonly absent = new Set<string>();

  constructor(
    private readonly tx: Kysely<Schema>,
    private readonly channelId: string,
    private readonly locks: boolean,
  ) {
    const channel = channelId;
    this.queue = {
      list: async (): Promise<Job[]> => {
        const rows = await tx.selectFrom('queue').select('data').where('channel_id', '=', channel).orderBy('seq').execute();
        return rows.map((r) => JSON.parse(r.data) as Job);
      },
      enqueue: async (job: Job): Promise<number> => {
        const updated = await tx.updateTable('queue').set({ data: JSON.stringify(job) }).where('job_id', '=', job.id).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) {
          const last = await tx
            .selectFrom('queue')
            .select((eb) => eb.fn.max('seq').as('seq'))
            .where('channel_id', '=', channel)
            .executeTakeFirst();
          const seq = Number(last?.seq ?? 0) + 1;
          await tx.insertInto('queue').values({ channel_id: channel, seq, job_id: job.id, data: JSON.stringify(job) }).execute();
        }
        return (await this.position(job.id)) ?? 0;
      },
      update: async (job: Job): Promise<boolean> => {
        const updated = await tx.updateTable('queue').set({ data: JSON.stringify(job) }).where('job_id', '=', job.id).executeTakeFirst();
        return Number(updated.numUpdatedRows) > 0;
      },
      remove: async (jobIds: readonly string[]): Promise<number> => {
        if (jobIds.length === 0) return 0;
        const deleted = await tx.deleteFrom('queue').where('channel_id', '=', channel).where('job_id', 'in', [...jobIds]).executeTakeFirst();
        return Number(deleted.numDeletedRows);
      },
    };
  }

  private position(jobId: string): Promise<number | null> {
    return queuePosition(this.tx, this.channelId, jobId);
  }

  /**
   * One round trip: the channel's spend today and this month from its
   * roll-up days (≤ 31 rows, exact: every line of the channel changes under
   * its lock, and the triggers update the days in the same transaction), the
   * user's jobs from today's lines (covering index; no other column may
   * appear in that WHERE, or PostgreSQL leaves the index), the open counts
   * from the partial index, and the excluded job's own line by primary key,
   * whose share is taken off here.
   */
  async usage(q: ChannelUsageQuery): Promise<ChannelUsage> {
    const day = utcDayStart(q.now);
    const month = utcMonthStart(q.now);
    const counted = countedSql(q.countFailed);
    const ex = q.excludeJobId;
    // The open-states term is repeated word for word: SQLite uses the partial index ledger_open only when
    // the query names its WHERE exactly (a narrower IN list alone makes it read every line of the channel).
    const openCount = (states: readonly string[]) =>
      sql<number>`(select count(*) from ledger as o where o.channel_id = ${this.channelId} and ${isOpenState} and o.state in (${sql.join(states.map((st) => sql.lit(st)))})${
        ex !== undefined ? sql` and o.job_id <> ${ex}` : sql``
      })`;
    const excluded = (column: 'state' | 'credits' | 'user_id' | 'created_at') =>
      ex === undefined ? sql<null>`null` : sql<string | number | null>`(select e.${sql.ref(column)} from ledger as e where e.job_id = ${ex} and e.channel_id = ${this.channelId})`;
    const daysCredits = q.countFailed ? sql`d.credits + d.failed_credits` : sql`d.credits`;
    const spentSince = (since: number) =>
      sql<number>`(select coalesce(sum(${daysCredits}), 0) from ledger_daily as d where d.dim = 'c' and d.id = ${this.channelId} and d.day >= ${since})`;
    const row = await this.tx
      .selectFrom('ledger')
      .select([
        spentSince(day).as('today'),
        spentSince(month).as('month'),
        sql<number>`coalesce(sum(case when user_id = ${q.userId} then ${counted} else 0 end), 0)`.as('user_jobs'),
        openCount(OPEN_STATES.filter((st) => st !== 'queued')).as('active'),
        openCount(['queued']).as('waiting'),
        excluded('state').as('ex_state'),
        excluded('credits').as('ex_credits'),
        excluded('user_id').as('ex_user'),
        excluded('created_at').as('ex_created'),
      ])
      .where('channel_id', '=', this.channelId)
      .where('created_at', '>=', day)
      .executeTakeFirstOrThrow();
    let today = Number(row.today);
    let monthSpend = Number(row.month);
    let userJobs = Number(row.user_jobs);
    if (ex !== undefined) {
      if (row.ex_state === null) this.absent.add(ex);
      else if (counts({ state: row.ex_state as LedgerEntry['state'] }, q.countFailed)) {
        const created = Number(row.ex_created);
        const credits = Number(row.ex_credits);
        if (created >= day) today -= credits;
        if (created >= month) monthSpend -= credits;
        if (created >= day && row.ex_user === q.userId) userJobs -= 1;
      }
    }
    return {
      spentToday: roundCredits(today),
      spentThisMonth: roundCredits(monthSpend),
      userJobsToday: userJobs,
      active: Number(row.active),
      waiting: Number(row.waiting),
    };
  }

  async activeCount(): Promise<number> {
    return (await this.openCounts()).active;
  }

  private async openCounts(excludeJobId?: string): Promise<{ active: number; waiting: number }> {
    const rows = await this.tx
      .selectFrom('ledger')
      .select(['state', sql<number>`count(*)`.as('n')])
      .where('channel_id', '=', this.channelId)
      .where(isOpenState)
      .$if(excludeJobId !== undefined, (qb) => qb.where('job_id', '<>', excludeJobId!))
      .groupBy('state')
      .execute();
    let active = 0;
    let waiting = 0;
    for (const r of rows) {
      if (r.state === 'queued') waiting += Number(r.n);
      else active += Number(r.n);
    }
    return { active, waiting };
  }

  async get(jobId: string): Promise<LedgerEntry | undefined> {
    const row = await this.tx
      .selectFrom('ledger')
      .selectAll()
      .where('job_id', '=', jobId)
      .$if(this.locks, (q) => q.forUpdate())
      .executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  /**
   * A line usage() saw missing (the job being admitted) is inserted in one
   * round trip; if it turns up after all, or for any other line, the stored
   * line is read (locked) and merged as before.
   */
  async put(update: LedgerEntry): Promise<LedgerEntry> {
    if (this.absent.delete(update.jobId)) {
      const inserted = await this.tx
        .insertInto('ledger')
        .values(toRow(update))
        .onConflict((oc) => oc.column('job_id').doNothing())
        .returning('job_id')
        .executeTakeFirst();
      if (inserted) return update;
    }
    const next = mergeEntry(await this.get(update.jobId), update);
    const row = toRow(next);
    const { job_id: _id, ...changes } = row;
    await this.tx
      .insertInto('ledger')
      .values(row)
      .onConflict((oc) => oc.column('job_id').doUpdateSet(changes))
      .execute();
    return next;
  }
}

async function queuePosition(db: Kysely<Schema>, channelId: string, jobId: string): Promise<number | null> {
  const mine = await db.selectFrom('queue').select('seq').where('job_id', '=', jobId).where('channel_id', '=', channelId).executeTakeFirst();
  if (!mine) return null;
  const ahead = await db
    .selectFrom('queue')
    .select(sql<number>`count(*)`.as('n'))
    .where('channel_id', '=', channelId)
    .where('seq', '<', mine.seq)
    .executeTakeFirstOrThrow();
  return Number(ahead.n) + 1;
}

export class SqlTeamStore implements TeamStore {
  readonly ledger: LedgerReader;
  readonly queues;

  constructor(private readonly sdb: SqlDatabase) {
    this.ledger = new SqlLedgerReader(sdb.db);
    const db = sdb.db;
    this.queues = {
      list: async (channelId: string): Promise<Job[]> => {
        const rows = await db.selectFrom('queue').select('data').where('channel_id', '=', channelId).orderBy('seq').execute();
        return rows.map((r) => JSON.parse(r.data) as Job);
      },
      position: (channelId: string, jobId: string) => queuePosition(db, channelId, jobId),
      channels: async (): Promise<string[]> => {
        const rows = await db.selectFrom('queue').select('channel_id').distinct().orderBy('channel_id').execute();
        return rows.map((r) => r.channel_id);
      },
    };
  }

  inChannel<T>(channelId: string, fn: (tx: ChannelTx) => Promise<T>): Promise<T> {
    if (this.sdb.locks && PLAIN_ID.test(channelId)) return this.lockedOnPostgres(channelId, fn);
    return this.sdb.write(async (tx) => {
      if (this.sdb.locks) {
        // The upsert creates the channel's row if needed and, through DO UPDATE,
        // holds its row lock until the transaction ends (as SELECT … FOR UPDATE would).
        await tx
          .insertInto('channel_locks')
          .values({ channel_id: channelId })
          .onConflict((oc) => oc.column('channel_id').doUpdateSet({ channel_id: (eb) => eb.ref('excluded.channel_id') }))
          .execute();
      }
      return fn(new SqlChannelTx(tx, channelId, this.sdb.locks));
    });
  }

  /**
   * PostgreSQL: BEGIN and the channel lock in one round trip — one simple
   * query holding both statements (a simple query takes no parameters, so the
   * id, checked to be a plain id, is written into it) —, then the decision,
   * then COMMIT (ROLLBACK on any error).
   */
  private lockedOnPostgres<T>(channelId: string, fn: (tx: ChannelTx) => Promise<T>): Promise<T> {
    return this.sdb.db.connection().execute(async (conn) => {
      try {
        await sql
          .raw(`begin; insert into channel_locks (channel_id) values ('${channelId}') on conflict (channel_id) do update set channel_id = excluded.channel_id`)
          .execute(conn);
        const result = await fn(new SqlChannelTx(conn, channelId, true));
        await sql`commit`.execute(conn);
        return result;
      } catch (error) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
  }
}

/** Ids that may be written into a statement as they are (Discord snowflakes are digits). */
const PLAIN_ID = /^[A-Za-z0-9_-]{1,64}$/;
