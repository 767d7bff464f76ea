import { once } from 'node:events';
import { ChannelType, Client, Events, GatewayIntentBits, type ChatInputCommandInteraction, type Interaction } from 'discord.js';
import { GatewayCloseCodes, GatewayOpcodes } from 'discord-api-types/v10';
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_APPLICATION_ID, DEFAULT_CHANNEL_ID, DEFAULT_GUILD_ID, rawSlashCommand } from './discordClient.js';
import { startFakeDiscord, type FakeDiscord } from './fakeDiscord.js';
import { checkConnectQuery, identifyShard, respond, shardOfGuild, startFakeGateway, type FakeGateway, type GatewayPayload } from './fakeGateway.js';

const TOKEN = 'fake-gateway-test-token';
const BOT = { id: '1100000000000000002', username: 'Teamjourney', discriminator: '0', global_name: null, avatar: null, bot: true };

let gateway: FakeGateway;
let fake: FakeDiscord;
let client: Client | undefined;

beforeEach(async () => {
  gateway = await startFakeGateway({
    token: TOKEN,
    user: BOT,
    applicationId: DEFAULT_APPLICATION_ID,
    guilds: [{ id: DEFAULT_GUILD_ID, name: 'Team', channels: [{ id: DEFAULT_CHANNEL_ID, name: 'general' }] }],
    heartbeatIntervalMs: 50,
  });
  // No botToken: the REST side accepts any bot token, so only the gateway judges it.
  fake = await startFakeDiscord({ applicationId: DEFAULT_APPLICATION_ID, botUserId: BOT.id, gatewayUrl: gateway.url });
});

afterEach(async () => {
  await client?.destroy();
  client = undefined;
  await gateway.close();
  await fake.close();
});

function newClient(): Client {
  client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl, retries: 0 } });
  return client;
}

describe('a real discord.js client against the fake gateway', () => {
  it('logs in: READY fills in user and application, GUILD_CREATE caches the guild and its channel', async () => {
    const c = newClient();
    const ready = once(c, Events.ClientReady);
    await c.login(TOKEN);
    await ready;

    expect(c.user?.id).toBe(BOT.id);
    expect(c.application?.id).toBe(DEFAULT_APPLICATION_ID);
    expect(c.guilds.cache.get(DEFAULT_GUILD_ID)?.name).toBe('Team');
    expect(c.channels.cache.get(DEFAULT_CHANNEL_ID)?.type).toBe(ChannelType.GuildText);
    expect(fake.requests.filter((r) => r.route === 'gatewayBot')).toMatchObject([{ authorized: true, status: 200 }]);
    expect(gateway.sessions).toHaveLength(1);
    expect(gateway.sessions[0]).toMatchObject({ query: { v: '10', encoding: 'json' }, identify: { intents: 1, compress: false } });
  });

  it('ACKs heartbeats, so discord.js keeps the connection and measures a ping', async () => {
    const c = newClient();
    await c.login(TOKEN);
    await gateway.waitFor((g) => g.sessions[0]!.heartbeats >= 2);
    expect(gateway.sessions[0]!.closed).toBeNull();
    expect(gateway.sessions).toHaveLength(1);
  });

  it('delivers a dispatched INTERACTION_CREATE as a real interaction, answerable through the fake REST', async () => {
    const c = newClient();
    const ready = once(c, Events.ClientReady);
    await c.login(TOKEN);
    await ready;
    const seen = new Promise<Interaction>((resolve) => c.once(Events.InteractionCreate, resolve));
    const raw = rawSlashCommand({ name: 'imagine', options: [{ name: 'prompt', type: 3, value: 'a red fox' }] });
    fake.registerInteraction(raw);

    expect(gateway.dispatch('INTERACTION_CREATE', raw)).toBe(1);
    const interaction = (await seen) as ChatInputCommandInteraction;
    expect(interaction.isChatInputCommand()).toBe(true);
    expect(interaction.options.getString('prompt')).toBe('a red fox');
    expect(interaction.inCachedGuild()).toBe(true);
    expect(interaction.channel?.id).toBe(DEFAULT_CHANNEL_ID);
    await interaction.deferReply();
    expect(fake.interactionFor(raw.token)?.ackType).toBe(5);
    // Sequence numbers go on after READY (1) and GUILD_CREATE (2).
    expect(gateway.sessions[0]!.sequence).toBe(3);
  });

  it('closes a wrong token with 4004, which discord.js reports as a failed login', async () => {
    const c = newClient();
    c.on(Events.ShardError, () => undefined);
    await expect(c.login('not-the-token')).rejects.toThrow();
    expect(gateway.sessions[0]!.closed).toMatchObject({ code: GatewayCloseCodes.AuthenticationFailed, by: 'server' });
    expect(gateway.sessions[0]!.identify).toBeNull();
  });

  it('sees discord.js close normally on destroy', async () => {
    const c = newClient();
    await c.login(TOKEN);
    await c.destroy();
    await gateway.waitFor((g) => g.sessions[0]!.closed);
    expect(gateway.sessions[0]!.closed).toMatchObject({ code: 1000, by: 'client' });
    expect(gateway.ready()).toEqual([]);
    expect(gateway.dispatch('INTERACTION_CREATE', {})).toBe(0);
  });

  it('refuses a compressed connection with an unrecoverable close code instead of sending bytes discord.js cannot read', async () => {
    const socket = new WebSocket(`${gateway.url}/?v=10&encoding=json&compress=zlib-stream`);
    const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
    expect(code).toBe(GatewayCloseCodes.InvalidAPIVersion);
    expect(reason.toString()).toContain('compress');
  });
});

