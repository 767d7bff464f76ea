import { describe, expect, it } from 'vitest';
import {
  counts,
  COUNTING_RULE,
  matches,
  entryFromJob,
  formatCredits,
  mergeEntry,
  nextUtcMonthStart,
  sumCredits,
  utcDayStart,
  utcMonthStart,
  type LedgerEntry,
} from '../../../src/domain/team/ledger.js';
import { buildUsageReport } from '../../../src/domain/team/usage.js';
import { channelUsage } from '../../../src/domain/team/policy.js';
import { storeBackends } from '../../support/backends.js';
import { useTestDatabase } from '../../support/testStores.js';
import { ALICE, BOB, CHANNEL, GUILD, NOON, OTHER_CHANNEL, entry, makeJob, testLedger } from './fixtures.js';

describe('UTC periods', () => {
  it('finds the start of the day and month', () => {
    expect(utcDayStart(NOON)).toBe(Date.UTC(2025, 2, 14));
    expect(utcDayStart(Date.UTC(2025, 2, 14))).toBe(Date.UTC(2025, 2, 14));
    expect(utcDayStart(Date.UTC(2025, 2, 14) - 1)).toBe(Date.UTC(2025, 2, 13));
    expect(utcMonthStart(NOON)).toBe(Date.UTC(2025, 2, 1));
    expect(nextUtcMonthStart(Date.UTC(2025, 11, 31, 23))).toBe(Date.UTC(2026, 0, 1));
  });
});

describe('entryFromJob / mergeEntry', () => {
  it('copies what the ledger needs from a job', () => {
    const job = { ...makeJob({ kind: 'video_hd', credits: 45, userId: BOB }), taskId: 't1' };
    expect(entryFromJob(job, NOON)).toEqual({
      jobId: job.id,
      guildId: GUILD,
      channelId: CHANNEL,
      userId: BOB,
      kind: 'video_hd',
      speed: null,
      credits: 45,
      taskId: 't1',
      state: 'pending',
      createdAt: NOON,
      finishedAt: null,
    });
  });

  it('stamps finishedAt for a terminal job that lacks it', () => {
    expect(entryFromJob(makeJob({ state: 'failed' }), NOON + 5).finishedAt).toBe(NOON + 5);
  });

  it('never moves a line backwards and keeps known fields', () => {
    const done = entry({ jobId: 'j', state: 'succeeded', taskId: 't', finishedAt: NOON + 9, createdAt: NOON });
    const late = entry({ jobId: 'j', state: 'running', taskId: null, finishedAt: null, createdAt: NOON + 1 });
    expect(mergeEntry(done, late)).toEqual(done);
    const failedLate = entry({ jobId: 'j', state: 'failed', finishedAt: NOON + 10 });
    expect(mergeEntry(done, failedLate).state).toBe('succeeded');
    const queued = entry({ jobId: 'j', state: 'queued', createdAt: NOON });
    const started = mergeEntry(queued, entry({ jobId: 'j', state: 'running', taskId: 't9', createdAt: NOON + 50 }));
    expect(started).toMatchObject({ state: 'running', taskId: 't9', createdAt: NOON });
  });
});

describe('counts / sumCredits', () => {
  it('never counts cancelled lines; counts failed ones only when configured', () => {
    expect(counts({ state: 'cancelled' }, true)).toBe(false);
    expect(counts({ state: 'failed' }, false)).toBe(false);
    expect(counts({ state: 'failed' }, true)).toBe(true);
    for (const state of ['queued', 'pending', 'running', 'succeeded'] as const) expect(counts({ state }, false)).toBe(true);
  });

  it('sums and rounds credits', () => {
    const lines = [entry({ credits: 0.1 }), entry({ credits: 0.2 }), entry({ credits: 100, state: 'failed' })];
    expect(sumCredits(lines, false)).toBe(0.3);
    expect(sumCredits(lines, true)).toBe(100.3);
    expect(formatCredits(0.1 + 0.2)).toBe('0.30');
    expect(formatCredits(8)).toBe('8');
  });
});

