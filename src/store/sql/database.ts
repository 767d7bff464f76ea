/**
 * Opening the SQL database named by DATABASE_URL: SQLite through
 * better-sqlite3 (a file, or `memory://`), PostgreSQL through a `pg` pool.
 * Kysely runs the same queries on both. Opening runs the migrations and
 * proves the database is writable; anything wrong becomes one
 * DatabaseError line naming DATABASE_URL (password masked) and the reason.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { Schema } from './schema.js';

export type DatabaseTarget =
  | { kind: 'sqlite'; file: string }
  | { kind: 'memory' }
  | { kind: 'postgres'; connectionString: string; schema: string | null };

export type SqlDialectName = 'sqlite' | 'postgres';

/** The URL as it may be shown: any password replaced by ***. */
export function maskDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');
}

export class DatabaseError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`Database error: DATABASE_URL (${maskDatabaseUrl(url)}) ${reason}`);
    this.name = 'DatabaseError';
  }
}

/** Reads DATABASE_URL; throws DatabaseError for anything else than the three schemes. */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url === 'memory://' || url === 'memory:') return { kind: 'memory' };
  if (url.startsWith('sqlite://')) {
    const file = url.slice('sqlite://'.length);
    if (!file) throw new DatabaseError(url, 'names no file; use sqlite://path/to/file.sqlite');
    return file === ':memory:' ? { kind: 'memory' } : { kind: 'sqlite', file };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DatabaseError(url, 'is not a valid URL; use postgres://user:password@host:5432/database');
    }
    if (!parsed.hostname) throw new DatabaseError(url, 'names no host; use postgres://user:password@host:5432/database');
    const schema = parsed.searchParams.get('schema');
    parsed.searchParams.delete('schema');
    if (schema !== null && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
      throw new DatabaseError(url, 'has a schema= that is not a plain SQL identifier');
    }
    return { kind: 'postgres', connectionString: parsed.toString(), schema };
  }
  throw new DatabaseError(url, 'has an unsupported scheme; use sqlite://path, postgres://… or memory://');
}

export interface SqlDatabase {
  readonly db: Kysely<Schema>;
  readonly dialect: SqlDialectName;
  readonly url: string;
  /**
   * Run `fn` in a write transaction: BEGIN IMMEDIATE on SQLite (one writer
   * at a time, across processes too), READ COMMITTED on PostgreSQL (callers
   * take row locks with `forUpdate` where they read-decide-write).
   */
  write<T>(fn: (tx: Kysely<Schema>) => Promise<T>): Promise<T>;
  /** PostgreSQL: add FOR UPDATE to a select; SQLite: unchanged (the transaction already holds the write lock). */
  readonly locks: boolean;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

/** Open, migrate and check writability. Throws DatabaseError (one clear line) when the database can't be used. */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<SqlDatabase> {
  const target = parseDatabaseUrl(url);
  const opened = target.kind === 'postgres' ? openPostgres(url, target, options) : openSqlite(url, target);
  try {
    await migrate(opened);
    await probeWrite(opened);
  } catch (error) {
    await opened.close().catch(() => undefined);
    throw error instanceof DatabaseError ? error : new DatabaseError(url, describeFailure(error));
  }
  return opened;
}

function openSqlite(url: string, target: { kind: 'sqlite'; file: string } | { kind: 'memory' }): SqlDatabase {
  let connection: BetterSqlite3.Database;
  if (target.kind === 'memory') {
    connection = new BetterSqlite3(':memory:');
  } else {
    const file = resolve(target.file);
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(file, { throwIfNoEntry: false });
    } catch (error) {
      throw new DatabaseError(url, `cannot create the folder ${dirname(file)}: ${describeFailure(error)}`);
    }
    if (stat?.isDirectory()) throw new DatabaseError(url, `points at a folder (${file}), not a database file`);
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (error) {
      throw new DatabaseError(url, `cannot create the folder ${dirname(file)}: ${describeFailure(error)}`);
    }
    try {
      connection = new BetterSqlite3(file, { timeout: 5000 });
      connection.pragma('journal_mode = WAL');
      connection.pragma('synchronous = NORMAL');
    } catch (error) {
      throw new DatabaseError(url, describeFailure(error));
    }
  }
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: connection }) });
  return {
    db,
    dialect: 'sqlite',
    url,
    locks: false,
    write: (fn) =>
      // One connection: holding it for the whole transaction also serialises this process's writers.
      db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await fn(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (error) {
          await sql`rollback`.execute(conn).catch(() => undefined);
          throw error;
        }
      }),
    close: () => db.destroy(),
  };
}

