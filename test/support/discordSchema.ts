/**
 * Validates Discord API request payloads in tests against Discord's own
 * OpenAPI description (discord-api-spec's zod schemas), so a payload that
 * passes here is one Discord's API accepts, not merely one we think it does.
 *
 * On top of the schema it checks what the spec cannot express or leaves
 * loose: unknown keys (the spec's objects silently strip them, so a typo
 * like `customId` would pass), content ≤ 2000 (the spec allows 4000 on
 * some routes; bots get 2000), custom_ids unique per message or modal, and
 * the classic-message layout (≤ 5 top-level action rows without the
 * Components V2 flag).
 *
 * Use the expectValid* functions: each returns the payload when valid and
 * throws a DiscordSchemaError listing every problem with its JSON path.
 */
import {
  ApplicationCommandCreateRequestSchema,
  CreateMessageInteractionCallbackRequestSchema,
  IncomingWebhookRequestPartialSchema,
  IncomingWebhookUpdateRequestPartialSchema,
  MessageCreateRequestSchema,
  MessageEditRequestPartialSchema,
  ModalInteractionCallbackRequestDataSchema,
  ModalInteractionCallbackRequestSchema,
  UpdateMessageInteractionCallbackRequestSchema,
} from 'discord-api-spec/zod';
import { locales } from 'zod/mini';
import type { ZodMiniType } from 'zod/mini';

/** Which Discord request a payload is meant for. */
export type DiscordPayloadKind =
  /** POST /channels/{channel}/messages */
  | 'messageCreate'
  /** PATCH /channels/{channel}/messages/{message} (bot token, e.g. after the interaction token expired) */
  | 'messageEdit'
  /** POST /webhooks/{app}/{token} (interaction follow-up) */
  | 'webhookExecute'
  /** PATCH /webhooks/{app}/{token}/messages/{@original|id} (interaction reply edit) */
  | 'webhookEdit'
  /** POST /interactions/{id}/{token}/callback: {type, data} */
  | 'interactionCallback'
  /** The `data` of a modal callback (what discord.js showModal takes) */
  | 'modal'
  /** POST /applications/{app}/commands (one command's JSON) */
  | 'command';

