/**
 * A fake Discord REST API (v10) on 127.0.0.1, speaking just enough of it for
 * the bot: interaction callbacks, interaction webhooks (original reply and
 * followups), channel messages, command registration, /users/@me and a CDN
 * for uploaded attachments.
 *
 * It is driven by the REAL discord.js REST client (see discordClient.ts), so
 * what is tested is the bytes discord.js sends, multipart uploads included.
 * It keeps Discord's rules that the bot's delivery logic depends on:
 * interaction tokens expire (401 / 50027), ephemeral messages are invisible
 * to channel routes, a second acknowledgement is 40060, the first followup of
 * a deferred reply replaces the "thinking…" message, edits list the
 * attachments to keep, files over the size limit are 413 / 40005. Failures
 * can be injected per route, and every request is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The routes the fake knows; also the keys of failNext() and validate(). */
export type FakeRoute =
  | 'interactionCallback'
  | 'webhookGet'
  | 'webhookEdit'
  | 'webhookDelete'
  | 'webhookCreate'
  | 'channelList'
  | 'channelGet'
  | 'channelCreate'
  | 'channelEdit'
  | 'channelDelete'
  | 'commandsGlobal'
  | 'commandsGlobalGet'
  | 'commandsGuild'
  | 'commandsGuildGet'
  | 'usersMe'
  | 'guildLeave'
  | 'applicationMe'
  | 'gatewayBot'
  | 'gateway'
  | 'cdn';

export interface FileMeta {
  /** The multipart field (files[0], …). */
  field: string;
  name: string;
  size: number;
  contentType: string;
}

export interface RecordedRequest {
  method: string;
  /** Path after /api/v10 (contains tokens: this is a test double). */
  path: string;
  route: FakeRoute | 'unknown';
  params: Record<string, string>;
  query: Record<string, string>;
  /** The JSON body, or the parsed payload_json of a multipart body. */
  body: unknown;
  files: FileMeta[];
  /** Whether an Authorization header was sent (bot routes need one; webhook routes don't). */
  authorized: boolean;
  /** The status the fake answered with. */
  status: number;
  /** When the request arrived (the fake's clock). */
  at: number;
}

export interface FakeUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  description?: string;
}

export interface FakeMessageReference {
  type?: number;
  message_id?: string;
  channel_id?: string;
  guild_id?: string;
  fail_if_not_exists?: boolean;
}

/** A stored message, in the shape Discord answers with (an APIMessage subset). */
export interface FakeMessage {
  id: string;
  type: number;
  channel_id: string;
  author: FakeUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: FakeUser[];
  mention_roles: string[];
  attachments: FakeAttachment[];
  embeds: unknown[];
  components: unknown[];
  pinned: boolean;
  flags: number;
  message_reference?: FakeMessageReference;
  webhook_id?: string;
  application_id?: string;
  /** Not Discord's: the allowed_mentions the bot sent, for assertions. */
  allowed_mentions?: unknown;
}

export interface InteractionRecord {
  id: string;
  token: string;
  applicationId: string;
  /** Raw interaction type (2 command, 3 component, 5 modal submit). */
  type: number;
  channelId: string;
  guildId: string | null;
  userId: string;
  /** For components / modal submits: the message the interaction came from. */
  sourceMessageId: string | null;
  createdAt: number;
  expired: boolean;
  /** The callback type used to acknowledge it (4, 5, 6, 7, 9), once acknowledged. */
  ackType: number | null;
  originalId: string | null;
  followupIds: string[];
  /** The modal shown (callback type 9). */
  modal: unknown;
}

export interface Failure {
  route: FakeRoute;
  status: number;
  code?: number;
  message?: string;
  /** How many consecutive requests on this route fail (default 1). */
  times?: number;
  /** Seconds, for 429. */
  retryAfter?: number;
}

export interface FakeDiscordOptions {
  applicationId?: string;
  botUserId?: string;
  /** When set, bot routes require exactly `Bot <botToken>`. */
  botToken?: string;
  /** Per-file upload limit (default 10 MiB). */
  attachmentSizeLimit?: number;
  /** Interaction tokens stop working this long after registration (default 15 min). */
  tokenLifetimeMs?: number;
  /** When set, a callback later than this after registration answers 404 / 10062, as Discord does after 3 s. */
  ackDeadlineMs?: number;
  /** Time source for snowflakes, timestamps and token expiry (default Date.now). */
  now?: () => number;
  /** Called with every JSON payload the bot sends; a throw answers 400 50035 and is recorded. */
  validate?: (route: FakeRoute, body: unknown) => void;
  /** What GET /gateway and /gateway/bot hand out (a fakeGateway.ts URL); by default a closed port, as no test logs in. */
  gatewayUrl?: string;
}

