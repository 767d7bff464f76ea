/**
 * Typed errors for every way a KIE call can fail.
 *
 * One class per documented body `code` (000), plus the failures that never
 * reach a body: an unreadable answer, a broken connection, a timeout, and a
 * request we refused to send. Callers branch on the class (or `code`); Discord
 * code shows `userMessage`; logs use `message`. Both are built from a
 * sanitized copy of KIE's `msg`, so neither can ever carry the API key.
 */
import type { z } from 'zod';
import { describeZodError } from './schemas.js';

/** Where the failure happened: a KIE_PATHS key, or 'callback' for callback bodies. */
export type KieErrorEndpoint = string;

export interface KieErrorContext {
  endpoint: KieErrorEndpoint;
  /** The HTTP status of the answer, or null when no answer arrived. */
  httpStatus: number | null;
  /** Strings that must never appear in a message (the API key). */
  redact?: readonly string[];
  /** How long the server asked us to wait (Retry-After), when it said. */
  retryAfterMs?: number | null;
  cause?: unknown;
}

import { sanitizeMessage } from '../../domain/sanitize.js';

export { sanitizeMessage };

/** The base of every KIE failure. `code` is KIE's body code, or a label for failures without one. */
export abstract class KieError extends Error {
  readonly code: number | string;
  /** KIE's msg (or the transport's reason), sanitized. */
  readonly kieMessage: string;
  readonly endpoint: KieErrorEndpoint;
  readonly httpStatus: number | null;
  /** Retry-After as sent by the server (ms), or null. */
  readonly retryAfterMs: number | null;

  protected constructor(code: number | string, kieMessage: string, ctx: KieErrorContext) {
    const clean = sanitizeMessage(kieMessage, ctx.redact);
    const status = ctx.httpStatus === null ? '' : ` (HTTP ${ctx.httpStatus})`;
    super(
      `KIE ${ctx.endpoint}: ${code}${status}${clean ? `: ${clean}` : ''}`,
      ctx.cause === undefined ? undefined : { cause: ctx.cause },
    );
    this.code = code;
    this.kieMessage = clean;
    this.endpoint = ctx.endpoint;
    this.httpStatus = ctx.httpStatus;
    this.retryAfterMs = ctx.retryAfterMs ?? null;
    this.name = new.target.name;
  }

  /** A sentence a Discord user can read; never contains secrets. */
  abstract get userMessage(): string;
}

export const isKieError = (e: unknown): e is KieError => e instanceof KieError;

/** Appends KIE's own words when it gave some, so the user learns what to fix. */
const withDetail = (sentence: string, detail: string): string => (detail ? `${sentence}: ${detail}` : `${sentence}.`);

// ---------------------------------------------------------------------------
// One class per documented body code
// ---------------------------------------------------------------------------

export class KieBadRequestError extends KieError {
  declare readonly code: 400;
  constructor(msg: string, ctx: KieErrorContext) {
    super(400, msg, ctx);
  }
  get userMessage(): string {
    return withDetail('KIE rejected the request as invalid', this.kieMessage);
  }
}

export class KieUnauthorizedError extends KieError {
  declare readonly code: 401;
  constructor(msg: string, ctx: KieErrorContext) {
    super(401, msg, ctx);
  }
  get userMessage(): string {
    return "The bot's KIE API key was rejected. Ask an admin to check KIE_API_KEY.";
  }
}

export class KieInsufficientCreditsError extends KieError {
  declare readonly code: 402;
  constructor(msg: string, ctx: KieErrorContext) {
    super(402, msg, ctx);
  }
  get userMessage(): string {
    return "The team's KIE account is out of credits. Ask an admin to top it up.";
  }
}

export class KieNotFoundError extends KieError {
  declare readonly code: 404;
  constructor(msg: string, ctx: KieErrorContext) {
    super(404, msg, ctx);
  }
  get userMessage(): string {
    return 'KIE does not know this endpoint or task. Ask an admin to check the bot’s KIE settings.';
  }
}

/** "Record does not exist" and its variants: the task is unknown or expired at KIE. */
const RECORD_MISSING = /record\s+(does\s+)?not\s+exist|record\s+not\s+found|no\s+such\s+(record|task)|task\s+not\s+found/i;
export const isRecordMissingMessage = (msg: string): boolean => RECORD_MISSING.test(msg);

export class KieValidationError extends KieError {
  declare readonly code: 422;
  /** True when KIE says the task record does not exist (unknown taskId, or results expired). */
  readonly recordMissing: boolean = false;
  constructor(msg: string, ctx: KieErrorContext) {
    super(422, msg, ctx);
  }
  get userMessage(): string {
    return withDetail("KIE rejected the request's parameters", this.kieMessage);
  }
}

/**
 * 422 "Record does not exist": callers must tell the user the result is gone
 * rather than that their input was wrong, hence a class of its own.
 */
export class KieRecordNotFoundError extends KieValidationError {
  override readonly recordMissing = true;
  override get userMessage(): string {
    return 'That result is no longer available at KIE (results are kept about 14 days).';
  }
}

export class KieRateLimitedError extends KieError {
  declare readonly code: 429;
  constructor(msg: string, ctx: KieErrorContext) {
    super(429, msg, ctx);
  }
  get userMessage(): string {
    return 'KIE is rate-limiting us; try again in a moment.';
  }
}

export class KieMaintenanceError extends KieError {
  declare readonly code: 455;
  constructor(msg: string, ctx: KieErrorContext) {
    super(455, msg, ctx);
  }
  get userMessage(): string {
    return 'KIE is under maintenance; try again later.';
  }
}

export class KieServerError extends KieError {
  declare readonly code: 500;
  constructor(msg: string, ctx: KieErrorContext) {
    super(500, msg, ctx);
  }
  get userMessage(): string {
    return 'KIE had an internal error; try again in a moment.';
  }
}

