/**
 * Persistence through keyv: one namespace per kind of record, one backend
 * picked by DATABASE_URL (an SQLite file by default, `memory://` for tests).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv, { type KeyvStoreAdapter } from 'keyv';

/** The kinds of record the bot keeps; each gets its own keyv namespace. */
/** `simulator` holds the local KIE server's tasks in simulator mode. */
export const NAMESPACES = ['jobs', 'index', 'settings', 'ledger', 'queue', 'meta', 'simulator'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** One namespace: a typed key → value map that can be listed. */
export interface Collection<T> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Every entry of this namespace (order unspecified). */
  entries(): AsyncGenerator<[string, T]>;
}

export interface Store {
  collection<T>(ns: Namespace): Collection<T>;
  close(): Promise<void>;
}

class KeyvCollection<T> implements Collection<T> {
  constructor(private readonly keyv: Keyv<T>) {}
  async get(key: string): Promise<T | undefined> {
    return (await this.keyv.get(key)) ?? undefined;
  }
  async set(key: string, value: T): Promise<void> {
    await this.keyv.set(key, value);
  }
  async delete(key: string): Promise<boolean> {
    return this.keyv.delete(key);
  }
  async *entries(): AsyncGenerator<[string, T]> {
    if (!this.keyv.iterator) throw new Error('this DATABASE_URL backend cannot list records');
    for await (const [key, value] of this.keyv.iterator(undefined)) {
      if (value !== undefined) yield [String(key), value as T];
    }
  }
}

async function adapterFor(databaseUrl: string): Promise<KeyvStoreAdapter | Map<unknown, unknown>> {
  if (databaseUrl === 'memory://' || databaseUrl === 'memory:') return new Map();
  if (databaseUrl.startsWith('sqlite://')) {
    const file = databaseUrl.slice('sqlite://'.length);
    if (file && file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const { default: KeyvSqlite } = await import('@keyv/sqlite');
    return new KeyvSqlite({ uri: databaseUrl, busyTimeout: 5000 }) as unknown as KeyvStoreAdapter;
  }
  throw new Error(`DATABASE_URL: unsupported scheme in "${databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}" (use sqlite://path or memory://)`);
}

/**
 * Opens every namespace up front. Each namespace gets its own adapter: keyv
 * adapters hold a single namespace, so sharing one would mix records.
 */
export async function openStore(databaseUrl: string): Promise<Store> {
  const opened = new Map<Namespace, Keyv<unknown>>();
  for (const ns of NAMESPACES) {
    const keyv = new Keyv<unknown>({ store: await adapterFor(databaseUrl), namespace: ns });
    keyv.on('error', () => {
      /* surfaced by the failing call itself */
    });
    opened.set(ns, keyv);
  }
  return {
    collection<T>(ns: Namespace): Collection<T> {
      const keyv = opened.get(ns);
      if (!keyv) throw new Error(`unknown store namespace ${ns}`);
      return new KeyvCollection<T>(keyv as Keyv<T>);
    },
    async close() {
      await Promise.all([...opened.values()].map((k) => k.disconnect()));
    },
  };
}