describe('respond (the protocol, pure)', () => {
  const ready = (): GatewayPayload[] => [{ op: GatewayOpcodes.Dispatch, t: 'READY', d: {} }];
  const identify = (token: string): GatewayPayload => ({ op: GatewayOpcodes.Identify, d: { token, intents: 1, properties: {} } });

  it.each<[string, boolean, GatewayPayload, unknown]>([
    ['a heartbeat, even before IDENTIFY, is ACKed', false, { op: GatewayOpcodes.Heartbeat, d: null }, [{ send: { op: GatewayOpcodes.HeartbeatAck, d: null } }]],
    ['IDENTIFY with the token gets READY', false, identify(TOKEN), [{ send: ready()[0] }]],
    ['IDENTIFY with another token closes 4004', false, identify('x'), [{ close: GatewayCloseCodes.AuthenticationFailed, reason: 'Authentication failed.' }]],
    ['a second IDENTIFY closes 4005', true, identify(TOKEN), [{ close: GatewayCloseCodes.AlreadyAuthenticated, reason: 'Already authenticated.' }]],
    ['IDENTIFY without intents closes 4002', false, { op: GatewayOpcodes.Identify, d: { token: TOKEN } }, [{ close: GatewayCloseCodes.DecodeError, reason: 'Error while decoding payload.' }]],
    ['RESUME is refused as not resumable', false, { op: GatewayOpcodes.Resume, d: {} }, [{ send: { op: GatewayOpcodes.InvalidSession, d: false } }]],
    ['a presence update before IDENTIFY closes 4003', false, { op: GatewayOpcodes.PresenceUpdate, d: {} }, [{ close: GatewayCloseCodes.NotAuthenticated, reason: 'Not authenticated.' }]],
    ['a presence update after IDENTIFY is accepted', true, { op: GatewayOpcodes.PresenceUpdate, d: {} }, []],
    ['an unknown opcode closes 4001', true, { op: 42, d: null }, [{ close: GatewayCloseCodes.UnknownOpcode, reason: 'Unknown opcode 42.' }]],
  ])('%s', (_name, identified, payload, expected) => {
    expect(respond({ identified }, payload, TOKEN, ready)).toEqual(expected);
  });

  it.each<[Record<string, string>, string | null]>([
    [{ v: '10', encoding: 'json' }, null],
    [{ v: '9', encoding: 'json' }, 'v10'],
    [{ v: '10', encoding: 'etf' }, 'encoding=json'],
    [{ v: '10', encoding: 'json', compress: 'zlib-stream' }, 'compress'],
  ])('checkConnectQuery(%o)', (query, problem) => {
    const refused = checkConnectQuery(query);
    if (problem === null) expect(refused).toBeNull();
    else expect(refused).toContain(problem);
  });
});

describe('sharding (pure)', () => {
  it("a guild belongs to shard (guild_id >> 22) % shard_count, as Discord routes it", () => {
    // 280000000000 << 22 | 1, and the next millisecond.
    const even = ((280_000_000_000n << 22n) | 1n).toString();
    const odd = ((280_000_000_001n << 22n) | 1n).toString();
    expect([shardOfGuild(even, 2), shardOfGuild(odd, 2)]).toEqual([0, 1]);
    expect(shardOfGuild(odd, 1)).toBe(0);
    expect(shardOfGuild('1200000000000000001', 4)).toBe(Number((1200000000000000001n >> 22n) % 4n));
  });

  it.each<[unknown, readonly [number, number]]>([
    [[1, 2], [1, 2]],
    [undefined, [0, 1]],
    [[2, 2], [0, 1]],
    [[0, 0], [0, 1]],
    ['0,2', [0, 1]],
  ])('IDENTIFY shard %o runs as %o', (shard, expected) => {
    expect(identifyShard(shard)).toEqual(expected);
  });
});
