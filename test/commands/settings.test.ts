import { MessageFlags } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { data, readPatch, formatSettingsView, SETTINGS_UI } from '../../commands/settings/index.js';
import { SETTING_KEYS, mergeSettings } from '../../src/domain/team/settings.js';
import { expectValidCommand } from '../support/discordSchema.js';
import { CHANNEL, CHANNEL_MANAGER, GUILD, bool, chan, int, num, startCommandHarness, str, sub, type CommandHarness } from './teamCommandHarness.js';

const OTHER = '1300000000000000099';
const ALERTS = '1300000000000000077';

let h: CommandHarness;
beforeEach(async () => {
  h = await startCommandHarness();
});
afterEach(async () => {
  expect(h.invalidPayloads()).toEqual([]);
  await h.close();
});

describe('/settings definition', () => {
  it("is a valid command for channel managers, guild-only, with an option for every setting", () => {
    // discord-api-types (and Discord) take the permission bit set as a string; Discord's
    // OpenAPI request schema says integer, so the schema check gets the number.
    expect(data.default_member_permissions).toBe('16');
    expectValidCommand({ ...data, default_member_permissions: Number(data.default_member_permissions) });
    expect(data.contexts).toEqual([0]);
    expect(SETTINGS_UI.map((s) => s.key).sort()).toEqual([...SETTING_KEYS].sort());
    const set = data.options.find((o) => o.name === 'set');
    expect(set && 'options' in set ? set.options?.length : 0).toBeLessThanOrEqual(25);
  });
});

describe('/settings view', () => {
  it('shows each effective value and where it comes from, ephemerally', async () => {
    await h.team.settings.set('server', GUILD, { speed: 'relaxed', dailyBudget: 400 });
    await h.team.settings.set('channel', CHANNEL, { dailyBudget: 100 });
    const reply = await h.run('settings', { options: [sub('view')] });
    expect(reply.flags & MessageFlags.Ephemeral).toBeTruthy();
    expect(reply.content).toContain(`**Settings for <#${CHANNEL}>**`);
    expect(reply.content).toContain('Default speed: **relaxed** · *server default*');
    expect(reply.content).toContain('Daily budget: **100 credits** · *this channel*');
    expect(reply.content).toContain('Monthly budget: **no limit** · *built-in*');
    expect(reply.content).toContain('Enabled: **yes** · *built-in*');
  });

  it('formats every built-in value', () => {
    const text = formatSettingsView(CHANNEL, mergeSettings({}, {}));
    expect(text.split('\n').filter((l) => l.includes(' · *built-in*'))).toHaveLength(SETTING_KEYS.length);
    expect(text).toContain('Allowed speeds: **relaxed, fast, turbo**');
    expect(text).toContain('Banned words: **none**');
  });
});

describe('/settings set', () => {
  it('sets several values for this channel and confirms them', async () => {
    const reply = await h.run('settings', {
      options: [
        sub('set', [
          str('speed', 'relaxed'),
          str('allowed_speeds', 'relaxed,fast'),
          num('daily_budget', 400),
          int('user_daily_jobs', 20),
          str('banned_words', 'gore, blood bath ,'),
          bool('hd', false),
          str('buttons', 'author'),
        ]),
      ],
      permissions: CHANNEL_MANAGER,
    });
    expect(reply.content).toContain(`Updated <#${CHANNEL}>:`);
    expect(reply.content).toContain('Daily budget → **400 credits**');
    expect(await h.team.settings.explicit('channel', CHANNEL)).toEqual({
      speed: 'relaxed',
      allowedSpeeds: ['relaxed', 'fast'],
      dailyBudget: 400,
      userDailyJobs: 20,
      bannedWords: ['gore', 'blood bath'],
      hdAllowed: false,
      buttons: 'author',
    });
  });

  it('treats 0 as "no limit" and "none" as an empty word list, overriding the server', async () => {
    await h.team.settings.set('server', GUILD, { dailyBudget: 50, bannedWords: ['x'] });
    await h.run('settings', { options: [sub('set', [num('daily_budget', 0), str('banned_words', 'None')])] });
    const r = await h.team.settings.resolve(GUILD, CHANNEL);
    expect(r.values.dailyBudget).toBeNull();
    expect(r.sources.dailyBudget).toBe('channel');
    expect(r.values.bannedWords).toEqual([]);
  });

  it('sets server defaults for Manage Server holders and notes a channel override', async () => {
    await h.team.settings.set('channel', CHANNEL, { stylize: 5 });
    const reply = await h.run('settings', { options: [sub('set', [str('scope', 'server'), int('stylize', 250)])] });
    expect(reply.content).toContain('Updated the server defaults:');
    expect(reply.content).toContain(`<#${CHANNEL}> has its own default stylize, which still wins here.`);
    expect((await h.team.settings.resolve(GUILD, OTHER)).values.stylize).toBe(250);
  });

  it('refuses server defaults without Manage Server', async () => {
    const reply = await h.run('settings', {
      options: [sub('set', [str('scope', 'server'), int('stylize', 250)])],
      permissions: CHANNEL_MANAGER,
    });
    expect(reply.content).toMatch(/Manage Server/);
    expect(await h.team.settings.explicit('server', GUILD)).toEqual({});
  });

  it('sets the low-balance alert server-wide only', async () => {
    const refused = await h.run('settings', { options: [sub('set', [chan('alert_channel', ALERTS)])] });
    expect(refused.content).toContain('`alert_channel` can only be set for the whole server');
    await h.run('settings', { options: [sub('set', [str('scope', 'server'), chan('alert_channel', ALERTS), num('low_balance_alert', 500)])] });
    expect(await h.team.settings.explicit('server', GUILD)).toEqual({ alertChannelId: ALERTS, lowBalanceThreshold: 500 });
  });

  it('asks for at least one setting', async () => {
    const reply = await h.run('settings', { options: [sub('set')] });
    expect(reply.content).toBe('Nothing to change: pick at least one setting.');
  });

  it('says when the chosen default speed is not allowed here', async () => {
    await h.team.settings.set('channel', CHANNEL, { allowedSpeeds: ['relaxed'] });
    const reply = await h.run('settings', { options: [sub('set', [str('speed', 'turbo')])] });
    expect(reply.content).toContain("turbo isn't an allowed speed here, so the default is relaxed");
  });
});

describe('/settings reset', () => {
  it('makes one setting inherit again and shows where it now comes from', async () => {
    await h.team.settings.set('server', GUILD, { maxConcurrent: 5 });
    await h.team.settings.set('channel', CHANNEL, { maxConcurrent: 1, enabled: false });
    const reply = await h.run('settings', { options: [sub('reset', [str('setting', 'maxConcurrent')])] });
    expect(reply.content).toContain('Jobs at once here is now **5** · *server default*');
    expect(await h.team.settings.explicit('channel', CHANNEL)).toEqual({ enabled: false });
  });

  it('resets everything at a level', async () => {
    await h.team.settings.set('channel', CHANNEL, { maxConcurrent: 1, enabled: false });
    await h.run('settings', { options: [sub('reset', [str('setting', 'all')])] });
    expect(await h.team.settings.explicit('channel', CHANNEL)).toEqual({});
  });
});

describe('readPatch', () => {
  it('reads nothing when no option is given', () => {
    const none = { getBoolean: () => null, getString: () => null, getInteger: () => null, getNumber: () => null, getChannel: () => null };
    expect(readPatch(none as never)).toEqual({});
  });
});
