/**
 * A database from a release that kept settings and the alert state in keyv
 * (before 009_settings) keeps them: the first start copies them into their
 * tables, once; later keyv writes (none are made any more) are not read.
 */
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelSettings } from '../../../src/domain/team/settings.js';
import { SETTINGS_IMPORT_KEY } from '../../../src/store/sql/settings.js';
import { openStore, type OpenedStore } from '../../../src/store/store.js';
import { storeBackends, type TestDatabase } from '../../support/backends.js';
import { CHANNEL, GUILD } from '../../domain/team/fixtures.js';

type Write = [ns: 'settings' | 'meta', key: string, value: unknown];

/**
 * Write as the earlier release did: its keyv used the main SQLite file itself
 * (keyv has a file of its own now, see keyvSqliteFile), and on PostgreSQL the
 * same database as today. The store is closed after the writes.
 */
async function writeAsEarlierRelease(url: string, store: OpenedStore, writes: Write[]): Promise<void> {
  if (!url.startsWith('sqlite://')) {
    for (const [ns, key, value] of writes) await store.collection(ns).set(key, value);
    return store.close();
  }
  await store.close();
  for (const [ns, key, value] of writes) {
    const keyv = new Keyv({ store: new KeyvSqlite({ uri: url }), namespace: ns });
    await keyv.set(key, value);
    await keyv.disconnect();
  }
}

describe.each(storeBackends())('settings kept in keyv by an earlier release, on %s', (backend) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await backend.create();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('are copied into the settings and alert tables at the next start, once', async () => {
    const first = await openStore(db.url);
    // As the earlier release wrote them: whole records in keyv, and no import mark yet.
    await first.sql.db.deleteFrom('store_info').where('key', '=', SETTINGS_IMPORT_KEY).execute();
    await writeAsEarlierRelease(db.url, first, [
      ['settings', `channel:${CHANNEL}`, { maxConcurrent: 7, bannedWords: ['spoiler'] }],
      ['settings', `guild:${GUILD}`, { monthlyBudget: 900, lowBalanceThreshold: 50, alertChannelId: CHANNEL }],
      ['meta', `low-balance-alert:${GUILD}`, { alerted: true, threshold: 50, balance: 10, at: 5 }],
    ]);

    const second = await openStore(db.url);
    try {
      const settings = new ChannelSettings(second.settings);
      expect((await settings.resolve(GUILD, CHANNEL)).values).toMatchObject({ maxConcurrent: 7, bannedWords: ['spoiler'], monthlyBudget: 900 });
      expect(await second.alertStates.get(GUILD)).toEqual({ alerted: true, threshold: 50, balance: 10, at: 5 });
      await settings.set('channel', CHANNEL, { maxConcurrent: 2 });
    } finally {
      await second.close();
    }
    const third = await openStore(db.url);
    try {
      expect((await new ChannelSettings(third.settings).explicit('channel', CHANNEL)).maxConcurrent).toBe(2);
    } finally {
      await third.close();
    }
  });
});
