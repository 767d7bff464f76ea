/**
 * Open jobs (needs_work = 1) counted by state, for /metrics: one GROUP BY
 * over the partial index jobs_needs_work, so a scrape never reads finished
 * history. Same query on SQLite and PostgreSQL.
 */
import { sql } from 'kysely';
import type { SqlDatabase } from './database.js';

export async function openJobsByState(sdb: SqlDatabase): Promise<Record<string, number>> {
  const rows = await sdb.db
    .selectFrom('jobs')
    .select(['state', sql<number | string>`count(*)`.as('n')])
    .where('needs_work', '=', sql.lit(1))
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Requests waiting in channel queues (the queue table only ever holds waiting entries, so it stays small). */
export async function queueLength(sdb: SqlDatabase): Promise<number> {
  const row = await sdb.db.selectFrom('queue').select(sql<number | string>`count(*)`.as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}
