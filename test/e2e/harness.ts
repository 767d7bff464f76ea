/**
 * The whole bot, end to end, for tests: the REAL composition (buildApp in
 * src/app.ts) over a temporary SQLite store, a REAL discord.js client whose
 * REST goes to the fake Discord, and the REAL KieClient talking to the local
 * KIE server — all on one ManualClock, so a job that takes a minute at KIE
 * takes a few milliseconds of test time.
 *
 * Interactions go in as raw gateway payloads through discord.js
 * (injectInteraction), reach the app's own `interactionCreate` listener, and
 * everything the bot sends back lands in the fake Discord, where each payload
 * is checked against Discord's OpenAPI schema (discordSchema.ts).
 *
 * Two things are observed without changing the app:
 * - the router's handle() is wrapped on the instance, so a test can wait for
 *   the handler of one interaction (or all of them) to finish;
 * - the store and the KIE client are wrapped, so `events` is one timeline of
 *   job writes, KIE calls and Discord payloads (for "persisted before sent").
 *
 * `restart()` is a process restart: the app stops, the client and store
 * handle go away, and a new client and app are built over the same SQLite
 * file, the same fake Discord and the same KIE server (both keep running).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  ApplicationCommandOptionType,
  type APIApplicationCommandInteractionDataOption,
  type Client,
  type Interaction,
} from 'discord.js';
import { afterEach, expect } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { startCallbackServer } from '../../src/providers/kie/callbackServer.js';
import { decodeCustomId, type ComponentAction } from '../../src/discord/customId.js';
import type { Job } from '../../src/domain/job.js';
import type { KieApi } from '../../src/providers/kie/api.js';
import { KieClient } from '../../src/providers/kie/client.js';
import { KieProvider } from '../../src/providers/kie/adapter.js';
import { KieKeyPool, type KieKeyBook } from '../../src/providers/kie/keys.js';
import { SqlKieKeys } from '../../src/store/sql/kieKeys.js';
import { ApixoClient } from '../../src/providers/apixo/client.js';
import { ApixoProvider } from '../../src/providers/apixo/adapter.js';
import { startApixoSimulator, type ApixoSimulator } from '../../src/providers/apixo/simulator/index.js';
import { providerRegistry } from '../../src/domain/provider.js';
import { startKieSimulator, type KieSimulator, type RecordedRequest as SimRequest, type SimTask, type SimTaskInfo } from '../../src/providers/kie/simulator/index.js';
import { createLogger } from '../../src/log.js';
import { openStore, type Collection, type Namespace, type OpenedStore } from '../../src/store/store.js';
import type { JobRepository } from '../../src/domain/jobRepository.js';
import {
  createTestClient,
  injectInteraction,
  rawButton,
  rawModalSubmit,
  rawSlashCommand,
  snowflake,
  type CommonInit,
  type RawAttachmentInit,
} from '../support/discordClient.js';
import {
  expectValidFollowup,
  expectValidInteractionCallback,
  expectValidMessageCreate,
  expectValidMessageEdit,
  expectValidWebhookEdit,
} from '../support/discordSchema.js';
import {
  startFakeDiscord,
  type FakeDiscord,
  type FakeMessage,
  type FakeRoute,
  type RawInteractionLike,
  type RecordedRequest,
} from '../support/fakeDiscord.js';
import { ManualClock } from '../support/manualClock.js';
import { DEFAULT_GUILD_ID as GUILD_ID } from '../support/discordClient.js';

export { DEFAULT_CHANNEL_ID as CHANNEL, DEFAULT_GUILD_ID as GUILD, DEFAULT_USER_ID as USER } from '../support/discordClient.js';
/** A teammate who did not make the job. */
export const OTHER_USER = '1400000000000000002';

/** Discord's ephemeral message flag. */
export const EPHEMERAL = 1 << 6;

/** Virtual start: a whole second, so KIE's second-resolution timestamps are exact. */
export const T0 = Date.UTC(2025, 0, 1, 12);

export type Option = APIApplicationCommandInteractionDataOption;
export const str = (name: string, value: string): Option => ({ type: ApplicationCommandOptionType.String, name, value });
export const int = (name: string, value: number): Option => ({ type: ApplicationCommandOptionType.Integer, name, value });
export const bool = (name: string, value: boolean): Option => ({ type: ApplicationCommandOptionType.Boolean, name, value });

/** Every payload route the bot may use, with the schema check for it. */
const VALIDATORS: Partial<Record<FakeRoute, (body: unknown) => unknown>> = {
  interactionCallback: expectValidInteractionCallback,
  webhookEdit: expectValidWebhookEdit,
  webhookCreate: expectValidFollowup,
  channelCreate: expectValidMessageCreate,
  channelEdit: expectValidMessageEdit,
};