export interface FakeDiscord {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** What to give discord.js as `rest.api` (it appends /v10). */
  readonly apiUrl: string;
  readonly applicationId: string;
  readonly botUser: FakeUser;
  readonly requests: RecordedRequest[];
  /** Payloads rejected by the validate option. */
  readonly validationErrors: { route: FakeRoute; body: unknown; error: string }[];
  /** Registered commands: key 'global' or the guild id. */
  readonly commands: Map<string, unknown[]>;
  /** Every message of a channel (ephemeral ones included), oldest first. */
  messages(channelId: string): FakeMessage[];
  message(id: string): FakeMessage | undefined;
  /** The original response of the interaction with this token. */
  originalFor(token: string): FakeMessage | undefined;
  interactionFor(token: string): InteractionRecord | undefined;
  /** The bytes of an uploaded attachment. */
  attachmentData(attachmentId: string): Buffer | undefined;
  /** Make the fake know an interaction (done by injectInteraction); returns its record. */
  registerInteraction(raw: RawInteractionLike): InteractionRecord;
  /** Put a message in a channel as if it existed already (authored by the bot unless authorId). */
  seedMessage(init: { channelId: string; content?: string; authorId?: string; flags?: number }): FakeMessage;
  /** Subsequent webhook calls with this token answer 401 / 50027. */
  expireToken(token: string): void;
  /** The bot loses access to a channel: channel routes answer 403 with this code (default 50001). */
  denyChannel(channelId: string, code?: number): void;
  failNext(failure: Failure): void;
  /** Resolves with the predicate's first truthy value, re-checked after every request. */
  waitFor<T>(predicate: (fake: FakeDiscord) => T | null | undefined | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** What registerInteraction reads from a raw INTERACTION_CREATE payload. */
export interface RawInteractionLike {
  id: string;
  token: string;
  application_id: string;
  type: number;
  channel?: { id: string } | null;
  channel_id?: string;
  guild_id?: string;
  member?: { user: { id: string } };
  user?: { id: string };
  message?: { id: string } | null;
}

export const DISCORD_EPOCH = 1_420_070_400_000;
const EPHEMERAL = 1 << 6;
const LOADING = 1 << 7;
const IS_COMPONENTS_V2 = 1 << 15;
const DEFAULT_LIMIT = 10 * 1024 * 1024;
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;

/** Discord's error answer: HTTP status plus JSON {code, message}. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const ERR = {
  unauthorized: () => new ApiError(401, 0, '401: Unauthorized'),
  invalidToken: () => new ApiError(401, 50027, 'Invalid Webhook Token'),
  unknownWebhook: () => new ApiError(404, 10015, 'Unknown Webhook'),
  unknownMessage: () => new ApiError(404, 10008, 'Unknown Message'),
  unknownInteraction: () => new ApiError(404, 10062, 'Unknown interaction'),
  acknowledged: () => new ApiError(400, 40060, 'Interaction has already been acknowledged.'),
  empty: () => new ApiError(400, 50006, 'Cannot send an empty message'),
  notAuthor: () => new ApiError(403, 50005, 'Cannot edit a message authored by another user'),
  tooLarge: () => new ApiError(413, 40005, 'Request entity too large'),
  form: (field: string, message: string) =>
    new ApiError(400, 50035, 'Invalid Form Body', {}, { errors: { [field]: { _errors: [{ code: 'BASE_TYPE_INVALID', message }] } } }),
} as const;

interface Upload {
  field: string;
  index: number;
  name: string;
  contentType: string;
  data: Buffer;
}

interface Parsed {
  body: unknown;
  uploads: Upload[];
}

interface RouteDef {
  method: string;
  route: FakeRoute;
  pattern: RegExp;
  keys: string[];
}

/** `:name` segments become named captures. */
function def(method: string, route: FakeRoute, path: string): RouteDef {
  const keys: string[] = [];
  const source = path
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) {
        keys.push(seg.slice(1));
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { method, route, pattern: new RegExp(`^${source}$`), keys };
}

const ROUTES: readonly RouteDef[] = [
  def('POST', 'interactionCallback', '/interactions/:interactionId/:token/callback'),
  def('GET', 'webhookGet', '/webhooks/:applicationId/:token/messages/:messageId'),
  def('PATCH', 'webhookEdit', '/webhooks/:applicationId/:token/messages/:messageId'),
  def('DELETE', 'webhookDelete', '/webhooks/:applicationId/:token/messages/:messageId'),
  def('POST', 'webhookCreate', '/webhooks/:applicationId/:token'),
  def('GET', 'channelList', '/channels/:channelId/messages'),
  def('POST', 'channelCreate', '/channels/:channelId/messages'),
  def('GET', 'channelGet', '/channels/:channelId/messages/:messageId'),
  def('PATCH', 'channelEdit', '/channels/:channelId/messages/:messageId'),
  def('DELETE', 'channelDelete', '/channels/:channelId/messages/:messageId'),
  def('PUT', 'commandsGuild', '/applications/:applicationId/guilds/:guildId/commands'),
  def('GET', 'commandsGuildGet', '/applications/:applicationId/guilds/:guildId/commands'),
  def('GET', 'applicationMe', '/applications/@me'),
  def('PUT', 'commandsGlobal', '/applications/:applicationId/commands'),
  def('GET', 'commandsGlobalGet', '/applications/:applicationId/commands'),
  def('GET', 'usersMe', '/users/@me'),
  def('DELETE', 'guildLeave', '/users/@me/guilds/:guildId'),
  def('GET', 'gatewayBot', '/gateway/bot'),
  def('GET', 'gateway', '/gateway'),
];
const CDN_ROUTE = def('GET', 'cdn', '/attachments/:channelId/:attachmentId/:filename');
const BOT_ROUTES: ReadonlySet<FakeRoute> = new Set([
  'channelList',
  'channelGet',
  'channelCreate',
  'channelEdit',
  'channelDelete',
  'commandsGlobal',
  'commandsGlobalGet',
  'commandsGuild',
  'commandsGuildGet',
  'usersMe',
  'guildLeave',
  'applicationMe',
  'gatewayBot',
]);
const PAYLOAD_ROUTES: ReadonlySet<FakeRoute> = new Set([
  'interactionCallback',
  'webhookEdit',
  'webhookCreate',
  'channelCreate',
  'channelEdit',
  'commandsGlobal',
  'commandsGuild',
]);

function matchRoute(method: string, path: string): { def: RouteDef; params: Record<string, string> } | null {
  for (const d of ROUTES) {
    if (d.method !== method) continue;
    const m = d.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    d.keys.forEach((k, i) => (params[k] = m[i + 1] ?? ''));
    return { def: d, params };
  }
  return null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** JSON, or multipart/form-data with payload_json + files[n] (parsed by Node's fetch Request). */
async function parseBody(req: IncomingMessage, raw: Buffer): Promise<Parsed> {
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { body: undefined, uploads: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
    let body: unknown;
    const uploads: Upload[] = [];
    let order = 0;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = JSON.parse(value) as unknown;
        continue;
      }
      const m = /^files\[(\d+)\]$/.exec(field);
      uploads.push({
        field,
        index: m ? Number(m[1]) : order,
        name: value.name,
        contentType: value.type || 'application/octet-stream',
        data: Buffer.from(await value.arrayBuffer()),
      });
      order += 1;
    }
    return { body, uploads };
  }
  return { body: JSON.parse(raw.toString('utf8')) as unknown, uploads: [] };
}

/** Starts the fake on an ephemeral port of 127.0.0.1. */
export async function startFakeDiscord(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const now = opts.now ?? Date.now;
  const applicationId = opts.applicationId ?? '1100000000000000001';
  const botUser: FakeUser = {
    id: opts.botUserId ?? '1100000000000000002',
    username: 'Teamjourney',
    discriminator: '0',
    global_name: null,
    avatar: null,
    bot: true,
  };
  const sizeLimit = opts.attachmentSizeLimit ?? DEFAULT_LIMIT;
  const tokenLifetime = opts.tokenLifetimeMs ?? TOKEN_LIFETIME_MS;
  const gatewayUrl = opts.gatewayUrl ?? 'ws://127.0.0.1:9';

  const requests: RecordedRequest[] = [];
  const validationErrors: FakeDiscord['validationErrors'] = [];
  const commands = new Map<string, unknown[]>();
  const store = new Map<string, FakeMessage>();
  const order: string[] = [];
  const blobs = new Map<string, { data: Buffer; contentType: string }>();
  const interactions = new Map<string, InteractionRecord>();
  const denied = new Map<string, number>();
  const failures: Failure[] = [];
  const waiters = new Set<() => void>();
  let counter = 0;
  let baseUrl = '';

  const snowflake = (): string => {
    counter = (counter + 1) & 0xfff;
    return ((BigInt(Math.max(0, now() - DISCORD_EPOCH)) << 22n) | (1n << 12n) | BigInt(counter)).toString();
  };
  const userFor = (id: string): FakeUser =>
    id === botUser.id ? botUser : { id, username: `user${id.slice(-4)}`, discriminator: '0', global_name: null, avatar: null };

  // -------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------

  const visibleInChannel = (m: FakeMessage | undefined, channelId: string): m is FakeMessage =>
    m !== undefined && m.channel_id === channelId && (m.flags & EPHEMERAL) === 0;

  /** Mentions are what the content names, filtered by allowed_mentions as Discord does. */
  const mentionsOf = (content: string, allowed: unknown): FakeUser[] => {
    const ids = [...content.matchAll(/<@!?(\d+)>/g)].map((m) => m[1] ?? '');
    let permitted = (id: string) => Boolean(id);
    if (isRecord(allowed)) {
      const parse = Array.isArray(allowed.parse) ? allowed.parse : [];
      const users = Array.isArray(allowed.users) ? allowed.users.map(String) : [];
      permitted = (id) => parse.includes('users') || users.includes(id);
    }
    return [...new Set(ids.filter(permitted))].map(userFor);
  };

  const toAttachment = (channelId: string, upload: Upload, filename?: string, description?: string): FakeAttachment => {
    const id = snowflake();
    const name = filename ?? upload.name;
    blobs.set(id, { data: upload.data, contentType: upload.contentType });
    const url = `${baseUrl}/attachments/${channelId}/${id}/${encodeURIComponent(name)}?ex=${Math.floor(now() / 1000 + 86_400).toString(16)}`;
    return {
      id,
      filename: name,
      size: upload.data.length,
      url,
      proxy_url: url,
      content_type: upload.contentType,
      ...(description ? { description } : {}),
    };
  };

  /** Discord's edit rule: `attachments` lists what to keep (existing ids) and which uploads to add (file indexes). */
  const resolveAttachments = (
    channelId: string,
    existing: FakeAttachment[],
    listed: unknown,
    uploads: Upload[],
  ): FakeAttachment[] => {
    if (listed === undefined || listed === null) return [...existing, ...uploads.map((u) => toAttachment(channelId, u))];
    if (!Array.isArray(listed)) throw ERR.form('attachments', 'must be an array');
    const used = new Set<Upload>();
    const out: FakeAttachment[] = [];
    for (const entry of listed) {
      if (!isRecord(entry) || entry.id === undefined) throw ERR.form('attachments', 'each attachment needs an id');
      const id = String(entry.id);
      const upload = uploads.find((u) => String(u.index) === id);
      const filename = typeof entry.filename === 'string' ? entry.filename : undefined;
      const description = typeof entry.description === 'string' ? entry.description : undefined;
      if (upload) {
        used.add(upload);
        out.push(toAttachment(channelId, upload, filename, description));
        continue;
      }
      const kept = existing.find((a) => a.id === id);
      if (!kept) throw ERR.form('attachments', `unknown attachment ${id}`);
      out.push(kept);
    }
    for (const u of uploads) if (!used.has(u)) out.push(toAttachment(channelId, u));
    return out;
  };

  const checkUploads = (uploads: Upload[]): void => {
    if (uploads.length > 10) throw ERR.form('files', 'Must be 10 or fewer in length.');
    if (uploads.some((u) => u.data.length > sizeLimit)) throw ERR.tooLarge();
  };

  const checkContent = (payload: Record<string, unknown>, flags: number): void => {
    if (typeof payload.content === 'string' && payload.content.length > 2000) {
      throw ERR.form('content', 'Must be 2000 or fewer in length.');
    }
    if (flags & IS_COMPONENTS_V2 && ((typeof payload.content === 'string' && payload.content) || Array.isArray(payload.embeds) && payload.embeds.length)) {
      throw ERR.form('content', 'content and embeds cannot be used with IS_COMPONENTS_V2');
    }
  };

  interface CreateInit {
    channelId: string;
    payload: Record<string, unknown>;
    uploads: Upload[];
    type: number;
    extraFlags?: number;
    webhook?: boolean;
    allowEmpty?: boolean;
  }

  const createMessage = ({ channelId, payload, uploads, type, extraFlags = 0, webhook = false, allowEmpty = false }: CreateInit): FakeMessage => {
    checkUploads(uploads);
    const allowedFlags = (webhook ? EPHEMERAL : 0) | IS_COMPONENTS_V2 | (1 << 2) | (1 << 12);
    const flags = ((typeof payload.flags === 'number' ? payload.flags : 0) & allowedFlags) | extraFlags;
    checkContent(payload, flags);
    const content = typeof payload.content === 'string' ? payload.content : '';
    const embeds = Array.isArray(payload.embeds) ? payload.embeds : [];
    const components = Array.isArray(payload.components) ? payload.components : [];
    const attachments = resolveAttachments(channelId, [], payload.attachments, uploads);
    if (!allowEmpty && !content && !embeds.length && !components.length && !attachments.length) throw ERR.empty();
    let reference: FakeMessageReference | undefined;
    if (isRecord(payload.message_reference)) {
      const ref = payload.message_reference as FakeMessageReference;
      const target = ref.message_id ? store.get(ref.message_id) : undefined;
      if (target && visibleInChannel(target, ref.channel_id ?? channelId)) {
        reference = { type: 0, message_id: target.id, channel_id: target.channel_id };
      } else if (ref.fail_if_not_exists !== false) {
        throw ERR.form('message_reference', 'Unknown message');
      }
    }
    const message: FakeMessage = {
      id: snowflake(),
      type: reference ? 19 : type,
      channel_id: channelId,
      author: botUser,
      content,
      timestamp: new Date(now()).toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: mentionsOf(content, payload.allowed_mentions),
      mention_roles: [],
      attachments,
      embeds,
      components,
      pinned: false,
      flags,
      ...(reference ? { message_reference: reference } : {}),
      ...(webhook ? { webhook_id: applicationId, application_id: applicationId } : {}),
      ...(payload.allowed_mentions !== undefined ? { allowed_mentions: payload.allowed_mentions } : {}),
    };
    store.set(message.id, message);
    order.push(message.id);
    return message;
  };

  const editMessage = (message: FakeMessage, payload: Record<string, unknown>, uploads: Upload[]): FakeMessage => {
    checkUploads(uploads);
    let flags = message.flags & ~LOADING;
    if (typeof payload.flags === 'number') flags = (flags & EPHEMERAL) | (payload.flags & ~EPHEMERAL & ~LOADING);
    checkContent({ content: message.content, embeds: message.embeds, ...payload }, flags);
    const content = typeof payload.content === 'string' ? payload.content : payload.content === null ? '' : message.content;
    const allowed = payload.allowed_mentions !== undefined ? payload.allowed_mentions : message.allowed_mentions;
    const next: FakeMessage = {
      ...message,
      content,
      flags,
      embeds: Array.isArray(payload.embeds) ? payload.embeds : payload.embeds === null ? [] : message.embeds,
      components: Array.isArray(payload.components) ? payload.components : payload.components === null ? [] : message.components,
      attachments:
        payload.attachments === undefined && uploads.length === 0
          ? message.attachments
          : resolveAttachments(message.channel_id, message.attachments, payload.attachments, uploads),
      mentions: mentionsOf(content, allowed),
      edited_timestamp: new Date(now()).toISOString(),
      ...(allowed !== undefined ? { allowed_mentions: allowed } : {}),
    };
    store.set(next.id, next);
    return next;
  };

  const deleteMessage = (id: string): void => {
    store.delete(id);
    const at = order.indexOf(id);
    if (at >= 0) order.splice(at, 1);
  };

  // -------------------------------------------------------------------------
  // Interactions and their webhook
  // -------------------------------------------------------------------------

  const registerInteraction = (raw: RawInteractionLike): InteractionRecord => {
    const record: InteractionRecord = {
      id: raw.id,
      token: raw.token,
      applicationId: raw.application_id,
      type: raw.type,
      channelId: raw.channel?.id ?? raw.channel_id ?? '0',
      guildId: raw.guild_id ?? null,
      userId: raw.member?.user.id ?? raw.user?.id ?? '0',
      sourceMessageId: raw.message?.id ?? null,
      createdAt: now(),
      expired: false,
      ackType: null,
      originalId: null,
      followupIds: [],
      modal: null,
    };
    interactions.set(raw.token, record);
    return record;
  };

  /** The interaction behind a webhook call, if its token is still good. */
  const tokenRecord = (applicationId_: string, token: string): InteractionRecord => {
    const record = interactions.get(token);
    if (!record || record.expired || now() - record.createdAt > tokenLifetime) throw ERR.invalidToken();
    if (record.applicationId !== applicationId_) throw ERR.unknownWebhook();
    return record;
  };

  const webhookMessage = (record: InteractionRecord, messageId: string): FakeMessage => {
    if (messageId === '@original') {
      if (record.originalId === null) throw ERR.unknownWebhook();
      const original = store.get(record.originalId);
      if (!original) throw ERR.unknownMessage();
      return original;
    }
    const owned = messageId === record.originalId || record.followupIds.includes(messageId);
    const message = owned ? store.get(messageId) : undefined;
    if (!message) throw ERR.unknownMessage();
    return message;
  };

  const callback = (params: Record<string, string>, parsed: Parsed, query: Record<string, string>) => {
    const record = interactions.get(params.token ?? '');
    if (!record || record.id !== params.interactionId) throw ERR.unknownInteraction();
    if (opts.ackDeadlineMs !== undefined && now() - record.createdAt > opts.ackDeadlineMs) throw ERR.unknownInteraction();
    if (record.ackType !== null) throw ERR.acknowledged();
    const body = isRecord(parsed.body) ? parsed.body : {};
    const type = typeof body.type === 'number' ? body.type : -1;
    const data = isRecord(body.data) ? body.data : {};
    let message: FakeMessage | null = null;
    switch (type) {
      case 4:
        message = createMessage({ channelId: record.channelId, payload: data, uploads: parsed.uploads, type: 20, webhook: true });
        record.originalId = message.id;
        break;
      case 5:
        message = createMessage({
          channelId: record.channelId,
          payload: { flags: typeof data.flags === 'number' ? data.flags & EPHEMERAL : 0 },
          uploads: [],
          type: 20,
          extraFlags: LOADING,
          webhook: true,
          allowEmpty: true,
        });
        record.originalId = message.id;
        break;
      case 6:
      case 7: {
        const source = record.sourceMessageId ? store.get(record.sourceMessageId) : undefined;
        if (!source) throw ERR.form('type', 'this interaction has no message to update');
        record.originalId = source.id;
        message = type === 7 ? editMessage(source, data, parsed.uploads) : source;
        break;
      }
      case 9:
        if (typeof data.custom_id !== 'string' || typeof data.title !== 'string' || !Array.isArray(data.components)) {
          throw ERR.form('data', 'a modal needs custom_id, title and components');
        }
        record.modal = data;
        break;
      default:
        throw ERR.form('type', `unsupported interaction callback type ${type}`);
    }
    record.ackType = type;
    if (query.with_response !== 'true') return { status: 204, json: undefined };
    return {
      status: 200,
      json: {
        interaction: {
          id: record.id,
          type: record.type,
          response_message_id: message?.id,
          response_message_loading: message ? (message.flags & LOADING) !== 0 : undefined,
          response_message_ephemeral: message ? (message.flags & EPHEMERAL) !== 0 : undefined,
        },
        resource: { type, ...(message ? { message } : {}) },
      },
    };
  };

  // -------------------------------------------------------------------------
  // Dispatch
  // -------------------------------------------------------------------------

  const requireBot = (req: IncomingMessage): void => {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bot ') || (opts.botToken !== undefined && auth !== `Bot ${opts.botToken}`)) throw ERR.unauthorized();
  };

  const checkChannel = (channelId: string): void => {
    const code = denied.get(channelId);
    if (code !== undefined) throw new ApiError(403, code, code === 50013 ? 'Missing Permissions' : 'Missing Access');
  };

  const takeFailure = (route: FakeRoute): Failure | undefined => {
    const at = failures.findIndex((f) => f.route === route);
    if (at < 0) return undefined;
    const failure = failures[at];
    if (!failure) return undefined;
    const left = (failure.times ?? 1) - 1;
    if (left <= 0) failures.splice(at, 1);
    else failures[at] = { ...failure, times: left };
    return failure;
  };

  const payloadOf = (parsed: Parsed): Record<string, unknown> => (isRecord(parsed.body) ? parsed.body : {});

  interface Reply {
    status: number;
    json: unknown;
  }

  const handle = (route: FakeRoute, params: Record<string, string>, query: Record<string, string>, parsed: Parsed, req: IncomingMessage): Reply => {
    if (BOT_ROUTES.has(route)) requireBot(req);
    if (params.channelId) checkChannel(params.channelId);
    const failure = takeFailure(route);
    if (failure) {
      const retry = failure.retryAfter ?? 0;
      throw new ApiError(
        failure.status,
        failure.code ?? 0,
        failure.message ?? (failure.status === 429 ? 'You are being rate limited.' : `${failure.status}: injected failure`),
        failure.status === 429 ? { 'retry-after': String(Math.ceil(retry)), 'x-ratelimit-scope': 'user' } : {},
        failure.status === 429 ? { retry_after: retry, global: false } : {},
      );
    }
    if (opts.validate && PAYLOAD_ROUTES.has(route)) {
      try {
        opts.validate(route, parsed.body);
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        validationErrors.push({ route, body: parsed.body, error: text });
        throw new ApiError(400, 50035, `Invalid Form Body (fake validator): ${text}`);
      }
    }
    const ok = (json: unknown): Reply => ({ status: 200, json });
    switch (route) {
      case 'interactionCallback':
        return callback(params, parsed, query);
      case 'webhookGet':
        return ok(webhookMessage(tokenRecord(params.applicationId ?? '', params.token ?? ''), params.messageId ?? ''));
      case 'webhookEdit': {
        const record = tokenRecord(params.applicationId ?? '', params.token ?? '');
        return ok(editMessage(webhookMessage(record, params.messageId ?? ''), payloadOf(parsed), parsed.uploads));
      }
      case 'webhookDelete': {
        const record = tokenRecord(params.applicationId ?? '', params.token ?? '');
        deleteMessage(webhookMessage(record, params.messageId ?? '').id);
        return { status: 204, json: undefined };
      }
      case 'webhookCreate': {
        const record = tokenRecord(params.applicationId ?? '', params.token ?? '');
        if (record.ackType === null) throw ERR.unknownWebhook();
        const original = record.originalId ? store.get(record.originalId) : undefined;
        // Discord: the first followup of a deferred reply replaces the "thinking…" message.
        if (record.ackType === 5 && original && original.flags & LOADING && record.followupIds.length === 0) {
          return ok(editMessage(original, payloadOf(parsed), parsed.uploads));
        }
        const message = createMessage({ channelId: record.channelId, payload: payloadOf(parsed), uploads: parsed.uploads, type: 0, webhook: true });
        record.followupIds.push(message.id);
        return ok(message);
      }
      case 'channelList': {
        const limit = Math.min(100, Number(query.limit ?? 50) || 50);
        const channelId = params.channelId ?? '';
        return ok(order.map((id) => store.get(id)).filter((m) => visibleInChannel(m, channelId)).reverse().slice(0, limit));
      }
      case 'channelGet': {
        const message = store.get(params.messageId ?? '');
        if (!visibleInChannel(message, params.channelId ?? '')) throw ERR.unknownMessage();
        return ok(message);
      }
      case 'channelCreate':
        return ok(createMessage({ channelId: params.channelId ?? '', payload: payloadOf(parsed), uploads: parsed.uploads, type: 0 }));
      case 'channelEdit': {
        const message = store.get(params.messageId ?? '');
        if (!visibleInChannel(message, params.channelId ?? '')) throw ERR.unknownMessage();
        if (message.author.id !== botUser.id) throw ERR.notAuthor();
        return ok(editMessage(message, payloadOf(parsed), parsed.uploads));
      }
      case 'channelDelete': {
        const message = store.get(params.messageId ?? '');
        if (!visibleInChannel(message, params.channelId ?? '')) throw ERR.unknownMessage();
        deleteMessage(message.id);
        return { status: 204, json: undefined };
      }
      case 'commandsGlobal':
      case 'commandsGuild': {
        if (params.applicationId !== applicationId) throw new ApiError(403, 50001, 'Missing Access');
        if (!Array.isArray(parsed.body)) throw ERR.form('_root', 'expected an array of commands');
        const guildId = route === 'commandsGuild' ? (params.guildId ?? null) : null;
        const saved = parsed.body.map((c) => ({
          type: 1,
          ...(isRecord(c) ? c : {}),
          id: snowflake(),
          application_id: applicationId,
          version: snowflake(),
          ...(guildId ? { guild_id: guildId } : {}),
        }));
        commands.set(guildId ?? 'global', saved);
        return ok(saved);
      }
      case 'commandsGlobalGet':
        return ok(commands.get('global') ?? []);
      case 'commandsGuildGet':
        return ok(commands.get(params.guildId ?? '') ?? []);
      case 'usersMe':
        return ok(botUser);
      case 'guildLeave':
        return { status: 204, json: undefined };
      case 'applicationMe':
        return ok({ id: applicationId, name: botUser.username, description: '', bot_public: true, bot_require_code_grant: false, verify_key: '0', flags: 0 });
      case 'gatewayBot':
        return ok({ url: gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 } });
      case 'gateway':
        return ok({ url: gatewayUrl });
      case 'cdn':
        return { status: 404, json: undefined };
    }
  };

  const send = (res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void => {
    if (json === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(json);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const notify = (): void => {
    for (const check of [...waiters]) check();
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      const cdn = CDN_ROUTE.pattern.exec(url.pathname);
      if (cdn && method === 'GET') {
        const blob = blobs.get(decodeURIComponent(cdn[2] ?? ''));
        if (blob) res.writeHead(200, { 'content-type': blob.contentType, 'content-length': blob.data.length }).end(blob.data);
        else res.writeHead(404).end();
        return;
      }
      const path = decodeURIComponent(url.pathname).replace(/^\/api(\/v\d+)?/, '');
      const query = Object.fromEntries(url.searchParams.entries());
      const matched = matchRoute(method, path);
      const record: RecordedRequest = {
        method,
        path,
        route: matched?.def.route ?? 'unknown',
        params: matched?.params ?? {},
        query,
        body: undefined,
        files: [],
        authorized: typeof req.headers.authorization === 'string',
        status: 0,
        at: now(),
      };
      requests.push(record);
      try {
        const raw = await readBody(req);
        let parsed: Parsed;
        try {
          parsed = await parseBody(req, raw);
        } catch {
          throw new ApiError(400, 50109, 'The request body contains invalid JSON.');
        }
        record.body = parsed.body;
        record.files = parsed.uploads.map((u) => ({ field: u.field, name: u.name, size: u.data.length, contentType: u.contentType }));
        if (!matched) throw new ApiError(404, 0, '404: Not Found');
        const reply = handle(matched.def.route, matched.params, query, parsed, req);
        record.status = reply.status;
        send(res, reply.status, reply.json);
      } catch (error) {
        const api = error instanceof ApiError ? error : new ApiError(500, 0, `fake discord: ${String(error)}`);
        record.status = api.status;
        send(res, api.status, { message: api.message, code: api.code, ...api.extra }, api.headers);
      } finally {
        notify();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeDiscord = {
    url: baseUrl,
    apiUrl: `${baseUrl}/api`,
    applicationId,
    botUser,
    requests,
    validationErrors,
    commands,
    messages: (channelId) => order.map((id) => store.get(id)).filter((m): m is FakeMessage => m?.channel_id === channelId),
    message: (id) => store.get(id),
    originalFor: (token) => {
      const id = interactions.get(token)?.originalId;
      return id ? store.get(id) : undefined;
    },
    interactionFor: (token) => interactions.get(token),
    attachmentData: (id) => blobs.get(id)?.data,
    registerInteraction,
    seedMessage: ({ channelId, content = 'seeded', authorId, flags = 0 }) => {
      const message = createMessage({ channelId, payload: { content }, uploads: [], type: 0, extraFlags: flags });
      const seeded = authorId ? { ...message, author: userFor(authorId) } : message;
      store.set(seeded.id, seeded);
      return seeded;
    },
    expireToken: (token) => {
      const record = interactions.get(token);
      if (record) record.expired = true;
    },
    denyChannel: (channelId, code = 50001) => void denied.set(channelId, code),
    failNext: (failure) => void failures.push(failure),
    waitFor: (predicate, timeoutMs = 2000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const value = predicate(fake);
          if (value === null || value === undefined || value === false) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(value);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake discord: waitFor timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
