import { describe, expect, it } from 'vitest';
import { JobQueue, type StoredQueue } from '../../../src/domain/team/queue.js';
import { openStore } from '../../../src/store/store.js';
import { CHANNEL, OTHER_CHANNEL, makeJob, memoryStore, tempSqlite } from './fixtures.js';

const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id);

describe('JobQueue', () => {
  it('is first in, first out per channel, with 1-based positions', async () => {
    const store = await memoryStore();
    const queue = new JobQueue(store.collection<StoredQueue>('queue'));
    const [a, b, c] = [makeJob({ id: 'a' }), makeJob({ id: 'b' }), makeJob({ id: 'c' })];
    expect(await queue.enqueue(a)).toBe(1);
    expect(await queue.enqueue(b)).toBe(2);
    expect(await queue.enqueue(makeJob({ id: 'x', channelId: OTHER_CHANNEL }))).toBe(1);
    expect(await queue.enqueue(c)).toBe(3);
    expect(await queue.enqueue(b)).toBe(2); // already waiting: keeps its place
    expect(await queue.position(CHANNEL, 'c')).toBe(3);
    expect(await queue.position(CHANNEL, 'nope')).toBeNull();

    expect(await queue.remove(CHANNEL, ['b'])).toBe(1);
    expect(await queue.remove(CHANNEL, ['b'])).toBe(0);
    expect(await queue.remove(CHANNEL, [])).toBe(0);
    expect(await queue.position(CHANNEL, 'c')).toBe(2);
    expect(ids(await queue.shift(CHANNEL, 5))).toEqual(['a', 'c']);
    expect(await queue.list(CHANNEL)).toEqual([]);
    expect(await queue.channels()).toEqual([OTHER_CHANNEL]);
    await store.close();
  });

  it('updates the stored copy of a waiting job only', async () => {
    const store = await memoryStore();
    const queue = new JobQueue(store.collection<StoredQueue>('queue'));
    const a = makeJob({ id: 'a' });
    await queue.enqueue(a);
    expect(await queue.update({ ...a, origin: { ...a.origin, messageId: 'm1' } })).toBe(true);
    expect((await queue.list(CHANNEL))[0]?.origin.messageId).toBe('m1');
    expect(await queue.update(makeJob({ id: 'z' }))).toBe(false);
    expect(await queue.shift(CHANNEL, 0)).toEqual([]);
    await store.close();
  });

  it('keeps its order across a restart', async () => {
    const db = tempSqlite();
    try {
      const first = await openStore(db.url);
      const q1 = new JobQueue(first.collection<StoredQueue>('queue'));
      for (const id of ['a', 'b', 'c']) await q1.enqueue(makeJob({ id }));
      await first.close();
      const second = await openStore(db.url);
      const q2 = new JobQueue(second.collection<StoredQueue>('queue'));
      expect(ids(await q2.list(CHANNEL))).toEqual(['a', 'b', 'c']);
      expect(await q2.channels()).toEqual([CHANNEL]);
      await second.close();
    } finally {
      db.cleanup();
    }
  });
});
