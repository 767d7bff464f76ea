/**
 * The KIE keys' shared book (src/store/sql/kieKeys.ts), on both backends:
 * open jobs per key from the jobs table, balances, and out-of-rotation
 * decided once across processes (several connection pools).
 */
import { describe, expect, it } from 'vitest';
import type { OpenedStore } from '../../../src/store/store.js';
import { SqlKieKeys } from '../../../src/store/sql/kieKeys.js';
import type { Job, JobState } from '../../../src/domain/job.js';
import { storeBackends } from '../../support/backends.js';
import { useTestStores } from '../../support/testStores.js';
import { storedJob } from '../../support/jobFixtures.js';

const job = (id: string, state: JobState, account?: string): Job =>
  storedJob({ id, state, taskId: null, submittedAt: null, ...(account ? { account } : {}) });

describe.each(storeBackends())('KIE key book on %s', (backend) => {
  let store: OpenedStore;
  let other: OpenedStore;
  useTestStores(backend, 2, ([a, b]) => {
    store = a!;
    other = b!;
  });

  it('counts each key’s pending and running jobs, never finished ones or jobs without a key', async () => {
    await store.jobs.create(job('1', 'running', 'a'));
    await store.jobs.create(job('2', 'pending', 'a'));
    await store.jobs.create(job('3', 'running', 'b'));
    await store.jobs.create(job('4', 'queued', 'b'));
    await store.jobs.create({ ...job('5', 'succeeded', 'b'), delivered: true });
    await store.jobs.create(job('6', 'running'));
    expect(Object.fromEntries(await new SqlKieKeys(store.sql).openJobsByKey())).toEqual({ a: 2, b: 1 });
  });

  it('takes a key out once across processes, and puts it back only on a top-up after a 402', async () => {
    const mine = new SqlKieKeys(store.sql);
    const theirs = new SqlKieKeys(other.sql);
    const outs = await Promise.all([mine.takeOut('a', 'no credits (402)', 10, 3), theirs.takeOut('a', 'no credits (402)', 11, 3)]);
    expect(outs.filter(Boolean)).toHaveLength(1);
    expect((await theirs.states()).get('a')).toMatchObject({ credits: 3, outReason: 'no credits (402)', outCredits: 3 });
    expect(await mine.recordBalance('a', 3, 20)).toBe(false); // the same few credits: still out
    expect((await mine.states()).get('a')?.outSince).not.toBeNull();
    expect(await mine.recordBalance('a', 500, 30)).toBe(true);
    expect(await theirs.recordBalance('a', 500, 31)).toBe(false); // already back: told once
    expect((await theirs.states()).get('a')).toMatchObject({ credits: 500, outSince: null, outReason: null });
  });

  it('a key taken out by a 401 comes back at its next good read with credits', async () => {
    const book = new SqlKieKeys(store.sql);
    await book.recordBalance('b', 800, 1);
    expect(await book.takeOut('b', 'rejected (401)', 2)).toBe(true);
    expect(await book.recordBalance('b', 0, 3)).toBe(false);
    expect(await book.recordBalance('b', 800, 4)).toBe(true);
  });
});
