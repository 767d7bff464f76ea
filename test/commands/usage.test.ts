import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { data } from '../../commands/usage.js';
import type { LedgerEntry } from '../../src/domain/team/ledger.js';
import { expectValidCommand } from '../support/discordSchema.js';
import { entry } from '../domain/team/fixtures.js';
import { CHANNEL, CHANNEL_MANAGER, GUILD, NOON, USER, bool, startCommandHarness, str, putLine, type CommandHarness } from './teamCommandHarness.js';

const OTHER_CHANNEL = '1300000000000000002';
const BOB = '1400000000000000002';

let h: CommandHarness;
beforeEach(async () => {
  h = await startCommandHarness();
});
afterEach(async () => {
  expect(h.invalidPayloads()).toEqual([]);
  await h.close();
});

const line = (spec: Partial<LedgerEntry>): LedgerEntry =>
  entry({ guildId: GUILD, channelId: CHANNEL, userId: USER, createdAt: NOON - 60_000, finishedAt: NOON, ...spec });

async function seed(): Promise<void> {
  await putLine(h, line({ credits: 8 }));
  await putLine(h, line({ credits: 16, userId: BOB, speed: 'turbo' }));
  await putLine(h, line({ credits: 45, userId: BOB, channelId: OTHER_CHANNEL, kind: 'video_hd', speed: null }));
  await putLine(h, line({ credits: 8, state: 'failed' }));
  await putLine(h, line({ credits: 3, createdAt: NOON - 3 * 86_400_000 })); // three days ago
  await putLine(h, line({ credits: 99, guildId: '1200000000000000999', channelId: '1300000000000000999' })); // another server
}

describe('/usage', () => {
  it('is a valid guild command', () => {
    expectValidCommand(data);
  });

  it("defaults to today's usage of this channel, with its budget", async () => {
    await seed();
    await h.team.settings.set('channel', CHANNEL, { dailyBudget: 400 });
    const reply = await h.run('usage', { permissions: CHANNEL_MANAGER });
    expect(reply.content).toBe(
      [
        `**Usage in <#${CHANNEL}> · today (UTC)**`,
        '3 jobs · 24 credits (1 failed, not counted)',
        '',
        '**Top users**',
        `1. <@${BOB}> — 1 job · 16 credits`,
        `2. <@${USER}> — 2 jobs · 8 credits`,
        '',
        '**Budget left**',
        `<#${CHANNEL}>: 376 of 400 credits left today`,
      ].join('\n'),
    );
    expect(reply.mentions).toEqual([]);
    expect(reply.attachments).toEqual([]);
  });

  it('covers the server over 7 days, by channel and user, and never other servers', async () => {
    await seed();
    const reply = await h.run('usage', { options: [str('period', '7d'), str('scope', 'server')] });
    expect(reply.content).toContain('**Usage in this server · the last 7 days**');
    expect(reply.content).toContain('5 jobs · 72 credits (1 failed, not counted)');
    expect(reply.content).toContain(`- <#${OTHER_CHANNEL}> — 1 job · 45 credits`);
    expect(reply.content).toContain(`1. <@${BOB}> — 2 jobs · 61 credits`);
    expect(reply.content).not.toContain('99');
  });

  it("shows a user their own usage and what is left of their daily jobs", async () => {
    await seed();
    await h.team.settings.set('channel', CHANNEL, { userDailyJobs: 5 });
    const reply = await h.run('usage', { options: [str('scope', 'me'), str('period', 'month')] });
    expect(reply.content).toContain(`**Usage in <@${USER}> in this server · March 2025 (UTC)**`);
    expect(reply.content).toContain('3 jobs · 11 credits');
    expect(reply.content).toContain(`Your jobs today in <#${CHANNEL}>: 1 of 5`);
  });

  it('attaches the ledger lines as CSV for Manage Server holders', async () => {
    await seed();
    const reply = await h.run('usage', { options: [bool('csv', true), str('scope', 'server'), str('period', '30d')] });
    expect(reply.attachments).toHaveLength(1);
    const file = reply.attachments[0]!;
    expect(file.filename).toBe('usage-server-30d-2025-03-14.csv');
    const csv = h.fake.attachmentData(file.id)?.toString('utf8') ?? '';
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toBe('created_at,finished_at,job_id,guild_id,channel_id,user_id,kind,speed,state,credits,counted,task_id');
    expect(rows).toHaveLength(1 + 5);
    expect(csv).not.toContain('1200000000000000999');
  });

  it('refuses the CSV to members without Manage Server', async () => {
    const reply = await h.run('usage', { options: [bool('csv', true)], permissions: CHANNEL_MANAGER });
    expect(reply.content).toMatch(/needs the Manage Server permission/);
    expect(reply.attachments).toEqual([]);
  });

  it('says when there is nothing yet', async () => {
    const reply = await h.run('usage');
    expect(reply.content).toContain('No jobs yet.');
  });
});
