/**
 * Opening DATABASE_URL: the three schemes, migrations, and one clear
 * DatabaseError line (naming DATABASE_URL, password masked) for every way
 * a database can't be used. A failed keyv write is an error the caller sees.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Keyv from 'keyv';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseError, maskDatabaseUrl, openDatabase, parseDatabaseUrl } from '../../../src/store/sql/database.js';
import { KeyvCollection, StoreWriteError, openStore } from '../../../src/store/store.js';
import { MIGRATIONS } from '../../../src/store/sql/migrations.js';
import { storeBackends, testPostgresUrl, testSchemaName, type TestDatabase } from '../../support/backends.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tj-db-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openError(url: string): Promise<DatabaseError> {
  try {
    const db = await openDatabase(url);
    await db.close();
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/^Database error: DATABASE_URL \(/);
    return error as DatabaseError;
  }
  throw new Error(`${url} opened`);
}

describe('DATABASE_URL', () => {
  it('reads the three schemes', () => {
    expect(parseDatabaseUrl('memory://')).toEqual({ kind: 'memory' });
    expect(parseDatabaseUrl('sqlite://data/x.sqlite')).toEqual({ kind: 'sqlite', file: 'data/x.sqlite' });
    expect(parseDatabaseUrl('sqlite:///abs/x.sqlite')).toEqual({ kind: 'sqlite', file: '/abs/x.sqlite' });
    expect(parseDatabaseUrl('postgres://u:p@h:5432/db')).toMatchObject({ kind: 'postgres', schema: null });
    expect(parseDatabaseUrl('postgresql://h/db?schema=tj_1')).toMatchObject({ kind: 'postgres', connectionString: 'postgresql://h/db', schema: 'tj_1' });
  });

  it('masks passwords', () => {
    expect(maskDatabaseUrl('postgres://bot:s3cret@db:5432/tj')).toBe('postgres://bot:***@db:5432/tj');
    expect(maskDatabaseUrl('postgres://db/tj?password=s3cret')).toBe('postgres://db/tj?password=***');
  });

  it.each(['mysql://x', 'sqlite://', 'postgres://:s3cret@/x', 'postgres://u:s3cret@bad host/x'])('refuses %s in one line without the password', async (url) => {
    const error = await openError(url);
    expect(error.message).not.toContain('s3cret');
  });
});

describe('a database that cannot be used', () => {
  it('a folder', async () => {
    const dir = tempDir();
    expect((await openError(`sqlite://${dir}`)).message).toMatch(/points at a folder/);
  });

  it('a file that is not a database', async () => {
    const file = join(tempDir(), 'notes.txt');
    writeFileSync(file, 'hello, this is not SQLite at all '.repeat(100));
    expect((await openError(`sqlite://${file}`)).message).toMatch(/is not an SQLite database file/);
  });

  it('a folder that cannot be created', async () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, '');
    expect((await openError(`sqlite://${join(file, 'sub', 'db.sqlite')}`)).message).toMatch(/cannot create the folder/);
  });

  // Root ignores file modes, so this one needs an ordinary user.
  it.skipIf(process.getuid?.() === 0)('a read-only file', async () => {
    const dir = tempDir();
    const file = join(dir, 'db.sqlite');
    (await openDatabase(`sqlite://${file}`)).close();
    chmodSync(file, 0o444);
    chmodSync(dir, 0o555);
    try {
      expect((await openError(`sqlite://${file}`)).message).toMatch(/read-only|cannot be opened/);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('an unreachable PostgreSQL', async () => {
    const error = await openError('postgres://bot:s3cret@127.0.0.1:1/tj');
    expect(error.message).toMatch(/could not connect to PostgreSQL at 127\.0\.0\.1:1 \(connection refused\)/);
    expect(error.message).not.toContain('s3cret');
  });

  it.skipIf(!testPostgresUrl())('a read-only PostgreSQL role', async () => {
    const base = testPostgresUrl()!;
    const id = randomBytes(5).toString('hex');
    const [role, schema] = [`tj_ro_${id}`, testSchemaName()];
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      await admin.query(`create role ${role} login`);
      await admin.query(`alter role ${role} set default_transaction_read_only = on`);
      await admin.query(`create schema ${schema} authorization ${role}`);
      const url = new URL(base);
      url.username = role;
      url.password = 's3cret';
      url.searchParams.set('schema', schema);
      const error = await openError(url.toString());
      expect(error.message).toMatch(/read-only/);
      expect(error.message).not.toContain('s3cret');
    } finally {
      // The schema stays for the run's teardown (postgresSetup.ts); the role must go now.
      await admin.query(`alter schema ${schema} owner to current_user`);
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    }
  });
});

describe('writes that fail', () => {
  it('a keyv set that returns false throws StoreWriteError', async () => {
    const failing = new Map();
    failing.set = () => {
      throw Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
    };
    const keyv = new Keyv({ store: failing });
    keyv.on('error', () => undefined);
    const collection = new KeyvCollection<number>(keyv, 'settings');
    await expect(collection.set('k', 1)).rejects.toBeInstanceOf(StoreWriteError);
  });
});

describe.each(storeBackends())('migrations on %s', (backend) => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
  });

  it('run once, at open, and again is a no-op', async () => {
    db = await backend.create();
    const first = await openStore(db.url);
    await first.close();
    const second = await openStore(db.url);
    const applied = await second.sql.db
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .execute();
    expect(applied.map((r) => (r as { name: string }).name)).toEqual(Object.keys(MIGRATIONS));
    await second.close();
  });

  it('keyv namespaces live on the same database', async () => {
    db = await backend.create();
    const store = await openStore(db.url);
    await store.collection<{ a: number }>('settings').set('channel:1', { a: 1 });
    await store.close();
    const again = await openStore(db.url);
    expect(await again.collection<{ a: number }>('settings').get('channel:1')).toEqual({ a: 1 });
    await again.close();
  });

  it('close ends the shared keyv pool once, even with several namespaces and a second close', async () => {
    db = await backend.create();
    const store = await openStore(db.url);
    await store.collection<{ a: number }>('settings').set('channel:1', { a: 1 });
    await store.collection<{ b: number }>('meta').set('m', { b: 2 });
    await store.collection('simulator').get('t');
    await expect(Promise.all([store.close(), store.close()])).resolves.toBeDefined();
    await expect(store.close()).resolves.toBeUndefined();
  });
});

// Keep the temp helpers honest (mkdirSync used by tests on non-root machines).
void mkdirSync;
