/**
 * Versioned migrations, defined in code (a static provider: the built dist
 * needs no migration files on disk). Append new ones with the next number;
 * never edit one that has shipped. Each runs in a transaction on both
 * SQLite and PostgreSQL, and uses only DDL both understand.
 */
import { PostgresAdapter, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { createLedgerDaily } from './ledgerDaily.js';

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
 * /history: the prompt as its own column (search), filled for existing rows
 * in batches by id; and the stored /history views its page buttons refer to.
 */
const m002_history: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('prompt', 'text').execute();
    const jobs = db as unknown as Kysely<{ jobs: { id: string; data: string; prompt: string | null } }>;
    let after = '';
    for (;;) {
      const rows = await jobs.selectFrom('jobs').select(['id', 'data']).where('id', '>', after).orderBy('id').limit(500).execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        let prompt = '';
        try {
          const parsed = JSON.parse(row.data) as { promptText?: unknown };
          if (typeof parsed.promptText === 'string') prompt = parsed.promptText;
        } catch {
          // A row that does not parse keeps an empty prompt; the job itself is read elsewhere.
        }
        await jobs.updateTable('jobs').set({ prompt }).where('id', '=', row.id).execute();
      }
      after = rows[rows.length - 1]!.id;
    }
    await db.schema
      .createTable('history_views')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('history_views_created_at').on('history_views').column('created_at').execute();
  },
};

/**
 * Covering indexes for the ledger's two hot reads, so neither visits the
 * table: the /usage report (guild + created_at window, grouped by channel and
 * user, summing credits by state) and an admission's channel spend (channel +
 * created_at window, by state, credits and user). They replace the plain
 * (guild_id, created_at) and (channel_id, created_at) indexes, which are their
 * prefixes. Measured by `npm run bench -- history` (bench/RESULTS.md).
 */
const m_ledger_covering: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createIndex('ledger_guild_created_cover')
      .on('ledger')
      .columns(['guild_id', 'created_at', 'state', 'credits', 'channel_id', 'user_id'])
      .execute();
    await db.schema
      .createIndex('ledger_channel_created_cover')
      .on('ledger')
      .columns(['channel_id', 'created_at', 'state', 'credits', 'user_id'])
      .execute();
    await db.schema.dropIndex('ledger_guild_created').execute();
    await db.schema.dropIndex('ledger_channel_created').execute();
  },
};

/**
 * Leases for several processes on one database (src/store/sql/leases.ts):
 * who tracks each unfinished job, until when. One ALTER per column (SQLite
 * adds one column per statement).
 */
const m004_job_leases: Migration = {
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
const m005_kie_create_window: Migration = {
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
const m006_poll_now: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('poll_now', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};

/**
 * /show finds a job by the message its result lives in (a pasted message
 * link): the message id as its own indexed column, filled for existing rows
 * in batches by id, as 002 filled the prompt; and the copies /show posts.
 */
const m007_job_message_id: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('message_id', 'text').execute();
    const jobs = db as unknown as Kysely<{ jobs: { id: string; data: string; message_id: string | null } }>;
    let after = '';
    for (;;) {
      const rows = await jobs.selectFrom('jobs').select(['id', 'data']).where('id', '>', after).orderBy('id').limit(500).execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        let messageId: string | null = null;
        try {
          const parsed = JSON.parse(row.data) as { origin?: { messageId?: unknown } };
          if (typeof parsed.origin?.messageId === 'string') messageId = parsed.origin.messageId;
        } catch {
          // A row that does not parse has no message to find it by.
        }
        if (messageId !== null) await jobs.updateTable('jobs').set({ message_id: messageId }).where('id', '=', row.id).execute();
      }
      after = rows[rows.length - 1]!.id;
    }
    await db.schema.createIndex('jobs_message_id').on('jobs').column('message_id').execute();
    // The copies /show posted, so a link to a copy finds its job too.
    await db.schema
      .createTable('shown_messages')
      .addColumn('message_id', 'text', (c) => c.primaryKey())
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/**
 * The ledger's daily roll-up (src/store/sql/ledgerDaily.ts), kept by triggers
 * and filled from the lines already there: a server-wide /usage reads days,
 * not lines. The triggers are the one DDL that differs between the dialects.
 */
const m008_ledger_daily: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await createLedgerDaily(db, db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite');
  },
};

/**
 * Settings and the low-balance alert state move from keyv into tables
 * (src/store/sql/settings.ts): one row per setting, so an update writes only
 * what it names, and an alert claim that is a compare-and-set — both hold
 * across processes. The values are copied from keyv at start, once.
 */
