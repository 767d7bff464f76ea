/**
 * The composition root: parse the configuration, open the store, build the
 * KIE client (or start the bundled local KIE server in simulator mode), the
 * Discord client, wire them (src/app.ts), register the commands and start.
 * The only file that reads process.env.
 */
import { existsSync } from 'node:fs';
import { Client, Events, GatewayIntentBits, Partials, Status } from 'discord.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobLeases } from './domain/leases.js';
import { buildApp, type App } from './app.js';
import { allowedGuildIds, apixoConfigured, ConfigError, httpListen, isSimulator, kieConfigured, kieKeysOf, parseConfig, shardOptions, type Config, type KieKeyConfig } from './config.js';
import { deployCommands } from './discord/deploy.js';
import { inviteUrl } from './discord/invite.js';
import { DISCORD_DEFAULT_API, DiscordTokenRejectedError, DiscordUnreachableError, probeDiscord, withinGatewayTimeout } from './discord/preflight.js';
import { commandDefinitions } from '../commands/index.js';
import { DEFAULT_APIXO_PRICES, DEFAULT_PRICES } from './domain/pricing.js';
import { healthRoutes } from './http/health.js';
import { HttpListenError, startHttpServer, type HttpServer, type Route } from './http/server.js';
import { createMetrics, metricsRoute, type BotMetrics } from './http/metrics.js';
import { buildKieProvider, checkKieKeysAtStart, type KieKeysSetup } from './kieKeys.js';
import type { CreateGate } from './providers/kie/client.js';
import { ApixoClient, APIXO_BASE_URL } from './providers/apixo/client.js';
import { ApixoProvider } from './providers/apixo/adapter.js';
import { providerRegistry } from './domain/provider.js';
import { CALLBACK_PATH, callbackRoute } from './providers/kie/callbackServer.js';
import { createLogger, type Logger } from './log.js';
import type { Collection, OpenedStore, Store } from './store/store.js';
import type { KieSimulator, SimPersistence, SimTask } from './providers/kie/simulator/index.js';

const BALANCE_CHECK_MS = 10 * 60 * 1000;

function loadConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** The origins of configured URLs on loopback (the simulator, a local KIE stand-in): their result files may be fetched over http. */
function loopbackOrigins(urls: readonly string[]): string[] {
  return urls
    .map((u) => new URL(u))
    .filter((u) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
    .map((u) => u.origin);
}

/** Like KIE, the simulator forgets tasks after about 15 days. */
const SIMULATOR_RETENTION_MS = 15 * 24 * 60 * 60 * 1000;

/**
 * Simulator mode keeps its tasks with the bot's data, so a restart finds them
 * as it would at KIE. They are read by id when a request names one, never
 * listed whole at start; an expired one is dropped when it is read.
 */
function simulatorPersistence(tasks: Collection<SimTask>, now: () => number = Date.now): SimPersistence {
  return {
    get: async (taskId) => {
      const task = await tasks.get(taskId);
      if (task && now() - task.createdAt > SIMULATOR_RETENTION_MS) {
        await tasks.delete(taskId);
        return undefined;
      }
      return task;
    },
    save: (task) => tasks.set(task.taskId, task),
    remove: async (taskId) => void (await tasks.delete(taskId)),
  };
}

interface KieEndpoint {
  baseUrl: string;
  /** The named keys (simulator mode: KIE_API_KEYS' keys as separate simulated accounts, else one). */
  keys: KieKeyConfig[];
  simulator: KieSimulator | null;
  /** Sent with every create so KIE tells us when a task ends; unset = polling only. */
  callBackUrl: string | undefined;
}

/**
 * The KIE endpoint to talk to: KIE itself, or the local server in simulator
 * mode. Callbacks arrive on the HTTP port's /kie/callback: in simulator mode
 * always (signed, with a key made up per run), so the whole path is
 * exercised without a public URL; otherwise when KIE_CALLBACK_URL is set.
 */
async function kieEndpoint(config: Config, store: Store, logger: Logger, http: HttpServer, hmacKey: string | null): Promise<KieEndpoint> {
  if (!isSimulator(config)) {
    return { baseUrl: config.KIE_BASE_URL, keys: kieKeysOf(config), simulator: null, callBackUrl: config.KIE_CALLBACK_URL };
  }
  // Loaded only in simulator mode: a production start never imports the simulator.
  const { startKieSimulator } = await import('./providers/kie/simulator/index.js');
  // KIE_API_KEYS with the simulator: one simulated account per key, each with its own balance.
  const keys = config.KIE_API_KEYS ?? [{ name: 'default', key: 'simulator' }];
  const simulator = await startKieSimulator({
    timeScale: config.SIMULATOR_TIME_SCALE,
    apiKey: null,
    ...(config.KIE_API_KEYS ? { accounts: Object.fromEntries(keys.map((k) => [k.name, { apiKey: k.key }])) } : {}),
    webhookHmacKey: hmacKey,
    persistence: simulatorPersistence(store.collection<SimTask>('simulator')),
  });
  logger.warn(
    { url: simulator.url, timeScale: config.SIMULATOR_TIME_SCALE, database: config.DATABASE_URL },
    'SIMULATOR MODE: KIE is simulated locally; results are placeholder images and videos, no credits are spent',
  );
  return { baseUrl: simulator.url, keys, simulator, callBackUrl: `${http.url}${CALLBACK_PATH}` };
}

/**
 * APIXO: the real API, or its local simulator (loaded only then). APIXO
 * documents no callback signature, so the bot polls it (a callback would
 * only be a hint).
 */
async function apixoEndpoint(
  config: Config,
  logger: Logger,
): Promise<{ baseUrl: string; client: ApixoClient; simulator: { close(): Promise<void> } | null }> {
  if (config.APIXO_BASE_URL !== 'simulator') {
    const baseUrl = config.APIXO_BASE_URL ?? APIXO_BASE_URL;
    return { baseUrl, client: new ApixoClient({ baseUrl, apiKey: config.APIXO_API_KEY! }), simulator: null };
  }
  const { startApixoSimulator } = await import('./providers/apixo/simulator/index.js');
  const simulator = await startApixoSimulator({ timeScale: config.SIMULATOR_TIME_SCALE, apiKey: null });
  logger.warn({ url: simulator.url, timeScale: config.SIMULATOR_TIME_SCALE }, 'SIMULATOR MODE: APIXO is simulated locally; results are placeholder images');
  return { baseUrl: simulator.url, client: new ApixoClient({ baseUrl: simulator.url, apiKey: 'simulator' }), simulator };
}

/** Open jobs by state for /metrics (SQL store only; a memory/keyv store reports none). */
const openJobsByState = async (store: Store): Promise<Record<string, number>> => {
  const sqlDb = (store as Partial<OpenedStore>).sql;
  if (!sqlDb) return {};
  const { openJobsByState: count } = await import('./store/sql/jobCounts.js');
  return count(sqlDb);
};

/** Waiting queue entries for /metrics (SQL store only). */
const queuedRequests = async (store: Store): Promise<number> => {
  const sqlDb = (store as Partial<OpenedStore>).sql;
  if (!sqlDb) return 0;
  const { queueLength } = await import('./store/sql/jobCounts.js');
  return queueLength(sqlDb);
};

/** What /readyz asks of the process; filled in as its parts come up. */
interface ReadinessState {
  client: Client | null;
  store: Store;
  draining: boolean;
}

/** The database answers a trivial query (SELECT 1 on the SQL store; a key read otherwise). */
const databaseAnswers = async (store: Store): Promise<void> => {
  const sqlDb = (store as Partial<OpenedStore>).sql;
  if (!sqlDb) return void (await store.collection('meta').get('readyz'));
  const { sql } = await import('kysely');
  await sql`select 1`.execute(sqlDb.db);
};

/**
 * The process's one HTTP port: /healthz, /readyz and, when callbacks are in
 * use, KIE's callback path. Add routes (e.g. /metrics) to `routes`.
 */
async function startHttp(config: Config, logger: Logger, state: ReadinessState, callbacks: Route | null, metrics: BotMetrics): Promise<HttpServer> {
  const listen = httpListen(config);
  if (listen.deprecatedCallbackPort) logger.warn({ port: listen.port }, 'CALLBACK_PORT is deprecated: it is now HTTP_PORT, which also serves /healthz and /readyz');
  const routes: Route[] = [
    ...healthRoutes({
      gateway: () => state.client?.ws.status === Status.Ready,
      database: () => databaseAnswers(state.store),
      draining: () => state.draining,
    }),
    ...(callbacks ? [callbacks] : []),
    metricsRoute(metrics.registry),
  ];
  try {
    const http = await startHttpServer({ host: listen.host, port: listen.port, routes });
    logger.info({ url: http.url, routes: routes.map((r) => `${r.method} ${r.path}`) }, 'HTTP port listening');
    return http;
  } catch (error) {
    if (error instanceof HttpListenError) throw new StartError(`Configuration error: HTTP_PORT ${error.message}. Set HTTP_PORT to a free port (0 picks one).`);
    throw error;
  }
}

/** A failure at start that is already one clear line. */
class StartError extends Error {}

/**
 * Discord's REST API answers and accepts the token (retried with backoff),
 * then the gateway logs in within 30 s; otherwise one line saying which part
 * could not be reached and why.
 */
async function connectDiscord(client: Client, config: Config, logger: Logger): Promise<void> {
  const apiUrl = config.DISCORD_API_URL ?? DISCORD_DEFAULT_API;
  await probeDiscord({
    apiUrl,
    token: config.DISCORD_TOKEN,
    onRetry: (error, delayMs, attempt, attempts) =>
      logger.warn({ attempt, attempts, retryInMs: delayMs }, `${error.message}; trying again in ${Math.round(delayMs / 1000)} s`),
  });
  const gateway = `${apiUrl} (gateway)`;
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  // A login failure that is not about the token is the gateway being unreachable: say so in the same words.
  // It is tried once: logging the same client in again after a failed handshake can leave a socket whose
  // late 'error' event crashes the process (seen with discord.js 14 / ws 8), so the REST probe above is
  // where the retries are.
  const login = client.login(config.DISCORD_TOKEN).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (/TokenInvalid|invalid token/i.test(message)) throw error;
    throw new DiscordUnreachableError(gateway, message, true);
  });
  // ws gives up on a silent gateway after 30 s ("Opening handshake has timed out"); this limit catches a
  // gateway that connects but never says READY.
  await withinGatewayTimeout(Promise.all([login, ready]), gateway, GATEWAY_READY_TIMEOUT_MS);
}

