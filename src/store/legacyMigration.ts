/**
 * The one-time move of a round-1 database (everything in keyv namespaces,
 * see legacyKeyv.ts) into the SQL tables, run at start after the schema
 * migrations.
 *
 * - jobs   → `jobs` (the Job as JSON plus its query columns)
 * - index  → 'task:<taskId>' is jobs.task_id (checked, not copied);
 *            'action:<parent>:<action>:<pos>' → `claims`, so a button on an
 *            old message still gets one KIE task; 'active' is jobs.needs_work
 * - ledger → `ledger`
 * - queue  → `queue` (each channel's waiting jobs, in order)
 * - settings, meta, simulator stay where they are: keyv keeps them, in the
 *   same table and under the same keys, so there is nothing to move.
 *
 * All of it runs in one transaction together with the "done" mark in
 * `store_info`, so a crash half-way leaves nothing moved and the next start
 * tries again; after success it never runs again. A row that cannot be
 * read, or lacks what its table needs, is skipped and counted, never
 * half-moved; a row whose record is already in the table (same key) is
 * left alone. The old rows stay in the keyv table untouched (nothing reads
 * those namespaces any more), so nothing is lost if the move is ever in
 * doubt.
 *
 * Only SQLite files can hold the round-1 layout: round 1 had no PostgreSQL.
 */
import type { Insertable, Kysely } from 'kysely';
import type { Job } from '../domain/job.js';
import type { LedgerEntry } from '../domain/team/ledger.js';
import {
  asLegacyJob,
  asLegacyLedgerEntry,
  countLegacyRows,
  hasLegacyTable,
  legacyPages,
  parseLegacyIndexKey,
  type LegacyRow,
} from './legacyKeyv.js';
import { jobRow } from './sql/jobs.js';
import type { Schema } from './sql/schema.js';

/** The store_info key that says the move is done (its value: the counts, as JSON). */
export const LEGACY_DONE_KEY = 'legacy_keyv_migration';

export interface KindCount {
  /** Records now in the SQL table. */
  moved: number;
  /** Unreadable, expired or incomplete rows left behind. */
  skipped: number;
  /** Rows whose record was already in the table. */
  existing: number;
}

export interface LegacyMigrationReport {
  jobs: KindCount;
  /** 'task:' entries that match their job's taskId (jobs.task_id carries them). */
  taskIndex: KindCount;
  /** Button claims ('action:' entries). */
  claims: KindCount;
  ledger: KindCount;
  /** Queued jobs (not channels). */
  queue: KindCount;
  /** Settings stay in keyv, in place: how many there are. */
  settingsKeptInPlace: number;
}

export type LegacyMigrationOutcome =
  | { ran: false; reason: 'already-done' | 'not-sqlite' | 'no-legacy-table' }
  | { ran: true; report: LegacyMigrationReport };

export interface LegacyMigrationOptions {
  dialect: 'sqlite' | 'postgres';
  now: number;
  /** Rows read per page (default 1,000). */
  pageSize?: number;
  log?: (report: LegacyMigrationReport) => void;
}

const zero = (): KindCount => ({ moved: 0, skipped: 0, existing: 0 });

/** The `jobs` row for a legacy Job: the SQL repository's own mapping, stamped with the job's last own time. */
export function legacyJobRow(job: Job): Insertable<Schema['jobs']> {
  return jobRow(job, job.finishedAt ?? job.submittedAt ?? job.createdAt);
}

function ledgerRow(e: LedgerEntry): Schema['ledger'] {
  return {
    job_id: e.jobId,
    guild_id: e.guildId ?? null,
    channel_id: e.channelId,
    user_id: e.userId,
    kind: e.kind,
    speed: e.speed ?? null,
    credits: e.credits,
    task_id: e.taskId ?? null,
    state: e.state,
    created_at: e.createdAt,
    finished_at: e.finishedAt ?? null,
  };
}

/** Rows per multi-row INSERT (SQLite allows 32,766 parameters; the widest table has 15 columns). */
const BATCH = 200;

async function insertAll<T extends keyof Schema>(
  trx: Kysely<Schema>,
  table: T,
  rows: Insertable<Schema[T]>[],
  count: KindCount,
): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    const result = await trx
      .insertInto(table)
      .values(batch as never)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    const inserted = Number(result.numInsertedOrUpdatedRows ?? 0n);
    count.moved += inserted;
    count.existing += batch.length - inserted;
  }
}

/**
 * Move the round-1 records into the SQL tables, once. Safe to call at every
 * start: it returns at once when done before, on PostgreSQL, or on a file
 * with no keyv table.
 */
