/**
 * Several real bot processes (src/main.ts, see botProcess.ts) on one
 * PostgreSQL schema, one fake Discord (REST + a gateway that routes each
 * guild to the shard owning it) and one local KIE server whose request log
 * covers every process. Shared by test/e2e/fleet.test.ts and the fleet
 * bench (bench/scenarios/fleet.ts).
 */
import { randomBytes } from 'node:crypto';
import { ApplicationCommandOptionType } from 'discord.js';
import pg from 'pg';
import { startKieSimulator, type KieSimulator, type SimulatorOptions } from '../../src/providers/kie/simulator/index.js';
import { BOT_APPLICATION_ID, BOT_TOKEN, BOT_USER, BotProcesses, until, type BotProcess } from './botProcess.js';
import type { TestDatabase } from './backends.js';
import { rawSlashCommand } from './discordClient.js';
import { startFakeDiscord, type FakeDiscord, type RecordedRequest } from './fakeDiscord.js';
import { shardOfGuild, startFakeGateway, type FakeGateway, type FakeGuildInit, type GatewaySession } from './fakeGateway.js';

const KIE_KEY = 'fleet-kie-key-0123456789';
/** A snowflake whose timestamp part is `ms`: (id >> 22) % n picks its shard. */
const snowflakeAt = (ms: number, low: number): string => ((BigInt(ms) << 22n) | BigInt(low)).toString();
/** About 2024 in Discord's epoch. */
const T0 = 280_000_000_000;

/** `count` guilds with `channelsPerGuild` channels each; consecutive guilds fall on consecutive shards. */
export function fleetGuilds(count: number, channelsPerGuild: number): FakeGuildInit[] {
  return Array.from({ length: count }, (_, g) => ({
    id: snowflakeAt(T0 + g, 1),
    name: `Team ${g + 1}`,
    channels: Array.from({ length: channelsPerGuild }, (_, c) => ({ id: snowflakeAt(T0 + 1000 + g * 100 + c, 2), name: `art-${c + 1}` })),
  }));
}

export interface FleetOptions {
  /** The test PostgreSQL server (a fresh schema is made in it and dropped on close). */
  postgresUrl: string;
  guilds: FakeGuildInit[];
  /** The local KIE server's options (durations, time scale); its key and clock are set here. */
  kie?: Omit<SimulatorOptions, 'apiKey'>;
  /** Environment every bot process gets (LEASE_TTL_SECONDS, SCHEDULE_TIME_SCALE …). */
  env?: Record<string, string>;
}

export interface SentInteraction {
  id: string;
  token: string;
  guildId: string;
  channelId: string;
  prompt: string;
  /** How many gateway sessions got it. */
  sessions: number;
  sentAt: number;
}

export interface Fleet {
  readonly fake: FakeDiscord;
  readonly gateway: FakeGateway;
  readonly kie: KieSimulator;
  readonly db: TestDatabase;
  /** A client on the fleet's schema, for reading leases and ledgers. */
  readonly sql: pg.Pool;
  readonly bots: BotProcesses;
  /** Start one bot process (env on top of the fleet's). */
  start(env?: Record<string, string>): BotProcess;
  /** Wait until the process logged in; its gateway session: the newest READY one running `shard` (default 0). */
  online(bot: BotProcess, shard?: number, ms?: number): Promise<GatewaySession>;
  /** /imagine as Discord delivers it (to the shard owning the guild), or to the named sessions (misrouted on purpose). */
  imagine(guildId: string, channelId: string, prompt: string, to?: readonly GatewaySession[]): SentInteraction;
  /** A slash command with options (e.g. /settings set) routed by guild. */
  slash(guildId: string, channelId: string, name: string, options: unknown[]): SentInteraction;
  /** The result posts for an interaction: requests carrying files on its webhook. */
  deliveries(token: string): RecordedRequest[];
  /** KIE creates (generate) the simulator answered, in order. */
  creates(): { at: number; code: number; prompt: string; taskId: string | undefined }[];
  close(): Promise<void>;
}

