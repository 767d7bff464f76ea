/**
 * The store behind DATABASE_URL: SQL (Kysely, src/store/sql/) for jobs, the
 * ledger, queues, button claims, settings and alert state, and keyv for what
 * is truly key-value (simulator tasks, small metadata): on PostgreSQL in the
 * same database, on SQLite in a file of its own beside the main one (see
 * keyvSqliteFile). `memory://` is SQLite in memory plus keyv in a Map.
 */
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import KeyvPostgres from '@keyv/postgres';
import pg from 'pg';
import type { Collection, Namespace, Store } from '../domain/storage.js';
import { DatabaseError, describeFailure, openDatabase, parseDatabaseUrl, type DatabaseTarget, type OpenDatabaseOptions, type SqlDatabase } from './sql/database.js';
import { SqlDurationStore } from './sql/durations.js';
import { SqlJobHistory } from './sql/history.js';
import { SqlBatchStore } from './sql/batches.js';
import { SqlJobRepository } from './sql/jobs.js';
import { SqlTeamStore } from './sql/team.js';
import { importKeyvSettings, SqlAlertStates, SqlSettingsRecords } from './sql/settings.js';
import { migrateLegacyKeyv, type LegacyMigrationReport } from './legacyMigration.js';

export { NAMESPACES, type Collection, type Namespace, type Store } from '../domain/storage.js';

/** A keyv write that did not happen (keyv's `set` returned false, e.g. SQLITE_READONLY). */
export class StoreWriteError extends Error {
  constructor(
    readonly namespace: string,
    readonly key: string,
    cause?: unknown,
  ) {
    super(`could not save ${namespace}/${key}${cause ? `: ${describeFailure(cause)}` : ''}`);
    this.name = 'StoreWriteError';
  }
}

export class KeyvCollection<T> implements Collection<T> {
  constructor(
    private readonly keyv: Keyv<T>,
    private readonly ns: string,
    /** keyv reports adapter errors as events; the last one explains a `false` from set(). */
    private readonly lastError: () => unknown = () => undefined,
  ) {}
  async get(key: string): Promise<T | undefined> {
    return (await this.keyv.get(key)) ?? undefined;
  }
  async set(key: string, value: T): Promise<void> {
    let ok: boolean;
    try {
      ok = await this.keyv.set(key, value);
    } catch (error) {
      throw new StoreWriteError(this.ns, key, error);
    }
    if (!ok) throw new StoreWriteError(this.ns, key, this.lastError());
  }
  async delete(key: string): Promise<boolean> {
    return this.keyv.delete(key);
  }
  async *entries(): AsyncGenerator<[string, T]> {
    if (!this.keyv.iterator) throw new Error('this DATABASE_URL backend cannot list records');
    for await (const [key, value] of this.keyv.iterator(undefined)) {
      if (value !== undefined) yield [String(key), value as T];
    }
  }
}

type Query = (sqlText: string, values?: unknown[]) => Promise<unknown[]>;

/**
 * keyv's SQLite file: beside the main one, never the main one. @keyv/sqlite
 * links its own copy of SQLite (sqlite3) into the process next to
 * better-sqlite3's, and SQLite's POSIX locks are per process: when one copy
 * closes its handle on a file, the locks the other copy holds on that file
 * vanish, and concurrent writes can then corrupt it ("database disk image is
 * malformed", seen in simulator mode). One file per library avoids it.
 */
export function keyvSqliteFile(file: string): string {
  return /\.(sqlite3?|db)$/i.test(file) ? file.replace(/\.(sqlite3?|db)$/i, '.keyv.$1') : `${file}.keyv`;
}

/**
 * @keyv/postgres over a pool this store owns. The stock adapter keeps one
 * module-wide pool per process and ends it on any disconnect, so two stores
 * in one process (tests, tools) would close each other's connections.
 */
function keyvPostgresOn(pool: pg.Pool, schema: string): KeyvStoreAdapter {
  class OwnPoolKeyvPostgres extends KeyvPostgres {
    override async connect(): Promise<Query> {
      return async (sqlText, values) => (await pool.query(sqlText, values)).rows as unknown[];
    }
    override async disconnect(): Promise<void> {
      /* the store ends the pool */
    }
  }
  return new OwnPoolKeyvPostgres({ uri: 'postgres://unused', schema }) as unknown as KeyvStoreAdapter;
}