export async function migrateLegacyKeyv(db: Kysely<Schema>, opts: LegacyMigrationOptions): Promise<LegacyMigrationOutcome> {
  if (opts.dialect !== 'sqlite') return { ran: false, reason: 'not-sqlite' };
  if (!(await hasLegacyTable(db))) return { ran: false, reason: 'no-legacy-table' };
  const page = { now: opts.now, ...(opts.pageSize ? { pageSize: opts.pageSize } : {}) };

  const outcome = await db.transaction().execute(async (trx): Promise<LegacyMigrationOutcome> => {
    const done = await trx.selectFrom('store_info').select('value').where('key', '=', LEGACY_DONE_KEY).executeTakeFirst();
    if (done) return { ran: false, reason: 'already-done' };
    const report: LegacyMigrationReport = {
      jobs: zero(),
      taskIndex: zero(),
      claims: zero(),
      ledger: zero(),
      queue: zero(),
      settingsKeptInPlace: 0,
    };
    const any = trx as unknown as Kysely<any>;

    // Jobs first: the index entries are checked against them.
    const taskOf = new Map<string, string | null>();
    for await (const rows of legacyPages(any, 'jobs', page)) {
      const good: Insertable<Schema['jobs']>[] = [];
      for (const row of rows) {
        const job = asLegacyJob(row.value);
        if (!job || job.id !== row.key) {
          report.jobs.skipped++;
          continue;
        }
        taskOf.set(job.id, job.taskId ?? null);
        good.push(legacyJobRow(job));
      }
      await insertAll(trx, 'jobs', good, report.jobs);
    }

    for await (const rows of legacyPages(any, 'index', page)) {
      const claims: Schema['claims'][] = [];
      for (const row of rows) {
        const key = parseLegacyIndexKey(row.key);
        if (key.kind === 'active') continue; // jobs.needs_work says the same
        if (key.kind === 'task') {
          const ok = typeof row.value === 'string' && taskOf.get(row.value) === key.taskId;
          if (ok) report.taskIndex.moved++;
          else report.taskIndex.skipped++;
          continue;
        }
        if (key.kind === 'action' && typeof row.value === 'string' && row.value.length > 0) {
          claims.push({ parent_job_id: key.parentJobId, action: key.action, position: key.position, child_job_id: row.value });
          continue;
        }
        report.claims.skipped++;
      }
      await insertAll(trx, 'claims', claims, report.claims);
    }

    for await (const rows of legacyPages(any, 'ledger', page)) {
      const good: Schema['ledger'][] = [];
      for (const row of rows) {
        const entry = asLegacyLedgerEntry(row.value);
        if (!entry || entry.jobId !== row.key) report.ledger.skipped++;
        else good.push(ledgerRow(entry));
      }
      await insertAll(trx, 'ledger', good, report.ledger);
    }

    await moveQueues(trx, any, page, report.queue);

    report.settingsKeptInPlace = await countLegacyRows(any, 'settings');
    await trx.insertInto('store_info').values({ key: LEGACY_DONE_KEY, value: JSON.stringify({ at: opts.now, ...report }) }).execute();
    return { ran: true, report };
  });
  if (outcome.ran) opts.log?.(outcome.report);
  return outcome;
}

/** Each channel's waiting line, in order; seq continues after whatever the channel already has. */
async function moveQueues(trx: Kysely<Schema>, any: Kysely<any>, page: { now: number; pageSize?: number }, count: KindCount): Promise<void> {
  for await (const rows of legacyPages(any, 'queue', page)) {
    for (const row of rows as LegacyRow[]) {
      if (!Array.isArray(row.value)) {
        count.skipped++;
        continue;
      }
      const channelId = row.key;
      const last = await trx
        .selectFrom('queue')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('channel_id', '=', channelId)
        .executeTakeFirst();
      let seq = Number(last?.seq ?? 0);
      const good: Schema['queue'][] = [];
      for (const item of row.value) {
        const job = asLegacyJob(item);
        if (!job || job.origin.channelId !== channelId) {
          count.skipped++;
          continue;
        }
        good.push({ channel_id: channelId, seq: ++seq, job_id: job.id, data: JSON.stringify(job) });
      }
      await insertAll(trx, 'queue', good, count);
    }
  }
}

/** The log line's fields: how many of each kind moved (and skipped, when any were). */
export function legacyLogFields(r: LegacyMigrationReport): Record<string, number> {
  const out: Record<string, number> = {
    jobs: r.jobs.moved,
    taskIndex: r.taskIndex.moved,
    claims: r.claims.moved,
    ledger: r.ledger.moved,
    queued: r.queue.moved,
    settings: r.settingsKeptInPlace,
  };
  for (const [kind, c] of Object.entries({ jobs: r.jobs, taskIndex: r.taskIndex, claims: r.claims, ledger: r.ledger, queued: r.queue })) {
    if (c.skipped) out[`${kind}Skipped`] = c.skipped;
    if (c.existing) out[`${kind}AlreadyThere`] = c.existing;
  }
  return out;
}
