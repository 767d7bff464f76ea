/**
 * Settings and the low-balance alert hold across processes (009_settings):
 * two stores — two connection pools, as two bot processes — change one
 * channel's settings and check one server's alert at the same moment.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LowBalanceAlerts } from '../../../src/domain/team/alerts.js';
import { ChannelSettings } from '../../../src/domain/team/settings.js';
import { openStore, type OpenedStore } from '../../../src/store/store.js';
import { postgresBackend, testPostgresUrl, type TestDatabase } from '../../support/backends.js';
import { CHANNEL, GUILD, OTHER_CHANNEL } from '../../domain/team/fixtures.js';

const pgUrl = testPostgresUrl();

describe.skipIf(!pgUrl)('settings and alerts from two processes on PostgreSQL', () => {
  let db: TestDatabase;
  let stores: OpenedStore[];

  beforeEach(async () => {
    db = await postgresBackend(pgUrl!).create();
    stores = [await openStore(db.url, { poolSize: 6 }), await openStore(db.url, { poolSize: 6 })];
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    await db.drop();
  });

  it('updates of different settings of one channel at once all stay (no read-modify-write of a whole record)', async () => {
    const [a, b] = stores.map((s) => new ChannelSettings(s.settings)) as [ChannelSettings, ChannelSettings];
    await a.set('channel', CHANNEL, { bannedWords: ['x'] });
    const rounds = 25;
    await Promise.all(
      Array.from({ length: rounds }, (_, i) => [
        a.set('channel', CHANNEL, { stylize: i + 1 }),
        b.set('channel', CHANNEL, { dailyBudget: i + 1 }),
        a.set('channel', CHANNEL, { maxConcurrent: (i % 9) + 1 }),
        b.set('channel', CHANNEL, { userDailyJobs: i + 1 }),
        b.reset('channel', CHANNEL, ['bannedWords']),
      ]).flat(),
    );
    const stored = await b.explicit('channel', CHANNEL);
    expect(Object.keys(stored).sort()).toEqual(['dailyBudget', 'maxConcurrent', 'stylize', 'userDailyJobs']);
    expect(await a.explicit('channel', CHANNEL)).toEqual(stored);
  });

  it('a server default and a channel override set by two processes both reach the channel', async () => {
    const [a, b] = stores.map((s) => new ChannelSettings(s.settings)) as [ChannelSettings, ChannelSettings];
    await Promise.all([a.set('server', GUILD, { monthlyBudget: 500 }), b.set('channel', OTHER_CHANNEL, { monthlyBudget: 50, dailyBudget: 5 })]);
    const r = await a.resolve(GUILD, OTHER_CHANNEL);
    expect(r.values).toMatchObject({ monthlyBudget: 50, dailyBudget: 5 });
    expect((await b.resolve(GUILD, CHANNEL)).values.monthlyBudget).toBe(500);
  });

  it('one low-balance crossing seen by both processes at once sends one alert; it re-arms once topped up', async () => {
    await new ChannelSettings(stores[0]!.settings).set('server', GUILD, { alertChannelId: OTHER_CHANNEL, lowBalanceThreshold: 100 });
    const sent: string[] = [];
    const alerts = stores.map(
      (s) =>
        new LowBalanceAlerts({
          settings: new ChannelSettings(s.settings),
          state: s.alertStates,
          clock: { now: () => 1 },
          sink: { send: async (channelId) => void sent.push(channelId) },
        }),
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => alerts[i % 2]!.check(40)));
    expect(sent).toEqual([OTHER_CHANNEL]);
    await alerts[1]!.check(150); // topped up: re-armed
    await Promise.all(Array.from({ length: 10 }, (_, i) => alerts[i % 2]!.check(30)));
    expect(sent).toEqual([OTHER_CHANNEL, OTHER_CHANNEL]);
  });
});
