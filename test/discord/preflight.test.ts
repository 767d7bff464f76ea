/**
 * Reaching Discord before logging in, against the fake Discord REST server:
 * a good token, a rejected one, a wrong DISCORD_API_URL (404), a closed port
 * (retried with backoff) and a server that never answers, each one line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DiscordTokenRejectedError,
  DiscordUnreachableError,
  probeDiscord,
  probeOnce,
  withinGatewayTimeout,
} from '../../src/discord/preflight.js';
import { BOT_PERMISSIONS_INTEGER, inviteUrl } from '../../src/discord/invite.js';
import { startFakeDiscord, type FakeDiscord } from '../support/fakeDiscord.js';

const TOKEN = 'MTEwMDAwMDAwMDAwMDAwMDAwMg.GSimUl.abcdefghijklmnopqrstuvwxyz0123456789AB';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function fakeDiscord(): Promise<FakeDiscord> {
  const fake = await startFakeDiscord({ botUserId: '1100000000000000002', botToken: TOKEN });
  closers.push(() => fake.close());
  return fake;
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<string> {
  const server: Server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/api`;
}

describe('probeDiscord', () => {
  it('returns the bot user when Discord answers and accepts the token', async () => {
    const fake = await fakeDiscord();
    await expect(probeOnce({ apiUrl: fake.apiUrl, token: TOKEN })).resolves.toEqual({ id: '1100000000000000002' });
  });

  it('a rejected token is the token hint, never the token, and is not retried', async () => {
    const fake = await fakeDiscord();
    const retries: number[] = [];
    const err = await probeDiscord({ apiUrl: fake.apiUrl, token: `${TOKEN}x`, onRetry: (_e, d) => retries.push(d) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordTokenRejectedError);
    expect((err as Error).message).toMatch(/^Configuration error: DISCORD_TOKEN was rejected by Discord\. Reset the token/);
    expect((err as Error).message).not.toContain(TOKEN);
    expect(retries).toEqual([]);
  });

  it('a wrong DISCORD_API_URL (404) says so at once, without retrying', async () => {
    const fake = await fakeDiscord();
    const wrong = fake.apiUrl.replace(/\/api$/, '/wrong');
    const retries: number[] = [];
    const err = await probeDiscord({ apiUrl: wrong, token: TOKEN, onRetry: (_e, d) => retries.push(d) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordUnreachableError);
    expect((err as Error).message).toMatch(new RegExp(`^could not reach Discord at ${wrong}: HTTP 404`));
    expect(retries).toEqual([]);
  });

  it('an unreachable Discord is retried with backoff, then one line with the reason', async () => {
    const url = await closedPort();
    const retries: Array<[number, number]> = [];
    const slept: number[] = [];
    const err = await probeDiscord({
      apiUrl: url,
      token: TOKEN,
      sleep: async (ms) => void slept.push(ms),
      onRetry: (_e, delay, attempt) => retries.push([attempt, delay]),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`could not reach Discord at ${url}: connection refused (ECONNREFUSED)`);
    expect(retries).toEqual([
      [1, 1000],
      [2, 2000],
      [3, 4000],
    ]);
    expect(slept).toEqual([1000, 2000, 4000]);
  });

  it('a Discord that never answers is reported after the request timeout, not a minute later', async () => {
    const url = await silentServer();
    const t0 = Date.now();
    const err = await probeOnce({ apiUrl: url, token: TOKEN, timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`could not reach Discord at ${url}: no answer within 1 s`);
    expect((err as DiscordUnreachableError).transient).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('a gateway that never becomes ready is a clear error after the limit', async () => {
    const err = await withinGatewayTimeout(new Promise(() => {}), 'wss://gateway.example', 50).catch((e: unknown) => e);
    expect((err as Error).message).toBe('could not reach Discord at wss://gateway.example: the gateway did not become ready within 0 s');
    await expect(withinGatewayTimeout(Promise.resolve(7), 'x', 50)).resolves.toBe(7);
  });
});

describe('inviteUrl', () => {
  it('asks for the bot and applications.commands scopes and the permissions the bot uses, Send Messages in Threads included', () => {
    const url = new URL(inviteUrl('1100000000000000001'));
    expect(url.origin + url.pathname).toBe('https://discord.com/oauth2/authorize');
    expect(url.searchParams.get('client_id')).toBe('1100000000000000001');
    expect(url.searchParams.get('scope')).toBe('bot applications.commands');
    // View Channel, Send Messages, Send Messages in Threads, Embed Links, Attach Files, Read Message History
    expect(url.searchParams.get('permissions')).toBe('274878024704');
    expect(BOT_PERMISSIONS_INTEGER & (1n << 38n)).toBe(1n << 38n);
  });
});
