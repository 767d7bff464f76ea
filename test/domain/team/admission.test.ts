/**
 * Batch admission (src/domain/team/admission.ts evaluateBatch, and
 * TeamPolicy.admitBatch over a real store): a batch is admitted whole or
 * not at all, its sum checked against the channel's budgets and its size
 * against the user's daily limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { evaluateBatch, MAX_QUEUE_LENGTH } from '../../../src/domain/team/admission.js';
import type { ChannelUsage } from '../../../src/domain/team/ledger.js';
import { mergeSettings, type EffectiveSettings } from '../../../src/domain/team/settings.js';
import type { Store } from '../../../src/store/store.js';
import { BOB, CHANNEL, fakeClock, makeJob, memoryStore, openTeam } from './fixtures.js';

const settings = (patch: Partial<EffectiveSettings> = {}): EffectiveSettings => ({ ...mergeSettings({}, {}).values, ...patch });
const idle: ChannelUsage = { spentToday: 0, spentThisMonth: 0, userJobsToday: 0, active: 0, waiting: 0 };
const jobs = (n: number, credits = 8) => Array.from({ length: n }, () => makeJob({ credits }));

describe('evaluateBatch', () => {
  it('fills free slots in order and queues the rest', () => {
    expect(evaluateBatch(jobs(5), settings({ maxConcurrent: 3 }), { ...idle, active: 1 })).toEqual({
      verdict: 'admit',
      decisions: [{ verdict: 'run' }, { verdict: 'run' }, { verdict: 'queue', position: 1 }, { verdict: 'queue', position: 2 }, { verdict: 'queue', position: 3 }],
    });
  });

  it('queues the whole batch behind jobs already waiting', () => {
    const d = evaluateBatch(jobs(2), settings(), { ...idle, waiting: 2 });
    expect(d).toEqual({ verdict: 'admit', decisions: [{ verdict: 'queue', position: 3 }, { verdict: 'queue', position: 4 }] });
  });

  it('refuses the whole batch when its sum is over the daily budget, with the numbers', () => {
    const d = evaluateBatch(jobs(4), settings({ dailyBudget: 30 }), { ...idle, spentToday: 6 });
    expect(d.verdict).toBe('reject');
    expect(d.verdict === 'reject' && d.reason).toBe(
      `<#${CHANNEL}> has 24 of 30 credits left today; these 4 jobs cost 32 credits in all (8 each). The daily budget resets at 00:00 UTC. Nothing was started.`,
    );
    // Three would fit; the batch is all or nothing.
    expect(evaluateBatch(jobs(3), settings({ dailyBudget: 30 }), { ...idle, spentToday: 6 }).verdict).toBe('admit');
  });

  it('checks the monthly budget and the daily job limit against the whole batch', () => {
    const month = evaluateBatch(jobs(3), settings({ monthlyBudget: 100 }), { ...idle, spentThisMonth: 80 });
    expect(month.verdict === 'reject' && month.reason).toMatch(/has 20 of 100 credits left this month; these 3 jobs cost 24 credits/);
    const limit = evaluateBatch(jobs(3), settings({ userDailyJobs: 5 }), { ...idle, userJobsToday: 3 });
    expect(limit.verdict === 'reject' && limit.reason).toMatch(/You have 2 of your 5 jobs left today .*this batch is 3 jobs/);
  });

  it('refuses a batch if any of its jobs is not allowed here', () => {
    const batch = [makeJob(), makeJob({ speed: 'turbo', credits: 16 })];
    const d = evaluateBatch(batch, settings({ allowedSpeeds: ['fast', 'relaxed'] }), idle);
    expect(d.verdict === 'reject' && d.reason).toMatch(/turbo speed isn't allowed.*Nothing was started/);
    expect(evaluateBatch([makeJob({ prompt: 'gore' })], settings({ bannedWords: ['gore'] }), idle).verdict).toBe('reject');
  });

  it('gives the cost range when the jobs cost differently, and refuses when others fill the queue', () => {
    const mixed = evaluateBatch([makeJob({ credits: 8 }), makeJob({ credits: 3, speed: 'relaxed' })], settings({ dailyBudget: 5 }), idle);
    expect(mixed.verdict === 'reject' && mixed.reason).toMatch(/these 2 jobs cost 11 credits in all\./);
    expect(evaluateBatch(jobs(1), settings(), { ...idle, waiting: MAX_QUEUE_LENGTH }).verdict).toBe('reject');
  });
});

describe('TeamPolicy.admitBatch', () => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  const team = async () => {
    const store = await memoryStore();
    stores.push(store);
    return openTeam(store, fakeClock());
  };

  it('budget fits 3 of 4: nothing is written at all', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { dailyBudget: 24 });
    const d = await t.policy.admitBatch(jobs(4));
    expect(d.verdict).toBe('reject');
    expect(await t.ledger.query()).toEqual([]);
    expect(await t.queue.list(CHANNEL)).toEqual([]);
  });

  it('writes every line of an admitted batch, pending or queued, in one decision', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { dailyBudget: 32, maxConcurrent: 2 });
    const batch = jobs(4);
    const d = await t.policy.admitBatch(batch);
    expect(d).toEqual({
      verdict: 'admit',
      decisions: [{ verdict: 'run' }, { verdict: 'run' }, { verdict: 'queue', position: 1 }, { verdict: 'queue', position: 2 }],
    });
    expect((await t.ledger.query()).map((e) => e.state).sort()).toEqual(['pending', 'pending', 'queued', 'queued']);
    expect((await t.queue.list(CHANNEL)).map((j) => j.id)).toEqual([batch[2]!.id, batch[3]!.id]);
    // The budget is now spent: the next single job is refused.
    expect((await t.policy.admit(makeJob())).verdict).toBe('reject');
  });

  it('two batches racing for the last credits: exactly one is admitted', async () => {
    const t = await team();
    await t.settings.set('channel', CHANNEL, { dailyBudget: 40 });
    const [a, b] = await Promise.all([t.policy.admitBatch(jobs(3)), t.policy.admitBatch(Array.from({ length: 3 }, () => makeJob({ userId: BOB })))]);
    expect([a.verdict, b.verdict].sort()).toEqual(['admit', 'reject']);
    expect(await t.ledger.query()).toHaveLength(3);
  });

  it('refuses a batch mixing channels or users (a programming error)', async () => {
    const t = await team();
    await expect(t.policy.admitBatch([makeJob(), makeJob({ userId: BOB })])).rejects.toThrow(/one user/);
  });
});
