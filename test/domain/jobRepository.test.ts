import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transition } from '../../src/domain/job.js';
import { JobExistsError, JobNotFoundError, needsWork, type JobRepository } from '../../src/domain/jobRepository.js';
import { openStore, type OpenedStore as Store } from '../../src/store/store.js';
import { storeBackends } from '../support/backends.js';
import { useTestStore } from '../support/testStores.js';
import { storedJob } from '../support/jobFixtures.js';

describe.each(storeBackends())('JobRepository on %s', (backend) => {
  let store: Store;
  let repo: JobRepository;
  useTestStore(backend, (s) => {
    store = s;
    repo = s.jobs;
  });

  it('creates, gets and refuses a duplicate id', async () => {
    const job = storedJob();
    await repo.create(job);
    expect(await repo.get(job.id)).toEqual(job);
    await expect(repo.create(job)).rejects.toBeInstanceOf(JobExistsError);
    await expect(repo.require('nope')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('finds a job by its KIE taskId once it has one', async () => {
    const job = storedJob({ state: 'pending', taskId: null });
    await repo.create(job);
    expect(await repo.findByTaskId('t-1')).toBeUndefined();
    await repo.update(job.id, (j) => transition(j, 'running', { taskId: 't-1' }));
    expect((await repo.findByTaskId('t-1'))?.id).toBe(job.id);
  });

  it('lists jobs that still need work: not terminal, or not yet delivered', async () => {
    const running = storedJob({ createdAt: 3 });
    const queued = storedJob({ state: 'queued', taskId: null, createdAt: 1 });
    const undelivered = storedJob({ state: 'succeeded', delivered: false, createdAt: 2 });
    const done = storedJob({ state: 'failed', delivered: true, createdAt: 0 });
    for (const j of [running, queued, undelivered, done]) await repo.create(j);
    expect((await repo.listActive()).map((j) => j.id)).toEqual([queued.id, undelivered.id, running.id]);

    await repo.update(undelivered.id, (j) => ({ ...j, delivered: true }));
    await repo.update(running.id, (j) => transition(j, 'failed', { delivered: true }));
    expect((await repo.listActive()).map((j) => j.id)).toEqual([queued.id]);
    expect(needsWork(queued)).toBe(true);
    expect(needsWork(done)).toBe(false);
  });

  it('does not lose fields when updates of one job race', async () => {
    const job = storedJob();
    await repo.create(job);
    await Promise.all([
      repo.update(job.id, (j) => ({ ...j, polls: j.polls + 1 })),
      repo.update(job.id, (j) => ({ ...j, pressed: [...j.pressed, 'upscale:1'] })),
      repo.update(job.id, (j) => ({ ...j, polls: j.polls + 1 })),
      repo.update(job.id, (j) => ({ ...j, pressed: [...j.pressed, 'vary:2'] })),
    ]);
    const after = await repo.require(job.id);
    expect(after.polls).toBe(2);
    // Concurrent transactions on PostgreSQL may commit in either order; what matters is that neither is lost.
    expect([...after.pressed].sort()).toEqual(['upscale:1', 'vary:2']);
  });

  it('keeps every id in the active list when many jobs are created at once', async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => storedJob({ createdAt: i }));
    await Promise.all(jobs.map((j) => repo.create(j)));
    expect((await repo.listActive()).map((j) => j.id)).toEqual(jobs.map((j) => j.id));
  });

  it('writes nothing when an update throws', async () => {
    const job = storedJob({ state: 'succeeded' });
    await repo.create(job);
    await expect(repo.update(job.id, (j) => transition(j, 'running'))).rejects.toThrow(/cannot go/);
    expect((await repo.require(job.id)).state).toBe('succeeded');
  });

  it('gives exactly one of two concurrent clicks the action', async () => {
    const claims = await Promise.all([
      repo.claimAction('parent', 'upscale', 1, 'child-a'),
      repo.claimAction('parent', 'upscale', 1, 'child-b'),
    ]);
    // Which click wins is the database's race (on PostgreSQL either may commit first); the loser sees the winner.
    expect(claims.filter((c) => c === null)).toHaveLength(1);
    const winner = claims[0] === null ? 'child-a' : 'child-b';
    expect(claims.find((c) => c !== null)).toBe(winner);
    // A different position or action is a different button.
    expect(await repo.claimAction('parent', 'upscale', 2, 'child-c')).toBeNull();
    expect(await repo.claimAction('parent', 'vary', 1, 'child-d')).toBeNull();
  });

  it('releases an action so the button can be tried again, but only for its holder', async () => {
    expect(await repo.claimAction('p', 'vary', 0, 'c1')).toBeNull();
    expect(await repo.releaseAction('p', 'vary', 0, 'other')).toBe(false);
    expect(await repo.claimAction('p', 'vary', 0, 'c2')).toBe('c1');
    expect(await repo.releaseAction('p', 'vary', 0, 'c1')).toBe(true);
    expect(await repo.claimAction('p', 'vary', 0, 'c2')).toBeNull();
    expect(await repo.releaseAction('p', 'vary', 0)).toBe(true);
    expect(await repo.releaseAction('p', 'vary', 0)).toBe(false);
  });
});

describe('JobRepository on SQLite', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tj-jobs-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives reopening the store', async () => {
    const url = `sqlite://${join(dir, 'x.sqlite')}`;
    const first = await openStore(url);
    const job = storedJob({ taskId: 'kie-1' });
    await first.jobs.create(job);
    expect(await first.jobs.claimAction(job.id, 'upscale', 0, 'child')).toBeNull();
    await first.close();

    const second = await openStore(url);
    const repo = second.jobs;
    expect((await repo.listActive()).map((j) => j.id)).toEqual([job.id]);
    expect((await repo.findByTaskId('kie-1'))?.id).toBe(job.id);
    expect(await repo.claimAction(job.id, 'upscale', 0, 'other')).toBe('child');
    await second.close();
  });
});
