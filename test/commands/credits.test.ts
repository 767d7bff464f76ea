import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { data } from '../../commands/credits.js';
import { KieUnauthorizedError } from '../../src/providers/kie/errors.js';
import type { LedgerEntry } from '../../src/domain/team/ledger.js';
import { expectValidCommand } from '../support/discordSchema.js';
import { entry } from '../domain/team/fixtures.js';
import { CHANNEL, GUILD, NOON, USER, putLine, startCommandHarness, type CommandHarness } from './teamCommandHarness.js';

const ALERTS = '1300000000000000077';
const DAY = 86_400_000;

let h: CommandHarness;
beforeEach(async () => {
  h = await startCommandHarness();
});
afterEach(async () => {
  expect(h.invalidPayloads()).toEqual([]);
  await h.close();
});

const line = (jobId: string, credits: number, createdAt: number, state: LedgerEntry['state'] = 'succeeded'): LedgerEntry =>
  entry({ jobId, guildId: GUILD, channelId: CHANNEL, userId: USER, credits, taskId: `t-${jobId}`, state, createdAt, finishedAt: createdAt + 60_000 });

describe('/credits', () => {
  it('is a valid guild command', () => {
    expectValidCommand(data);
  });

  it('shows the balance, the 7-day burn rate from the ledger and the days left', async () => {
    await putLine(h, line('old', 1000, NOON - 10 * DAY)); // outside the window
    await putLine(h, line('a', 140, NOON - 3 * DAY));
    await putLine(h, line('b', 70, NOON - DAY));
    await putLine(h, line('c', 500, NOON - DAY, 'failed'));
    h.balance.value = 5916.25;
    const reply = await h.run('credits');
    expect(reply.content).toBe(
      [
        '**KIE balance:** 5916.25 credits',
        '**Burn rate:** 30 credits/day (210 over the last 7 days)',
        '**At that rate:** about 197 days left',
      ].join('\n'),
    );
  });

  it("says KIE's reason, without secrets, when the balance can't be read", async () => {
    h.balance.value = new KieUnauthorizedError('You do not have access permissions', { endpoint: 'credits', httpStatus: 200 });
    const reply = await h.run('credits');
    expect(reply.content).toBe("Couldn't read the KIE balance: The bot's KIE API key was rejected. Ask an admin to check KIE_API_KEY.");
  });

  it('sends the low-balance alert once per crossing', async () => {
    await h.team.settings.set('server', GUILD, { alertChannelId: ALERTS, lowBalanceThreshold: 500 });
    h.balance.value = 450;
    await h.run('credits');
    await h.run('credits');
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]?.[0]).toBe(ALERTS);
    h.balance.value = 900;
    await h.run('credits');
    h.balance.value = 100;
    await h.run('credits');
    expect(h.alerts).toHaveLength(2);
  });
});
