/**
 * The fleet-wide KIE create window: at most `max` creates counting at once,
 * a create counting from when it is sent until `windowMs` after its answer.
 * Both backends for the rule; on PostgreSQL several stores (pools, as
 * separate processes would have) creating at once never exceed it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type OpenedStore } from '../../../src/store/store.js';
import { SqlCreateWindow } from '../../../src/store/sql/createWindow.js';
import { postgresBackend, storeBackends, testPostgresUrl, type TestDatabase } from '../../support/backends.js';

describe.each(storeBackends())('fleet-wide create window on %s', (backend) => {
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

  it('a create counts while in flight and until windowMs after its answer; a dead process’s create stops counting after staleMs', async () => {
    const w = new SqlCreateWindow(store.sql, { max: 2, windowMs: 10_000, staleMs: 60_000 });
    const a = await w.tryAcquire(1_000);
    const b = await w.tryAcquire(1_001);
    expect('id' in a && 'id' in b).toBe(true);
    expect(await w.tryAcquire(1_002)).toEqual({ waitMs: 250 }); // both in flight: no known end yet
    await w.release((a as { id: string }).id, 2_000);
    expect(await w.tryAcquire(5_000)).toEqual({ waitMs: 7_001 }); // a counts until 12 000
    expect('id' in (await w.tryAcquire(12_000))).toBe(true);
    // b never answered (its process died): it stops counting after staleMs.
    expect('waitMs' in (await w.tryAcquire(12_001))).toBe(true);
    expect('id' in (await w.tryAcquire(61_002))).toBe(true);
  });

  it("KIE's limit is per account: one key's full window never holds back another key's creates", async () => {
    const a = new SqlCreateWindow(store.sql, { max: 1, windowMs: 10_000, keyName: 'a' });
    const b = new SqlCreateWindow(store.sql, { max: 1, windowMs: 10_000, keyName: 'b' });
    const single = new SqlCreateWindow(store.sql, { max: 1, windowMs: 10_000 });
    expect('id' in (await a.tryAcquire(1_000))).toBe(true);
    expect('waitMs' in (await a.tryAcquire(1_001))).toBe(true);
    expect('id' in (await b.tryAcquire(1_002))).toBe(true);
    expect('id' in (await single.tryAcquire(1_003))).toBe(true);
    expect('waitMs' in (await b.tryAcquire(1_004))).toBe(true);
  });
});

const pgUrl = testPostgresUrl();

describe.skipIf(!pgUrl)('fleet-wide create window across processes on PostgreSQL', () => {
  let db: TestDatabase;
  const stores: OpenedStore[] = [];
  beforeEach(async () => {
    db = await postgresBackend(pgUrl!).create();
    for (let i = 0; i < 4; i++) stores.push(await openStore(db.url, { poolSize: 4 }));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await db.drop();
  });

  it('four processes, 60 creates at once: never more than max counting at any moment', async () => {
    const MAX = 5;
    const WINDOW = 200;
    const windows = stores.map((s) => new SqlCreateWindow(s.sql, { max: MAX, windowMs: WINDOW, maxWaitMs: 20 }));
    const grants: Array<{ at: number; until: number }> = [];
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const release = await windows[i % windows.length]!.acquire();
        const at = Date.now();
        await new Promise((r) => setTimeout(r, 5 + (i % 4) * 10)); // KIE answering
        const answeredAt = Date.now();
        release();
        grants.push({ at, until: answeredAt + WINDOW });
      }),
    );
    expect(grants).toHaveLength(60);
    for (const g of grants) {
      const counting = grants.filter((o) => o.at <= g.at && g.at < o.until).length;
      expect(counting).toBeLessThanOrEqual(MAX);
    }
  }, 30_000);
});
