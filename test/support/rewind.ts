/**
 * Undoing migrations in tests that check an upgrade: Kysely's migrator runs
 * only the migrations missing at the end, in order, so a test that takes a
 * database back to before migration N must undo every later one too. One
 * function per migration, newest first, for the tests to call in order.
 */
import type { Kysely } from 'kysely';
import type { Schema } from '../../src/store/sql/schema.js';

const forget = (db: Kysely<Schema>, name: string): Promise<unknown> =>
  db.deleteFrom('kysely_migration' as never).where('name' as never, '=', name as never).execute();

/** Undo 014_task_durations_provider: no provider column, the old (kind, speed, finished_at) index. */
export async function undoTaskDurationsProvider(db: Kysely<Schema>): Promise<void> {
  await forget(db, '014_task_durations_provider');
  await db.schema.dropIndex('task_durations_provider_kind_speed').execute();
  await db.schema.alterTable('task_durations').dropColumn('provider').execute();
  await db.schema.createIndex('task_durations_kind_speed').on('task_durations').columns(['kind', 'speed', 'finished_at']).execute();
}
