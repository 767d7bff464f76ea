/**
 * The composition root: parse the configuration, open the store, build the
 * KIE client (or start the bundled local KIE server in simulator mode), the
 * Discord client, wire them (src/app.ts), register the commands and start.
 * The only file that reads process.env. The HTTP port and the Discord
 * connection are started by src/startup/.
 */
import { existsSync } from 'node:fs';
import { Client, Events, GatewayIntentBits, Partials } from 'discord.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobLeases } from './domain/leases.js';
import type { FleetMembers } from './domain/pollShare.js';
import { buildApp, type App } from './app.js';
import { allowedGuildIds, apixoConfigured, ConfigError, isSimulator, kieConfigured, kieKeysOf, parseConfig, shardOptions, type Config, type KieKeyConfig } from './config.js';
import { deployCommands } from './discord/registerCommands.js';
import { inviteUrl } from './discord/invite.js';
import { DiscordTokenRejectedError, DiscordUnreachableError } from './discord/preflight.js';
import { commandDefinitions } from '../commands/index.js';
import { DEFAULT_APIXO_PRICES, DEFAULT_PRICES } from './domain/pricing.js';
import type { HttpServer } from './http/server.js';
import { openJobsByState, queuedRequests, startHttp, StartError, type ReadinessState } from './httpPort.js';
import { createMetrics } from './http/metrics.js';
import { connectDiscord } from './startup/discord.js';
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
  onResponse: (endpoint: string, code: string | number) => void,
): Promise<{ baseUrl: string; client: ApixoClient; simulator: { close(): Promise<void> } | null }> {
  if (config.APIXO_BASE_URL !== 'simulator') {
    const baseUrl = config.APIXO_BASE_URL ?? APIXO_BASE_URL;
    return { baseUrl, client: new ApixoClient({ baseUrl, apiKey: config.APIXO_API_KEY!, onResponse }), simulator: null };
  }
  const { startApixoSimulator } = await import('./providers/apixo/simulator/index.js');
  const simulator = await startApixoSimulator({ timeScale: config.SIMULATOR_TIME_SCALE, apiKey: null });
  logger.warn({ url: simulator.url, timeScale: config.SIMULATOR_TIME_SCALE }, 'SIMULATOR MODE: APIXO is simulated locally; results are placeholder images');
  return { baseUrl: simulator.url, client: new ApixoClient({ baseUrl: simulator.url, apiKey: 'simulator', onResponse }), simulator };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);

  // Loaded only now, so a configuration error is reported without loading the database drivers.
  const { openStore } = await import('./store/store.js');
  const { DatabaseError } = await import('./store/sql/database.js');
  const { legacyLogFields } = await import('./store/legacyMigration.js');
  const { SqlJobLeases } = await import('./store/sql/leases.js');
  let fleetLeases: JobLeases | null = null;
  let fleetMembers: FleetMembers | null = null;
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
      // KIE_POLLS_PER_SECOND is the fleet's: each live process polls at its share.
      const { SqlFleetMembers } = await import('./store/sql/fleetMembers.js');
      fleetMembers = new SqlFleetMembers(opened.sql);
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
          onResponse: (endpoint, code) => metrics.providerResponse('kie', endpoint, code),
        },
        (store as OpenedStore).sql,
        (name) => createWindow?.(name) ?? null,
      )
    : null;
  const apixo = apixoConfigured(config) ? await apixoEndpoint(config, logger, (endpoint, code) => metrics.providerResponse('apixo', endpoint, code)) : null;
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
    ...(config.SCHEDULE_TIME_SCALE !== undefined
      ? { schedule: { timeScale: config.SCHEDULE_TIME_SCALE } }
      : endpoint?.simulator || apixo?.simulator
        ? { schedule: { timeScale: config.SIMULATOR_TIME_SCALE } }
        : {}),
    balanceCheckMs: BALANCE_CHECK_MS,
    ...(endpoint?.callBackUrl ? { callBackUrl: endpoint.callBackUrl } : {}),
    allowedGuildIds: allowedGuildIds(config),
    observer: { onFinished: (job, times) => metrics.jobDelivered(times, job.polls) },
    onCreated: (job) => metrics.creditsSpent(job.provider ?? 'kie', job.kind, job.speed, job.estimatedCredits),
    trustedMediaOrigins: loopbackOrigins([...(endpoint ? [endpoint.baseUrl] : []), ...(apixo ? [apixo.baseUrl] : [])]),
    ...(fleetLeases
      ? {
          fleet: {
            leases: fleetLeases,
            owner: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
            ttlMs: config.LEASE_TTL_SECONDS * 1000,
            onTakeover: metrics.leaseTakeover,
            ...(fleetMembers ? { members: fleetMembers } : {}),
          },
        }
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
