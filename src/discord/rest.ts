/**
 * Typed wrappers over discord.js's REST for the three message routes the
 * presenter uses, and one error type for whatever goes wrong on them.
 *
 * discord.js's own errors carry the request URL, and the URL of an
 * interaction webhook contains the interaction token: an error thrown from
 * here carries only the route name, the HTTP status, Discord's JSON code and
 * its message, so it can be logged or stored safely.
 */
import { DiscordAPIError, HTTPError, RateLimitError, RESTJSONErrorCodes, Routes, type RawFile, type REST } from 'discord.js';
import type { APIMessage } from 'discord-api-types/v10';

/** Which of our routes failed (also the fake Discord's route names). */
export type DiscordRoute = 'webhookEdit' | 'channelEdit' | 'channelCreate' | 'channelGet';

/** A Discord-side failure: an API error (status + code), a 5xx, a rate limit or a network error (status null). */
export class DiscordRestError extends Error {
  constructor(
    readonly route: DiscordRoute,
    /** HTTP status; null when no answer arrived (network error, timeout). */
    readonly status: number | null,
    /** Discord's JSON error code (50027, 10008, …); null when the body had none. */
    readonly code: number | null,
    detail: string,
  ) {
    super(`${route}: ${status ?? 'no answer'}${code ? ` (code ${code})` : ''} ${detail}`.trim());
    this.name = 'DiscordRestError';
  }

  /** Worth trying again later: no answer, a 5xx, or a rate limit discord.js gave up on. */
  get transient(): boolean {
    return this.status === null || this.status >= 500 || this.status === 429;
  }
}

/**
 * The interaction token no longer works (401, 50027 Invalid Webhook Token,
 * 10015 Unknown Webhook): the bot must use its own channel route. Never
 * retried on the token path.
 */
export function isTokenRejected(error: DiscordRestError): boolean {
  return (
    error.status === 401 ||
    error.code === RESTJSONErrorCodes.InvalidWebhookToken ||
    error.code === RESTJSONErrorCodes.UnknownWebhook
  );
}

/** The message is gone or out of the bot's reach (deleted, ephemeral, no access to the channel). */
export function isMessageUnreachable(error: DiscordRestError): boolean {
  return (
    error.status === 403 ||
    error.status === 404 ||
    error.code === RESTJSONErrorCodes.UnknownMessage ||
    error.code === RESTJSONErrorCodes.MissingAccess ||
    error.code === RESTJSONErrorCodes.MissingPermissions
  );
}

/** Discord refused the upload as too large (its limit may be below what the interaction said). */
export function isPayloadTooLarge(error: DiscordRestError): boolean {
  return error.status === 413 || error.code === RESTJSONErrorCodes.RequestEntityTooLarge;
}

/** System and undici errors carry a string code (ECONNREFUSED, UND_ERR_SOCKET, …). */
function isNetworkError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return error.name === 'AbortError' || error.name === 'TimeoutError' || (typeof code === 'string' && code.length > 0);
}

/**
 * Discord's and the network's failures become a DiscordRestError (without
 * URL or request body); anything else is a bug in our code and is returned
 * untouched, for the caller to rethrow.
 */
export function toDiscordRestError(route: DiscordRoute, error: unknown): unknown {
  if (error instanceof DiscordRestError) return error;
  if (error instanceof DiscordAPIError) {
    return new DiscordRestError(route, error.status, typeof error.code === 'number' ? error.code : null, error.message);
  }
  if (error instanceof HTTPError) return new DiscordRestError(route, error.status, null, error.message);
  if (error instanceof RateLimitError) {
    return new DiscordRestError(route, 429, null, `rate limited for ${error.retryAfter} ms${error.global ? ' (global)' : ''}`);
  }
  if (error instanceof Error && isNetworkError(error)) return new DiscordRestError(route, null, null, error.message);
  return error;
}

/** A message payload as JSON (content, components, attachments, …); files go separately. */
export type MessageBody = object;

async function call(route: DiscordRoute, request: () => Promise<unknown>): Promise<APIMessage> {
  try {
    return (await request()) as APIMessage;
  } catch (error) {
    throw toDiscordRestError(route, error);
  }
}

export interface InteractionMessage {
  applicationId: string;
  /** The interaction token (secret; never logged). */
  token: string;
  /** A followup's id, or null for the original reply ('@original'). */
  messageId: string | null;
}

/** PATCH /webhooks/{app}/{token}/messages/{id|@original}: works for 15 minutes, no bot token needed. */
export function editInteractionMessage(
  rest: REST,
  target: InteractionMessage,
  body: MessageBody,
  files: RawFile[] = [],
): Promise<APIMessage> {
  const route = Routes.webhookMessage(target.applicationId, target.token, target.messageId ?? '@original');
  return call('webhookEdit', () => rest.patch(route, { body, files, auth: false }));
}

/** PATCH /channels/{channel}/messages/{message} with the bot token: the way in after the token expires. */
export function editChannelMessage(
  rest: REST,
  channelId: string,
  messageId: string,
  body: MessageBody,
  files: RawFile[] = [],
): Promise<APIMessage> {
  return call('channelEdit', () => rest.patch(Routes.channelMessage(channelId, messageId), { body, files }));
}

/** POST /channels/{channel}/messages with the bot token. */
export function createChannelMessage(rest: REST, channelId: string, body: MessageBody, files: RawFile[] = []): Promise<APIMessage> {
  return call('channelCreate', () => rest.post(Routes.channelMessages(channelId), { body, files }));
}

/** GET /channels/{channel}/messages/{message} with the bot token (needs View Channel and Read Message History). */
export function getChannelMessage(rest: REST, channelId: string, messageId: string): Promise<APIMessage> {
  return call('channelGet', () => rest.get(Routes.channelMessage(channelId, messageId)));
}
