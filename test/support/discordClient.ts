/**
 * A REAL discord.js Client wired to the fake Discord (fakeDiscord.ts): its
 * REST goes to the fake, no gateway connection is made, and interactions are
 * fed in as raw INTERACTION_CREATE payloads through discord.js's own action,
 * so handlers receive genuine ChatInputCommandInteraction / ButtonInteraction
 * / ModalSubmitInteraction objects and reply through discord.js's code.
 */
import { randomBytes, randomInt } from 'node:crypto';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ChannelType,
  Client,
  ClientApplication,
  ClientUser,
  ComponentType,
  Events,
  GatewayIntentBits,
  InteractionType,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type ClientOptions,
  type Interaction,
} from 'discord.js';
import { DISCORD_EPOCH, type FakeDiscord, type RawInteractionLike } from './fakeDiscord.js';

export const TEST_BOT_TOKEN = 'test-token';
export const DEFAULT_GUILD_ID = '1200000000000000001';
export const DEFAULT_CHANNEL_ID = '1300000000000000001';
export const DEFAULT_USER_ID = '1400000000000000001';
/** Matches the fake's default application id. */
export const DEFAULT_APPLICATION_ID = '1100000000000000001';
/** Discord's default upload limit, as interactions report it. */
export const DEFAULT_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024;
/** Every permission bit, as Discord sends for an administrator. */
const ALL_PERMISSIONS = '2251799813685247';

/**
 * Which fake a client talks to, so injectInteraction can tell the fake about
 * the interaction (its channel and source message) before discord.js answers it.
 */
const fakeOfClient = new WeakMap<Client, FakeDiscord>();

/**
 * A Client whose REST points at the fake (discord.js appends /v10 to `api`),
 * with a bot token set on client.rest and client.user / client.application
 * filled in as READY would, but no gateway login.
 */
export function createTestClient(fake: FakeDiscord, options: { rest?: ClientOptions['rest'] } = {}): Client<true> {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: fake.apiUrl, timeout: 5_000, ...options.rest },
  });
  client.rest.setToken(TEST_BOT_TOKEN);
  client.token = TEST_BOT_TOKEN;
  type Ctor<T> = new (client: Client, data: unknown) => T;
  client.user = new (ClientUser as unknown as Ctor<ClientUser>)(client, { ...fake.botUser, verified: true, mfa_enabled: false });
  client.application = new (ClientApplication as unknown as Ctor<ClientApplication>)(client, {
    id: fake.applicationId,
    name: fake.botUser.username,
    flags: 0,
  });
  fakeOfClient.set(client, fake);
  return client as Client<true>;
}

interface InternalClient {
  actions: { InteractionCreate: { handle(data: unknown): void } };
}

/**
 * Feeds a raw gateway INTERACTION_CREATE payload through discord.js
 * (client.actions.InteractionCreate, as the websocket handler does), which
 * builds the interaction and emits `interactionCreate`. Returns the built
 * interaction; listeners have been called (synchronously) by then.
 */
export function injectInteraction(client: Client, raw: RawInteractionLike): Interaction {
  fakeOfClient.get(client)?.registerInteraction(raw);
  let built: Interaction | undefined;
  const grab = (interaction: Interaction): void => {
    built = interaction;
  };
  client.on(Events.InteractionCreate, grab);
  try {
    (client as unknown as InternalClient).actions.InteractionCreate.handle(raw);
  } finally {
    client.off(Events.InteractionCreate, grab);
  }
  if (!built) throw new Error(`discord.js did not build an interaction from raw type ${raw.type}`);
  return built;
}

// ---------------------------------------------------------------------------
// Raw payload builders
// ---------------------------------------------------------------------------

/** A snowflake for `at` (ms) with random low bits, so ids are unique and carry a real timestamp. */
export function snowflake(at: number = Date.now()): string {
  return ((BigInt(at - DISCORD_EPOCH) << 22n) | BigInt(randomInt(0, 1 << 22))).toString();
}

export function interactionToken(): string {
  return `aW50ZXJhY3Rpb246${randomBytes(24).toString('base64url')}`;
}

export interface RawUserInit {
  id?: string;
  username?: string;
  global_name?: string | null;
}

export interface CommonInit {
  id?: string;
  token?: string;
  applicationId?: string;
  /** null for a DM. */
  guildId?: string | null;
  channelId?: string;
  /** When set, the channel is a thread (public thread, or a forum post) of this parent channel. */
  parentChannelId?: string;
  user?: RawUserInit;
  attachmentSizeLimit?: number;
  /** Permissions of the member (and of the app) as a bit-string; all by default. */
  permissions?: string;
  locale?: string;
}

export interface RawAttachmentInit {
  /** The command option that carries it. */
  option: string;
  id?: string;
  filename?: string;
  url?: string;
  size?: number;
  contentType?: string;
  width?: number;
  height?: number;
}

