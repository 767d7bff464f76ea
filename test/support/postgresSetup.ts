/**
 * Vitest global setup: is the test PostgreSQL reachable? Checked once per
 * run; the answer is provided to every test file (inject('postgres')).
 * Unreachable: one warning line and the PostgreSQL half of the store tests
 * skips — unless REQUIRE_POSTGRES=1 (CI), then the run fails.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

export const DEFAULT_TEST_POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: string | null;
    /** Prefix of every schema this run creates (tj_<run>_…), all dropped by the teardown. */
    postgresRun: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const url = process.env.TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  let reason: string | null = null;
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    reason = error instanceof Error ? error.message || (error as { code?: string }).code || 'unreachable' : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
  const shown = url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  if (reason !== null) {
    if (process.env.REQUIRE_POSTGRES === '1') {
      throw new Error(`REQUIRE_POSTGRES=1 but PostgreSQL at ${shown} is unreachable (${reason})`);
    }
    console.warn(`PostgreSQL at ${shown} is unreachable (${reason}): the PostgreSQL half of the store tests is skipped.`);
  }
  project.provide('postgres', reason === null ? url : null);
  const run = randomBytes(4).toString('hex');
  project.provide('postgresRun', run);
  if (reason !== null) return undefined;
  // Schemas are dropped here, once every test file is done, not by each file:
  // Kysely's migrator looks for its tables across every schema of the database
  // (has_schema_privilege on each), and a schema dropped by one worker while
  // another worker's migrator reads that list fails it with "schema does not exist".
  return async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ nspname: string }>(
        `select nspname from pg_namespace where nspname like $1`,
        [`tj\\_${run}\\_%`],
      );
      for (const { nspname } of rows) await admin.query(`drop schema if exists "${nspname}" cascade`);
    } finally {
      await admin.end();
    }
  };
}