const KIE_CREATES = ['generate', 'upscale', 'vary', 'extend'] as const;
export type KieCreate = (typeof KIE_CREATES)[number];

/** A raw INTERACTION_CREATE payload as the discordClient builders make it. */
export type RawInteraction = Record<string, unknown> & RawInteractionLike;

/** One injected interaction: its raw payload and the promise of its handler. */
export interface Injected {
  id: string;
  token: string;
  raw: Record<string, unknown>;
  /** Resolves when the app's router has finished with the interaction. */
  handled: Promise<void>;
}

/** A button as it sits on a message, with its decoded action. */
export interface SeenButton {
  row: number;
  label: string | null;
  emoji: string | null;
  style: number;
  customId: string;
  action: ComponentAction | null;
}

export interface LogEntry {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface E2EOptions {
  /** How long each KIE task takes in virtual time. Default 20 s. */
  durationMs?: (t: SimTaskInfo) => number;
  /** Run the KIE callback receiver: creates carry its URL and the simulator's signed callbacks reach the app. */
  callbacks?: boolean;
  /**
   * The app's acknowledgement budget in real milliseconds. Default 2 s here
   * (the app's own default is 25 ms): handlers then acknowledge when their
   * checks are done, so tests see the same first response on a slow CI box.
   */
  ackBudgetMs?: number;
  /** The servers the bot serves (ALLOWED_GUILD_IDS); default: the test guild only. */
  allowedGuildIds?: readonly string[] | null;
  /** Result URL origins trusted over http/loopback; default: the KIE simulator's. */
  trustedMediaOrigins?: readonly string[];
  /** Start over a copy of this database file (e.g. a round-1 fixture) instead of an empty one. */
  seedDatabase?: string;
  /** Tasks the KIE server already has when it starts (as simulator mode restores them). */
  simTasks?: SimTask[];
  /**
   * The default image provider (IMAGE_PROVIDER). 'apixo' also starts the
   * local APIXO server; both providers are configured then, as with both
   * keys set. Default 'kie' (KIE only, as before there were several).
   */
  provider?: 'kie' | 'apixo';
  /**
   * Several KIE accounts (KIE_API_KEYS): name → starting balance. Each is a
   * separate account of the simulator (its key is `key-<name>`), and the app
   * gets one KIE client per key behind the key pool, its book in the store.
   */
  kieKeys?: Record<string, number>;
}

export interface E2E {
  readonly clock: ManualClock;
  readonly sim: KieSimulator;
  /** The local APIXO server, when options.provider is 'apixo'. */
  readonly apixoSim: ApixoSimulator | null;
  readonly fake: FakeDiscord;
  /** The current app (a new one after restart()). */
  readonly app: App;
  readonly client: Client<true>;
  /**
   * One timeline: `discord:<route>[:<callback type>]` per payload sent,
   * `jobs:<id>:<state>` per job write, `kie:<op>` when a KIE create is called.
   */
  readonly events: string[];
  /** Warnings and errors the app logged. */
  readonly logs: LogEntry[];

  /** Inject a raw interaction through discord.js; the app's listener starts handling it at once. */
  inject(raw: RawInteraction): Injected;
  /** /<name> with options (and attachments); resolves when the handler is done. */
  slash(name: string, options: Option[], init?: CommonInit & { attachments?: RawAttachmentInit[] }): Promise<Injected>;
  /** Press the button labelled `label` (or with that emoji) on `message`. */
  click(message: FakeMessage, label: string, init?: CommonInit): Promise<Injected>;
  /** The raw press, not yet injected (for concurrent clicks). */
  rawClick(message: FakeMessage, label: string, init?: CommonInit): RawInteraction;
  /** Submit a modal (custom_id + text inputs) opened from `message`. */
  submitModal(message: FakeMessage, customId: string, fields: Record<string, string>, init?: CommonInit): Promise<Injected>;

  /** Let every handler, poll and delivery in flight finish (no virtual time passes). */
  settle(): Promise<void>;
  /** Move virtual time forward until `done()` holds (checked every 5 virtual seconds), or throw. */
  runUntil(done: () => boolean, maxMs?: number): Promise<void>;