/** Longer than ws's own 30 s handshake timeout, which answers first for a gateway that does not answer at all. */
const GATEWAY_READY_TIMEOUT_MS = 40_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);

  // Loaded only now, so a configuration error is reported without loading the database drivers.
  const { openStore } = await import('./store/store.js');
  const { DatabaseError } = await import('./store/sql/database.js');
  const { legacyLogFields } = await import('./store/legacyMigration.js');
  const { SqlJobLeases } = await import('./store/sql/leases.js');
  let fleetLeases: JobLeases | null = null;
  let createWindow: ((keyName: string) => CreateGate) | null = null;
  let store: Store;
  try {
    const opened = await openStore(config.DATABASE_URL, {
      onLegacyMigration: (report) => logger.info(legacyLogFields(report), 'moved the round-1 records (keyv layout) into the SQL tables'),
    });
    store = opened;
    // Several processes may share a PostgreSQL: each tracks the jobs it holds the leases of.
    if (opened.sql.dialect === 'postgres') {
      fleetLeases = new SqlJobLeases(opened.sql);
      const { SqlCreateWindow } = await import('./store/sql/createWindow.js');
      const createLog = logger.child({ module: 'kie-window' });
      // One window per KIE key: KIE's create limit is per account. KIE_API_KEY's one key keeps the unnamed window.
      const single = !config.KIE_API_KEYS;
      createWindow = (keyName) =>
        new SqlCreateWindow(opened.sql, {
          max: config.KIE_CREATES_PER_10S,
          windowMs: 10_100, // KIE's 10 s and the client's 100 ms margin
          ...(single ? {} : { keyName }),
          onReleaseError: (err) => createLog.warn({ err, key: keyName }, 'could not record a create answer; it stops counting after 2 min'),
        });
    }
  } catch (error) {
    // One line naming DATABASE_URL and the reason (password masked), not a driver stack.
    if (error instanceof DatabaseError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  let app: App | null = null;
  const onTask = (taskId: string): void => app?.taskMayBeDone(taskId);
  const readiness: ReadinessState = { client: null, store, draining: false };
  const hmacKey = isSimulator(config) ? randomBytes(24).toString('base64url') : (config.KIE_WEBHOOK_HMAC_KEY ?? null);
  const callbacks =
    isSimulator(config) || config.KIE_CALLBACK_URL ? callbackRoute({ hmacKey, onTask, logger: logger.child({ module: 'callbacks' }) }) : null;
  // One registry per process (not prom-client's global one).
  const metrics = createMetrics({ jobsByState: () => openJobsByState(store), queueLength: () => queuedRequests(store) });
  const http = await startHttp(config, logger, readiness, callbacks, metrics);
  // Each configured image service behind the port; IMAGE_PROVIDER is the default one.
  const endpoint = kieConfigured(config) ? await kieEndpoint(config, store, logger, http, hmacKey) : null;
  // One client per KIE key; several processes on one PostgreSQL share each key's create limit through the database.
  const kie: KieKeysSetup | null = endpoint
    ? buildKieProvider(
        endpoint.keys,
        {
          baseUrl: endpoint.baseUrl,
          timeoutMs: config.KIE_TIMEOUT_MS,
          createLimit: { max: config.KIE_CREATES_PER_10S, windowMs: 10_000 },
          logger: logger.child({ module: 'kie' }),
          onResponse: metrics.providerResponse,
        },
        (store as OpenedStore).sql,
        (name) => createWindow?.(name) ?? null,
      )
    : null;
  const apixo = apixoConfigured(config) ? await apixoEndpoint(config, logger) : null;
  const providers = providerRegistry(config.IMAGE_PROVIDER, [
    ...(kie ? [kie.provider] : []),
    ...(apixo ? [new ApixoProvider(apixo.client)] : []),
  ]);
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    // An interaction's channel is built from its payload even when not cached (a new forum post), so a thread's parent is always known.
    partials: [Partials.Channel],
    // SHARD_COUNT / SHARD_IDS: each process runs some of the shards; any process can finish any job (leases).
    ...shardOptions(config),
    ...(config.DISCORD_API_URL ? { rest: { api: config.DISCORD_API_URL } } : {}),
  });
  readiness.client = client;
  client.rest.on('rateLimited', (info) => metrics.discordRateLimited(info.route, info.global));

  app = await buildApp({
    client,
    store,
    providers,
    logger,
    prices: config.IMAGE_PROVIDER === 'apixo' ? (config.APIXO_PRICE_TABLE ?? DEFAULT_APIXO_PRICES) : (config.PRICE_TABLE ?? DEFAULT_PRICES),
    providerPrices: { kie: config.PRICE_TABLE ?? DEFAULT_PRICES, apixo: config.APIXO_PRICE_TABLE ?? DEFAULT_APIXO_PRICES },
    maxPollsPerSecond: config.KIE_POLLS_PER_SECOND,
    ...(endpoint?.simulator || apixo?.simulator ? { schedule: { timeScale: config.SIMULATOR_TIME_SCALE } } : {}),
    balanceCheckMs: BALANCE_CHECK_MS,
    ...(endpoint?.callBackUrl ? { callBackUrl: endpoint.callBackUrl } : {}),
    allowedGuildIds: allowedGuildIds(config),
    observer: { onFinished: (job, times) => metrics.jobDelivered(times, job.polls) },
    trustedMediaOrigins: loopbackOrigins([...(endpoint ? [endpoint.baseUrl] : []), ...(apixo ? [apixo.baseUrl] : [])]),
    ...(fleetLeases
      ? { fleet: { leases: fleetLeases, owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`, ttlMs: config.LEASE_TTL_SECONDS * 1000, onTakeover: metrics.leaseTakeover } }
      : {}),
  });
  const running = app;

  client.once(Events.ClientReady, async (ready) => {
    try {
      const count = await deployCommands(ready.rest, ready.application.id, config.DISCORD_GUILD_ID, commandDefinitions());
      logger.info({ count, guildId: config.DISCORD_GUILD_ID ?? 'global' }, 'registered slash commands');
    } catch (err) {
      logger.error({ err }, 'could not register slash commands');
    }
    logger.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'Teamjourney is online');
    if (ready.guilds.cache.size === 0) {
      logger.warn({ invite: inviteUrl(ready.application.id) }, `The bot is in no server yet. Invite it with: ${inviteUrl(ready.application.id)}`);
    }
  });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    readiness.draining = true;
    logger.info({ signal }, 'shutting down; unfinished jobs resume on the next start');
    await running.stop();
    await client.destroy();
    await kie?.close();
    await apixo?.client.close();
    await http.close();
    await endpoint?.simulator?.close();
    await apixo?.simulator?.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  if (kie && !endpoint?.simulator) void checkKieKeysAtStart(kie, logger).catch((err: unknown) => logger.warn({ err }, 'could not check the KIE keys at start'));
  // The token is set before resuming, so a resumed delivery can use the bot's channel routes before login completes.
  client.rest.setToken(config.DISCORD_TOKEN);
  await running.start();
  await connectDiscord(client, config, logger);
}

main().catch((error: unknown) => {
  // One line, never the token: a rejected token, an unreachable Discord, a busy port.
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof DiscordTokenRejectedError || /TokenInvalid|An invalid token was provided/i.test(message)) {
    console.error(new DiscordTokenRejectedError().message);
  } else if (error instanceof DiscordUnreachableError) {
    console.error(`Teamjourney could not start: ${message}. Check the network, or DISCORD_API_URL if you set it.`);
  } else if (error instanceof StartError) {
    console.error(message);
  } else {
    console.error(`Teamjourney could not start: ${message}`);
  }
  process.exit(1);
});
