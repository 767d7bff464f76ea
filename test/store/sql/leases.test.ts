/**
 * Job leases on both backends: who tracks each unfinished job, expiry and
 * takeover of a dead process's jobs, hand-back on stop, the delivery guard.
 * On PostgreSQL also several stores (separate pools, like separate
 * processes) acquiring at once: every job is taken by exactly one.
 */
import { describe, expect, it } from 'vitest';
import type { OpenedStore } from '../../../src/store/store.js';
import { SqlJobLeases } from '../../../src/store/sql/leases.js';
import { JobExistsError } from '../../../src/domain/jobRepository.js';
import { useProcessStores, useTestStore } from '../../support/testStores.js';
import { storeBackends, testPostgresUrl } from '../../support/backends.js';
import { makeJob } from '../../support/jobs.js';

const T0 = 1_700_000_000_000;
const TTL = 20_000;
const job = (id: string, extra: Parameters<typeof makeJob>[0] = {}) => makeJob({ id, taskId: `task-${id}`, createdAt: T0, ...extra });

describe.each(storeBackends())('job leases on %s', (backend) => {
  let store: OpenedStore;
  let leases: SqlJobLeases;
  useTestStore(backend, (s) => {
    store = s;
    leases = new SqlJobLeases(s.sql);
  });

  it('a new job is born leased to its creator; others cannot take it until the lease lapses', async () => {
    await leases.create(job('a'), 'p1', T0, TTL);
    await expect(leases.create(job('a'), 'p1', T0, TTL)).rejects.toBeInstanceOf(JobExistsError);
    expect(await store.jobs.get('a')).toMatchObject({ id: 'a' });
    expect(await leases.holder('a')).toEqual({ owner: 'p1', until: T0 + TTL });
    expect(await leases.acquire('p2', T0 + TTL - 1, TTL, 10)).toEqual([]);
    expect(await leases.take('a', 'p2', T0 + 1, TTL)).toBe(false);
    // p1 dies: its lease lapses and p2 takes the job over.
    expect(await leases.acquire('p2', T0 + TTL + 1, TTL, 10)).toEqual([{ jobId: 'a', from: 'p1' }]);
    expect(await leases.holder('a')).toEqual({ owner: 'p2', until: T0 + 2 * TTL + 1 });
    // p1 comes back: its renewal no longer names the job.
    expect(await leases.renew('p1', T0 + TTL + 2, TTL)).toEqual([]);
    expect(await leases.renew('p2', T0 + TTL + 2, TTL)).toEqual(['a']);
  });

  it('renewal keeps a lease alive; job writes keep the lease', async () => {
    await leases.create(job('a'), 'p1', T0, TTL);
    expect(await leases.renew('p1', T0 + 15_000, TTL)).toEqual(['a']);
    await store.jobs.update('a', (j) => ({ ...j, polls: j.polls + 1 }));
    expect(await leases.acquire('p2', T0 + TTL + 1, TTL, 10)).toEqual([]);
    expect(await leases.holder('a')).toEqual({ owner: 'p1', until: T0 + 15_000 + TTL });
  });

  it('hand-back on stop: released jobs are free at once', async () => {
    await leases.create(job('a'), 'p1', T0, TTL);
    await leases.create(job('b'), 'p1', T0, TTL);
    await leases.create(job('c'), 'p3', T0, TTL);
    expect(await leases.release('p1')).toBe(2);
    expect(await leases.acquire('p2', T0 + 1, TTL, 10)).toEqual([
      { jobId: 'a', from: null },
      { jobId: 'b', from: null },
    ]);
    expect(await leases.release('p2', ['b'])).toBe(1);
    expect(await leases.release('p2', [])).toBe(0);
    expect((await leases.holder('b'))).toBeNull();
    expect((await leases.holder('c'))?.owner).toBe('p3');
  });

  it('acquires only unfinished jobs, oldest first, at most the limit', async () => {
    await store.jobs.create(job('new', { createdAt: T0 + 5 }));
    await store.jobs.create(job('old', { createdAt: T0 + 1 }));
    await store.jobs.create(job('done', { state: 'succeeded', delivered: true, finishedAt: T0 }));
    expect(await leases.acquire('p1', T0, TTL, 1)).toEqual([{ jobId: 'old', from: null }]);
    expect(await leases.acquire('p2', T0, TTL, 10)).toEqual([{ jobId: 'new', from: null }]);
    expect(await leases.acquire('p2', T0, TTL, 10)).toEqual([]);
  });

  it('a nudge (a callback that reached another process) is read once by the lease holder', async () => {
    await leases.create(job('a'), 'p1', T0, TTL);
    await leases.nudge('a');
    expect(await leases.takeNudges('p2')).toEqual([]);
    expect(await leases.takeNudges('p1')).toEqual(['a']);
    expect(await leases.takeNudges('p1')).toEqual([]);
  });

  it('the delivery guard: only the holder (or anyone once it lapsed) may deliver, never after delivery', async () => {
    await leases.create(job('a', { state: 'succeeded', finishedAt: T0 }), 'p1', T0, TTL);
    expect(await leases.take('a', 'p2', T0 + 1, TTL)).toBe(false);
    expect(await leases.take('a', 'p1', T0 + 1, TTL)).toBe(true);
    expect(await leases.take('a', 'p2', T0 + 1 + TTL + 1, TTL)).toBe(true);
    expect(await leases.take('a', 'p1', T0 + 1 + TTL + 2, TTL)).toBe(false);
    await store.jobs.update('a', (j) => ({ ...j, delivered: true }));
    expect(await leases.take('a', 'p2', T0 + 1 + TTL + 3, TTL)).toBe(false);
  });
});

const pgUrl = testPostgresUrl();

describe.skipIf(!pgUrl)('job leases across processes on PostgreSQL', () => {
  const stores = useProcessStores(pgUrl!);

  it('four processes acquiring 200 free jobs at once: each job goes to exactly one (SKIP LOCKED)', async () => {
    for (let i = 0; i < 200; i++) await stores[0]!.jobs.create(job(`j${i}`, { createdAt: T0 + i }));
    const leases = stores.map((s) => new SqlJobLeases(s.sql));
    const rounds = await Promise.all(
      leases.flatMap((l, p) => [0, 1, 2].map(() => l.acquire(`p${p}`, T0, TTL, 30))),
    );
    const more = await Promise.all(leases.map((l, p) => l.acquire(`p${p}`, T0, TTL, 200)));
    const taken = [...rounds, ...more].flat().map((a) => a.jobId);
    expect(taken).toHaveLength(200);
    expect(new Set(taken).size).toBe(200);
  });

  it('a lapsed job is taken over by exactly one of several processes', async () => {
    const leases = stores.map((s) => new SqlJobLeases(s.sql));
    await leases[0]!.create(job('x'), 'dead', T0, TTL);
    const results = await Promise.all(leases.slice(1).map((l, p) => l.acquire(`p${p}`, T0 + TTL + 1, TTL, 10)));
    expect(results.flat()).toEqual([{ jobId: 'x', from: 'dead' }]);
    const guards = await Promise.all(leases.slice(1).map((l, p) => l.take('x', `p${p}`, T0 + TTL + 2, TTL)));
    expect(guards.filter(Boolean)).toHaveLength(1);
  });
});