describe.each(storeBackends())('the SQL ledger on %s', (backend) => {
  const { open } = useTestDatabase(backend);

  it('writes lines and answers filtered queries', async () => {
    const store = await open();
    const ledger = testLedger(store);
    await ledger.put(entry({ jobId: 'a', channelId: CHANNEL, userId: ALICE, createdAt: NOON }));
    await ledger.put(entry({ jobId: 'b', channelId: OTHER_CHANNEL, userId: BOB, createdAt: NOON - 86_400_000 }));
    await ledger.put(entry({ jobId: 'c', channelId: CHANNEL, userId: BOB, guildId: 'other-guild' }));

    expect(await ledger.query()).toHaveLength(3);
    expect((await ledger.channel(CHANNEL)).map((e) => e.jobId).sort()).toEqual(['a', 'c']);
    expect((await ledger.query({ guildId: GUILD })).map((e) => e.jobId).sort()).toEqual(['a', 'b']);
    expect((await ledger.query({ userId: BOB, since: NOON - 1 })).map((e) => e.jobId)).toEqual(['c']);
    expect((await ledger.query({ until: NOON })).map((e) => e.jobId)).toEqual(['b']);
    expect(await ledger.get('a')).toEqual(entry({ jobId: 'a', channelId: CHANNEL, userId: ALICE, createdAt: NOON }));
  });

  it('merges updates: states only move forwards', async () => {
    const ledger = testLedger(await open());
    await ledger.put(entry({ jobId: 'a', state: 'running', taskId: 't1' }));
    await ledger.put(entry({ jobId: 'a', state: 'succeeded', taskId: null, finishedAt: NOON + 5 }));
    await ledger.put(entry({ jobId: 'a', state: 'running' }));
    expect(await ledger.get('a')).toMatchObject({ state: 'succeeded', taskId: 't1', finishedAt: NOON + 5 });
  });

  it('aggregates reports, spend and the oldest line in SQL, as the pure functions do', async () => {
    const store = await open();
    const ledger = testLedger(store);
    const lines = [
      entry({ jobId: 'a', channelId: CHANNEL, userId: ALICE, credits: 8 }),
      entry({ jobId: 'b', channelId: CHANNEL, userId: ALICE, credits: 16, state: 'failed' }),
      entry({ jobId: 'c', channelId: OTHER_CHANNEL, userId: BOB, credits: 45 }),
      entry({ jobId: 'd', channelId: CHANNEL, userId: BOB, credits: 0.1, createdAt: NOON - 40 * 86_400_000 }),
      entry({ jobId: 'e', channelId: CHANNEL, userId: BOB, credits: 3, state: 'cancelled' }),
    ];
    for (const l of lines) await ledger.put(l);
    for (const countFailed of [false, true]) {
      const filter = { guildId: GUILD, since: NOON - 30 * 86_400_000 };
      expect(await store.team.ledger.report(filter, countFailed)).toEqual(buildUsageReport(lines.filter((e) => matches(e, filter)), countFailed));
      expect(await store.team.ledger.spent({ channelId: CHANNEL }, countFailed)).toEqual({
        credits: sumCredits(lines.filter((e) => e.channelId === CHANNEL), countFailed),
        jobs: lines.filter((e) => e.channelId === CHANNEL && counts(e, countFailed)).length,
      });
    }
    expect(await store.team.ledger.earliest()).toBe(NOON - 40 * 86_400_000);
    expect(await store.team.ledger.report({ channelId: 'none' }, false)).toEqual({ jobs: 0, failed: 0, cancelled: 0, credits: 0, byChannel: [], byUser: [] });
  });

  it('reports over many lines, states, channels and users equal the raw-ledger computation', async () => {
    const store = await open();
    const ledger = testLedger(store);
    const states = ['succeeded', 'failed', 'cancelled', 'running', 'queued', 'pending'] as const;
    const channels = [CHANNEL, OTHER_CHANNEL, '1100000000000000777'];
    const users = [ALICE, BOB, '1100000000000000888', '1100000000000000999'];
    let seed = 7;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const lines = Array.from({ length: 160 }, (_, i) =>
      entry({
        jobId: `r${i}`,
        channelId: channels[next(channels.length)]!,
        userId: users[next(users.length)]!,
        credits: [8, 16, 0.1, 2.5, 45, 0][next(6)]!,
        state: states[next(states.length)]!,
        createdAt: NOON - next(60) * 86_400_000,
      }),
    );
    // Only cancelled lines for one user: no row for it, as the pure report.
    lines.push(entry({ jobId: 'only-cancelled', channelId: CHANNEL, userId: '1100000000000000555', credits: 5, state: 'cancelled' }));
    for (const l of lines) await ledger.put(l);
    for (const countFailed of [false, true]) {
      for (const filter of [{ guildId: GUILD, since: NOON - 30 * 86_400_000 }, { channelId: CHANNEL, since: NOON - 7 * 86_400_000 }, { guildId: GUILD, userId: BOB }]) {
        expect(await store.team.ledger.report(filter, countFailed)).toEqual(buildUsageReport(lines.filter((e) => matches(e, filter)), countFailed));
      }
    }
  });

  it('computes a channel decision’s usage as channelUsage does', async () => {
    const store = await open();
    const ledger = testLedger(store);
    const lines = [
      entry({ jobId: 'a', userId: ALICE, credits: 8, state: 'running' }),
      entry({ jobId: 'b', userId: ALICE, credits: 16, state: 'queued' }),
      entry({ jobId: 'c', userId: BOB, credits: 4, state: 'failed' }),
      entry({ jobId: 'd', userId: ALICE, credits: 30, createdAt: NOON - 86_400_000 }),
      entry({ jobId: 'e', userId: ALICE, credits: 30, createdAt: NOON - 40 * 86_400_000, state: 'pending' }),
      entry({ jobId: 'f', channelId: OTHER_CHANNEL, userId: ALICE, credits: 99 }),
    ];
    for (const l of lines) await ledger.put(l);
    for (const countFailed of [false, true]) {
      const q = { userId: ALICE, now: NOON, countFailed, excludeJobId: 'b' };
      const sql = await store.team.inChannel(CHANNEL, (tx) => tx.usage(q));
      expect(sql).toEqual(channelUsage(lines.filter((e) => e.channelId === CHANNEL), q));
    }
  });

  it('keeps every line across a restart', async () => {
    const first = await open();
    const ledger = testLedger(first);
    for (let i = 0; i < 25; i++) await ledger.put(entry({ jobId: `j${i}`, credits: i, state: 'running' }));
    await ledger.put(entry({ jobId: 'j3', state: 'failed' }));
    await first.close();

    const second = testLedger(await open());
    expect(await second.query()).toHaveLength(25);
    expect((await second.get('j3'))?.state).toBe('failed');
    expect(sumCredits(await second.query(), false)).toBe((24 * 25) / 2 - 3);
  });
});

describe('the counting rule', () => {
  it('always counts a job whose create outcome is unknown, whatever countFailed says', () => {
    expect(counts({ state: 'unknown' }, false)).toBe(true);
    expect(counts({ state: 'unknown' }, true)).toBe(true);
    expect(counts({ state: 'failed' }, false)).toBe(false);
    expect(counts({ state: 'cancelled' }, true)).toBe(false);
    expect(COUNTING_RULE).toEqual({ never: ['cancelled'], ifCountFailed: ['failed'] });
  });
});
