/**
 * `npm start` as a newcomer meets it, at the process level (src/main.ts in a
 * child process, simulator mode, fake Discord REST + gateway): a bot in no
 * server logs its ready-made invite link; the HTTP port answers /healthz and
 * /readyz; a wrong DISCORD_API_URL is one clear line and exit 1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BOT_APPLICATION_ID as APPLICATION_ID, BOT_TOKEN as TOKEN, BOT_USER, BotProcesses, until } from './support/botProcess.js';
import { startFakeDiscord, type FakeDiscord } from './support/fakeDiscord.js';
import { startFakeGateway, type FakeGateway } from './support/fakeGateway.js';
import { startKieSimulator } from '../src/providers/kie/simulator/index.js';
import { KEY_REJECTED_LINE } from '../src/providers/kie/keyCheck.js';

let fake: FakeDiscord;
let gateway: FakeGateway;
const bots = new BotProcesses();

beforeAll(async () => {
  // A bot that has been invited nowhere yet.
  gateway = await startFakeGateway({ token: TOKEN, user: BOT_USER, applicationId: APPLICATION_ID, guilds: [], heartbeatIntervalMs: 1_000 });
  fake = await startFakeDiscord({ applicationId: APPLICATION_ID, botUserId: BOT_USER.id, botToken: TOKEN, gatewayUrl: gateway.url });
});

afterEach(() => bots.killAll());

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
  await bots.cleanup();
});

const startBot = (env: Record<string, string>) => bots.start(env);

describe('npm start for a newcomer', () => {
  it('logs the invite link when the bot is in no server, and answers /healthz and /readyz on its HTTP port', async () => {
    const bot = startBot({ DISCORD_API_URL: fake.apiUrl });
    const listening = await until('HTTP port', () => bot.logs().find((l) => l.msg === 'HTTP port listening'), bot.output);
    const url = String(listening.url);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const invite = await until('invite line', () => bot.logs().find((l) => String(l.msg).startsWith('The bot is in no server yet')), bot.output);
    expect(invite.msg).toContain(`https://discord.com/oauth2/authorize?client_id=${APPLICATION_ID}&scope=bot+applications.commands&permissions=274878024704`);
    let readyz = await fetch(`${url}/readyz`);
    for (let i = 0; i < 40 && readyz.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      readyz = await fetch(`${url}/readyz`);
    }
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toEqual({ ready: true, checks: { gateway: 'ok', database: 'ok', process: 'ok' } });
    // /metrics on the same port, from the process's own registry (the jobs gauge queries the real database).
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toContain('# TYPE teamjourney_jobs_open gauge');
    expect(text).toContain('teamjourney_queue_length 0');
    for (const name of ['teamjourney_credits_spent_total', 'teamjourney_provider_requests_total', 'teamjourney_lease_takeovers_total']) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.output()).not.toContain(TOKEN);
  }, 40_000);

  it('a wrong DISCORD_API_URL is one line naming the URL and the reason, and exit 1', async () => {
    const wrong = fake.apiUrl.replace(/\/api$/, '/not-discord');
    const bot = startBot({ DISCORD_API_URL: wrong });
    expect(await bot.exited).toBe(1);
    const lines = bot.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^Teamjourney could not start: could not reach Discord at ${wrong}: HTTP 404`));
    expect(bot.output()).not.toContain(TOKEN);
  }, 40_000);

  it('a rejected token gets the token hint, never the token', async () => {
    const bot = startBot({ DISCORD_API_URL: fake.apiUrl, DISCORD_TOKEN: `${TOKEN}x` });
    expect(await bot.exited).toBe(1);
    expect(bot.stderr().trim()).toMatch(/^Configuration error: DISCORD_TOKEN was rejected by Discord\./);
    expect(bot.output()).not.toContain(TOKEN);
  }, 40_000);

  it('a rejected KIE key is one warning line at start, and the bot still comes up', async () => {
    const kie = await startKieSimulator({ apiKey: 'the-right-key' });
    try {
      const bot = startBot({ DISCORD_API_URL: fake.apiUrl, KIE_BASE_URL: kie.url, KIE_API_KEY: 'a-wrong-key-0123456789' });
      const warning = await until('key warning', () => bot.logs().find((l) => l.msg === KEY_REJECTED_LINE), bot.output);
      expect(warning.level).toBe(40);
      await until('online', () => bot.logs().find((l) => l.msg === 'Teamjourney is online'), bot.output);
      expect(bot.logs().filter((l) => String(l.msg).includes('KIE_API_KEY'))).toHaveLength(1);
      expect(bot.output()).not.toContain('a-wrong-key-0123456789');
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
    } finally {
      await kie.close();
    }
  }, 40_000);
});