/** The fields every interaction payload shares (ids, user or member, channel, limits). */
function common(type: InteractionType, init: CommonInit): Record<string, unknown> & RawInteractionLike {
  const guildId = init.guildId === undefined ? DEFAULT_GUILD_ID : init.guildId;
  const channelId = init.channelId ?? DEFAULT_CHANNEL_ID;
  const permissions = init.permissions ?? ALL_PERMISSIONS;
  const user = {
    id: init.user?.id ?? DEFAULT_USER_ID,
    username: init.user?.username ?? 'tester',
    global_name: init.user?.global_name ?? 'Tester',
    discriminator: '0',
    avatar: null,
  };
  const raw: Record<string, unknown> & RawInteractionLike = {
    id: init.id ?? snowflake(),
    application_id: init.applicationId ?? DEFAULT_APPLICATION_ID,
    type,
    token: init.token ?? interactionToken(),
    version: 1,
    locale: init.locale ?? 'en-US',
    app_permissions: permissions,
    entitlements: [],
    attachment_size_limit: init.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_SIZE_LIMIT,
    channel_id: channelId,
  };
  /** The same object, seen as loose JSON for the fields RawInteractionLike types narrowly. */
  const json: Record<string, unknown> = raw;
  if (guildId) {
    raw.guild_id = guildId;
    raw.guild_locale = 'en-US';
    raw.guild = { id: guildId, locale: 'en-US', features: [] };
    json.channel = init.parentChannelId
      ? { id: channelId, type: ChannelType.PublicThread, guild_id: guildId, name: 'a thread', parent_id: init.parentChannelId, permissions, thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date(0).toISOString(), locked: false } }
      : { id: channelId, type: ChannelType.GuildText, guild_id: guildId, name: 'general', permissions };
    json.member = {
      user,
      roles: [],
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      nick: null,
      avatar: null,
      premium_since: null,
      permissions,
    };
    raw.authorizing_integration_owners = { '0': guildId };
    raw.context = 0;
  } else {
    json.channel = { id: channelId, type: ChannelType.DM, recipients: [user] };
    raw.user = user;
    raw.authorizing_integration_owners = { '1': user.id };
    raw.context = 1;
  }
  return raw;
}

export interface RawSlashInit extends CommonInit {
  name: string;
  options?: APIApplicationCommandInteractionDataOption[];
  attachments?: RawAttachmentInit[];
  commandId?: string;
}

/** A CHAT_INPUT application command; attachments become attachment options plus resolved data. */
export function rawSlashCommand(init: RawSlashInit): Record<string, unknown> & RawInteractionLike {
  const raw = common(InteractionType.ApplicationCommand, init);
  const resolved: Record<string, APIAttachment> = {};
  const attachmentOptions: APIApplicationCommandInteractionDataOption[] = [];
  for (const a of init.attachments ?? []) {
    const id = a.id ?? snowflake();
    const filename = a.filename ?? 'input.png';
    resolved[id] = {
      id,
      filename,
      size: a.size ?? 1024,
      url: a.url ?? `https://cdn.discordapp.com/ephemeral-attachments/${init.channelId ?? DEFAULT_CHANNEL_ID}/${id}/${filename}`,
      proxy_url: a.url ?? `https://media.discordapp.net/ephemeral-attachments/${id}/${filename}`,
      content_type: a.contentType ?? 'image/png',
      ...(a.width !== undefined ? { width: a.width } : { width: 1024 }),
      ...(a.height !== undefined ? { height: a.height } : { height: 1024 }),
      ephemeral: true,
    };
    attachmentOptions.push({ name: a.option, type: ApplicationCommandOptionType.Attachment, value: id });
  }
  raw.data = {
    id: init.commandId ?? snowflake(),
    name: init.name,
    type: ApplicationCommandType.ChatInput,
    options: [...(init.options ?? []), ...attachmentOptions],
    ...(Object.keys(resolved).length ? { resolved: { attachments: resolved } } : {}),
    ...(raw.guild_id ? { guild_id: raw.guild_id } : {}),
  };
  return raw;
}

/** The message a component sits on: a fake message or any APIMessage-shaped object. */
export type RawMessageLike = { id: string; channel_id: string } & Record<string, unknown>;

export interface RawButtonInit extends CommonInit {
  customId: string;
  message: RawMessageLike;
}

/** A button press on `message` (channel defaults to the message's). */
export function rawButton(init: RawButtonInit): Record<string, unknown> & RawInteractionLike {
  const raw = common(InteractionType.MessageComponent, { ...init, channelId: init.channelId ?? init.message.channel_id });
  raw.message = init.message;
  raw.data = { custom_id: init.customId, component_type: ComponentType.Button };
  return raw;
}

export interface RawModalSubmitInit extends CommonInit {
  customId: string;
  /** Text input custom_id → value. */
  fields: Record<string, string>;
  /** The message the modal was opened from (modals opened from a button). */
  message?: RawMessageLike;
  /** How the modal laid its inputs out: Label components (current) or action rows (legacy). */
  layout?: 'label' | 'row';
}

/** A modal submission with text input values. */
export function rawModalSubmit(init: RawModalSubmitInit): Record<string, unknown> & RawInteractionLike {
  const raw = common(InteractionType.ModalSubmit, { ...init, channelId: init.channelId ?? init.message?.channel_id });
  if (init.message) raw.message = init.message;
  const inputs = Object.entries(init.fields).map(([customId, value], i) => ({
    type: ComponentType.TextInput,
    id: i * 2 + 2,
    custom_id: customId,
    value,
  }));
  raw.data = {
    custom_id: init.customId,
    components: inputs.map((input, i) =>
      init.layout === 'row'
        ? { type: ComponentType.ActionRow, id: i * 2 + 1, components: [input] }
        : { type: ComponentType.Label, id: i * 2 + 1, component: input },
    ),
  };
  return raw;
}
