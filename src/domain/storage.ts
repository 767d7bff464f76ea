/**
 * The persistence ports the domain is written against. The store layer
 * (src/store/) implements them: SQL (Kysely) for what is queried or decides
 * money, keyv for what is truly key-value. The domain never imports it.
 */
import type { BatchStore } from './batches.js';
import type { ProviderDurations } from './durations.js';
import type { JobRepository } from './jobRepository.js';
import type { JobHistory } from './history.js';
import type { TeamStore } from './team/ledger.js';
import type { SettingsRecords } from './team/settings.js';
import type { AlertStates } from './team/alerts.js';

/** One key-value namespace. `set` throws when the write did not happen. */
export interface Collection<T> {
  get(key: string): Promise<T | undefined>;
  set(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Every entry (order unspecified). Never on a hot path or at start: only for small namespaces, rarely. */
  entries(): AsyncGenerator<[string, T]>;
}

/**
 * The key-value namespaces (simulator tasks, small metadata; 'settings' and the
 * alert state in 'meta' are where releases before 009_settings kept them, read
 * once by the move into SQL; the rest are the pre-SQL layout, read only by the
 * one-time migration).
 */
export const NAMESPACES = ['jobs', 'index', 'settings', 'ledger', 'queue', 'meta', 'simulator'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** Everything the bot persists, as the domain sees it. */
export interface Store {
  collection<T>(ns: Namespace): Collection<T>;
  readonly jobs: JobRepository;
  readonly team: TeamStore;
  /** Channel and server settings, one record per setting. */
  readonly settings: SettingsRecords;
  /** The low-balance alert state per server. */
  readonly alertStates: AlertStates;
  /** Finished tasks' durations per provider, from which the tracker learns its schedule. */
  readonly durations: ProviderDurations;
  /** Past jobs, filtered and paged (/history). */
  readonly history: JobHistory;
  /** Batches waiting for their author's Confirm or Cancel. */
  readonly batches: BatchStore;
  close(): Promise<void>;
}