  /** Everything the bot sent to Discord for one interaction token (callbacks and webhook calls), in order. */
  requestsFor(token: string): RecordedRequest[];
  /** The KIE create requests the simulator received, optionally of one endpoint. */
  creates(endpoint?: KieCreate): SimRequest[];
  /** The message carrying the reply to an interaction. */
  original(token: string): FakeMessage;
  /** The job stored under this id. */
  job(id: string): Promise<Job>;
  /** Every stored job, oldest first. */
  jobs(): Promise<Job[]>;

  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The buttons of a message, row by row, decoded. */
export function buttonsOf(message: Pick<FakeMessage, 'components'>): SeenButton[] {
  const out: SeenButton[] = [];
  message.components.forEach((row, r) => {
    const children = (row as { components?: unknown[] }).components ?? [];
    for (const c of children as Array<Record<string, unknown>>) {
      const customId = typeof c.custom_id === 'string' ? c.custom_id : '';
      const emoji = (c.emoji as { name?: string } | undefined)?.name ?? null;
      out.push({
        row: r,
        label: typeof c.label === 'string' ? c.label : null,
        emoji,
        style: Number(c.style),
        customId,
        action: decodeCustomId(customId),
      });
    }
  });
  return out;
}

/** The button shown as `label` (its text, or its emoji when it has no text). */
export function buttonOf(message: Pick<FakeMessage, 'components' | 'id'>, label: string): SeenButton {
  const found = buttonsOf(message).find((b) => b.label === label || (b.label === null && b.emoji === label));
  if (!found) {
    const have = buttonsOf(message).map((b) => b.label ?? b.emoji);
    throw new Error(`message ${message.id} has no button "${label}" (has: ${have.join(', ') || 'none'})`);
  }
  return found;
}

/**
 * discord.js adds `tts: false` and `enforce_nonce: false` to every message it
 * sends, including where the schema doesn't list them (interaction callbacks,
 * webhook edits) and Discord ignores them. Dropping exactly those defaults
 * keeps every field our code chose under the strict unknown-field check.
 */
export function withoutDiscordJsDefaults(route: FakeRoute, body: unknown): unknown {
  const strip = (o: unknown): unknown => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
    const out: Record<string, unknown> = { ...(o as Record<string, unknown>) };
    for (const key of ['tts', 'enforce_nonce']) if (out[key] === false) delete out[key];
    return out;
  };
  if (route !== 'interactionCallback') return strip(body);
  if (!body || typeof body !== 'object' || !('data' in body)) return body;
  return { ...body, data: strip((body as { data: unknown }).data) };
}

/** A store whose job writes are also told to `onJobWrite` (same data, same backend). */
function observedStore(store: OpenedStore, onJobWrite: (job: Job) => void): OpenedStore {
  const inner = store.jobs;
  const jobs: JobRepository = {
    get: (id) => inner.get(id),
    require: (id) => inner.require(id),
    create: async (job) => {
      const out = await inner.create(job);
      onJobWrite(out);
      return out;
    },
    save: async (job) => {
      const out = await inner.save(job);
      onJobWrite(out);
      return out;
    },
    update: async (id, change) => {
      const out = await inner.update(id, change);
      onJobWrite(out);
      return out;
    },
    listActive: () => inner.listActive(),
    findByTaskId: (taskId) => inner.findByTaskId(taskId),
    claimAction: (...a) => inner.claimAction(...a),
    releaseAction: (...a) => inner.releaseAction(...a),
  };
  return {
    sql: store.sql,
    jobs,
    team: store.team,
    settings: store.settings,
    alertStates: store.alertStates,
    durations: store.durations,
    history: store.history,
    batches: store.batches,
    collection: <T>(ns: Namespace): Collection<T> => store.collection<T>(ns),
    close: () => store.close(),
  };
}

/** The KIE client with every create announced to `onCreate` before it is sent. */
function observedKie(kie: KieApi, onCreate: (op: KieCreate) => void): KieApi {
  return {
    generate: (body, opts) => (onCreate('generate'), kie.generate(body, opts)),
    upscale: (body, opts) => (onCreate('upscale'), kie.upscale(body, opts)),
    vary: (body, opts) => (onCreate('vary'), kie.vary(body, opts)),
    extendVideo: (body, opts) => (onCreate('extend'), kie.extendVideo(body, opts)),
    recordInfo: (taskId, opts) => kie.recordInfo(taskId, opts),
    credits: (opts) => kie.credits(opts),
  };
}

export async function startE2E(options: E2EOptions = {}): Promise<E2E> {
  const clock = new ManualClock(T0);
  const dir = mkdtempSync(join(tmpdir(), 'teamjourney-e2e-'));
  const databaseUrl = `sqlite://${join(dir, 'bot.sqlite')}`;
  if (options.seedDatabase) copyFileSync(options.seedDatabase, join(dir, 'bot.sqlite'));
  const events: string[] = [];
  const logs: LogEntry[] = [];

  const fake = await startFakeDiscord({
    now: clock.now,
    // Discord's 3-second rule, in virtual time: a handler that let time pass before answering would fail.
    ackDeadlineMs: 3_000,
    validate: (route, body) => {
      const type = route === 'interactionCallback' ? `:${String((body as { type?: unknown } | null)?.type)}` : '';
      events.push(`discord:${route}${type}`);
      VALIDATORS[route]?.(withoutDiscordJsDefaults(route, body));
    },
  });
  const hmacKey = 'e2e-webhook-key';
  // Late-bound: the receiver starts before the app it notifies.
  let notify: (taskId: string) => void = () => {};
  const callbacks = options.callbacks
    ? await startCallbackServer({ host: '127.0.0.1', hmacKey, now: clock.now, onTask: (taskId) => notify(taskId) })
    : null;
  const sim = await startKieSimulator({
    now: clock.now,
    durationMs: options.durationMs ?? (() => 20_000),
    seed: 11,
    createRateLimit: null,
    ...(options.simTasks ? { persistence: { load: async () => options.simTasks!, save: async () => {}, remove: async () => {} } } : {}),
    ...(callbacks ? { webhookHmacKey: hmacKey, callbackIntervalMs: 3_600_000 } : {}),
    ...(options.kieKeys
      ? { accounts: Object.fromEntries(Object.entries(options.kieKeys).map(([name, credits]) => [name, { apiKey: `key-${name}`, credits }])) }
      : {}),
  });
  const kieClientFor = (apiKey: string): KieClient =>
    new KieClient({
      baseUrl: sim.url,
      apiKey,
      // The tracker owns retries and pacing; the client asks once.
      retry: { maxAttempts: 1 },
      readsPerSecond: 100_000,
      createLimit: { max: 100_000, windowMs: 1_000 },
    });
  const kieClients = options.kieKeys ? Object.keys(options.kieKeys).map((name) => kieClientFor(`key-${name}`)) : [kieClientFor('test-key')];
  const kieClient = kieClients[0]!;
  const kie = observedKie(kieClient, (op) => events.push(`kie:${op}`));
  // Several keys: the pool's book is the current store's (late-bound: restart() opens a new store handle).
  let keyBook: SqlKieKeys | null = null;
  const book: KieKeyBook = {
    openJobsByKey: () => keyBook!.openJobsByKey(),
    states: () => keyBook!.states(),
    recordBalance: (...a) => keyBook!.recordBalance(...a),
    takeOut: (...a) => keyBook!.takeOut(...a),
  };
  const kieProvider = options.kieKeys
    ? new KieProvider(
        new KieKeyPool(
          Object.keys(options.kieKeys).map((name, i) => ({ name, api: observedKie(kieClients[i]!, (op) => events.push(`kie:${op}`)) })),
          book,
          clock.now,
        ),
      )
    : new KieProvider(kie);
  const apixoSim =
    options.provider === 'apixo'
      ? await startApixoSimulator({ now: clock.now, durationMs: () => 20_000, seed: 29, createRateLimit: null, callbackIntervalMs: 3_600_000 })
      : null;
  const apixoClient = apixoSim ? new ApixoClient({ baseUrl: apixoSim.url, apiKey: 'test-key', retry: { maxAttempts: { read: 1, create: 1 } } }) : null;
  const providers = apixoClient
    ? providerRegistry('apixo', [new ApixoProvider(apixoClient), kieProvider])
    : providerRegistry('kie', [kieProvider]);
  const logSink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogEntry);
      done();
    },
  });
  const logger = createLogger('warn', logSink);

  /** Handlers in flight, by interaction id. */
  const handling = new Map<string, Promise<void>>();

  interface Parts {
    client: Client<true>;
    store: OpenedStore;
    app: App;
  }
  const build = async (): Promise<Parts> => {
    const client = createTestClient(fake, { rest: { retries: 0 } });
    const store = await openStore(databaseUrl);
    keyBook = new SqlKieKeys(store.sql);
    const app = await buildApp({
      client,
      store: observedStore(store, (job) => events.push(`jobs:${job.id}:${job.state}`)),
      providers,
      logger,
      clock,
      ackBudgetMs: options.ackBudgetMs ?? 2_000,
      allowedGuildIds: options.allowedGuildIds === undefined ? [GUILD_ID] : options.allowedGuildIds,
      // As src/main.ts configures it: the simulator is the configured KIE base URL.
      // …and the fake Discord's CDN, which serves re-hosted attachments over http on loopback (/show reads them back).
      trustedMediaOrigins: options.trustedMediaOrigins ?? [new URL(sim.url).origin, ...(apixoSim ? [new URL(apixoSim.url).origin] : []), new URL(fake.url).origin],
      ...(callbacks ? { callBackUrl: callbacks.url } : {}),
    });
    notify = (taskId) => app.taskMayBeDone(taskId);
    const handle = app.router.handle.bind(app.router);
    app.router.handle = (interaction: Interaction) => {
      const p = handle(interaction);
      handling.set(interaction.id, p);
      return p;
    };
    await app.start();
    return { client, store, app };
  };
  let parts = await build();

  const handlersIdle = async (): Promise<void> => {
    while (handling.size > 0) {
      const all = [...handling.entries()];
      await Promise.allSettled(all.map(([, p]) => p));
      for (const [id, p] of all) if (handling.get(id) === p) handling.delete(id);
    }
  };
  // After every timer: handlers, polls and deliveries (real HTTP) all finish.
  clock.settleWith(async () => {
    await handlersIdle();
    await parts.app.tracker.idle();
  });

  const inject: E2E['inject'] = (raw) => {
    injectInteraction(parts.client, raw);
    const handled = handling.get(raw.id);
    if (!handled) throw new Error(`the app did not handle interaction ${raw.id}`);
    return { id: raw.id, token: raw.token, raw, handled };
  };
  const injectAndWait = async (raw: RawInteraction): Promise<Injected> => {
    const injected = inject(raw);
    await injected.handled;
    await clock.settle();
    return injected;
  };
  const rawClick: E2E['rawClick'] = (message, label, init = {}) =>
    rawButton({ id: snowflake(clock.now()), ...init, customId: buttonOf(message, label).customId, message: { ...message } });

  const allJobs = async (): Promise<Job[]> => {
    const out: Job[] = [];
    const rows = await parts.store.sql.db.selectFrom('jobs').select('data').execute();
    for (const row of rows) out.push(JSON.parse(row.data) as Job);
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  };

  const e2e: E2E = {
    clock,
    sim,
    apixoSim,
    fake,
    events,
    logs,
    get app() {
      return parts.app;
    },
    get client() {
      return parts.client;
    },
    inject,
    slash: (name, opts, init = {}) => injectAndWait(rawSlashCommand({ id: snowflake(clock.now()), ...init, name, options: opts })),
    click: (message, label, init) => injectAndWait(rawClick(message, label, init)),
    rawClick,
    submitModal: (message, customId, fields, init = {}) =>
      injectAndWait(rawModalSubmit({ id: snowflake(clock.now()), ...init, customId, fields, message: { ...message } })),
    settle: () => clock.settle(),
    runUntil: (done, maxMs = 10 * 60_000) => clock.advanceUntil(done, maxMs, 5_000),
    requestsFor: (token) => fake.requests.filter((r) => r.params.token === token),
    creates: (endpoint) =>
      sim.requests.filter((r) => (endpoint ? r.endpoint === endpoint : (KIE_CREATES as readonly string[]).includes(r.endpoint))),
    original(token) {
      const message = fake.originalFor(token);
      if (!message) throw new Error('the interaction has no reply message');
      return message;
    },
    job: (id) => parts.app.ctx.repo.require(id),
    jobs: allJobs,
    async restart() {
      await handlersIdle();
      await parts.app.stop();
      parts.app.jobs.dispose();
      await parts.client.destroy();
      await parts.store.close();
      parts = await build();
      await clock.settle();
    },
    async close() {
      // The temporary database goes even when closing a part fails, so test runs leave nothing in /tmp.
      try {
        await handlersIdle();
        await parts.app.stop();
        parts.app.jobs.dispose();
        await parts.client.destroy();
        await parts.store.close();
        await Promise.all(kieClients.map((c) => c.close()));
        await callbacks?.close();
        await sim.close();
        await apixoClient?.close();
        await apixoSim?.close();
        await fake.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return e2e;
}

/**
 * One app per test: `const start = useE2E()` at the top of a test file,
 * then `const e = await start(options)` in a test. After each test the app
 * is closed and checked: every payload the bot sent was valid for Discord,
 * and nothing was logged as an error.
 */
export function useE2E(): (options?: E2EOptions) => Promise<E2E> {
  let current: E2E | undefined;
  afterEach(async () => {
    if (!current) return;
    const { fake, logs } = current;
    await current.close();
    current = undefined;
    expect(fake.validationErrors).toEqual([]);
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
  });
  return async (options = {}) => (current = await startE2E(options));
}

