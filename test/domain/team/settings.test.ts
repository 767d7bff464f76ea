import { afterEach, describe, expect, it } from 'vitest';
import {
  ChannelSettings,
  DEFAULT_SETTINGS,
  InvalidSettingError,
  SETTING_KEYS,
  mergeSettings,
  sanitizeStored,
  ServerOnlySettingsError,
  UnconfiguredProviderError,
  changeSettings,
  resetSettings,
  validatePatch,
} from '../../../src/domain/team/settings.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { CHANNEL, GUILD, OTHER_CHANNEL, memoryStore, tempSqlite } from './fixtures.js';

describe('mergeSettings (inheritance)', () => {
  it('uses the built-in defaults when nothing is set', () => {
    const { values, sources } = mergeSettings({}, {});
    expect(values).toEqual(DEFAULT_SETTINGS);
    for (const key of SETTING_KEYS) expect(sources[key]).toBe('default');
  });

  it('prefers channel over server over default, key by key, and says where each came from', () => {
    const { values, sources } = mergeSettings(
      { speed: 'relaxed', stylize: 250, dailyBudget: 400 },
      { stylize: 50, enabled: false },
    );
    expect(values.stylize).toBe(50);
    expect(sources.stylize).toBe('channel');
    expect(values.enabled).toBe(false);
    expect(sources.enabled).toBe('channel');
    expect(values.speed).toBe('relaxed');
    expect(sources.speed).toBe('server');
    expect(values.dailyBudget).toBe(400);
    expect(sources.dailyBudget).toBe('server');
    expect(values.maxConcurrent).toBe(3);
    expect(sources.maxConcurrent).toBe('default');
  });

  it('lets a channel override a server limit with an explicit value, including a list', () => {
    const { values, sources } = mergeSettings({ bannedWords: ['gore'] }, { bannedWords: [] });
    expect(values.bannedWords).toEqual([]);
    expect(sources.bannedWords).toBe('channel');
  });

  it('ignores channel values for server-only settings', () => {
    const { values, sources } = mergeSettings({ lowBalanceThreshold: 500 }, { lowBalanceThreshold: 1 });
    expect(values.lowBalanceThreshold).toBe(500);
    expect(sources.lowBalanceThreshold).toBe('server');
  });

  it('never makes a forbidden speed the default', () => {
    const { values, sources } = mergeSettings({ speed: 'turbo' }, { allowedSpeeds: ['relaxed', 'fast'] });
    expect(values.speed).toBe('fast');
    expect(sources.speed).toBe('channel');
    expect(mergeSettings({}, { allowedSpeeds: ['relaxed'] }).values.speed).toBe('relaxed');
  });

  it('never makes HD the video default where HD is forbidden', () => {
    const { values, sources } = mergeSettings({ videoHd: true }, { hdAllowed: false });
    expect(values.videoHd).toBe(false);
    expect(sources.videoHd).toBe('channel');
  });

  it('does not share the default arrays between results', () => {
    const a = mergeSettings({}, {});
    a.values.bannedWords.push('x');
    expect(mergeSettings({}, {}).values.bannedWords).toEqual([]);
  });
});

describe('validatePatch / sanitizeStored', () => {
  it('accepts valid values and drops duplicates from lists', () => {
    expect(validatePatch('channel', { allowedSpeeds: ['fast', 'fast', 'relaxed'], stylize: 0 })).toEqual({
      allowedSpeeds: ['fast', 'relaxed'],
      stylize: 0,
    });
  });

  it.each([
    ['stylize', 1001],
    ['stylize', -1],
    ['maxConcurrent', 0],
    ['userDailyJobs', 0],
    ['dailyBudget', -5],
    ['allowedSpeeds', []],
    ['version', '8'],
    ['videoBatchSize', 3],
    ['nonsense', true],
  ])('rejects %s = %j with an error naming it', (key, value) => {
    expect(() => validatePatch('server', { [key]: value })).toThrow(InvalidSettingError);
    expect(() => validatePatch('server', { [key]: value })).toThrow(key);
  });

  it('refuses server-only settings on a channel', () => {
    expect(() => validatePatch('channel', { alertChannelId: '123456789012345678' })).toThrow(/whole server/);
    expect(validatePatch('server', { alertChannelId: '123456789012345678' })).toEqual({ alertChannelId: '123456789012345678' });
  });

  it('drops stored values that no longer parse instead of failing', () => {
    expect(sanitizeStored({ stylize: 'lots', speed: 'fast', unknown: 1 })).toEqual({ speed: 'fast' });
    expect(sanitizeStored(null)).toEqual({});
  });
});

