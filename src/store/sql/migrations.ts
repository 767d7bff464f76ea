/**
 * Versioned migrations, defined in code (a static provider: the built dist
 * needs no migration files on disk). Append new ones with the next number;
 * never edit one that has shipped. Each runs in a transaction on both
 * SQLite and PostgreSQL, and uses only DDL both understand.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const m001_core: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('guild_id', 'text')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('speed', 'text')
      .addColumn('task_id', 'text')
      .addColumn('parent_job_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('delivered', 'integer', (c) => c.notNull())
      .addColumn('needs_work', 'integer', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('jobs_task_id').on('jobs').column('task_id').unique().where(sql.ref('task_id'), 'is not', null).execute();
    await db.schema.createIndex('jobs_needs_work').on('jobs').column('created_at').where(sql.ref('needs_work'), '=', 1).execute();
    await db.schema.createIndex('jobs_state').on('jobs').column('state').execute();
    await db.schema.createIndex('jobs_channel_created').on('jobs').columns(['channel_id', 'created_at']).execute();
    await db.schema.createIndex('jobs_user_created').on('jobs').columns(['user_id', 'created_at']).execute();
    await db.schema.createIndex('jobs_guild_created').on('jobs').columns(['guild_id', 'created_at']).execute();
    await db.schema.createIndex('jobs_parent').on('jobs').column('parent_job_id').execute();
    await db.schema.createIndex('jobs_finished').on('jobs').column('finished_at').execute();

    await db.schema
      .createTable('ledger')
      .addColumn('job_id', 'text', (c) => c.primaryKey())
      .addColumn('guild_id', 'text')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('speed', 'text')
      .addColumn('credits', 'double precision', (c) => c.notNull())
      .addColumn('task_id', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .execute();
    await db.schema.createIndex('ledger_channel_created').on('ledger').columns(['channel_id', 'created_at']).execute();
    await db.schema.createIndex('ledger_guild_created').on('ledger').columns(['guild_id', 'created_at']).execute();
    await db.schema.createIndex('ledger_user_created').on('ledger').columns(['user_id', 'created_at']).execute();
    await db.schema.createIndex('ledger_created').on('ledger').column('created_at').execute();
    await db.schema
      .createIndex('ledger_open')
      .on('ledger')
      .columns(['channel_id', 'state'])
      .where(sql.ref('state'), 'in', ['queued', 'pending', 'running'])
      .execute();

    await db.schema
      .createTable('queue')
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('job_id', 'text', (c) => c.notNull().unique())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('queue_pk', ['channel_id', 'seq'])
      .execute();

    await db.schema
      .createTable('claims')
      .addColumn('parent_job_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('child_job_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('claims_pk', ['parent_job_id', 'action', 'position'])
      .execute();

    await db.schema.createTable('channel_locks').addColumn('channel_id', 'text', (c) => c.primaryKey()).execute();

    await db.schema
      .createTable('task_durations')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('speed', 'text')
      .addColumn('duration_ms', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('task_durations_kind_speed').on('task_durations').columns(['kind', 'speed', 'finished_at']).execute();

    await db.schema
      .createTable('store_info')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * Leases for several processes on one database (src/store/sql/leases.ts):
 * who tracks each unfinished job, until when. One ALTER per column (SQLite
 * adds one column per statement).
 */
const m002_job_leases: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('lease_owner', 'text').execute();
    await db.schema.alterTable('jobs').addColumn('lease_until', 'bigint').execute();
    await db.schema.createIndex('jobs_lease_owner').on('jobs').column('lease_owner').where(sql.ref('needs_work'), '=', 1).execute();
  },
};

/**
 * KIE's create limit shared by every process (src/store/sql/createWindow.ts):
 * one row per create, counting from when it is sent until windowMs after its
 * answer; `rate_locks` holds the row each decision locks.
 */
const m003_kie_create_window: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('kie_creates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('ends_at', 'bigint')
      .execute();
    await db.schema.createIndex('kie_creates_ends').on('kie_creates').column('ends_at').execute();
    await db.schema.createTable('rate_locks').addColumn('name', 'text', (c) => c.primaryKey()).execute();
  },
};

/** A KIE callback that reached a process not tracking the job asks the lease holder to poll it now. */
const m004_poll_now: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('poll_now', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};

/** Every migration, in order. Add new ones at the end ('002_…', '003_…'). */
export const MIGRATIONS: Record<string, Migration> = {
  '001_core': m001_core,
  '002_job_leases': m002_job_leases,
  '003_kie_create_window': m003_kie_create_window,
  '004_poll_now': m004_poll_now,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
