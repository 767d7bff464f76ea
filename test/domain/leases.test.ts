/**
 * LeaseKeeper over the real SQL leases (SQLite in memory; the PostgreSQL
 * half of the lease rules is in test/store/sql/leases.test.ts): takeover of
 * a dead process's jobs after the TTL, loss noticed by the old holder,
 * hand-back on stop taken at the next look; and the tracker's delivery guard.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LeaseKeeper, type Acquired } from '../../src/domain/leases.js';
import { SqlJobLeases } from '../../src/store/sql/leases.js';
import { openStore, type OpenedStore } from '../../src/store/store.js';
import { ManualClock } from '../support/manualClock.js';
import { makeJob } from '../support/jobs.js';
import { useHarness } from '../support/domainHarness.js';
import { storedJob } from '../support/jobFixtures.js';

const TTL = 20_000;

describe('LeaseKeeper', () => {
  let store: OpenedStore;
  afterEach(async () => {
    await store?.close();
  });

  const keeper = (leases: SqlJobLeases, owner: string, clock: ManualClock) => {
    const acquired: string[][] = [];
    const lost: string[][] = [];
    const takeovers: Acquired[] = [];
    const nudged: string[][] = [];
    const k = new LeaseKeeper({
      leases,
      owner,
      clock,
      ttlMs: TTL,
      acquireEveryMs: 1_000,
      onAcquired: async (ids) => void acquired.push(ids),
      onLost: (ids) => void lost.push(ids),
      onNudged: (ids) => void nudged.push(ids),
      observer: { onTakeover: (a) => void takeovers.push(a) },
    });
    return { k, acquired, lost, takeovers, nudged };
  };

  it('takes a dead process’s jobs over within TTL + one look, and the old holder learns it lost them', async () => {
    store = await openStore('memory://');
    const leases = new SqlJobLeases(store.sql);
    const clockA = new ManualClock(1_700_000_000_000);
    const clockB = new ManualClock(1_700_000_000_000);
    await leases.create(makeJob({ id: 'j1', taskId: 't1' }), 'a', clockA.now(), TTL);
    const a = keeper(leases, 'a', clockA);
    const b = keeper(leases, 'b', clockB);
    await a.k.tick(); // A holds j1 (renewed)
    await b.k.start();
    expect(b.acquired).toEqual([]);
    // A stops renewing (killed): B's looks find the lease lapsed after the TTL.
    await clockB.advance(TTL - 1_000);
    expect(b.acquired).toEqual([]);
    await clockB.advance(2_000);
    expect(b.acquired).toEqual([['j1']]);
    expect(b.takeovers).toEqual([{ jobId: 'j1', from: 'a' }]);
    expect(await leases.holder('j1')).toMatchObject({ owner: 'b' });
    // A wakes up (a long pause, not a death): its next renewal no longer holds j1.
    await clockA.advance(TTL + 1_000);
    await a.k.tick();
    expect(a.lost).toEqual([['j1']]);
    await b.k.stop();
  });

  it('hands its leases back on stop; another process takes them at its next look', async () => {
    store = await openStore('memory://');
    const leases = new SqlJobLeases(store.sql);
    const clock = new ManualClock(1_700_000_000_000);
    await leases.create(makeJob({ id: 'j1', taskId: 't1' }), 'a', clock.now(), TTL);
    await leases.create(makeJob({ id: 'j2', taskId: 't2' }), 'a', clock.now(), TTL);
    const a = keeper(leases, 'a', clock);
    const b = keeper(leases, 'b', clock);
    await a.k.start();
    await b.k.start();
    expect(await a.k.stop()).toBe(2);
    await clock.advance(1_000);
    expect(b.acquired.flat().sort()).toEqual(['j1', 'j2']);
    expect(b.takeovers).toEqual([]); // handed back, not taken over
    // A callback reached A, which no longer tracks j1: B polls it at its next look.
    await a.k.nudge('j1');
    await clock.advance(1_000);
    expect(b.nudged).toEqual([['j1']]);
    expect(await b.k.claim('j1')).toBe(true);
    expect(await a.k.claim('j1')).toBe(false);
    await b.k.stop();
  });
});

describe('Tracker delivery guard (claimDelivery)', () => {
  const { start: harness } = useHarness();

  it.each([
    [true, 1],
    [false, 0],
  ])('claim %s → %i deliveries by this process; the job is recorded either way', async (claim, deliveries) => {
    const claims: string[] = [];
    const hh = await harness({ tracker: { claimDelivery: async (id: string) => (claims.push(id), claim) } });
    const { taskId } = await hh.kie.generate({ taskType: 'mj_txt2img', prompt: 'a red fox', speed: 'fast' });
    const job = storedJob({ taskId, speed: 'fast', submittedAt: hh.clock.now(), createdAt: hh.clock.now() });
    await hh.repo.create(job);
    hh.tracker.track(job);
    hh.tracker.start();
    await hh.clock.advance(90_000);
    expect(claims).toEqual([job.id]);
    expect(hh.presenter.deliveriesOf(job.id)).toHaveLength(deliveries);
    expect(await hh.repo.require(job.id)).toMatchObject({ state: 'succeeded', delivered: claim });
    expect(hh.tracker.stats().tracked).toBe(0);
  });
});
