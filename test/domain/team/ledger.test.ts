import { describe, expect, it } from 'vitest';
import {
  Ledger,
  counts,
  COUNTING_RULE,
  entryFromJob,
  formatCredits,
  mergeEntry,
  nextUtcMonthStart,
  sumCredits,
  utcDayStart,
  utcMonthStart,
  type LedgerEntry,
} from '../../../src/domain/team/ledger.js';
import { openStore } from '../../../src/store/store.js';
import { ALICE, BOB, CHANNEL, GUILD, NOON, OTHER_CHANNEL, entry, makeJob, memoryStore, tempSqlite } from './fixtures.js';

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

describe('Ledger', () => {
  it('writes through to the store and answers queries from memory', async () => {
    const store = await memoryStore();
    const ledger = await Ledger.open(store.collection<LedgerEntry>('ledger'));
    await ledger.put(entry({ jobId: 'a', channelId: CHANNEL, userId: ALICE, createdAt: NOON }));
    await ledger.put(entry({ jobId: 'b', channelId: OTHER_CHANNEL, userId: BOB, createdAt: NOON - 86_400_000 }));
    await ledger.put(entry({ jobId: 'c', channelId: CHANNEL, userId: BOB, guildId: 'other-guild' }));

    expect(ledger.size).toBe(3);
    expect(ledger.channel(CHANNEL).map((e) => e.jobId).sort()).toEqual(['a', 'c']);
    expect(ledger.query({ guildId: GUILD }).map((e) => e.jobId).sort()).toEqual(['a', 'b']);
    expect(ledger.query({ userId: BOB, since: NOON - 1 }).map((e) => e.jobId)).toEqual(['c']);
    expect(ledger.query({ until: NOON }).map((e) => e.jobId)).toEqual(['b']);
    expect(await store.collection<LedgerEntry>('ledger').get('a')).toMatchObject({ jobId: 'a' });
    await store.close();
  });

  it('loads every line again after a restart', async () => {
    const db = tempSqlite();
    try {
      const first = await openStore(db.url);
      const ledger = await Ledger.open(first.collection<LedgerEntry>('ledger'));
      for (let i = 0; i < 25; i++) await ledger.put(entry({ jobId: `j${i}`, credits: i, state: 'running' }));
      await ledger.put(entry({ jobId: 'j3', state: 'failed' }));
      await first.close();

      const second = await openStore(db.url);
      const reopened = await Ledger.open(second.collection<LedgerEntry>('ledger'));
      expect(reopened.size).toBe(25);
      expect(reopened.get('j3')?.state).toBe('failed');
      expect(sumCredits(reopened.query(), false)).toBe((24 * 25) / 2 - 3);
      await second.close();
    } finally {
      db.cleanup();
    }
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
