/**
 * The daily roll-up (src/store/sql/ledgerDaily.ts) stays exact: after
 * inserts, state changes in and out of the counted classes (settlement,
 * cancellation, failure), merges that change nothing and deletes, the table
 * equals a recomputation from the lines, and a server-wide report over a
 * window with partial days at both ends equals the pure computation over
 * the lines — on SQLite and PostgreSQL.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { counts, matches, sumCredits, utcDayStart, type LedgerEntry, type LedgerFilter } from '../../../src/domain/team/ledger.js';
import { buildUsageReport } from '../../../src/domain/team/usage.js';
import { DAY_MS, LEDGER_DAILY_REBUILD, splitWindow } from '../../../src/store/sql/ledgerDaily.js';
import type { OpenedStore } from '../../../src/store/store.js';
import { storeBackends } from '../../support/backends.js';
import { useTestDatabase } from '../../support/testStores.js';
import { ALICE, BOB, CHANNEL, GUILD, NOON, OTHER_CHANNEL, entry, testLedger } from '../../domain/team/fixtures.js';
import { undoTaskDurationsProvider } from '../../support/rewind.js';

type Row = Record<string, unknown>;

/** The roll-up's rows with anything in them, as plain numbers, in key order. */
async function rollup(store: OpenedStore): Promise<Row[]> {
  const rows = await store.sql.db.selectFrom('ledger_daily').selectAll().orderBy('guild_id').orderBy('dim').orderBy('day').orderBy('id').execute();
  return rows
    .map((r) => ({ ...r, day: Number(r.day), jobs: Number(r.jobs), failed: Number(r.failed), cancelled: Number(r.cancelled), credits: Math.round(Number(r.credits) * 100) / 100, failed_credits: Math.round(Number(r.failed_credits) * 100) / 100 }))
    .filter((r) => r.jobs !== 0 || r.failed !== 0 || r.cancelled !== 0 || r.credits !== 0 || r.failed_credits !== 0);
}

/** What the roll-up would hold if recomputed from the lines now (rolled back afterwards). */
async function recomputed(store: OpenedStore): Promise<Row[]> {
  let out: Row[] = [];
  await store.sql
    .write(async (tx) => {
      for (const stmt of LEDGER_DAILY_REBUILD) await sql.raw(stmt).execute(tx);
      out = await rollup({ sql: { db: tx } } as unknown as OpenedStore);
      throw new Error('rollback');
    })
    .catch((e: unknown) => {
      if (!(e instanceof Error && e.message === 'rollback')) throw e;
    });
  return out;
}

describe('splitWindow', () => {
  it('takes whole UTC days from the roll-up and the partial days from the lines', () => {
    const d = Date.UTC(2025, 2, 14);
    expect(splitWindow(d - 5, undefined)).toEqual({ days: { from: d }, edges: [{ since: d - 5, until: d }] });
    expect(splitWindow(d, d + 2 * DAY_MS + 7)).toEqual({ days: { from: d, to: d + 2 * DAY_MS }, edges: [{ since: d + 2 * DAY_MS, until: d + 2 * DAY_MS + 7 }] });
    expect(splitWindow(d + 1, d + DAY_MS + 1)).toEqual({ days: null, edges: [{ since: d + 1, until: d + DAY_MS + 1 }] });
    expect(splitWindow(undefined, undefined)).toEqual({ days: {}, edges: [] });
  });
});

