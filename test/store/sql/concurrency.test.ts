/**
 * Decisions made by PostgreSQL, not by a lock in one process: several
 * stores (separate connection pools, as separate bot processes would have)
 * race on one database.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../../src/store/store.js';
import { ChannelSettings } from '../../../src/domain/team/settings.js';
import { TeamPolicy } from '../../../src/domain/team/policy.js';
import { postgresBackend, testPostgresUrl, type TestDatabase } from '../../support/backends.js';
import { CHANNEL, NOON, entry, makeJob, testLedger } from '../../domain/team/fixtures.js';

const pgUrl = testPostgresUrl();
const PROCESSES = 5;

describe.skipIf(!pgUrl)('concurrent decisions on PostgreSQL', () => {
  let db: TestDatabase;
  let stores: OpenedStore[];

  beforeEach(async () => {
    db = await postgresBackend(pgUrl!).create();
    // Each store is its own pool, like one bot process.
    stores = [];
    for (let i = 0; i < PROCESSES; i++) stores.push(await openStore(db.url, { poolSize: 8 }));
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    await db.drop();
  });

  it('200 admissions racing for the last 10 credits: exactly 10 are admitted', async () => {
    const clock = { now: () => NOON };
    const settings = new ChannelSettings(stores[0]!.settings);
    await settings.set('channel', CHANNEL, { dailyBudget: 100, maxConcurrent: 10 });
    await testLedger(stores[0]!).put(entry({ jobId: 'spent', credits: 90, state: 'succeeded' }));
    const policies = stores.map((s) => new TeamPolicy({ settings: new ChannelSettings(s.settings), store: s.team, clock }));

    const jobs = Array.from({ length: 200 }, (_, i) => makeJob({ id: `race-${i}`, credits: 1, userId: `u${i}` }));
    const decisions = await Promise.all(jobs.map((job, i) => policies[i % PROCESSES]!.admit(job)));

    expect(decisions.filter((d) => d.verdict !== 'reject')).toHaveLength(10);
    expect(decisions.filter((d) => d.verdict === 'run')).toHaveLength(10);
    const spent = await stores[0]!.team.ledger.spent({ channelId: CHANNEL }, false);
    expect(spent).toEqual({ credits: 100, jobs: 11 });
  });

  it('50 clicks on the same U2 from several processes: one child job', async () => {
    const claims = await Promise.all(
      Array.from({ length: 50 }, (_, i) => stores[i % PROCESSES]!.jobs.claimAction('parent-job', 'upscale', 1, `child-${i}`)),
    );
    const winners = claims.flatMap((c, i) => (c === null ? [`child-${i}`] : []));
    expect(winners).toHaveLength(1);
    // Everyone else is told the winner's child id.
    expect(new Set(claims.filter((c) => c !== null))).toEqual(new Set(winners));
    const rows = await stores[0]!.sql.db.selectFrom('claims').selectAll().execute();
    expect(rows).toEqual([{ parent_job_id: 'parent-job', action: 'upscale', position: 1, child_job_id: winners[0] }]);
  });

  it('concurrent updates of one job from several processes lose nothing', async () => {
    const job = makeJob({ id: 'shared' });
    await stores[0]!.jobs.create(job);
    await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % PROCESSES]!.jobs.update(job.id, (j) => ({ ...j, polls: j.polls + 1 }))));
    expect((await stores[1]!.jobs.require(job.id)).polls).toBe(40);
  });
  it('a decision that fails rolls back its channel transaction (begin and lock share a round trip), and any channel id works', async () => {
    const store = stores[0]!;
    await expect(
      store.team.inChannel(CHANNEL, async (tx) => {
        await tx.put(entry({ jobId: 'rolled-back' }));
        throw new Error('decision failed');
      }),
    ).rejects.toThrow('decision failed');
    expect(await store.team.ledger.get('rolled-back')).toBeUndefined();
    // Not a plain id: the lock is its own parameterised statement.
    const odd = "it's-a-channel; drop table ledger";
    await store.team.inChannel(odd, (tx) => tx.put(entry({ jobId: 'odd', channelId: odd })));
    await store.team.inChannel(CHANNEL, (tx) => tx.put(entry({ jobId: 'after' })));
    expect((await store.team.ledger.get('odd'))?.channelId).toBe(odd);
    expect(await store.team.ledger.get('after')).toBeDefined();
  });
});
