/**
 * The domain core wired for tests (buildJobCore, as buildApp wires it): the local KIE server and the real
 * KieClient over 127.0.0.1, a store (memory or an SQLite file), the
 * repository, a recording presenter, the tracker and the job service — all
 * on one ManualClock, so tests move virtual time and nothing waits for real.
 *
 * `restart()` simulates a bot restart: the old tracker is stopped, a fresh
 * store handle, repository, tracker and service are built over the same
 * database and the same KIE server (which, like KIE, keeps running).
 */
import { KieProvider, kieProviders } from '../../src/providers/kie/adapter.js';
import { KieKeyPool } from '../../src/providers/kie/keys.js';
import { providerRegistry, type ProviderRegistry } from '../../src/domain/provider.js';
import { SqlKieKeys } from '../../src/store/sql/kieKeys.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { KieClient } from '../../src/providers/kie/client.js';
import { startKieSimulator, type KieSimulator, type SimTaskInfo } from '../../src/providers/kie/simulator/index.js';
import type { JobRepository } from '../../src/domain/jobRepository.js';
import type { Job } from '../../src/domain/job.js';
import type { Admission } from '../../src/domain/ports.js';
import type { KieApi } from '../../src/providers/kie/api.js';
import type { JobService } from '../../src/domain/service.js';
import type { Tracker, TrackerObserver, TrackerOptions } from '../../src/domain/tracker.js';
import { buildJobCore } from '../../src/jobCore.js';
import { openStore, type OpenedStore, type Store } from '../../src/store/store.js';
import { ManualClock } from './manualClock.js';
import { RecordingPresenter } from './recordingPresenter.js';

export interface HarnessOptions {
  /** Task duration at the simulator (default: 45 s for every task). */
  durationMs?: (t: SimTaskInfo) => number;
  /** 'memory://' (default) or 'sqlite://…' for restart tests. */
  storeUrl?: string;
  admission?: Admission;
  /** Wrap the real client (spies); the tracker and the service both get the wrapper. */
  wrapKie?: (real: KieApi) => KieApi;
  /** The KIE client's onResponse hook (metrics tests). */
  onKieResponse?: (endpoint: string, code: string | number) => void;
  /** The job service's onCreated (a provider accepted a create). */
  onCreated?: (job: Job) => void;
  tracker?: Partial<Omit<TrackerOptions, 'repo' | 'kie' | 'presenter' | 'clock'>>;
  /**
   * Several KIE accounts: name → starting balance. The simulator runs one
   * account per key (`key-<name>`), and the service and tracker get the KIE
   * provider over a key pool whose book is the store's (src/store/sql/kieKeys.ts).
   */
  kieAccounts?: Record<string, number>;
}

export interface Harness {
  clock: ManualClock;
  sim: KieSimulator;
  kie: KieClient;
  store: Store;
  repo: JobRepository;
  presenter: RecordingPresenter;
  tracker: Tracker;
  service: JobService;
  finished: Array<{ jobId: string; kieCompletedAt: number | null; deliveredAt: number }>;
  polls: string[];
  /** record-info requests the simulator saw (virtual times). */
  recordInfoTimes(taskId?: string): number[];
  createCount(): number;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  // A whole second, so KIE's second-resolution timestamps are exact.
  const clock = new ManualClock(Date.UTC(2025, 0, 1, 12));
  const sim = await startKieSimulator({
    now: clock.now,
    durationMs: options.durationMs ?? (() => 45_000),
    seed: 7,
    createRateLimit: null,
    ...(options.kieAccounts
      ? { accounts: Object.fromEntries(Object.entries(options.kieAccounts).map(([name, credits]) => [name, { apiKey: `key-${name}`, credits }])) }
      : {}),
  });
  const kie = new KieClient({
    baseUrl: sim.url,
    apiKey: 'test-key',
    // The tracker owns retries and pacing; the client just asks once.
    retry: { maxAttempts: 1 },
    readsPerSecond: 100_000,
    createLimit: { max: 100_000, windowMs: 1_000 },
    ...(options.onKieResponse ? { onResponse: options.onKieResponse } : {}),
  });
  const storeUrl = options.storeUrl ?? 'memory://';
  const finished: Harness['finished'] = [];
  const polls: string[] = [];
  const observer: TrackerObserver = {
    onPoll: (job) => polls.push(job.id),
    onFinished: (job, t) => finished.push({ jobId: job.id, ...t }),
  };
  const presenter = new RecordingPresenter();

  const api = options.wrapKie ? options.wrapKie(kie) : kie;
  const accountClients = Object.keys(options.kieAccounts ?? {}).map(
    (name) => new KieClient({ baseUrl: sim.url, apiKey: `key-${name}`, retry: { maxAttempts: 1 }, readsPerSecond: 100_000, createLimit: { max: 100_000, windowMs: 1_000 } }),
  );
  const providersFor = (store: Store): ProviderRegistry => {
    if (!options.kieAccounts) return kieProviders(api);
    const names = Object.keys(options.kieAccounts);
    const pool = new KieKeyPool(
      names.map((name, i) => ({ name, api: options.wrapKie ? options.wrapKie(accountClients[i]!) : accountClients[i]! })),
      new SqlKieKeys((store as OpenedStore).sql),
      clock.now,
    );
    return providerRegistry('kie', [new KieProvider(pool)]);
  };
  const build = (store: Store) => {
    const repo = store.jobs;
    const { tracker, jobs: service } = buildJobCore({
      repo,
      providers: providersFor(store),
      presenter,
      clock,
      tracker: { observer, random: () => 0.5, ...options.tracker },
      service: { ...(options.admission ? { admission: options.admission } : {}), ...(options.onCreated ? { onCreated: options.onCreated } : {}) },
    });
    return { store, repo, tracker, service };
  };

  let parts = build(await openStore(storeUrl));
  clock.settleWith(() => parts.tracker.idle());

  const harness: Harness = {
    clock,
    sim,
    kie,
    presenter,
    finished,
    polls,
    get store() {
      return parts.store;
    },
    get repo() {
      return parts.repo;
    },
    get tracker() {
      return parts.tracker;
    },
    get service() {
      return parts.service;
    },
    recordInfoTimes(taskId?: string) {
      return sim.requests
        .filter((r) => r.endpoint === 'recordInfo' && (taskId === undefined || r.query['taskId'] === taskId))
        .map((r) => r.at);
    },
    createCount() {
      return sim.requests.filter((r) => ['generate', 'upscale', 'vary', 'extend'].includes(r.endpoint)).length;
    },
    async restart() {
      await parts.tracker.stop();
      parts.service.dispose();
      // A memory store can't be reopened; a fresh repository over it is the closest thing.
      let store = parts.store;
      if (storeUrl !== 'memory://') {
        await store.close();
        store = await openStore(storeUrl);
      }
      parts = build(store);
    },
    async close() {
      await parts.tracker.stop();
      parts.service.dispose();
      await parts.store.close();
      await kie.close();
      await Promise.all(accountClients.map((c) => c.close()));
      await sim.close();
    },
  };
  return harness;
}

/**
 * One harness per test, closed after it, with its temporary SQLite files
 * removed: `const { start, sqliteUrl } = useHarness()` at the top of a file.
 */
export function useHarness(): { start(options?: HarnessOptions): Promise<Harness>; sqliteUrl(prefix?: string): string } {
  let current: Harness | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await current?.close();
    current = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    start: async (options = {}) => (current = await startHarness(options)),
    sqliteUrl: (prefix = 'tj-domain-') => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return `sqlite://${join(dir, 'x.sqlite')}`;
    },
  };
}