describe.each(storeBackends())('the ledger roll-up on %s', (backend) => {
  const { open } = useTestDatabase(backend);

  it('follows inserts, state changes and deletes, and server reports equal the lines', async () => {
    const store = await open();
    const ledger = testLedger(store);
    const channels = [CHANNEL, OTHER_CHANNEL, '1100000000000000777'];
    const users = [ALICE, BOB, '1100000000000000888'];
    let seed = 11;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), Math.floor((seed / 2 ** 31) * n));
    const lines = new Map<string, LedgerEntry>();
    const put = async (e: LedgerEntry) => lines.set(e.jobId, await ledger.put(e));
    for (let i = 0; i < 120; i++) {
      await put(
        entry({
          jobId: `d${i}`,
          guildId: next(8) === 0 ? 'other-guild' : GUILD,
          channelId: channels[next(channels.length)]!,
          userId: users[next(users.length)]!,
          credits: [8, 16, 0.1, 2.5, 45][next(5)]!,
          state: (['queued', 'pending', 'running', 'succeeded', 'failed', 'cancelled'] as const)[next(6)]!,
          // Across 6 days, at any hour: lines on both sides of every day boundary.
          createdAt: NOON - next(6 * 24) * 3_600_000 - next(3_600_000),
        }),
      );
    }
    expect(await rollup(store)).toEqual(await recomputed(store));

    // Settle the open lines: some succeed (same class: nothing to do), some fail, some are cancelled.
    for (const e of [...lines.values()].filter((l) => ['queued', 'pending', 'running'].includes(l.state))) {
      const to = (['succeeded', 'failed', 'cancelled', 'running'] as const)[next(4)]!;
      await put({ ...e, state: to, finishedAt: to === 'running' ? null : NOON });
    }
    // A merge that changes nothing (a late 'running' after the end) and a credits correction.
    const done = [...lines.values()].find((l) => l.state === 'succeeded')!;
    await put({ ...done, state: 'running' });
    await store.sql.db.updateTable('ledger').set({ credits: 99 }).where('job_id', '=', done.jobId).execute();
    lines.set(done.jobId, { ...lines.get(done.jobId)!, credits: 99 });
    // A line moved to another day and channel by hand, and one deleted.
    const moved = [...lines.values()].find((l) => l.state === 'failed')!;
    await store.sql.db.updateTable('ledger').set({ created_at: moved.createdAt - 3 * DAY_MS, channel_id: OTHER_CHANNEL }).where('job_id', '=', moved.jobId).execute();
    lines.set(moved.jobId, { ...moved, createdAt: moved.createdAt - 3 * DAY_MS, channelId: OTHER_CHANNEL });
    const gone = [...lines.values()].find((l) => l.state === 'cancelled')!;
    await store.sql.db.deleteFrom('ledger').where('job_id', '=', gone.jobId).execute();
    lines.delete(gone.jobId);

    expect(await rollup(store)).toEqual(await recomputed(store));
    const all = [...lines.values()];
    const filters: LedgerFilter[] = [
      { guildId: GUILD, since: NOON - 30 * DAY_MS },
      { guildId: GUILD, since: NOON - 2 * DAY_MS - 1234 },
      { guildId: GUILD, since: NOON - 4 * DAY_MS + 5, until: NOON - DAY_MS + 77 },
      { guildId: GUILD, since: NOON - 3_600_000, until: NOON },
      { guildId: GUILD },
      { guildId: 'other-guild', since: NOON - 2 * DAY_MS },
    ];
    for (const countFailed of [false, true]) {
      for (const filter of filters) {
        expect(await store.team.ledger.report(filter, countFailed)).toEqual(buildUsageReport(all.filter((e) => matches(e, filter)), countFailed));
      }
      // A channel's budget line (spend since a day start) from its days equals the lines' sum.
      for (const channelId of channels) {
        for (const since of [utcDayStart(NOON), utcDayStart(NOON) - 3 * DAY_MS]) {
          const mine = all.filter((e) => e.channelId === channelId && e.createdAt >= since);
          expect(await store.team.ledger.spent({ channelId, since }, countFailed)).toEqual({
            credits: sumCredits(mine, countFailed),
            jobs: mine.filter((e) => counts(e, countFailed)).length,
          });
        }
      }
    }
  });

  it('is made from the lines already there when the migration adds it', async () => {
    const store = await open();
    await testLedger(store).put(entry({ jobId: 'old', state: 'failed', credits: 16 }));
    // As a database from before 007 would be: lines, and no roll-up rows for them.
    await store.sql.db.deleteFrom('ledger_daily').execute();
    // The later migrations are undone too: the migrator runs missing ones only in order.
    await store.sql.db.deleteFrom('kysely_migration' as never).where('name' as never, '>=', '008_ledger_daily' as never).execute();
    // 014_task_durations_provider, 013_create_sent, 012_batches, 011_fleet_members and 010_kie_keys, which come after them, first (SQLite checks the roll-up's triggers on every ALTER).
    await undoTaskDurationsProvider(store.sql.db);
    await store.sql.db.schema.alterTable('jobs').dropColumn('create_sent_at').execute();
    await store.sql.db.schema.dropTable('fleet_members').execute();
    await store.sql.db.schema.dropIndex('jobs_open_account').execute();
    await store.sql.db.schema.alterTable('jobs').dropColumn('account').execute();
    await store.sql.db.schema.dropIndex('kie_creates_key_ends').execute();
    await store.sql.db.schema.alterTable('kie_creates').dropColumn('key_name').execute();
    await store.sql.db.schema.dropTable('kie_keys').execute();
    await store.sql.db.schema.dropTable('settings').execute();
    await store.sql.db.schema.dropTable('alert_state').execute();
    await store.sql.db.schema.dropTable('batches').execute();
    await store.sql.db.schema.dropTable('ledger_daily').execute();
    if (backend.name === 'postgres') await sql`drop function ledger_daily_apply() cascade`.execute(store.sql.db);
    else for (const t of ['ledger_daily_ai', 'ledger_daily_ad', 'ledger_daily_au']) await sql.raw(`drop trigger ${t}`).execute(store.sql.db);
    await store.close();
    const again = await open();
    expect(await rollup(again)).toEqual([
      { guild_id: GUILD, dim: 'c', day: NOON - (NOON % DAY_MS), id: CHANNEL, jobs: 1, failed: 1, cancelled: 0, credits: 0, failed_credits: 16 },
      { guild_id: GUILD, dim: 'u', day: NOON - (NOON % DAY_MS), id: ALICE, jobs: 1, failed: 1, cancelled: 0, credits: 0, failed_credits: 16 },
    ]);
  });
});
