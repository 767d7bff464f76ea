/**
 * discord-api-spec ships its zod schemas as plain JavaScript with no type
 * declarations; this declares the schemas the test helper uses (see
 * test/support/discordSchema.ts). Add a name here before using another one.
 */
declare module 'discord-api-spec/zod' {
  import type { ZodMiniType } from 'zod/mini';

  export const MessageCreateRequestSchema: ZodMiniType;
  export const MessageEditRequestPartialSchema: ZodMiniType;
  export const IncomingWebhookRequestPartialSchema: ZodMiniType;
  export const IncomingWebhookUpdateRequestPartialSchema: ZodMiniType;
  export const CreateMessageInteractionCallbackRequestSchema: ZodMiniType;
  export const UpdateMessageInteractionCallbackRequestSchema: ZodMiniType;
  export const ModalInteractionCallbackRequestSchema: ZodMiniType;
  export const ModalInteractionCallbackRequestDataSchema: ZodMiniType;
  export const ApplicationCommandCreateRequestSchema: ZodMiniType;
}
