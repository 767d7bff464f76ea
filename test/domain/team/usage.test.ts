import { describe, expect, it } from 'vitest';
import {
  TOP_ROWS,
  budgetStatus,
  buildUsageReport,
  burnRateOf,
  csvCell,
  daysLeft,
  formatCreditsReport,
  formatUsageReport,
  periodRange,
  usageCsv,
  usageFilter,
  type UsageTextOptions,
} from '../../../src/domain/team/usage.js';
import { DAY_MS, counts, matches, sumCredits, type LedgerFilter } from '../../../src/domain/team/ledger.js';
import { ALICE, BOB, CHANNEL, GUILD, NOON, OTHER_CHANNEL, entry } from './fixtures.js';

describe('periodRange / usageFilter', () => {
  it('uses the UTC calendar for today and month, rolling windows otherwise', () => {
    expect(periodRange('today', NOON)).toEqual({ since: Date.UTC(2025, 2, 14), label: 'today (UTC)' });
    expect(periodRange('month', NOON)).toEqual({ since: Date.UTC(2025, 2, 1), label: 'March 2025 (UTC)' });
    expect(periodRange('7d', NOON).since).toBe(NOON - 7 * DAY_MS);
    expect(periodRange('30d', NOON).since).toBe(NOON - 30 * DAY_MS);
  });

  it('scopes to the channel, the server, or the asking user in the server', () => {
    const q = { period: 'today', guildId: GUILD, channelId: CHANNEL, userId: ALICE, now: NOON } as const;
    const lines = [
      entry({ jobId: 'mine-here' }),
      entry({ jobId: 'bobs-there', userId: BOB, channelId: OTHER_CHANNEL }),
      entry({ jobId: 'other-server', guildId: '999999999999' }),
      entry({ jobId: 'yesterday', createdAt: NOON - DAY_MS }),
    ];
    const pick = (scope: 'channel' | 'server' | 'me') => lines.filter((e) => matches(e, usageFilter({ ...q, scope }))).map((e) => e.jobId);
    expect(pick('channel')).toEqual(['mine-here', 'other-server']);
    expect(pick('server')).toEqual(['mine-here', 'bobs-there']);
    expect(pick('me')).toEqual(['mine-here']);
  });
});

describe('buildUsageReport', () => {
  it('counts jobs and credits by channel and user, most credits first', () => {
    const report = buildUsageReport(
      [
        entry({ userId: ALICE, channelId: CHANNEL, credits: 8 }),
        entry({ userId: ALICE, channelId: CHANNEL, credits: 16 }),
        entry({ userId: BOB, channelId: OTHER_CHANNEL, credits: 45 }),
        entry({ userId: BOB, channelId: CHANNEL, credits: 8, state: 'failed' }),
        entry({ userId: BOB, channelId: CHANNEL, credits: 8, state: 'cancelled' }),
      ],
      false,
    );
    expect(report).toEqual({
      jobs: 4,
      failed: 1,
      cancelled: 1,
      credits: 69,
      byChannel: [
        { id: OTHER_CHANNEL, jobs: 1, credits: 45 },
        { id: CHANNEL, jobs: 3, credits: 24 },
      ],
      byUser: [
        { id: BOB, jobs: 2, credits: 45 },
        { id: ALICE, jobs: 2, credits: 24 },
      ],
    });
    expect(buildUsageReport([entry({ credits: 8, state: 'failed' })], true).credits).toBe(8);
  });
});

describe('budgetStatus', () => {
  it('shows what admission would allow', async () => {
    const lines = [entry({ credits: 100 }), entry({ credits: 50, createdAt: NOON - DAY_MS }), entry({ credits: 70, state: 'failed' })];
    const ledger = {
      spent: async (f: LedgerFilter, countFailed: boolean) => {
        const hit = lines.filter((e) => matches(e, f));
        return { credits: sumCredits(hit, countFailed), jobs: hit.filter((e) => counts(e, countFailed)).length };
      },
    };
    expect(await budgetStatus(ledger, CHANNEL, { dailyBudget: 400, monthlyBudget: 120, countFailed: false }, NOON)).toEqual({
      channelId: CHANNEL,
      daily: { budget: 400, spent: 100, left: 300 },
      monthly: { budget: 120, spent: 150, left: 0 },
    });
    expect(await budgetStatus(ledger, CHANNEL, { dailyBudget: null, monthlyBudget: null, countFailed: false }, NOON)).toMatchObject({
      daily: null,
      monthly: null,
    });
  });
});

