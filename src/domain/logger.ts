/**
 * The domain's logging port (pino-compatible: object first, message second)
 * and the one way it turns an error into text safe for logs.
 */
import { sanitizeMessage } from './sanitize.js';

/** pino-compatible logging (object first, message second); optional everywhere. */
export interface DomainLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: DomainLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * Error text safe for logs. KieError messages are sanitized by construction,
 * but a presenter's error may quote a webhook URL, whose last segment is an
 * interaction token: mask those, the given secrets and any Bearer token, and
 * cap the length.
 */
export function describeError(error: unknown, secrets: ReadonlyArray<string | null> = []): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const masked = text.replace(/(webhooks\/\d+\/)[^\s/?#"']+/gi, '$1***');
  return sanitizeMessage(masked, secrets.filter((x): x is string => !!x));
}