export function shardOf(guildId: string, shardCount: number): number {
  return shardOfGuild(guildId, shardCount);
}

/**
 * A schema of its own on the server, dropped by close(). Not backends.ts's: that one names schemas after the
 * vitest run (inject), and the bench runs outside vitest.
 */
async function freshSchema(base: string): Promise<TestDatabase> {
  const schema = `tj_fleet_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string): Promise<void> => {
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      await admin.query(statement);
    } finally {
      await admin.end();
    }
  };
  await run(`create schema ${schema}`);
  const url = new URL(base);
  url.searchParams.set('schema', schema);
  return { url: url.toString(), drop: () => run(`drop schema if exists ${schema} cascade`) };
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const db = await freshSchema(options.postgresUrl);
  const schema = new URL(db.url).searchParams.get('schema')!;
  const sqlPool = new pg.Pool({ connectionString: options.postgresUrl, max: 2, options: `-c search_path=${schema}` });
  const gateway = await startFakeGateway({ token: BOT_TOKEN, user: BOT_USER, applicationId: BOT_APPLICATION_ID, guilds: options.guilds, heartbeatIntervalMs: 1_000 });
  const fake = await startFakeDiscord({ applicationId: BOT_APPLICATION_ID, botUserId: BOT_USER.id, botToken: BOT_TOKEN, gatewayUrl: gateway.url });
  const kie = await startKieSimulator({ ...options.kie, apiKey: KIE_KEY });
  const bots = new BotProcesses();
  const baseEnv: Record<string, string> = {
    DISCORD_API_URL: fake.apiUrl,
    KIE_BASE_URL: kie.url,
    KIE_API_KEY: KIE_KEY,
    DATABASE_URL: db.url,
    ALLOWED_GUILD_IDS: options.guilds.map((g) => g.id).join(','),
    LOG_LEVEL: 'info',
    ...options.env,
  };

  const send = (raw: ReturnType<typeof rawSlashCommand>, guildId: string, channelId: string, prompt: string, to?: readonly GatewaySession[]): SentInteraction => {
    fake.registerInteraction(raw);
    const sessions = to ? gateway.dispatchTo(to, 'INTERACTION_CREATE', raw) : gateway.dispatch('INTERACTION_CREATE', raw);
    return { id: raw.id, token: raw.token, guildId, channelId, prompt, sessions, sentAt: Date.now() };
  };

  return {
    fake,
    gateway,
    kie,
    db,
    sql: sqlPool,
    bots,
    start: (env = {}) => bots.start({ ...baseEnv, ...env }),
    async online(bot, shard = 0, ms = 60_000) {
      await until('online', () => bot.logs().find((l) => l.msg === 'Teamjourney is online'), bot.output, ms);
      // discord.js says ready only after its session's READY and GUILD_CREATEs.
      return gateway
        .ready()
        .filter((s) => s.shard[0] === shard)
        .at(-1)!;
    },
    imagine: (guildId, channelId, prompt, to) =>
      send(
        rawSlashCommand({ name: 'imagine', guildId, channelId, applicationId: BOT_APPLICATION_ID, options: [{ type: ApplicationCommandOptionType.String, name: 'prompt', value: prompt }] }),
        guildId,
        channelId,
        prompt,
        to,
      ),
    slash: (guildId, channelId, name, opts) =>
      send(
        rawSlashCommand({ name, guildId, channelId, applicationId: BOT_APPLICATION_ID, options: opts as never }),
        guildId,
        channelId,
        name,
      ),
    deliveries: (token) => fake.requests.filter((r) => r.path.includes(token) && r.files.length > 0 && r.status >= 200 && r.status < 300),
    creates: () =>
      kie.requests
        .filter((r) => r.endpoint === 'generate')
        .map((r) => ({ at: r.at, code: r.responseCode, prompt: String((r.body as { prompt?: unknown } | null)?.prompt ?? ''), taskId: r.taskId })),
    async close() {
      await bots.cleanup();
      await gateway.close();
      await fake.close();
      await kie.close();
      await sqlPool.end();
      await db.drop();
    },
  };
}
