/**
 * The create-sent mark (013_create_sent) on both backends: the column
 * mirrors Job.createSentAt, and two senders of one job (two processes
 * resuming it) cannot both mark it: the second is refused before it sends.
 */
import { describe, expect, it } from 'vitest';
import type { OpenedStore } from '../../../src/store/store.js';
import type { Job } from '../../../src/domain/job.js';
import { createSentMark, CreateSentElsewhereError } from '../../../src/domain/submission.js';
import { storeBackends } from '../../support/backends.js';
import { useTestStores } from '../../support/testStores.js';
import { storedJob } from '../../support/jobFixtures.js';
import { undoTaskDurationsProvider } from '../../support/rewind.js';

const pending = (id: string): Job => storedJob({ id, state: 'pending', taskId: null, submittedAt: null });

describe.each(storeBackends())('create-sent mark on %s', (backend) => {
  let store: OpenedStore;
  let other: OpenedStore;
  const stores = useTestStores(backend, 2, ([a, b]) => {
    store = a!;
    other = b!;
  });

  const column = async (id: string): Promise<unknown> =>
    (await store.sql.db.selectFrom('jobs').select('create_sent_at').where('id', '=', id).executeTakeFirstOrThrow()).create_sent_at;

  it('is null until the create leaves, then the column and the job carry it', async () => {
    await store.jobs.create(pending('j1'));
    expect(await column('j1')).toBeNull();
    expect((await store.jobs.require('j1')).createSentAt).toBeUndefined();
    await createSentMark(store.jobs, { now: () => 5_000 }, 'j1')();
    expect(Number(await column('j1'))).toBe(5_000);
    expect((await other.jobs.require('j1')).createSentAt).toBe(5_000);
  });

  it('counts a job an earlier release left pending without a task as sent, so a takeover never sends it twice', async () => {
    await store.jobs.create(pending('old'));
    await store.jobs.create({ ...pending('done'), state: 'succeeded', taskId: 't' } as Job);
    // As the database was before 013: no column, no mark in the job (and so without the migrations after it).
    await undoTaskDurationsProvider(store.sql.db);
    await store.sql.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '013_create_sent' as never).execute();
    await store.sql.db.schema.alterTable('jobs').dropColumn('create_sent_at').execute();
    await stores.reopen(1);
    const row = await other.sql.db.selectFrom('jobs').select(['updated_at', 'create_sent_at']).where('id', '=', 'old').executeTakeFirstOrThrow();
    expect(Number(row.create_sent_at)).toBe(Number(row.updated_at));
    expect((await other.jobs.require('old')).createSentAt).toBe(Number(row.updated_at));
    expect((await other.jobs.require('done')).createSentAt).toBeUndefined();
  });

  it('lets one sender of two (two processes) mark a job; the same sender may mark it again for a retry', async () => {
    await store.jobs.create(pending('j2'));
    const mine = createSentMark(store.jobs, { now: () => 7_000 }, 'j2');
    const theirs = createSentMark(other.jobs, { now: () => 7_000 }, 'j2');
    await mine();
    await expect(theirs()).rejects.toBeInstanceOf(CreateSentElsewhereError);
    await expect(mine()).resolves.toBeUndefined();
    expect((await other.jobs.require('j2')).createSentAt).toBeGreaterThan(7_000);
  });

  it('refuses to mark a job that is no longer waiting to be sent', async () => {
    await store.jobs.create({ ...pending('j3'), state: 'running', taskId: 't3' });
    await expect(createSentMark(store.jobs, { now: () => 1 }, 'j3')()).rejects.toThrow(/no longer waiting/);
    expect(await column('j3')).toBeNull();
  });
});
