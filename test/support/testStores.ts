/**
 * The store set-up SQL tests repeat: a fresh database per test with one store
 * or a few over it, closed and dropped after; or, on PostgreSQL, several stores over
 * one database, each with its own pool as separate processes would have.
 * Call inside a `describe`.
 */
import { afterEach, beforeEach } from 'vitest';
import { openStore, type OpenedStore } from '../../src/store/store.js';
import { postgresBackend, type StoreBackend, type TestDatabase } from './backends.js';

export interface FreshStores {
  /** Close store `i` and open it again (after a test rewound a migration), and hand the stores to `use` again. */
  reopen(i: number): Promise<void>;
}

/**
 * Opens `count` stores (as many processes would) on a fresh `backend` database before each test and hands
 * them to `use`; closes them and drops the database after.
 */
export function useTestStores(backend: StoreBackend, count: number, use: (stores: readonly OpenedStore[]) => void): FreshStores {
  let db: TestDatabase;
  let stores: OpenedStore[] = [];
  beforeEach(async () => {
    db = await backend.create();
    stores = [];
    for (let i = 0; i < count; i++) stores.push(await openStore(db.url));
    use(stores);
  });
  afterEach(async () => {
    for (const store of [...stores].reverse()) await store.close();
    await db.drop();
  });
  return {
    async reopen(i) {
      await stores[i]!.close();
      stores[i] = await openStore(db.url);
      use(stores);
    },
  };
}

/** Opens a store on a fresh `backend` database before each test and hands it to `use`; closes and drops it after. */
export function useTestStore(backend: StoreBackend, use: (store: OpenedStore) => void): FreshStores {
  return useTestStores(backend, 1, ([store]) => use(store!));
}

/**
 * A fresh `backend` database per test, with stores opened on it when the test asks (`open`); after it, every
 * store opened is closed (one the test closed itself is let be) and the database dropped.
 */
export function useTestDatabase(backend: StoreBackend): { open(): Promise<OpenedStore> } {
  let db: TestDatabase;
  let stores: OpenedStore[] = [];
  beforeEach(async () => {
    db = await backend.create();
  });
  afterEach(async () => {
    for (const s of stores) await s.close().catch(() => undefined);
    stores = [];
    await db.drop();
  });
  return {
    async open() {
      const store = await openStore(db.url);
      stores.push(store);
      return store;
    },
  };
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
