import { MessageFlags } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { data, formatHelp } from '../../commands/help.js';
import { commandDefinitions } from '../../commands/index.js';
import { DEFAULT_PRICES } from '../../src/domain/pricing.js';
import { DEFAULT_SETTINGS } from '../../src/domain/team/settings.js';
import { expectValidCommand, expectValidWebhookEdit } from '../support/discordSchema.js';
import { CHANNEL, GUILD, startCommandHarness, type CommandHarness } from './teamCommandHarness.js';

let h: CommandHarness;
beforeEach(async () => {
  h = await startCommandHarness();
});
afterEach(async () => {
  expect(h.invalidPayloads()).toEqual([]);
  await h.close();
});

describe('/help', () => {
  it('is a valid guild command, deployed with the others', () => {
    expectValidCommand(data);
    expect(commandDefinitions().map((d) => d.name)).toContain('help');
  });

  it('answers privately with the commands, the parameters, the buttons and this channel’s defaults', async () => {
    const reply = await h.run('help');
    expect(reply.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    for (const fragment of ['/imagine', '/animate', '/usage', '/credits', '/settings', '--ar', '--sref', '--oref', '--niji', 'U1–U4', 'V1–V4', 'Extend', `<#${CHANNEL}>`]) {
      expect(reply.content).toContain(fragment);
    }
    expect(reply.content).toContain('Up to **3** jobs at once');
    expect(reply.content).toContain('no daily limit');
    expect(reply.content!.length).toBeLessThanOrEqual(2000);
  });

  it('shows the limits this channel really has: channel over server over built-in', async () => {
    await h.team.settings.set('server', GUILD, { dailyBudget: 400, userDailyJobs: 10 });
    await h.team.settings.set('channel', CHANNEL, { maxConcurrent: 2, allowedSpeeds: ['relaxed', 'fast'], hdAllowed: false, buttons: 'author' });
    const reply = await h.run('help');
    expect(reply.content).toContain('Speeds allowed: relaxed, fast');
    expect(reply.content).toContain('Up to **2** jobs at once');
    expect(reply.content).toContain('**10** jobs per person per day');
    expect(reply.content).toContain('**400 credits** a day');
    expect(reply.content).toContain('SD only');
    expect(reply.content).toContain('only the job’s author');
  });

  it('says so when the bot is switched off in the channel', async () => {
    await h.team.settings.set('channel', CHANNEL, { enabled: false });
    expect((await h.run('help')).content).toContain('switched off');
  });

  it('is a valid message edit at its longest', () => {
    const content = formatHelp(
      CHANNEL,
      { ...DEFAULT_SETTINGS, bannedWords: ['a', 'b'], countFailed: true, dailyBudget: 12.5, monthlyBudget: 1000, kieKey: 'team-b-with-a-long-name-32chars' },
      DEFAULT_PRICES,
    );
    expect(content).toContain('KIE jobs here use only the KIE key `team-b-with-a-long-name-32chars`');
    expect(content.length).toBeLessThanOrEqual(2000);
    expectValidWebhookEdit({ content, allowed_mentions: { parse: [] } });
  });
});