export class KieGenerationFailedError extends KieError {
  declare readonly code: 501;
  constructor(msg: string, ctx: KieErrorContext) {
    super(501, msg, ctx);
  }
  get userMessage(): string {
    return withDetail('The generation failed at KIE', this.kieMessage);
  }
}

export class KieFeatureDisabledError extends KieError {
  declare readonly code: 505;
  constructor(msg: string, ctx: KieErrorContext) {
    super(505, msg, ctx);
  }
  get userMessage(): string {
    return 'This feature is currently disabled at KIE.';
  }
}

/** A body code KIE does not document. Treated as a plain failure, never retried. */
export class KieUnknownCodeError extends KieError {
  declare readonly code: number;
  constructor(code: number, msg: string, ctx: KieErrorContext) {
    super(code, msg, ctx);
  }
  get userMessage(): string {
    return `KIE answered with an unexpected error (code ${this.code}).`;
  }
}

// ---------------------------------------------------------------------------
// Failures without a KIE body code
// ---------------------------------------------------------------------------

export type InvalidResponseReason = 'not_json' | 'bad_envelope' | 'bad_data' | 'too_large';

/**
 * The answer could not be read: not JSON (a proxy's HTML 502), or JSON that
 * does not match the schema. `httpStatus` says whether a proxy or KIE failed.
 */
export class KieInvalidResponseError extends KieError {
  declare readonly code: 'invalid_response';
  constructor(
    readonly reason: InvalidResponseReason,
    detail: string,
    ctx: KieErrorContext,
  ) {
    super('invalid_response', `${reason}: ${detail}`, ctx);
  }
  get userMessage(): string {
    const status = this.httpStatus !== null && this.httpStatus !== 200 ? ` (HTTP ${this.httpStatus})` : '';
    return `KIE sent an answer we could not read${status}; it may be having trouble. Try again in a moment.`;
  }
}

/**
 * The connection failed. `connectFailed` is true when no connection was ever
 * made (refused, DNS, connect timeout), which proves KIE never saw the
 * request; otherwise (reset, closed mid-request) it may have been received.
 */
export class KieNetworkError extends KieError {
  declare readonly code: 'network';
  constructor(
    readonly connectFailed: boolean,
    /** The system/undici error code (ECONNREFUSED, UND_ERR_SOCKET, …), when known. */
    readonly causeCode: string | null,
    detail: string,
    ctx: KieErrorContext,
  ) {
    super('network', detail, ctx);
  }
  /** Whether the request may have reached KIE. */
  get sent(): boolean {
    return !this.connectFailed;
  }
  get userMessage(): string {
    return this.connectFailed
      ? 'Could not reach KIE; try again in a moment.'
      : 'The connection to KIE broke off; try again in a moment.';
  }
}

/** KIE did not answer in time. The request was sent and may have been received. */
export class KieTimeoutError extends KieError {
  declare readonly code: 'timeout';
  constructor(
    readonly timeoutMs: number | null,
    detail: string,
    ctx: KieErrorContext,
  ) {
    super('timeout', detail, ctx);
  }
  get userMessage(): string {
    return 'KIE took too long to answer; try again in a moment.';
  }
}

/** Our own request failed its zod schema; nothing was sent. */
export class KieRequestValidationError extends KieError {
  declare readonly code: 'request_invalid';
  /** The offending field's path ('fileUrls', 'speed', …), or '' for the whole body. */
  readonly field: string;
  constructor(error: z.ZodError, ctx: Omit<KieErrorContext, 'httpStatus'>) {
    super('request_invalid', describeZodError(error), { ...ctx, httpStatus: null });
    this.field = error.issues[0]?.path.join('.') ?? '';
  }
  get userMessage(): string {
    return `That request is invalid: ${this.kieMessage}.`;
  }
}

/**
 * Whether a failed create may nevertheless have made (and charged for) a
 * task at KIE: no answer in time, a connection cut after the request went
 * out, a 5xx, or a success we could not read. A refusal KIE spelled out
 * (4xx codes, 429, maintenance) or a connection that never opened did not.
 */
export function createOutcomeUnknown(error: unknown): boolean {
  if (error instanceof KieTimeoutError) return true;
  if (error instanceof KieNetworkError) return error.sent;
  if (error instanceof KieServerError) return true;
  if (error instanceof KieInvalidResponseError) {
    const status = error.httpStatus;
    return status === null || status >= 500 || (status >= 200 && status < 300);
  }
  return false;
}

// ---------------------------------------------------------------------------
// Picking the class
// ---------------------------------------------------------------------------

type ByCode = new (msg: string, ctx: KieErrorContext) => KieError;
const BY_CODE: ReadonlyMap<number, ByCode> = new Map<number, ByCode>([
  [400, KieBadRequestError],
  [401, KieUnauthorizedError],
  [402, KieInsufficientCreditsError],
  [404, KieNotFoundError],
  [429, KieRateLimitedError],
  [455, KieMaintenanceError],
  [500, KieServerError],
  [501, KieGenerationFailedError],
  [505, KieFeatureDisabledError],
]);

/**
 * The error for a non-200 envelope. The body's `code` decides whatever the
 * HTTP status was (NOTES.md: KIE usually answers errors with HTTP 200).
 */
export function errorFromEnvelope(code: number, msg: string, ctx: KieErrorContext): KieError {
  if (code === 422) {
    return isRecordMissingMessage(msg) ? new KieRecordNotFoundError(msg, ctx) : new KieValidationError(msg, ctx);
  }
  const Ctor = BY_CODE.get(code);
  return Ctor ? new Ctor(msg, ctx) : new KieUnknownCodeError(code, msg, ctx);
}
