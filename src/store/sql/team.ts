/**
 * TeamStore in SQL: the ledger (one line per job) and the per-channel
 * queues. A decision runs in one transaction per channel: on PostgreSQL it
 * locks the channel's row in `channel_locks` (SELECT … FOR UPDATE), on
 * SQLite it holds the database write lock (BEGIN IMMEDIATE). Sums and
 * reports are aggregates over indexed columns.
 */
import { sql, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { ExpressionBuilder } from 'kysely';
import type { Job } from '../../domain/job.js';
import {
  COUNTING_RULE,
  mergeEntry,
  roundCredits,
  utcDayStart,
  utcMonthStart,
  type ChannelTx,
  type ChannelUsage,
  type ChannelUsageQuery,
  type LedgerEntry,
  type LedgerFilter,
  type LedgerReader,
  type LedgerReport,
  type LedgerRow,
  type TeamStore,
} from '../../domain/team/ledger.js';
import type { SqlDatabase } from './database.js';
import type { LedgerTable, Schema } from './schema.js';

type LedgerEb = ExpressionBuilder<Schema, 'ledger'>;

const OPEN_STATES = ['queued', 'pending', 'running'] as const;
/**
 * `state in ('queued','pending','running')` with the states as literals, not
 * bound parameters: only then can SQLite (and PostgreSQL's generic plans) prove
 * the query matches the partial index `ledger_open` and use it instead of
 * reading every line of the channel.
 */
const isOpenState = sql<SqlBool>`state in (${sql.join(OPEN_STATES.map((s) => sql.lit(s)))})`;

function toEntry(row: Selectable<LedgerTable>): LedgerEntry {
  return {
    jobId: row.job_id,
    guildId: row.guild_id,
    channelId: row.channel_id,
    userId: row.user_id,
    kind: row.kind as LedgerEntry['kind'],
    speed: row.speed as LedgerEntry['speed'],
    credits: Number(row.credits),
    taskId: row.task_id,
    state: row.state as LedgerEntry['state'],
    createdAt: Number(row.created_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

function toRow(e: LedgerEntry): LedgerTable {
  return {
    job_id: e.jobId,
    guild_id: e.guildId,
    channel_id: e.channelId,
    user_id: e.userId,
    kind: e.kind,
    speed: e.speed,
    credits: e.credits,
    task_id: e.taskId,
    state: e.state,
    created_at: e.createdAt,
    finished_at: e.finishedAt,
  };
}

/** The filter as a WHERE clause (each shape has an index: channel/guild/user + created_at). */
function where(eb: LedgerEb, f: LedgerFilter): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  if (f.guildId !== undefined) parts.push(f.guildId === null ? eb('guild_id', 'is', null) : eb('guild_id', '=', f.guildId));
  if (f.channelId !== undefined) parts.push(eb('channel_id', '=', f.channelId));
  if (f.state !== undefined) parts.push(eb('state', '=', f.state));
  if (f.userId !== undefined) parts.push(eb('user_id', '=', f.userId));
  if (f.since !== undefined) parts.push(eb('created_at', '>=', f.since));
  if (f.until !== undefined) parts.push(eb('created_at', '<', f.until));
  return eb.and(parts);
}

/** 1 when a line counts against budgets, else 0: the domain's COUNTING_RULE, as SQL. */
const countedSql = (countFailed: boolean) => {
  const excluded: readonly string[] = countFailed ? COUNTING_RULE.never : [...COUNTING_RULE.never, ...COUNTING_RULE.ifCountFailed];
  return sql<number>`case when state not in (${sql.join(excluded.map((s) => sql.lit(s)))}) then 1 else 0 end`;
};

const byUsage = (a: LedgerRow, b: LedgerRow): number =>
  b.credits - a.credits || b.jobs - a.jobs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

class SqlLedgerReader implements LedgerReader {
  constructor(private readonly db: Kysely<Schema>) {}

  async get(jobId: string): Promise<LedgerEntry | undefined> {
    const row = await this.db.selectFrom('ledger').selectAll().where('job_id', '=', jobId).executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  async query(filter: LedgerFilter): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom('ledger')
      .selectAll()
      .where((eb) => where(eb, filter))
      .execute();
    return rows.map(toEntry);
  }

  /**
   * One pass over the window (the covering index): per (channel, user) pair
   * the non-cancelled jobs, failed, cancelled and counted credits; the totals
   * and the two groupings are sums of those pairs (at most channels × users
   * rows), so the lines are read once instead of once per grouping.
   */
  async report(filter: LedgerFilter, countFailed: boolean): Promise<LedgerReport> {
    const counted = countedSql(countFailed);
    const pairs = await this.db
      .selectFrom('ledger')
      .select([
        'channel_id',
        'user_id',
        sql<number>`sum(case when state <> 'cancelled' then 1 else 0 end)`.as('jobs'),
        sql<number>`sum(case when state = 'failed' then 1 else 0 end)`.as('failed'),
        sql<number>`sum(case when state = 'cancelled' then 1 else 0 end)`.as('cancelled'),
        sql<number>`sum(${counted} * credits)`.as('credits'),
      ])
      .where((eb) => where(eb, filter))
      .groupBy(['channel_id', 'user_id'])
      .execute();
    let jobs = 0;
    let failed = 0;
    let cancelled = 0;
    let credits = 0;
    const byChannel = new Map<string, { jobs: number; credits: number }>();
    const byUser = new Map<string, { jobs: number; credits: number }>();
    const add = (into: Map<string, { jobs: number; credits: number }>, id: string, j: number, c: number): void => {
      const row = into.get(id);
      if (row) {
        row.jobs += j;
        row.credits += c;
      } else into.set(id, { jobs: j, credits: c });
    };
    for (const p of pairs) {
      const j = Number(p.jobs);
      const c = Number(p.credits);
      jobs += j;
      failed += Number(p.failed);
      cancelled += Number(p.cancelled);
      credits += c;
      // A channel or user with only cancelled lines has no row, as before.
      if (j > 0) {
        add(byChannel, p.channel_id, j, c);
        add(byUser, p.user_id, j, c);
      }
    }
    const rows = (m: Map<string, { jobs: number; credits: number }>): LedgerRow[] =>
      [...m].map(([id, r]) => ({ id, jobs: r.jobs, credits: roundCredits(r.credits) })).sort(byUsage);
    return { jobs, failed, cancelled, credits: roundCredits(credits), byChannel: rows(byChannel), byUser: rows(byUser) };
  }

  async spent(filter: LedgerFilter, countFailed: boolean): Promise<{ credits: number; jobs: number }> {
    const counted = countedSql(countFailed);
    const row = await this.db
      .selectFrom('ledger')
      .select([sql<number>`coalesce(sum(${counted} * credits), 0)`.as('credits'), sql<number>`coalesce(sum(${counted}), 0)`.as('jobs')])
      .where((eb) => where(eb, filter))
      .executeTakeFirstOrThrow();
    return { credits: roundCredits(Number(row.credits)), jobs: Number(row.jobs) };
  }

  async earliest(): Promise<number | null> {
    const row = await this.db.selectFrom('ledger').select((eb) => eb.fn.min('created_at').as('t')).executeTakeFirst();
    return row?.t === null || row?.t === undefined ? null : Number(row.t);
  }

  async open(): Promise<LedgerEntry[]> {
    const rows = await this.db.selectFrom('ledger').selectAll().where(isOpenState).orderBy('created_at').execute();
    return rows.map(toEntry);
  }
}

class SqlChannelTx implements ChannelTx {
  readonly queue;

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

  async usage(q: ChannelUsageQuery): Promise<ChannelUsage> {
    const day = utcDayStart(q.now);
    const month = utcMonthStart(q.now);
    const counted = countedSql(q.countFailed);
    // One round trip: the spend from the covering index, the open counts from the partial index.
    const openCount = (states: readonly string[]) =>
      sql<number>`(select count(*) from ledger as o where o.channel_id = ${this.channelId} and o.state in (${sql.join(states.map((st) => sql.lit(st)))})${
        q.excludeJobId !== undefined ? sql` and o.job_id <> ${q.excludeJobId}` : sql``
      })`;
    const spend = await this.tx
      .selectFrom('ledger')
      .select([
        sql<number>`coalesce(sum(case when created_at >= ${day} then ${counted} * credits else 0 end), 0)`.as('today'),
        sql<number>`coalesce(sum(${counted} * credits), 0)`.as('month'),
        sql<number>`coalesce(sum(case when created_at >= ${day} and user_id = ${q.userId} then ${counted} else 0 end), 0)`.as('user_jobs'),
        openCount(OPEN_STATES.filter((st) => st !== 'queued')).as('active'),
        openCount(['queued']).as('waiting'),
      ])
      .where('channel_id', '=', this.channelId)
      .where('created_at', '>=', Math.min(day, month))
      .$if(q.excludeJobId !== undefined, (qb) => qb.where('job_id', '<>', q.excludeJobId!))
      .executeTakeFirstOrThrow();
    const open = { active: Number(spend.active), waiting: Number(spend.waiting) };
    return {
      spentToday: roundCredits(Number(spend.today)),
      spentThisMonth: roundCredits(Number(spend.month)),
      userJobsToday: Number(spend.user_jobs),
      active: open.active,
      waiting: open.waiting,
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

  async put(update: LedgerEntry): Promise<LedgerEntry> {
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
    return this.sdb.write(async (tx) => {
      if (this.sdb.locks) {
        // One round trip: the upsert creates the channel's row if needed and, through DO UPDATE,
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
}