function adapterFactory(target: DatabaseTarget, url: string): { adapter: () => KeyvStoreAdapter | Map<unknown, unknown>; close: () => Promise<void> } {
  switch (target.kind) {
    case 'memory':
      return { adapter: () => new Map(), close: async () => undefined };
    case 'sqlite':
      return {
        adapter: () => new KeyvSqlite({ uri: `sqlite://${keyvSqliteFile(target.file)}`, busyTimeout: 5000 }) as unknown as KeyvStoreAdapter,
        close: async () => undefined,
      };
    case 'postgres': {
      let pool: pg.Pool | null = null;
      return {
        adapter: () => {
          pool ??= new pg.Pool({ connectionString: target.connectionString, max: 4 });
          pool.on('error', () => undefined);
          return keyvPostgresOn(pool, target.schema ?? 'public');
        },
        close: async () => {
          await pool?.end();
        },
      };
    }
  }
  throw new DatabaseError(url, 'has an unsupported scheme');
}

export interface OpenedStore extends Store {
  /** The SQL database (for the store layer's own tools: migration of the old layout, bench). */
  readonly sql: SqlDatabase;
}

/**
 * Open the SQL database (migrations run, writability proved) and the keyv
 * namespaces (lazily, on first use). Throws DatabaseError with one line
 * naming DATABASE_URL when the database can't be used.
 */
export interface OpenStoreOptions extends OpenDatabaseOptions {
  /** Called once, when a round-1 keyv layout was found and moved into SQL (src/store/legacyMigration.ts): log the counts. */
  onLegacyMigration?: (report: LegacyMigrationReport) => void;
}

export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const target = parseDatabaseUrl(databaseUrl);
  const sqlDb = await openDatabase(databaseUrl, options);
  // A round-1 file keeps everything in keyv: move it into the tables, once, before anything reads them.
  try {
    await migrateLegacyKeyv(sqlDb.db, { dialect: sqlDb.dialect, now: Date.now(), ...(options.onLegacyMigration ? { log: options.onLegacyMigration } : {}) });
  } catch (error) {
    await sqlDb.close().catch(() => undefined);
    throw new DatabaseError(databaseUrl, `could not move the round-1 records into the new tables: ${describeFailure(error)}`);
  }
  // Settings and alert state kept in keyv by releases before 009_settings: copied into their tables, once.
  try {
    await importKeyvSettings(sqlDb, Date.now());
  } catch (error) {
    await sqlDb.close().catch(() => undefined);
    throw new DatabaseError(databaseUrl, `could not copy the settings from keyv into their table: ${describeFailure(error)}`);
  }
  const adapters = adapterFactory(target, databaseUrl);
  const opened = new Map<Namespace, Keyv<unknown>>();
  const lastErrors = new Map<Namespace, unknown>();
  let closing: Promise<void> | undefined;
  const keyvFor = (ns: Namespace): Keyv<unknown> => {
    let keyv = opened.get(ns);
    if (!keyv) {
      // Each namespace gets its own adapter: keyv adapters hold a single namespace.
      const created = new Keyv<unknown>({ store: adapters.adapter(), namespace: ns });
      created.on('error', (error: unknown) => lastErrors.set(ns, error));
      opened.set(ns, created);
      keyv = created;
    }
    return keyv;
  };
  return {
    sql: sqlDb,
    jobs: new SqlJobRepository(sqlDb),
    team: new SqlTeamStore(sqlDb),
    settings: new SqlSettingsRecords(sqlDb),
    alertStates: new SqlAlertStates(sqlDb.db),
    durations: new SqlDurationStore(sqlDb),
    history: new SqlJobHistory(sqlDb),
    batches: new SqlBatchStore(sqlDb),
    collection<T>(ns: Namespace): Collection<T> {
      return new KeyvCollection<T>(keyvFor(ns) as Keyv<T>, ns, () => lastErrors.get(ns));
    },
    // Idempotent: a second close (shutdown paths racing) waits for the first instead of ending the pools twice.
    close() {
      closing ??= (async () => {
        await Promise.all([...opened.values()].map((k) => k.disconnect()));
        await adapters.close();
        await sqlDb.close();
      })();
      return closing;
    },
  };
}
