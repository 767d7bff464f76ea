/**
 * Structured logs with pino. Secrets are redacted by key wherever they sit
 * in a logged object; code also never passes them to a log call.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export const REDACT_PATHS = [
  // discord.js errors carry the request they failed on: the body may hold anything the user typed.
  'requestBody',
  '*.requestBody',
  'err.cause.requestBody',
  'token',
  '*.token',
  'interactionToken',
  '*.interactionToken',
  'origin.interactionToken',
  '*.origin.interactionToken',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'DISCORD_TOKEN',
  'KIE_API_KEY',
];

/**
 * Discord puts an interaction's token in the URL path of every callback and
 * webhook route (`/interactions/<id>/<token>/callback`,
 * `/webhooks/<application>/<token>/…`); whoever has it may post as the bot
 * for 15 minutes.
 */
export function redactInteractionTokens(text: string): string {
  return text.replace(/\b(interactions|webhooks)\/(\d+)\/[^\s/?#"']+/gi, '$1/$2/[redacted]');
}

/** Every string in a serialised error, tokens masked, request bodies dropped (a few levels deep). */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactInteractionTokens(value);
  if (!value || typeof value !== 'object' || depth > 4) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = key === 'requestBody' ? '[redacted]' : scrub(v, depth + 1);
  return out;
}

/** pino's error serializer, then scrubbed: discord.js errors carry `url` and `requestBody`. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return scrub(err);
  return scrub(pino.stdSerializers.err(err));
}

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'teamjourney' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
