/**
 * The store backends every store test runs on: SQLite (a temp file) and
 * PostgreSQL (a fresh schema per store on the shared test server, named after
 * the run and dropped when the run ends — see postgresSetup.ts for why not
 * sooner — so engineers running tests at once never meet). Use
 * `describe.each(storeBackends())('… on %s', (backend) => …)`; when
 * PostgreSQL is unreachable its half is skipped (see postgresSetup.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  /** A DATABASE_URL for a database nobody else uses. */
  url: string;
  drop(): Promise<void>;
}

export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty database. */
  create(): Promise<TestDatabase>;
  toString(): string;
}

export const sqliteBackend: StoreBackend = {
  name: 'sqlite',
  toString: () => 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'tj-store-'));
    return { url: `sqlite://${join(dir, 'test.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

export function postgresBackend(base: string): StoreBackend {
  return {
    name: 'postgres',
    toString: () => 'postgres',
    async create() {
      const schema = testSchemaName();
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      try {
        await admin.query(`create schema ${schema}`);
      } finally {
        await admin.end();
      }
      const url = new URL(base);
      url.searchParams.set('schema', schema);
      return {
        url: url.toString(),
        // Dropped with the run's other schemas by postgresSetup's teardown.
        drop: async () => undefined,
      };
    },
  };
}

/** A schema name of this run: postgresSetup's teardown drops it with the others. */
export const testSchemaName = (): string => `tj_${inject('postgresRun')}_${randomBytes(6).toString('hex')}`;

/** The PostgreSQL URL of the test server, or null when it is unreachable (the run said so once). */
export const testPostgresUrl = (): string | null => inject('postgres');

/** SQLite always; PostgreSQL when reachable. */
export function storeBackends(): StoreBackend[] {
  const pgUrl = testPostgresUrl();
  return pgUrl ? [sqliteBackend, postgresBackend(pgUrl)] : [sqliteBackend];
}
