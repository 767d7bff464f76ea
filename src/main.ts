/**
 * The composition root: parse the configuration, open the store, build the
 * KIE client (or start the bundled local KIE server in simulator mode), the
 * Discord client, wire them (src/app.ts), register the commands and start.
 * The only file that reads process.env.
 */
import { existsSync } from 'node:fs';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import { randomBytes } from 'node:crypto';
import { buildApp, type App } from './app.js';
import { ConfigError, isSimulator, parseConfig, type Config } from './config.js';
import { deployCommands } from './discord/deploy.js';
import { commandDefinitions } from '../commands/index.js';
import { parsePriceTable } from './domain/pricing.js';
import { KieClient } from './kie/client.js';
import { startCallbackServer, type CallbackServer } from './kie/callbackServer.js';
import { createLogger, type Logger } from './log.js';
import type { Collection, Store } from './store/store.js';
import { startKieSimulator, type KieSimulator, type SimPersistence, type SimTask } from './kie/simulator/index.js';

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
  apiKey: string;
  simulator: KieSimulator | null;
  callbacks: CallbackServer | null;
  /** Sent with every create so KIE tells us when a task ends; unset = polling only. */
  callBackUrl: string | undefined;
}

/**
 * The KIE endpoint to talk to: KIE itself, or the local server in simulator
 * mode, and the callback receiver when there is one. Simulator mode always
 * uses signed callbacks, so the whole path is exercised without a public URL.
 */
async function kieEndpoint(config: Config, store: Store, logger: Logger, onTask: (taskId: string) => void): Promise<KieEndpoint> {
  const cbLogger = logger.child({ module: 'callbacks' });
  if (!isSimulator(config)) {
    const callbacks = config.KIE_CALLBACK_URL
      ? await startCallbackServer({ port: config.CALLBACK_PORT, hmacKey: config.KIE_WEBHOOK_HMAC_KEY ?? null, onTask, logger: cbLogger })
      : null;
    return { baseUrl: config.KIE_BASE_URL, apiKey: config.KIE_API_KEY!, simulator: null, callbacks, callBackUrl: config.KIE_CALLBACK_URL };
  }
  const hmacKey = randomBytes(24).toString('base64url');
  const callbacks = await startCallbackServer({ host: '127.0.0.1', hmacKey, onTask, logger: cbLogger });
  const simulator = await startKieSimulator({
    timeScale: config.SIMULATOR_TIME_SCALE,
    apiKey: null,
    webhookHmacKey: hmacKey,
    persistence: simulatorPersistence(store.collection<SimTask>('simulator')),
  });
  logger.warn(
    { url: simulator.url, timeScale: config.SIMULATOR_TIME_SCALE },
    'SIMULATOR MODE: KIE is simulated locally; results are placeholder images and videos, no credits are spent',
  );
  return { baseUrl: simulator.url, apiKey: 'simulator', simulator, callbacks, callBackUrl: callbacks.url };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const prices = parsePriceTable(config.PRICE_TABLE === undefined ? undefined : JSON.stringify(config.PRICE_TABLE));
  if (!prices.ok) {
    console.error(`Configuration error: PRICE_TABLE ${prices.error}`);
    process.exit(1);
  }

  // Loaded only now, so a configuration error is reported without loading the database drivers.
  const { openStore } = await import('./store/store.js');
  const { DatabaseError } = await import('./store/sql/database.js');
  const { legacyLogFields } = await import('./store/legacyMigration.js');
  let store: Store;
  try {
    store = await openStore(config.DATABASE_URL, {
      onLegacyMigration: (report) => logger.info(legacyLogFields(report), 'moved the round-1 records (keyv layout) into the SQL tables'),
    });
  } catch (error) {
    // One line naming DATABASE_URL and the reason (password masked), not a driver stack.
    if (error instanceof DatabaseError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  let app: App | null = null;
  const endpoint = await kieEndpoint(config, store, logger, (taskId) => app?.taskMayBeDone(taskId));
  const kie = new KieClient({
    baseUrl: endpoint.baseUrl,
    apiKey: endpoint.apiKey,
    timeoutMs: config.KIE_TIMEOUT_MS,
    createLimit: { max: config.KIE_CREATES_PER_10S, windowMs: 10_000 },
    logger: logger.child({ module: 'kie' }),
  });
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    ...(config.DISCORD_API_URL ? { rest: { api: config.DISCORD_API_URL } } : {}),
  });

  app = await buildApp({
    client,
    store,
    kie,
    logger,
    prices: prices.value,
    maxPollsPerSecond: config.KIE_POLLS_PER_SECOND,
    ...(endpoint.simulator ? { schedule: { timeScale: config.SIMULATOR_TIME_SCALE } } : {}),
    balanceCheckMs: BALANCE_CHECK_MS,
    ...(endpoint.callBackUrl ? { callBackUrl: endpoint.callBackUrl } : {}),
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
  });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down; unfinished jobs resume on the next start');
    await running.stop();
    await client.destroy();
    await kie.close();
    await endpoint.callbacks?.close();
    await endpoint.simulator?.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  // The token is set before resuming, so a resumed delivery can use the bot's channel routes before login completes.
  client.rest.setToken(config.DISCORD_TOKEN);
  await running.start();
  await client.login(config.DISCORD_TOKEN);
}

main().catch((error: unknown) => {
  // Discord rejects a bad token at login; say so plainly (the token itself is never printed).
  const message = error instanceof Error ? error.message : String(error);
  if (/TokenInvalid|An invalid token was provided/i.test(message)) {
    console.error('Configuration error: DISCORD_TOKEN was rejected by Discord. Reset the token in the developer portal and update it.');
  } else {
    console.error(`Teamjourney could not start: ${message}`);
  }
  process.exit(1);
});