describe('formatUsageReport', () => {
  const base: UsageTextOptions = {
    scope: 'server',
    period: 'today',
    now: NOON,
    channelId: CHANNEL,
    userId: ALICE,
    countFailed: false,
    budgets: [],
  };

  it('shows totals, channels, top users and budgets', () => {
    const report = buildUsageReport([entry({ credits: 8 }), entry({ userId: BOB, credits: 16, state: 'failed' })], false);
    const text = formatUsageReport(report, {
      ...base,
      budgets: [{ channelId: CHANNEL, daily: { budget: 400, spent: 8, left: 392 }, monthly: null }],
    });
    expect(text).toBe(
      [
        '**Usage in this server · today (UTC)**',
        '2 jobs · 8 credits (1 failed, not counted)',
        '',
        '**By channel**',
        `- <#${CHANNEL}> — 2 jobs · 8 credits`,
        '',
        '**Top users**',
        `1. <@${ALICE}> — 1 job · 8 credits`,
        `2. <@${BOB}> — 1 job · 0 credits`,
        '',
        '**Budget left**',
        `<#${CHANNEL}>: 392 of 400 credits left today`,
      ].join('\n'),
    );
  });

  it('says so when there is nothing, and shows a user their own daily allowance', () => {
    const text = formatUsageReport(buildUsageReport([], false), { ...base, scope: 'me', userDaily: { used: 2, limit: 5 } });
    expect(text).toContain('No jobs yet.');
    expect(text).toContain(`Your jobs today in <#${CHANNEL}>: 2 of 5`);
  });

  it('keeps long reports under Discord’s 2000 characters, pointing to the CSV', () => {
    const many = Array.from({ length: 60 }, (_, i) => entry({ userId: `3000000000000${String(i).padStart(5, '0')}`, channelId: `2000000000000${String(i).padStart(5, '0')}` }));
    const text = formatUsageReport(buildUsageReport(many, false), base);
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text).toContain(`…and ${60 - TOP_ROWS} more`);
  });
});

describe('CSV', () => {
  it('has a header and one row per job, oldest first, CRLF line ends', () => {
    const csv = usageCsv(
      [
        entry({ jobId: 'b', createdAt: NOON + 1000, state: 'failed', taskId: 't2' }),
        entry({ jobId: 'a', createdAt: NOON, finishedAt: NOON + 60_000, taskId: 't1', speed: null, kind: 'video_hd', credits: 45 }),
      ],
      false,
    );
    expect(csv.split('\r\n')).toEqual([
      'created_at,finished_at,job_id,guild_id,channel_id,user_id,kind,speed,state,credits,counted,task_id',
      `2025-03-14T12:00:00.000Z,2025-03-14T12:01:00.000Z,a,${GUILD},${CHANNEL},${ALICE},video_hd,,succeeded,45,true,t1`,
      `2025-03-14T12:00:01.000Z,,b,${GUILD},${CHANNEL},${ALICE},grid,fast,failed,8,false,t2`,
      '',
    ]);
  });

  it('quotes and defuses cells', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=cmd()')).toBe("'=cmd()");
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(null)).toBe('');
  });
});

describe('burnRate / daysLeft', () => {
  it('averages the last 7 days of counted credits', () => {
    const lines = [
      entry({ credits: 70, createdAt: NOON - 8 * DAY_MS }), // outside the window, but makes the ledger old enough
      entry({ credits: 140, createdAt: NOON - 3 * DAY_MS }),
      entry({ credits: 70, createdAt: NOON - DAY_MS }),
      entry({ credits: 500, createdAt: NOON, state: 'failed' }),
    ];
    expect(burnRateOf(lines, NOON)).toEqual({ credits: 210, days: 7, perDay: 30 });
  });

  it('averages over the ledger’s age when it is younger than the window, at least a day', () => {
    expect(burnRateOf([entry({ credits: 60, createdAt: NOON - 2 * DAY_MS })], NOON)).toMatchObject({ days: 2, perDay: 30 });
    expect(burnRateOf([entry({ credits: 60, createdAt: NOON - 1000 })], NOON)).toMatchObject({ days: 1, perDay: 60 });
    expect(burnRateOf([], NOON)).toEqual({ credits: 0, days: 1, perDay: 0 });
  });

  it('days left at that rate', () => {
    expect(daysLeft(5916.25, 30)).toBe(197);
    expect(daysLeft(10, 30)).toBe(0);
    expect(daysLeft(100, 0)).toBeNull();
  });

  it('formats the /credits answer', () => {
    expect(formatCreditsReport(5916.25, { credits: 210, days: 7, perDay: 30 })).toBe(
      [
        '**KIE balance:** 5916.25 credits',
        '**Burn rate:** 30 credits/day (210 over the last 7 days)',
        '**At that rate:** about 197 days left',
      ].join('\n'),
    );
    expect(formatCreditsReport(100, { credits: 0, days: 7, perDay: 0 })).toContain('no burn rate yet');
    expect(formatCreditsReport(10, { credits: 210, days: 7, perDay: 30 })).toContain('less than a day left');
  });
});
