/**
 * Vitest global setup: is the test PostgreSQL reachable? Checked once per
 * run; the answer is provided to every test file (inject('postgres')).
 * Unreachable: one warning line and the PostgreSQL half of the store tests
 * skips — unless REQUIRE_POSTGRES=1 (CI), then the run fails.
 */
import pg from 'pg';
import type { TestProject } from 'vitest/node';

export const DEFAULT_TEST_POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: string | null;
  }
}

export default async function setup(project: TestProject): Promise<void> {
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
}
