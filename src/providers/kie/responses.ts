/**
 * The KIE client's pure half: request validation, response interpretation
 * and transport errors. No I/O here, so each is unit-tested as a table
 * (test/kie/client.pure.test.ts); ./client.ts does the HTTP.
 */
import type { z } from 'zod';
import {
  errorFromEnvelope,
  KieInvalidResponseError,
  KieNetworkError,
  KieRequestValidationError,
  KieTimeoutError,
  type KieError,
} from './errors.js';
import { retryAfterMs, type HeaderBag } from './retry.js';
import { describeZodError, EnvelopeSchema, type KieEndpoint } from './schemas.js';


/** Parses `body` with `schema`, or throws KieRequestValidationError naming the field. Nothing is sent. */
export function validateRequest<S extends z.ZodType>(schema: S, body: unknown, endpoint: KieEndpoint): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new KieRequestValidationError(parsed.error, { endpoint });
  return parsed.data;
}

export interface RawResponse {
  endpoint: KieEndpoint;
  httpStatus: number;
  headers: HeaderBag;
  text: string;
}

/**
 * The `data` of a successful envelope, or the typed error. The body's `code`
 * decides, whatever the HTTP status (NOTES.md); a body that is not the
 * envelope is KieInvalidResponseError carrying the HTTP status.
 */
export function interpretResponse(
  res: RawResponse,
  { redact = [], now = Date.now() }: { redact?: readonly string[]; now?: number } = {},
): unknown {
  const ctx = { endpoint: res.endpoint, httpStatus: res.httpStatus, redact, retryAfterMs: retryAfterMs(res.headers, now) };
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    throw new KieInvalidResponseError('not_json', res.text.trim() ? res.text : '(empty body)', ctx);
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) throw new KieInvalidResponseError('bad_envelope', describeZodError(envelope.error), ctx);
  if (envelope.data.code !== 200) throw errorFromEnvelope(envelope.data.code, envelope.data.msg, ctx);
  return envelope.data.data;
}

/** Validates a successful envelope's data against the endpoint's schema. */
export function parseData<S extends z.ZodType>(
  schema: S,
  data: unknown,
  ctx: { endpoint: KieEndpoint; httpStatus: number },
): z.output<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new KieInvalidResponseError('bad_data', describeZodError(parsed.error), ctx);
  return parsed.data;
}

/** Errors that prove no connection was made, so KIE cannot have seen the request. */
const CONNECT_FAILED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The system or undici code of an error, looking through `cause` and AggregateError (happy eyeballs). */
export function errorCodeOf(error: unknown): string | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    queue.push((e as { cause?: unknown }).cause);
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner)) queue.push(...(inner as unknown[]));
  }
  return null;
}

/** Maps a failure of the HTTP layer (no usable response) to a KieError. */
export function transportError(
  error: unknown,
  ctx: { endpoint: KieEndpoint; httpStatus: number | null; timeoutMs: number; redact: readonly string[] },
): KieError {
  const code = errorCodeOf(error);
  const detail = error instanceof Error ? error.message || error.name : String(error);
  const base = { endpoint: ctx.endpoint, httpStatus: ctx.httpStatus, redact: ctx.redact, cause: error };
  if (code !== null && TIMEOUT_CODES.has(code)) return new KieTimeoutError(ctx.timeoutMs, detail, base);
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return new KieInvalidResponseError('too_large', detail, base);
  const connectFailed = code !== null && CONNECT_FAILED_CODES.has(code);
  return new KieNetworkError(connectFailed, code, code && !detail.includes(code) ? `${code} ${detail}` : detail, base);
}
