/**
 * The store set-up SQL tests repeat: a fresh database per test with a store
 * over it, closed and dropped after; or, on PostgreSQL, several stores over
 * one database, each with its own pool as separate processes would have.
 * Call inside a `describe`.
 */
import { afterEach, beforeEach } from 'vitest';
import { openStore, type OpenedStore } from '../../src/store/store.js';
import { postgresBackend, type StoreBackend, type TestDatabase } from './backends.js';

/** Opens a store on a fresh `backend` database before each test and hands it to `use`; closes and drops it after. */
export function useTestStore(backend: StoreBackend, use: (store: OpenedStore) => void): void {
  let db: TestDatabase;
  let store: OpenedStore;
  beforeEach(async () => {
    db = await backend.create();
    store = await openStore(db.url);
    use(store);
  });
  afterEach(async () => {
    await store.close();
    await db.drop();
  });
}

/** `count` stores (pools of `poolSize`) over one fresh PostgreSQL database per test; the array is refilled each test. */
export function useProcessStores(pgUrl: string, count = 4, poolSize = 4): OpenedStore[] {
  let db: TestDatabase;
  const stores: OpenedStore[] = [];
  beforeEach(async () => {
    db = await postgresBackend(pgUrl).create();
    for (let i = 0; i < count; i++) stores.push(await openStore(db.url, { poolSize }));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await db.drop();
  });
  return stores;
}
