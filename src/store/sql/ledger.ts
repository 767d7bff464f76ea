/**
 * The ledger in SQL, read side: one row per job, turned into LedgerEntry and
 * back, the filters and the counting rule as SQL, and the reports, sums and
 * open lines team policy reads. Writes happen inside a channel's transaction
 * (./team.ts).
 */
import { sql, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { ExpressionBuilder } from 'kysely';
import {
  COUNTING_RULE,
  roundCredits,
  type LedgerEntry,
  type LedgerFilter,
  type LedgerReader,
  type LedgerReport,
  type LedgerRow,
} from '../../domain/team/ledger.js';
import type { LedgerTable, Schema } from './schema.js';

type LedgerEb = ExpressionBuilder<Schema, 'ledger'>;

export const OPEN_STATES = ['queued', 'pending', 'running'] as const;
/**
 * `state in ('queued','pending','running')` with the states as literals, not
 * bound parameters: only then can SQLite (and PostgreSQL's generic plans) prove
 * the query matches the partial index `ledger_open` and use it instead of
 * reading every line of the channel.
 */
export const isOpenState = sql<SqlBool>`state in (${sql.join(OPEN_STATES.map((s) => sql.lit(s)))})`;

export function toEntry(row: Selectable<LedgerTable>): LedgerEntry {
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

export function toRow(e: LedgerEntry): LedgerTable {
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
export const countedSql = (countFailed: boolean) => {
  const excluded: readonly string[] = countFailed ? COUNTING_RULE.never : [...COUNTING_RULE.never, ...COUNTING_RULE.ifCountFailed];
  return sql<number>`case when state not in (${sql.join(excluded.map((s) => sql.lit(s)))}) then 1 else 0 end`;
};

export const byUsage = (a: LedgerRow, b: LedgerRow): number =>
  b.credits - a.credits || b.jobs - a.jobs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class SqlLedgerReader implements LedgerReader {
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

