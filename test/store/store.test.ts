/**
 * openStore's keyv on SQLite lives in a file of its own: @keyv/sqlite links a
 * second copy of SQLite into the process, and two copies writing one file can
 * corrupt it (SQLite's POSIX locks are per process, not per copy).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { keyvSqliteFile, openStore } from '../../src/store/store.js';

describe('keyvSqliteFile', () => {
  it.each([
    ['data/teamjourney.sqlite', 'data/teamjourney.keyv.sqlite'],
    ['/var/lib/tj/bot.db', '/var/lib/tj/bot.keyv.db'],
    ['x.SQLITE3', 'x.keyv.SQLITE3'],
    ['data/bot', 'data/bot.keyv'],
  ])('%s → %s', (file, expected) => {
    expect(keyvSqliteFile(file)).toBe(expected);
  });
});

describe('openStore on a SQLite file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps keyv records in the sibling file and never opens the main file with a second SQLite', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tj-store-keyv-'));
    const file = join(dir, 'bot.sqlite');
    const store = await openStore(`sqlite://${file}`);
    try {
      await store.collection<{ n: number }>('simulator').set('task-1', { n: 1 });
      expect(await store.collection<{ n: number }>('simulator').get('task-1')).toEqual({ n: 1 });
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, 'bot.keyv.sqlite'))).toBe(true);
    const main = new Database(file, { readonly: true });
    try {
      const keyvTable = main.prepare("select name from sqlite_master where type = 'table' and name = 'keyv'").get();
      expect(keyvTable).toBeUndefined();
    } finally {
      main.close();
    }
  });
});
