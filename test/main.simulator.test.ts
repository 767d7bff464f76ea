/**
 * `npm start` in simulator mode, at the process level: the real entry point
 * (src/main.ts) runs in a child process with KIE_BASE_URL=simulator, and
 * Discord is faked at the REST level (fakeDiscord.ts) and the gateway level
 * (fakeGateway.ts), so the real discord.js client logs in, registers the
 * commands, receives /imagine over the websocket and answers through REST.
 *
 * What only this test sees: the environment is parsed as an operator writes
 * it, the composition root wires every part, logs go to stdout without the
 * token, SIGTERM shuts down cleanly (exit 0), and a second process over the
 * same database resumes what the first left running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationCommandOptionType } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buttonsOf, withoutDiscordJsDefaults } from './e2e/harness.js';
import { rawSlashCommand } from './support/discordClient.js';
import {
  expectValidFollowup,
  expectValidInteractionCallback,
  expectValidMessageCreate,
  expectValidMessageEdit,
  expectValidWebhookEdit,
} from './support/discordSchema.js';
import { startFakeDiscord, type FakeDiscord, type FakeMessage, type FakeRoute } from './support/fakeDiscord.js';
import { startFakeGateway, type FakeGateway } from './support/fakeGateway.js';
import { BOT_APPLICATION_ID, BOT_TOKEN, BOT_USER, BotProcesses, type BotProcess } from './support/botProcess.js';
import { openStore } from '../src/store/store.js';

const TOKEN = BOT_TOKEN;
const APPLICATION_ID = BOT_APPLICATION_ID;
const GUILD = '1200000000000000001';
const CHANNEL = '1300000000000000001';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COMMANDS = ['animate', 'credits', 'help', 'history', 'imagine', 'info', 'settings', 'show', 'usage'];
/** Generous bounds: a child process compiles TypeScript on start. */
const START_MS = 15_000;
const STOP_MS = 5_000;

/** Every payload the bot sends is checked against Discord's schema, as in the e2e tests. */
const VALIDATORS: Partial<Record<FakeRoute, (body: unknown) => unknown>> = {
  interactionCallback: expectValidInteractionCallback,
  webhookEdit: expectValidWebhookEdit,
  webhookCreate: expectValidFollowup,
  channelCreate: expectValidMessageCreate,
  channelEdit: expectValidMessageEdit,
};

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `npm start` (test/support/botProcess.ts), and its log lines' messages. */
type Bot = BotProcess & { messages(): string[] };

let fake: FakeDiscord;
let gateway: FakeGateway;
const processes = new BotProcesses();
const dirs: string[] = [];

beforeAll(async () => {
  gateway = await startFakeGateway({
    token: TOKEN,
    user: BOT_USER,
    applicationId: APPLICATION_ID,
    guilds: [{ id: GUILD, name: 'Team', channels: [{ id: CHANNEL, name: 'general' }] }],
    heartbeatIntervalMs: 1_000,
  });
  fake = await startFakeDiscord({
    applicationId: APPLICATION_ID,
    botUserId: BOT_USER.id,
    botToken: TOKEN,
    gatewayUrl: gateway.url,
    validate: (route, body) => void VALIDATORS[route]?.(withoutDiscordJsDefaults(route, body)),
  });
});

