/**
 * Learned task durations in SQL (src/store/sql/durations.ts) on both
 * backends: each provider has its own (KIE and APIXO run at their own
 * speeds), reads are the newest few of one provider, kind and speed, and
 * rows recorded before migration 014, whose provider is unknown, are read
 * by none.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../../src/store/store.js';
import { storeBackends } from '../../support/backends.js';
import { useTestStore } from '../../support/testStores.js';
import { undoTaskDurationsProvider } from '../../support/rewind.js';

describe.each(storeBackends())('task durations on %s', (backend) => {
  let store: OpenedStore;
  const stores = useTestStore(backend, (s) => {
    store = s;
  });

  it('reads the newest first, at most the limit, of one kind and speed', async () => {
    const kie = store.durations.forProvider('kie');
    for (const [ms, at] of [[40_000, 3], [50_000, 1], [60_000, 2], [9_000, 4]] as const) await kie.record('grid', 'fast', ms, at);
    await kie.record('grid', 'turbo', 9_000, 4);
    expect(await kie.recent('grid', 'fast', 3)).toEqual([9_000, 40_000, 60_000]);
    expect(await kie.recent('upscale', 'fast', 3)).toEqual([]);
  });

  it('keeps each provider to its own tasks', async () => {
    await store.durations.forProvider('kie').record('grid', 'fast', 80_000, 1);
    await store.durations.forProvider('apixo').record('grid', 'fast', 35_000, 2);
    expect(await store.durations.forProvider('kie').recent('grid', 'fast', 10)).toEqual([80_000]);
    expect(await store.durations.forProvider('apixo').recent('grid', 'fast', 10)).toEqual([35_000]);
  });

  it('reads the rows recorded before providers were told apart (014) for no provider, nor those an older process still writes', async () => {
    // As the table was before 014: no provider column, its index on (kind, speed, finished_at).
    await store.durations.forProvider('kie').record('grid', 'fast', 70_000, 1);
    await undoTaskDurationsProvider(store.sql.db);
    await sql`insert into task_durations (kind, speed, duration_ms, finished_at) values ('grid', 'fast', 35000, 2)`.execute(store.sql.db);
    await stores.reopen(0);
    // An older process, mid-upgrade, writes without a provider.
    await sql`insert into task_durations (kind, speed, duration_ms, finished_at) values ('grid', 'fast', 36000, 3)`.execute(store.sql.db);
    expect(await store.durations.forProvider('kie').recent('grid', 'fast', 10)).toEqual([]);
    expect(await store.durations.forProvider('apixo').recent('grid', 'fast', 10)).toEqual([]);
    await store.durations.forProvider('kie').record('grid', 'fast', 80_000, 4);
    expect(await store.durations.forProvider('kie').recent('grid', 'fast', 10)).toEqual([80_000]);
  });
});

describe('task durations query plan (SQLite)', () => {
  it('reads one provider, kind and speed newest first through the (provider, kind, speed, finished_at) index', async () => {
    const store = await openStore('memory://');
    try {
      const query = sql`select duration_ms from task_durations where provider = ${'kie'} and kind = ${'grid'} and speed = ${'fast'} order by finished_at desc limit 50`;
      const rows = await sql<{ detail: string }>`explain query plan ${query}`.execute(store.sql.db);
      const detail = rows.rows.map((r) => r.detail).join(' | ');
      expect(detail).toContain('INDEX task_durations_provider_kind_speed');
      expect(detail).not.toContain('TEMP B-TREE');
    } finally {
      await store.close();
    }
  });
});
