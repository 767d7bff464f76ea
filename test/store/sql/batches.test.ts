/** Pending batches in SQL on each backend: saved, read back, decided once — also by two processes racing on one database. */
import { describe, expect, it } from 'vitest';
import type { OpenedStore } from '../../../src/store/store.js';
import { storeBackends } from '../../support/backends.js';
import { useTestStores } from '../../support/testStores.js';
import { BATCH_TTL_MS, type PendingBatch } from '../../../src/domain/batches.js';
import { BATCH_KEEP_MS } from '../../../src/store/sql/batches.js';

const T = 1_735_732_800_000;
const batch = (id: string, createdAt = T): PendingBatch => ({
  id,
  guildId: 'g1',
  channelId: 'c1',
  userId: 'u1',
  promptText: 'a {red, blue} car',
  reason: 'batch',
  drafts: [
    { kind: 'grid', provider: 'kie', spec: { kind: 'imagine', prompt: 'a red car', options: {} }, promptText: 'a red car', speed: 'fast', parent: null, estimatedCredits: 8 },
    { kind: 'grid', provider: 'kie', spec: { kind: 'imagine', prompt: 'a blue car', options: {} }, promptText: 'a blue car', speed: 'fast', parent: null, estimatedCredits: 8 },
  ] as PendingBatch['drafts'],
  createdAt,
  expiresAt: createdAt + BATCH_TTL_MS,
});

describe.each(storeBackends())('SQL pending batches on %s', (backend) => {
  let store: OpenedStore;
  let second: OpenedStore;
  useTestStores(backend, 2, ([a, b]) => {
    store = a!;
    second = b!;
  });

  it('keeps a batch open until it is decided, and reads it back whole', async () => {
    await store.batches.save(batch('b1'));
    expect(await second.batches.get('b1')).toEqual({ ...batch('b1'), state: 'open' });
    expect(await store.batches.get('nope')).toBeUndefined();
  });

  it('decides a batch once: of two processes confirming at the same moment exactly one wins', async () => {
    await store.batches.save(batch('b1'));
    const wins = await Promise.all([store.batches.decide('b1', 'confirmed', T + 1), second.batches.decide('b1', 'confirmed', T + 1)]);
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await store.batches.decide('b1', 'cancelled', T + 2)).toBe(false);
    expect((await store.batches.get('b1'))?.state).toBe('confirmed');
  });

  it('refuses to decide an expired batch, and reopens only a confirmed one', async () => {
    await store.batches.save(batch('b1'));
    expect(await store.batches.decide('b1', 'confirmed', T + BATCH_TTL_MS)).toBe(false);
    expect((await store.batches.get('b1'))?.state).toBe('open');
    expect(await store.batches.decide('b1', 'confirmed', T + 5)).toBe(true);
    await store.batches.reopen('b1');
    expect((await store.batches.get('b1'))?.state).toBe('open');
    expect(await store.batches.decide('b1', 'cancelled', T + 6)).toBe(true);
    await store.batches.reopen('b1');
    expect((await store.batches.get('b1'))?.state).toBe('cancelled');
  });

  it('deletes batches a day past their expiry as new ones are saved', async () => {
    await store.batches.save(batch('old'));
    await store.batches.save(batch('new', T + BATCH_TTL_MS + BATCH_KEEP_MS + 1));
    expect(await store.batches.get('old')).toBeUndefined();
    expect(await store.batches.get('new')).toBeDefined();
  });
});
