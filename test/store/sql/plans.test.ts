/**
 * The ledger's hot reads are answered from covering indexes (migration
 * 003_ledger_covering), so their cost is the lines in the window, never a
 * table lookup per line: the 30-day server /usage and an admission's channel
 * spend. The plans are SQLite's (EXPLAIN QUERY PLAN); on PostgreSQL the same
 * indexes serve index-only scans. Figures: `npm run bench -- history`.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/store.js';

async function plan(query: ReturnType<typeof sql>): Promise<string> {
  const store = await openStore('memory://');
  try {
    const rows = await sql<{ detail: string }>`explain query plan ${query}`.execute(store.sql.db);
    return rows.rows.map((r) => r.detail).join(' | ');
  } finally {
    await store.close();
  }
}

describe('ledger query plans (SQLite)', () => {
  it('the server report reads the window once, from the guild covering index', async () => {
    const detail = await plan(
      sql`select channel_id, user_id, sum(case when state <> 'cancelled' then 1 else 0 end), sum(case when state = 'failed' then 1 else 0 end), sum(case when state not in ('cancelled') then 1 else 0 end * credits) from ledger where guild_id = ${'g'} and created_at >= ${0} group by channel_id, user_id`,
    );
    expect(detail).toContain('COVERING INDEX ledger_guild_created_cover');
  });

  it('an admission sums the channel spend from the channel covering index, with no other column in its WHERE', async () => {
    const detail = await plan(
      sql`select sum(case when created_at >= ${5} then credits else 0 end), sum(credits), sum(case when user_id = ${'u'} then 1 else 0 end) from ledger where channel_id = ${'c'} and created_at >= ${0}`,
    );
    expect(detail).toContain('COVERING INDEX ledger_channel_created_cover');
  });

  it('an admission counts the open lines from the partial index, not every line of the channel', async () => {
    const detail = await plan(
      sql`select (select count(*) from ledger as o where o.channel_id = ${'c'} and state in ('queued', 'pending', 'running') and o.state in ('pending', 'running')) as n`,
    );
    expect(detail).toContain('INDEX ledger_open');
  });

  it('an admission reads its channel days from the roll-up index', async () => {
    const detail = await plan(sql`select coalesce(sum(d.credits), 0) from ledger_daily as d where d.dim = 'c' and d.id = ${'c'} and d.day >= ${0}`);
    expect(detail).toContain('INDEX ledger_daily_id_day');
  });

  it('a server report reads whole days from the roll-up by its primary key', async () => {
    const detail = await plan(
      sql`select dim, id, sum(jobs), sum(credits) from ledger_daily where guild_id = ${'g'} and dim in ('c', 'u') and day >= ${0} group by dim, id`,
    );
    expect(detail).toMatch(/USING (PRIMARY KEY|INDEX sqlite_autoindex_ledger_daily_1)/);
  });
});

describe('job lookups (SQLite)', () => {
  it('/show finds a job by its message through the message_id index (007), not a scan', async () => {
    const detail = await plan(sql`select data from jobs where message_id = ${'m'} order by created_at limit 1`);
    expect(detail).toContain('USING INDEX jobs_message_id');
  });
});
