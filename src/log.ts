/**
 * Structured logs with pino. Secrets are redacted by key wherever they sit
 * in a logged object; code also never passes them to a log call.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export const REDACT_PATHS = [
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

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'teamjourney' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
