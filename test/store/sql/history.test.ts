/** JobHistory in SQL on each backend: scope, filters, LIKE escaping, paging, views and the 002 backfill. */
import { describe, expect, it } from 'vitest';
import type { OpenedStore } from '../../../src/store/store.js';
import { storedJob } from '../../support/jobFixtures.js';
import { useTestStore } from '../../support/testStores.js';
import { storeBackends } from '../../support/backends.js';
import type { Job } from '../../../src/domain/job.js';

const G = 'g1';
const job = (i: number, o: Partial<Job> = {}): Job => {
  const base = storedJob({ id: `j${String(i).padStart(3, '0')}`, promptText: `cat ${i}`, createdAt: 1000 + i });
  return { ...base, ...o, origin: { ...base.origin, guildId: G, channelId: 'c1', userId: 'u1', ...(o.origin ?? {}) } };
};

describe.each(storeBackends())('SQL job history on %s', (backend) => {
  let store: OpenedStore;
  useTestStore(backend, (s) => (store = s));

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
});
