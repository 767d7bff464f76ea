/** JobHistory in SQL on each backend: scope, filters, LIKE escaping, paging, views and the 002 backfill. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../../src/store/store.js';
import { storedJob } from '../../support/jobFixtures.js';
import { storeBackends, type TestDatabase } from '../../support/backends.js';
import type { Job } from '../../../src/domain/job.js';
import { MIGRATIONS } from '../../../src/store/sql/migrations.js';
import type { Kysely } from 'kysely';

const G = 'g1';
const job = (i: number, o: Partial<Job> = {}): Job => {
  const base = storedJob({ id: `j${String(i).padStart(3, '0')}`, promptText: `cat ${i}`, createdAt: 1000 + i });
  return { ...base, ...o, origin: { ...base.origin, guildId: G, channelId: 'c1', userId: 'u1', ...(o.origin ?? {}) } };
};

describe.each(storeBackends())('SQL job history on %s', (backend) => {
  let db: TestDatabase;
  let store: OpenedStore;
  beforeEach(async () => {
    db = await backend.create();
    store = await openStore(db.url);
  });
  afterEach(async () => {
    await store.close();
    await db.drop();
  });

  it('pages newest first and filters by channel, user, state, kind and escaped, case-insensitive search', async () => {
    for (let i = 1; i <= 12; i++) await store.jobs.create(job(i));
    await store.jobs.create(job(20, { promptText: '100% Off_sale', origin: { channelId: 'c2', userId: 'u2' } as Job['origin'] }));
    const p0 = await store.history.page({ guildId: G, userId: 'u1' }, 0, 10);
    expect(p0.lines.map((l) => l.promptText)).toEqual(['cat 12', 'cat 11', 'cat 10', 'cat 9', 'cat 8', 'cat 7', 'cat 6', 'cat 5', 'cat 4', 'cat 3']);
    expect(p0.hasMore).toBe(true);
    const p1 = await store.history.page({ guildId: G, userId: 'u1' }, 1, 10);
    expect(p1.lines.map((l) => l.promptText)).toEqual(['cat 2', 'cat 1']);
    expect(p1.hasMore).toBe(false);
    expect((await store.history.page({ guildId: G, search: 'CAT 1' }, 0)).lines.map((l) => l.jobId)).toEqual(['j012', 'j011', 'j010', 'j001']);
    expect((await store.history.page({ guildId: G, search: '0% o' }, 0)).lines.map((l) => l.jobId)).toEqual(['j020']);
    expect((await store.history.page({ guildId: G, search: 't_' }, 0)).lines).toEqual([]);
    expect((await store.history.page({ guildId: G, channelId: 'c2' }, 0)).lines.map((l) => l.jobId)).toEqual(['j020']);
    expect((await store.history.page({ guildId: G, kind: 'upscale' }, 0)).lines).toEqual([]);
    expect((await store.history.page({ guildId: 'other' }, 0)).lines).toEqual([]);
  });

  it('keeps views for 24 h', async () => {
    const view = { ownerId: 'u1', filter: { guildId: G }, createdAt: 5_000 };
    await store.history.saveView('v1', view);
    expect(await store.history.view('v1', 6_000)).toEqual(view);
    expect(await store.history.view('v1', 5_000 + 86_400_001)).toBeUndefined();
  });

  it('finds a job by the message its result lives in, following the message when it moves (/show by link)', async () => {
    await store.jobs.create(job(1, { origin: { messageId: 'm1' } as Job['origin'] }));
    await store.jobs.create(job(2, { origin: { messageId: null } as Job['origin'] }));
    expect((await store.history.jobByMessage('m1'))?.job.id).toBe('j001');
    expect(await store.history.jobByMessage('m2')).toBeUndefined();
    // Delivery posted a new message: the job is found by it, no longer by the old one.
    await store.jobs.update('j001', (j) => ({ ...j, origin: { ...j.origin, messageId: 'm2' } }));
    expect(await store.history.jobByMessage('m2')).toEqual({ job: expect.objectContaining({ id: 'j001' }), channelId: 'c1' });
    expect(await store.history.jobByMessage('m1')).toBeUndefined();
    // A /show copy in another channel finds it too, with the copy's channel; saving it twice is harmless.
    await store.history.saveShownMessage('copy1', 'j001', 'c9', 5_000);
    await store.history.saveShownMessage('copy1', 'j001', 'c9', 6_000);
    expect(await store.history.jobByMessage('copy1')).toEqual({ job: expect.objectContaining({ id: 'j001' }), channelId: 'c9' });
  });

  it('007 fills the message column of jobs stored before it', async () => {
    await store.jobs.create(job(1, { origin: { messageId: 'm1' } as Job['origin'] }));
    await store.jobs.create(job(2, { origin: { messageId: null } as Job['origin'] }));
    // Back to the table as 006 left it, then run 007 again.
    const db = store.sql.db as unknown as Kysely<unknown>;
    await db.schema.dropIndex('jobs_message_id').execute();
    await db.schema.alterTable('jobs').dropColumn('message_id').execute();
    await db.schema.dropTable('shown_messages').execute();
    await MIGRATIONS['007_job_message_id']!.up(db);
    expect((await store.history.jobByMessage('m1'))?.job.id).toBe('j001');
    const rows = await store.sql.db.selectFrom('jobs').select(['id', 'message_id']).orderBy('id').execute();
    expect(rows).toEqual([{ id: 'j001', message_id: 'm1' }, { id: 'j002', message_id: null }]);
  });
});
