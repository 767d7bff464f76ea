import { afterEach, describe, expect, it } from 'vitest';
import { LowBalanceAlerts, decideAlert, watchBalance, type AlertState } from '../../../src/domain/team/alerts.js';
import { ChannelSettings, type StoredSettings } from '../../../src/domain/team/settings.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { ManualClock } from '../../support/manualClock.js';
import { GUILD, NOON, fakeClock, memoryStore, tempSqlite } from './fixtures.js';

const ALERT_CHANNEL = '500000000000000001';

describe('decideAlert', () => {
  it('alerts once when the balance falls under the threshold, re-arms at or above it', () => {
    const first = decideAlert(undefined, 99, 100, NOON);
    expect(first).toEqual({ send: true, next: { alerted: true, threshold: 100, balance: 99, at: NOON } });
    expect(decideAlert(first.next, 50, 100, NOON).send).toBe(false);
    const topped = decideAlert(first.next, 100, 100, NOON);
    expect(topped).toMatchObject({ send: false, next: { alerted: false } });
    expect(decideAlert(topped.next, 99.5, 100, NOON).send).toBe(true);
    expect(decideAlert(undefined, 100, 100, NOON).send).toBe(false);
  });
});

describe('LowBalanceAlerts', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  const setup = async (store?: Store) => {
    const s = store ?? (await memoryStore());
    if (!store) stores.push(s);
    const settings = new ChannelSettings(s.settings);
    const sent: Array<[string, string]> = [];
    let failNext = false;
    const alerts = new LowBalanceAlerts({
      settings,
      state: s.alertStates,
      clock: fakeClock(),
      sink: {
        send: async (channelId, content) => {
          if (failNext) {
            failNext = false;
            throw new Error('discord down');
          }
          sent.push([channelId, content]);
        },
      },
    });
    return { settings, alerts, sent, failOnce: () => (failNext = true) };
  };

  it('sends once per crossing to the configured channel, and only where configured', async () => {
    const t = await setup();
    await t.settings.set('server', GUILD, { alertChannelId: ALERT_CHANNEL, lowBalanceThreshold: 500 });
    await t.settings.set('server', '100000000000000002', { lowBalanceThreshold: 500 }); // no channel: nothing to send
    expect(await t.alerts.check(600)).toEqual([]);
    expect(await t.alerts.check(499)).toEqual([{ guildId: GUILD, channelId: ALERT_CHANNEL }]);
    expect(await t.alerts.check(300)).toEqual([]);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]?.[1]).toContain('499 credits left');
    await t.alerts.check(800); // topped up
    await t.alerts.check(10);
    expect(t.sent).toHaveLength(2);
  });

  it('two checks at once send one alert', async () => {
    const t = await setup();
    await t.settings.set('server', GUILD, { alertChannelId: ALERT_CHANNEL, lowBalanceThreshold: 500 });
    await Promise.all([t.alerts.check(1), t.alerts.check(2)]);
    expect(t.sent).toHaveLength(1);
  });

  it('tries again after a failed send', async () => {
    const t = await setup();
    await t.settings.set('server', GUILD, { alertChannelId: ALERT_CHANNEL, lowBalanceThreshold: 500 });
    t.failOnce();
    const [outcome] = await t.alerts.check(1);
    expect(outcome?.error).toBeInstanceOf(Error);
    expect(await t.alerts.check(1)).toEqual([{ guildId: GUILD, channelId: ALERT_CHANNEL }]);
    expect(t.sent).toHaveLength(1);
  });

  it('remembers across a restart that it already alerted', async () => {
    const db = tempSqlite();
    try {
      const first = await openStore(db.url);
      const before = await setup(first);
      await before.settings.set('server', GUILD, { alertChannelId: ALERT_CHANNEL, lowBalanceThreshold: 500 });
      await before.alerts.check(100);
      await first.close();
      const second = await openStore(db.url);
      const after = await setup(second);
      expect(await after.alerts.check(90)).toEqual([]);
      await second.close();
    } finally {
      db.cleanup();
    }
  });

  it('watchBalance reads the balance on a timer and reports failures without stopping', async () => {
    const t = await setup();
    await t.settings.set('server', GUILD, { alertChannelId: ALERT_CHANNEL, lowBalanceThreshold: 500 });
    const clock = new ManualClock(NOON);
    const balances = [900, Number.NaN, 400];
    const errors: unknown[] = [];
    let reads = 0;
    const stop = watchBalance({
      kie: {
        credits: async () => {
          const b = balances[reads++];
          if (b === undefined || Number.isNaN(b)) throw new Error('KIE unreachable');
          return b;
        },
      },
      alerts: t.alerts,
      clock,
      intervalMs: 60_000,
      onError: (e) => errors.push(e),
    });
    await clock.advance(60_000);
    expect(t.sent).toHaveLength(0);
    await clock.advance(60_000);
    expect(errors).toHaveLength(1);
    await clock.advance(60_000);
    expect(t.sent).toHaveLength(1);
    stop();
    await clock.advance(600_000);
    expect(reads).toBe(3);
  });
});