/** int8 (counts, epoch ms) and numeric (sums of bigints) as JS numbers: every value here fits in 2^53. */
const pgTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

function openPostgres(url: string, target: { kind: 'postgres'; connectionString: string; schema: string | null }, options: OpenDatabaseOptions): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    types: pgTypes as unknown as pg.CustomTypesConfig,
    ...(target.schema ? { options: `-c search_path=${target.schema}` } : {}),
  });
  pool.on('error', () => {
    /* an idle client died; the next query reports it */
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    url,
    locks: true,
    write: (fn) => db.transaction().execute((tx: Transaction<Schema>) => fn(tx)),
    close: () => db.destroy(),
  };
}

async function migrate(database: SqlDatabase): Promise<void> {
  // On PostgreSQL the migrator must look for its own tables in the schema we use, not in any schema.
  let migrationTableSchema: string | undefined;
  if (database.dialect === 'postgres') {
    const row = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(database.db);
    migrationTableSchema = row.rows[0]?.schema ?? undefined;
    if (!migrationTableSchema) throw new DatabaseError(database.url, 'has no usable schema (check the search_path and the schema= parameter)');
  }
  const migrator = new Migrator({
    db: database.db,
    provider: migrationProvider,
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  // Several processes starting at once may race to create the migration tables: the loser retries.
  let outcome = await migrator.migrateToLatest();
  for (let attempt = 1; outcome.error && attempt < 3 && database.dialect === 'postgres' && isCreateRace(outcome.error); attempt++) {
    await new Promise((r) => setTimeout(r, 100 * attempt));
    outcome = await migrator.migrateToLatest();
  }
  const { error, results } = outcome;
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new DatabaseError(database.url, `${describeFailure(error)}${failed ? ` (while running migration ${failed})` : ''}`);
  }
}

/**
 * Errors a retry cures: another process created the same table or schema first, or (3F000) a schema
 * dropped while the migrator's introspection read the catalog (it lists every schema's tables).
 */
const isCreateRace = (error: unknown): boolean => ['23505', '42P07', '42P06', '3F000'].includes((error as { code?: string })?.code ?? '');

/** Writing one row proves the database accepts writes (a read-only file or role fails here, at start). */
async function probeWrite(database: SqlDatabase): Promise<void> {
  await database.write((tx) =>
    tx
      .insertInto('store_info')
      .values({ key: 'last_open', value: String(Date.now()) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: (eb) => eb.ref('excluded.value') }))
      .execute(),
  );
}

/** A database failure as a short reason for people: never the URL itself (it may hold a password). */
export function describeFailure(error: unknown): string {
  const e = error as { code?: string; message?: string; address?: string; port?: number; errors?: unknown[] };
  const code = e?.code;
  switch (code) {
    case 'SQLITE_READONLY':
    case 'SQLITE_READONLY_DBMOVED':
    case 'SQLITE_READONLY_DIRECTORY':
      return 'is read-only (check the file and folder owner and permissions, and free disk space)';
    case 'SQLITE_CANTOPEN':
      return 'cannot be opened (check that the path is a file this user may read and write)';
    case 'SQLITE_NOTADB':
      return 'is not an SQLite database file';
    case 'SQLITE_CORRUPT':
      return 'is a damaged SQLite database';
    case 'SQLITE_FULL':
      return 'cannot be written: the disk is full';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'is on a read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'ECONNREFUSED':
      return `could not connect to PostgreSQL${e.address ? ` at ${e.address}:${e.port}` : ''} (connection refused)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'could not connect to PostgreSQL: unknown host';
    case 'ETIMEDOUT':
      return 'could not connect to PostgreSQL: timed out';
    case '28P01':
    case '28000':
      return 'was refused by PostgreSQL: wrong user or password';
    case '3D000':
      return 'names a PostgreSQL database that does not exist';
    case '25006':
      return 'is read-only (PostgreSQL: read-only transaction or standby server)';
    case '42501':
      return 'lacks permission (PostgreSQL: the role may not create or write tables here)';
  }
  if (Array.isArray(e?.errors) && e.errors.length > 0) return describeFailure(e.errors[0]); // AggregateError from connect()
  const message = e?.message ?? String(error);
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(message)) return 'could not connect to PostgreSQL: timed out';
  // Drivers may echo a connection string in a message; mask anything URL-like.
  return message.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, (u) => maskDatabaseUrl(u));
}
