/**
 * The ledger's row mapping and SQL fragments shared by the reader
 * (ledgerReader.ts), the channel transactions (team.ts) and the daily
 * roll-up (ledgerDaily.ts): one place says how COUNTING_RULE and the
 * open states look in SQL.
 */
import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import type { ExpressionBuilder } from 'kysely';
import { COUNTING_RULE, type LedgerEntry, type LedgerFilter } from '../../domain/team/ledger.js';
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
export function where(eb: LedgerEb, f: LedgerFilter): Expression<SqlBool> {
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