describe('ChannelSettings over a store', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  const openSettings = async (): Promise<ChannelSettings> => {
    const opened = await memoryStore();
    store = opened;
    return new ChannelSettings(opened.settings);
  };

  it('stores only explicit values per level and resolves through them', async () => {
    const settings = await openSettings();
    await settings.set('server', GUILD, { dailyBudget: 400, speed: 'relaxed' });
    await settings.set('channel', CHANNEL, { dailyBudget: 100 });

    expect(await settings.explicit('channel', CHANNEL)).toEqual({ dailyBudget: 100 });
    const here = await settings.resolve(GUILD, CHANNEL);
    expect(here.values.dailyBudget).toBe(100);
    expect(here.sources.dailyBudget).toBe('channel');
    expect(here.values.speed).toBe('relaxed');
    expect(here.sources.speed).toBe('server');

    const elsewhere = await settings.resolve(GUILD, OTHER_CHANNEL);
    expect(elsewhere.values.dailyBudget).toBe(400);
    expect(elsewhere.sources.dailyBudget).toBe('server');

    const dm = await settings.resolve(null, CHANNEL);
    expect(dm.sources.speed).toBe('default');
  });

  it('reset makes a value inherit again; reset all clears the level', async () => {
    const settings = await openSettings();
    await settings.set('server', GUILD, { stylize: 300 });
    await settings.set('channel', CHANNEL, { stylize: 10, enabled: false });
    await settings.reset('channel', CHANNEL, ['stylize']);
    let r = await settings.resolve(GUILD, CHANNEL);
    expect(r.values.stylize).toBe(300);
    expect(r.sources.stylize).toBe('server');
    expect(r.values.enabled).toBe(false);
    await settings.reset('channel', CHANNEL, 'all');
    r = await settings.resolve(GUILD, CHANNEL);
    expect(r.sources.enabled).toBe('default');
    expect(await settings.explicit('channel', CHANNEL)).toEqual({});
  });

  it('does not lose one of two concurrent sets on the same level', async () => {
    const settings = await openSettings();
    await Promise.all([settings.set('channel', CHANNEL, { stylize: 5 }), settings.set('channel', CHANNEL, { enabled: false })]);
    expect(await settings.explicit('channel', CHANNEL)).toEqual({ stylize: 5, enabled: false });
  });

  it('lists the servers that configured something', async () => {
    const settings = await openSettings();
    await settings.set('server', GUILD, { lowBalanceThreshold: 100 });
    await settings.set('channel', CHANNEL, { enabled: false });
    const servers = [];
    for await (const s of settings.servers()) servers.push(s);
    expect(servers).toEqual([[GUILD, { lowBalanceThreshold: 100 }]]);
  });

  it('survives a reopen of an SQLite store', async () => {
    const db = tempSqlite();
    try {
      const first = await openStore(db.url);
      await new ChannelSettings(first.settings).set('channel', CHANNEL, { maxConcurrent: 7 });
      await first.close();
      const second = await openStore(db.url);
      const r = await new ChannelSettings(second.settings).resolve(GUILD, CHANNEL);
      await second.close();
      expect(r.values.maxConcurrent).toBe(7);
      expect(r.sources.maxConcurrent).toBe('channel');
    } finally {
      db.cleanup();
    }
  });
});

describe('changeSettings / resetSettings (the rules /settings applies)', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  const setup = async () => {
    store = await memoryStore();
    const settings = new ChannelSettings(store.settings);
    const refreshed: Array<string | undefined> = [];
    const policy = { refresh: async (channelId?: string) => void refreshed.push(channelId) };
    const providers = { get: (id: string) => (id === 'kie' ? {} : undefined), ids: () => ['kie'] };
    return { deps: { settings, policy, providers }, refreshed };
  };
  const here = { scope: 'channel', guildId: GUILD, channelId: CHANNEL } as const;
  const server = { ...here, scope: 'server' } as const;

  it('refuses server-only keys for a channel and providers the deployment lacks, storing nothing', async () => {
    const { deps } = await setup();
    await expect(changeSettings(deps, here, { failover: true, stylize: 5 })).rejects.toEqual(new ServerOnlySettingsError(['failover']));
    await expect(changeSettings(deps, here, { provider: 'apixo' })).rejects.toBeInstanceOf(UnconfiguredProviderError);
    expect(await deps.settings.explicit('channel', CHANNEL)).toEqual({});
  });

  it('refreshes the queue only when the concurrency limit changes, and names the channel overrides a server change does not reach', async () => {
    const { deps, refreshed } = await setup();
    await changeSettings(deps, here, { stylize: 10 });
    expect(refreshed).toEqual([]);
    await changeSettings(deps, here, { maxConcurrent: 3 });
    expect(refreshed).toEqual([CHANNEL]);
    const changed = await changeSettings(deps, server, { stylize: 50, maxConcurrent: 4, failover: true });
    expect(refreshed).toEqual([CHANNEL, undefined]);
    expect(changed.shadowedHere.sort()).toEqual(['maxConcurrent', 'stylize']);
    expect(changed.effective.values.stylize).toBe(10);
  });

  it('reset makes values inherit and always refreshes', async () => {
    const { deps, refreshed } = await setup();
    await changeSettings(deps, server, { stylize: 50 });
    await changeSettings(deps, here, { stylize: 10 });
    const after = await resetSettings(deps, here, ['stylize']);
    expect(after.values.stylize).toBe(50);
    expect(after.sources.stylize).toBe('server');
    await resetSettings(deps, server, 'all');
    expect(refreshed).toEqual([CHANNEL, undefined]);
  });
});