const m009_settings: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('settings')
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('settings_pk', ['owner', 'name'])
      .execute();
    await db.schema
      .createTable('alert_state')
      .addColumn('guild_id', 'text', (c) => c.primaryKey())
      .addColumn('alerted', 'integer', (c) => c.notNull())
      .addColumn('threshold', 'double precision', (c) => c.notNull())
      .addColumn('balance', 'double precision', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/**
 * Several KIE accounts (src/store/sql/kieKeys.ts): the account (key name) a
 * job's task belongs to, so its buttons and polls use that key and each key's
 * open jobs can be counted; the create window per key (KIE's limit is per
 * account); and each key's shared state (last balance, out of rotation).
 */
const m010_kie_keys: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('account', 'text').execute();
    await db.schema.createIndex('jobs_open_account').on('jobs').column('account').where(sql.ref('needs_work'), '=', 1).execute();
    await db.schema.alterTable('kie_creates').addColumn('key_name', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.createIndex('kie_creates_key_ends').on('kie_creates').columns(['key_name', 'ends_at']).execute();
    await db.schema
      .createTable('kie_keys')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('credits', 'double precision')
      .addColumn('checked_at', 'bigint')
      .addColumn('out_since', 'bigint')
      .addColumn('out_reason', 'text')
      .addColumn('out_credits', 'double precision')
      .execute();
  },
};

/** The processes alive on the database, for the fleet's status-read budget (src/store/sql/fleetMembers.ts). */
const m011_fleet_members: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('fleet_members')
      .addColumn('owner', 'text', (c) => c.primaryKey())
      .addColumn('seen_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/**
 * Pending batches waiting for their author's Confirm or Cancel
 * (src/store/sql/batches.ts). The decision is a conditional update on
 * `state`, so two clicks (or two processes) cannot both confirm one batch.
 */
const m012_batches: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('batches')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('channel_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('batches_expires_at').on('batches').column('expires_at').execute();
  },
};

/**
 * When a job's create request left for the provider (src/domain/service.ts
 * writes it right before the HTTP send, after any rate-limit wait): a pending
 * job without a task and without this mark provably never reached the
 * provider, so a process taking over its lease sends it instead of failing it
 * as interrupted. Mirrors Job.createSentAt (the JSON stays the record).
 */
const m013_create_sent: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('jobs').addColumn('create_sent_at', 'bigint').execute();
    // A job left pending without a task by a release before this mark may have had its create sent (the
    // process died before the answer was recorded): it counts as sent, so a takeover fails it as interrupted
    // as before instead of sending it again and paying twice.
    const data =
      db.getExecutor().adapter instanceof PostgresAdapter
        ? sql`(data::jsonb || jsonb_build_object('createSentAt', updated_at))::text`
        : sql`json_set(data, '$.createSentAt', updated_at)`;
    await sql`update jobs set create_sent_at = updated_at, data = ${data} where state = 'pending' and task_id is null`.execute(db);
  },
};

/**
 * Learned timings per provider: KIE and APIXO run at their own speeds, so
 * each learns from its own tasks. Rows recorded before cannot be told apart
 * (one learner took every provider's tasks), so they are 'legacy', which no
 * provider reads: each relearns from its prior within a dozen jobs rather
 * than start from the other's speed. The default keeps it so for rows an
 * older process still writes during a rolling upgrade. The index leads with
 * the provider, as every read names one.
 */
const m014_task_durations_provider: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('task_durations').addColumn('provider', 'text', (c) => c.notNull().defaultTo('legacy')).execute();
    await db.schema.dropIndex('task_durations_kind_speed').execute();
    await db.schema
      .createIndex('task_durations_provider_kind_speed')
      .on('task_durations')
      .columns(['provider', 'kind', 'speed', 'finished_at'])
      .execute();
  },
};

/** Every migration, in order. Add new ones at the end ('002_…', '003_…'). */
export const MIGRATIONS: Record<string, Migration> = {
  '001_core': m001_core,
  '002_history': m002_history,
  '003_ledger_covering': m_ledger_covering,
  '004_job_leases': m004_job_leases,
  '005_kie_create_window': m005_kie_create_window,
  '006_poll_now': m006_poll_now,
  '007_job_message_id': m007_job_message_id,
  '008_ledger_daily': m008_ledger_daily,
  '009_settings': m009_settings,
  '010_kie_keys': m010_kie_keys,
  '011_fleet_members': m011_fleet_members,
  '012_batches': m012_batches,
  '013_create_sent': m013_create_sent,
  '014_task_durations_provider': m014_task_durations_provider,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