afterEach(async () => {
  // A failed test may leave its bot running; end exactly the processes this file started.
  await processes.killAll();
  expect(fake.validationErrors).toEqual([]);
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
  await processes.cleanup();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh SQLite database URL in a temporary directory. */
function freshDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tj-sim-db-'));
  dirs.push(dir);
  return `sqlite://${join(dir, 'db.sqlite')}`;
}

/** Runs src/main.ts as `npm start` does (test/support/botProcess.ts), against the fake Discord. */
function startBot(env: { DATABASE_URL: string; SIMULATOR_TIME_SCALE: string } & Record<string, string>): Bot {
  const bot = processes.start({ DISCORD_API_URL: fake.apiUrl, DISCORD_GUILD_ID: GUILD, LOG_LEVEL: 'info', ...env });
  return Object.assign(bot, { messages: () => bot.logs().map((line) => line.msg) });
}

/** Rejects after `ms` with what the bot printed, so a hang is diagnosable. */
async function within<T>(promise: Promise<T>, ms: number, what: string, bot: Bot): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms. Bot output:\n${bot.output()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits on the fake Discord, failing with the bot's output instead of a bare timeout. */
function discordState<T>(bot: Bot, what: string, predicate: (f: FakeDiscord) => T | null | undefined | false, ms = START_MS): Promise<T> {
  return within(fake.waitFor(predicate, ms + 1_000), ms, what, bot);
}

/** Logged in over the gateway and registered the commands in the guild (done on ClientReady). */
async function online(bot: Bot, since: number): Promise<void> {
  await discordState(bot, 'guild commands registered', (f) =>
    f.requests.slice(since).find((r) => r.route === 'commandsGuild' && r.status === 200),
  );
  await within(gateway.waitFor((g) => g.ready().length === 1, START_MS + 1_000), START_MS, 'gateway session ready', bot);
}

/** /imagine pushed over the gateway, as Discord would; the fake REST learns the interaction first. */
function imagine(prompt: string): { token: string; id: string } {
  const raw = rawSlashCommand({
    name: 'imagine',
    guildId: GUILD,
    channelId: CHANNEL,
    applicationId: APPLICATION_ID,
    options: [{ type: ApplicationCommandOptionType.String, name: 'prompt', value: prompt }],
  });
  fake.registerInteraction(raw);
  expect(gateway.dispatch('INTERACTION_CREATE', raw)).toBe(1);
  return { token: raw.token, id: raw.id };
}

async function stop(bot: Bot): Promise<Exit> {
  bot.kill('SIGTERM');
  await within(bot.exited, STOP_MS, 'exit after SIGTERM', bot);
  return { code: bot.child.exitCode, signal: bot.child.signalCode };
}

const original = (token: string): FakeMessage | undefined => fake.originalFor(token);

describe('npm start in simulator mode', () => {
  it('logs in over the gateway, registers the commands, answers /imagine with four PNGs and buttons, and exits 0 on SIGTERM', async () => {
    const since = fake.requests.length;
    const sessionsBefore = gateway.sessions.length;
    const bot = startBot({ DATABASE_URL: freshDatabase(), SIMULATOR_TIME_SCALE: '0.01' });
    await online(bot, since);

    // The gateway handshake as discord.js does it: v10 JSON, uncompressed, our token, Guilds intent.
    const session = gateway.sessions[sessionsBefore]!;
    expect(session.query).toEqual({ v: '10', encoding: 'json' });
    expect(session.identify).toMatchObject({ intents: 1, compress: false, shard: [0, 1] });
    // Heartbeats are answered, so discord.js keeps the connection (it drops "zombie" ones).
    await within(gateway.waitFor((g) => g.sessions[sessionsBefore]!.heartbeats >= 1, START_MS), START_MS, 'a heartbeat', bot);

    // Commands: one bulk overwrite of the guild's set, with the bot token.
    const put = fake.requests.slice(since).filter((r) => r.route === 'commandsGuild');
    expect(put).toHaveLength(1);
    expect(put[0]).toMatchObject({ method: 'PUT', params: { applicationId: APPLICATION_ID, guildId: GUILD }, authorized: true });
    expect((put[0]!.body as { name: string }[]).map((c) => c.name).sort()).toEqual(COMMANDS);
    expect(fake.requests.slice(since).some((r) => r.route === 'commandsGlobal')).toBe(false);

    const cmd = imagine('a red fox --ar 16:9');
    await discordState(bot, 'four attachments on the reply', () => (original(cmd.token)?.attachments.length ?? 0) === 4);

    // Deferred first, publicly; then the original reply was edited with the grid.
    const calls = fake.requests.filter((r) => r.path.includes(cmd.token));
    expect(calls[0]).toMatchObject({ route: 'interactionCallback', body: { type: 5 } });
    expect(fake.interactionFor(cmd.token)?.ackType).toBe(5);
    const message = original(cmd.token)!;
    expect(message.content).toContain('a red fox');
    for (const attachment of message.attachments) {
      expect(attachment.content_type).toBe('image/png');
      expect(fake.attachmentData(attachment.id)!.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    }
    expect(buttonsOf(message).map((b) => [b.row, b.label ?? b.emoji])).toEqual([
      [0, 'U1'], [0, 'U2'], [0, 'U3'], [0, 'U4'], [0, '🔄'],
      [1, 'V1'], [1, 'V2'], [1, 'V3'], [1, 'V4'],
    ]);

    const exit = await stop(bot);
    expect(exit).toEqual({ code: 0, signal: null });
    // discord.js said goodbye with a normal close rather than just dropping the socket.
    expect(session.closed).toMatchObject({ by: 'client', code: 1000 });

    const messages = bot.messages();
    expect(messages.some((m) => m.startsWith('SIMULATOR MODE'))).toBe(true);
    expect(messages).toContain('Teamjourney is online');
    expect(messages.some((m) => m.startsWith('shutting down'))).toBe(true);
    expect(bot.output()).not.toContain(TOKEN);
    expect(bot.output()).not.toContain(cmd.token);
  }, 60_000);

  it('IMAGE_PROVIDER=apixo with APIXO_BASE_URL=simulator: /imagine is made by the local APIXO server, with the grid buttons', async () => {
    const since = fake.requests.length;
    const bot = startBot({ DATABASE_URL: freshDatabase(), SIMULATOR_TIME_SCALE: '0.01', IMAGE_PROVIDER: 'apixo', APIXO_BASE_URL: 'simulator' });
    await online(bot, since);
    const cmd = imagine('a lighthouse at dusk');
    await discordState(bot, 'four attachments on the reply', () => (original(cmd.token)?.attachments.length ?? 0) === 4);
    const message = original(cmd.token)!;
    for (const attachment of message.attachments) {
      expect(fake.attachmentData(attachment.id)!.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    }
    expect(buttonsOf(message).map((b) => b.label ?? b.emoji)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4']);
    expect(await stop(bot)).toEqual({ code: 0, signal: null });
    expect(bot.messages().some((m) => m.includes('APIXO is simulated locally'))).toBe(true);
  }, 60_000);

  it('KIE_API_KEYS with the simulator: one simulated account per key behind the key pool; the job records its key by name, and no key reaches the output', async () => {
    const since = fake.requests.length;
    const database = freshDatabase();
    const bot = startBot({ DATABASE_URL: database, SIMULATOR_TIME_SCALE: '0.01', KIE_API_KEYS: 'team-a=sim-secret-aaaa,team-b=sim-secret-bbbb' });
    await online(bot, since);
    const cmd = imagine('a red fox');
    await discordState(bot, 'four attachments on the reply', () => (original(cmd.token)?.attachments.length ?? 0) === 4);
    expect(await stop(bot)).toEqual({ code: 0, signal: null });
    expect(bot.output()).not.toContain('sim-secret');
    const store = await openStore(database);
    try {
      const rows = await store.sql.db.selectFrom('jobs').select('account').execute();
      expect(rows.map((r) => r.account)).toEqual(['team-a']);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a job left running at SIGTERM is picked up and delivered by the next process (the simulator keeps its tasks in the store)', async () => {
    const database = freshDatabase();
    // Relaxed at this scale takes ≥ 1.8 s and is first checked then, so SIGTERM lands while it runs.
    const first = startBot({ DATABASE_URL: database, SIMULATOR_TIME_SCALE: '0.02' });
    await online(first, fake.requests.length);
    const cmd = imagine('a lighthouse at dusk --relax');
    await discordState(first, 'reply says generating', () => original(cmd.token)?.content.includes('Generating'));
    expect(await stop(first)).toEqual({ code: 0, signal: null });
    expect(original(cmd.token)?.attachments).toEqual([]);

    const since = fake.requests.length;
    const second = startBot({ DATABASE_URL: database, SIMULATOR_TIME_SCALE: '0.02' });
    await online(second, since);
    const delivered = await discordState(second, 'reply edited with the grid', () => {
      const m = original(cmd.token);
      return m && m.attachments.length === 4 ? m : undefined;
    });

    expect(delivered.content).toContain('a lighthouse at dusk');
    expect(buttonsOf(delivered).map((b) => b.label ?? b.emoji)).toEqual(['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4']);
    expect(second.messages()).toContain('resumed unfinished jobs');
    // The task was not sent to KIE again: the new interaction traffic is only edits of the same reply.
    expect(new Set(fake.requests.slice(since).filter((r) => r.path.includes(cmd.token)).map((r) => r.route))).toEqual(new Set(['webhookEdit']));

    expect(await stop(second)).toEqual({ code: 0, signal: null });
    expect(first.output() + second.output()).not.toContain(TOKEN);
  }, 60_000); // two bot processes, each starting from source
});
