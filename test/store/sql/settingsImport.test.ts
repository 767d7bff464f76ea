/**
 * A database from a release that kept settings and the alert state in keyv
 * (before 009_settings) keeps them: the first start copies them into their
 * tables, once; later keyv writes (none are made any more) are not read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelSettings } from '../../../src/domain/team/settings.js';
import { SETTINGS_IMPORT_KEY } from '../../../src/store/sql/settings.js';
import { openStore } from '../../../src/store/store.js';
import { storeBackends, type TestDatabase } from '../../support/backends.js';
import { CHANNEL, GUILD } from '../../domain/team/fixtures.js';

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
    await first.collection('settings').set(`channel:${CHANNEL}`, { maxConcurrent: 7, bannedWords: ['spoiler'] });
    await first.collection('settings').set(`guild:${GUILD}`, { monthlyBudget: 900, lowBalanceThreshold: 50, alertChannelId: CHANNEL });
    await first.collection('meta').set(`low-balance-alert:${GUILD}`, { alerted: true, threshold: 50, balance: 10, at: 5 });
    await first.sql.db.deleteFrom('store_info').where('key', '=', SETTINGS_IMPORT_KEY).execute();
    await first.close();

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
