/** Builders shared by the team-policy tests. */
import { makeOrigin } from '../../support/jobs.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newJob, type Job, type JobKind } from '../../../src/domain/job.js';
import type { Speed } from '../../../src/domain/midjourney.js';
import { openStore, type OpenedStore as Store } from '../../../src/store/store.js';
import { ChannelSettings, type StoredSettings } from '../../../src/domain/team/settings.js';
import type { LedgerEntry, LedgerFilter } from '../../../src/domain/team/ledger.js';
import { TeamPolicy, type TeamPolicyDeps } from '../../../src/domain/team/policy.js';

export const GUILD = '100000000000000001';
export const CHANNEL = '200000000000000001';
export const OTHER_CHANNEL = '200000000000000002';
export const ALICE = '300000000000000001';
export const BOB = '300000000000000002';

/** 2025-03-14 12:00:00 UTC: mid-day, mid-month. */
export const NOON = Date.UTC(2025, 2, 14, 12, 0, 0);

let seq = 0;

export interface JobSpec {
  id?: string;
  kind?: JobKind;
  speed?: Speed | null;
  credits?: number;
  userId?: string;
  channelId?: string;
  guildId?: string | null;
  prompt?: string;
  createdAt?: number;
  state?: Job['state'];
}

/** A job as the job service would hand it to admit(). */
export function makeJob(spec: JobSpec = {}): Job {
  const kind = spec.kind ?? 'grid';
  const speed = spec.speed === undefined ? (kind === 'video' || kind === 'video_hd' || kind === 'extend' ? null : 'fast') : spec.speed;
  const prompt = spec.prompt ?? 'a lighthouse at dusk';
  const request: Job['request'] =
    kind === 'upscale'
      ? { op: 'upscale', body: { taskId: 'parent-task', imageIndex: 0 } }
      : kind === 'vary'
        ? { op: 'vary', body: { taskId: 'parent-task', imageIndex: 1 } }
        : kind === 'extend'
          ? { op: 'extend', body: { taskType: 'mj_video_extend_manual', taskId: 'parent-task', index: 0, prompt } }
          : kind === 'grid'
            ? { op: 'generate', body: { taskType: 'mj_txt2img', prompt, ...(speed ? { speed } : {}) } }
            : {
                op: 'generate',
                body: { taskType: kind === 'video_hd' ? 'mj_video_hd' : 'mj_video', prompt, fileUrls: ['https://example.com/a.png'], motion: 'high' },
              };
  seq += 1;
  const draft = {
    kind,
    request,
    promptText: prompt,
    speed,
    estimatedCredits: spec.credits ?? 8,
    origin: makeOrigin({ guildId: spec.guildId === undefined ? GUILD : spec.guildId, channelId: spec.channelId ?? CHANNEL, userId: spec.userId ?? ALICE, applicationId: 'app', interactionToken: null, interactionAt: null }),
    parent: null,
  };
  return newJob(draft, spec.id ?? `job${String(seq).padStart(4, '0')}`, spec.state ?? 'pending', spec.createdAt ?? NOON);
}

/** A ledger line, for pure-function tests. */
export function entry(spec: Partial<LedgerEntry> = {}): LedgerEntry {
  seq += 1;
  return {
    jobId: `e${seq}`,
    guildId: GUILD,
    channelId: CHANNEL,
    userId: ALICE,
    kind: 'grid',
    speed: 'fast',
    credits: 8,
    taskId: null,
    state: 'succeeded',
    createdAt: NOON,
    finishedAt: null,
    ...spec,
  };
}

/** A settable clock for policy tests. */
export function fakeClock(start = NOON): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v), advance: (ms) => (t += ms) };
}

/** The ledger for tests: the store's reader plus direct writes (each in its channel's transaction). */
export interface TestLedger {
  get(jobId: string): Promise<LedgerEntry | undefined>;
  put(entry: LedgerEntry): Promise<LedgerEntry>;
  query(filter?: LedgerFilter): Promise<LedgerEntry[]>;
  channel(channelId: string): Promise<LedgerEntry[]>;
}

export function testLedger(store: Store): TestLedger {
  const { ledger } = store.team;
  return {
    get: (jobId) => ledger.get(jobId),
    put: (entry) => store.team.inChannel(entry.channelId, (tx) => tx.put(entry)),
    query: (filter = {}) => ledger.query(filter),
    channel: (channelId) => ledger.query({ channelId }),
  };
}

/** A channel queue for tests, over the store (each write in its channel's transaction). */
export interface TestQueue {
  list(channelId: string): Promise<Job[]>;
  enqueue(job: Job): Promise<number>;
  update(job: Job): Promise<boolean>;
  remove(channelId: string, jobIds: readonly string[]): Promise<number>;
  position(channelId: string, jobId: string): Promise<number | null>;
  channels(): Promise<string[]>;
}

export function testQueue(store: Store): TestQueue {
  const { queues } = store.team;
  const inChannel = store.team.inChannel.bind(store.team);
  return {
    list: (channelId) => queues.list(channelId),
    enqueue: (job) => inChannel(job.origin.channelId, (tx) => tx.queue.enqueue(job)),
    update: (job) => inChannel(job.origin.channelId, (tx) => tx.queue.update(job)),
    remove: (channelId, jobIds) => inChannel(channelId, (tx) => tx.queue.remove(jobIds)),
    position: (channelId, jobId) => queues.position(channelId, jobId),
    channels: () => queues.channels(),
  };
}

export interface Team {
  store: Store;
  settings: ChannelSettings;
  ledger: TestLedger;
  queue: TestQueue;
  policy: TeamPolicy;
}

/** The team services over one store, as main.ts would wire them. */
export async function openTeam(store: Store, clock: { now: () => number }, extra: Partial<TeamPolicyDeps> = {}): Promise<Team> {
  const settings = new ChannelSettings(store.settings);
  const policy = new TeamPolicy({ settings, store: store.team, clock, ...extra });
  return { store, settings, ledger: testLedger(store), queue: testQueue(store), policy };
}

export const memoryStore = (): Promise<Store> => openStore('memory://');

/** A fresh SQLite file in a temp dir; `cleanup` removes it. */
export function tempSqlite(): { url: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'teamjourney-team-'));
  return { url: `sqlite://${join(dir, 'test.sqlite')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