export class DiscordSchemaError extends Error {
  constructor(
    readonly kind: DiscordPayloadKind,
    readonly issues: readonly string[],
  ) {
    super(`invalid Discord ${kind} payload:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'DiscordSchemaError';
  }
}

/** Discord's content limit for bot messages (the spec says 4000 on channel routes). */
const CONTENT_MAX = 2000;
/** Classic (non-V2) messages: at most five action rows. */
const CLASSIC_ROWS_MAX = 5;
const IS_COMPONENTS_V2 = 1 << 15;
const ACTION_ROW = 1;

const CALLBACK_SCHEMAS: Record<number, ZodMiniType> = {
  4: CreateMessageInteractionCallbackRequestSchema,
  5: CreateMessageInteractionCallbackRequestSchema,
  6: UpdateMessageInteractionCallbackRequestSchema,
  7: UpdateMessageInteractionCallbackRequestSchema,
  9: ModalInteractionCallbackRequestSchema,
};

const SCHEMAS: Record<Exclude<DiscordPayloadKind, 'interactionCallback'>, ZodMiniType> = {
  messageCreate: MessageCreateRequestSchema,
  messageEdit: MessageEditRequestPartialSchema,
  webhookExecute: IncomingWebhookRequestPartialSchema,
  webhookEdit: IncomingWebhookUpdateRequestPartialSchema,
  modal: ModalInteractionCallbackRequestDataSchema,
  command: ApplicationCommandCreateRequestSchema,
};

type Path = readonly PropertyKey[];

/** `components[0].components[1].custom_id` */
export function formatPath(path: Path): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

interface RawIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: RawIssue[][];
}

/**
 * Flatten zod issues into lines. A union that matched no variant lists the
 * problems of the variants whose `type` matched (the ones the payload
 * meant), not the noise of every other component type.
 */
function describeIssues(issues: readonly RawIssue[], base: Path = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      const meant = issue.errors.filter((branch) => !branch.some((b) => b.path.length === 1 && b.path[0] === 'type'));
      if (meant.length > 0) return meant.flatMap((branch) => describeIssues(branch, path));
      return [`${formatPath(path)}: ${issue.message} (no variant has this type)`];
    }
    return [`${formatPath(path)}: ${issue.message}`];
  });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Keys present in the input but dropped by the (stripping) schema: fields
 * Discord does not know, which it would ignore or reject.
 */
function unknownKeys(input: unknown, output: unknown, path: Path = []): string[] {
  if (Array.isArray(input) && Array.isArray(output)) {
    return input.flatMap((item, i) => unknownKeys(item, output[i], [...path, i]));
  }
  if (isPlainObject(input) && isPlainObject(output)) {
    return Object.entries(input).flatMap(([key, value]) => {
      if (value === undefined) return [];
      if (!(key in output)) return [`${formatPath([...path, key])}: unknown field`];
      return unknownKeys(value, output[key], [...path, key]);
    });
  }
  return [];
}

/** Every custom_id in a component tree (rows, labels, sections), with its path. */
function customIds(node: unknown, path: Path = []): { id: string; path: Path }[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => customIds(n, [...path, i]));
  if (!isPlainObject(node)) return [];
  const own = typeof node.custom_id === 'string' ? [{ id: node.custom_id, path: [...path, 'custom_id'] }] : [];
  const children = (['components', 'component', 'accessory'] as const).flatMap((key) =>
    key in node ? customIds(node[key], [...path, key]) : [],
  );
  return [...own, ...children];
}

function duplicateCustomIds(components: unknown, base: Path): string[] {
  const seen = new Set<string>();
  return customIds(components, base).flatMap(({ id, path }) => {
    if (seen.has(id)) return [`${formatPath(path)}: custom_id "${id}" is used twice (must be unique per message)`];
    seen.add(id);
    return [];
  });
}

/** Discord's message rules beyond the spec (see the file comment). */
function messageRules(message: unknown, base: Path = []): string[] {
  if (!isPlainObject(message)) return [];
  const problems: string[] = [];
  if (typeof message.content === 'string' && message.content.length > CONTENT_MAX) {
    problems.push(`${formatPath([...base, 'content'])}: ${message.content.length} characters (max ${CONTENT_MAX})`);
  }
  const components = message.components;
  const flags = typeof message.flags === 'number' ? message.flags : 0;
  if (Array.isArray(components) && (flags & IS_COMPONENTS_V2) === 0) {
    if (components.length > CLASSIC_ROWS_MAX) {
      problems.push(`${formatPath([...base, 'components'])}: ${components.length} rows (max ${CLASSIC_ROWS_MAX} without Components V2)`);
    }
    components.forEach((c, i) => {
      if (isPlainObject(c) && c.type !== ACTION_ROW) {
        problems.push(`${formatPath([...base, 'components', i])}: type ${String(c.type)} needs the Components V2 flag`);
      }
    });
  }
  if (components !== undefined) problems.push(...duplicateCustomIds(components, [...base, 'components']));
  return problems;
}

function modalRules(modal: unknown, base: Path = []): string[] {
  return isPlainObject(modal) ? duplicateCustomIds(modal.components, [...base, 'components']) : [];
}

function parseIssues(schema: ZodMiniType, payload: unknown): string[] {
  const result = schema.safeParse(payload, { error: locales.en().localeError });
  if (!result.success) return describeIssues(result.error.issues as unknown as RawIssue[]);
  return unknownKeys(payload, result.data);
}

function callbackIssues(payload: unknown): string[] {
  const type = isPlainObject(payload) ? payload.type : undefined;
  const schema = typeof type === 'number' ? CALLBACK_SCHEMAS[type] : undefined;
  if (!schema) return [`type: ${String(type)} is not a message or modal callback type (4, 5, 6, 7, 9)`];
  const data = isPlainObject(payload) ? payload.data : undefined;
  const rules = type === 9 ? modalRules(data, ['data']) : messageRules(data, ['data']);
  return [...parseIssues(schema, payload), ...rules];
}

/** Every problem with a payload for a given Discord request; empty when valid. */
export function discordPayloadIssues(kind: DiscordPayloadKind, payload: unknown): string[] {
  switch (kind) {
    case 'interactionCallback':
      return callbackIssues(payload);
    case 'modal':
      return [...parseIssues(SCHEMAS.modal, payload), ...modalRules(payload)];
    case 'command':
      return parseIssues(SCHEMAS.command, payload);
    case 'messageCreate':
    case 'messageEdit':
    case 'webhookExecute':
    case 'webhookEdit':
      return [...parseIssues(SCHEMAS[kind], payload), ...messageRules(payload)];
  }
}

/** Throws a DiscordSchemaError unless the payload is valid for that request; returns it otherwise. */
export function expectValidDiscordPayload<T>(kind: DiscordPayloadKind, payload: T): T {
  const issues = discordPayloadIssues(kind, payload);
  if (issues.length > 0) throw new DiscordSchemaError(kind, issues);
  return payload;
}

/** A new channel message (POST /channels/{id}/messages). */
export const expectValidMessageCreate = <T>(payload: T): T => expectValidDiscordPayload('messageCreate', payload);
/** A channel message edit with the bot token (PATCH /channels/{id}/messages/{id}). */
export const expectValidMessageEdit = <T>(payload: T): T => expectValidDiscordPayload('messageEdit', payload);
/** An interaction follow-up (POST /webhooks/{app}/{token}). */
export const expectValidFollowup = <T>(payload: T): T => expectValidDiscordPayload('webhookExecute', payload);
/** An interaction reply edit (PATCH /webhooks/{app}/{token}/messages/@original). */
export const expectValidWebhookEdit = <T>(payload: T): T => expectValidDiscordPayload('webhookEdit', payload);
/** A full interaction callback {type, data}: 4/5 reply, 6/7 update the message, 9 modal. */
export const expectValidInteractionCallback = <T>(payload: T): T => expectValidDiscordPayload('interactionCallback', payload);
/** A modal's data (custom_id, title, components), as discord.js showModal takes it. */
export const expectValidModal = <T>(payload: T): T => expectValidDiscordPayload('modal', payload);
/** One application command definition (POST /applications/{app}/commands). */
export const expectValidCommand = <T>(json: T): T => expectValidDiscordPayload('command', json);
