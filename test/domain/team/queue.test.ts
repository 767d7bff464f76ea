import { describe, expect, it } from 'vitest';
import { storeBackends } from '../../support/backends.js';
import { useTestDatabase } from '../../support/testStores.js';
import { CHANNEL, OTHER_CHANNEL, makeJob, testQueue } from './fixtures.js';

const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id);

describe.each(storeBackends())('the SQL queue on %s', (backend) => {
  const { open } = useTestDatabase(backend);

  it('is first in, first out per channel, with 1-based positions', async () => {
    const queue = testQueue(await open());
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
    expect(ids(await queue.list(CHANNEL))).toEqual(['a', 'c']);
    expect(await queue.remove(CHANNEL, ['a', 'c'])).toBe(2);
    expect(await queue.list(CHANNEL)).toEqual([]);
    expect(await queue.channels()).toEqual([OTHER_CHANNEL]);
    // Appending after removals keeps order.
    await queue.enqueue(makeJob({ id: 'd' }));
    await queue.enqueue(makeJob({ id: 'e' }));
    expect(ids(await queue.list(CHANNEL))).toEqual(['d', 'e']);
  });

  it('updates the stored copy of a waiting job only', async () => {
    const queue = testQueue(await open());
    const a = makeJob({ id: 'a' });
    await queue.enqueue(a);
    expect(await queue.update({ ...a, origin: { ...a.origin, messageId: 'm1' } })).toBe(true);
    expect((await queue.list(CHANNEL))[0]?.origin.messageId).toBe('m1');
    expect(await queue.update(makeJob({ id: 'z' }))).toBe(false);
  });

  it('keeps its order across a restart', async () => {
    const first = await open();
    const q1 = testQueue(first);
    for (const id of ['a', 'b', 'c']) await q1.enqueue(makeJob({ id }));
    await first.close();
    const q2 = testQueue(await open());
    expect(ids(await q2.list(CHANNEL))).toEqual(['a', 'b', 'c']);
    expect(await q2.channels()).toEqual([CHANNEL]);
  });
});
