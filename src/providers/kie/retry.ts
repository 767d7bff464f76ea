/**
 * When and how long to retry a KIE call.
 *
 * The rule that matters: a create (generate/upscale/vary/extend) costs
 * credits, so it is retried only when the failure proves KIE created nothing
 * (429, 455, or a connection that was never made). Anything after the request
 * may have been received (timeout, reset, 5xx, a proxy's HTML 502) could mean
 * the task exists, and a retry would charge twice. Reads are free and retried
 * on anything transient.
 *
 * The decisions are small pure functions; `withRetry` wires them to an
 * injectable sleep so tests run in fake time.
 */
import {
  KieError,
  KieInvalidResponseError,
  KieMaintenanceError,
  KieNetworkError,
  KieRateLimitedError,
  KieServerError,
  KieTimeoutError,
} from './errors.js';
import { backoffDelay, type BackoffOptions } from '../../domain/backoff.js';

/** The one back-off (../../domain/backoff.ts); KIE calls use its default full jitter. */
export { backoffDelay, type BackoffOptions };

/** 'read': record-info, credits. 'create': anything that starts a paid task. */
export type CallKind = 'read' | 'create';

export interface RetryPolicy extends BackoffOptions {
  kind: CallKind;
  /** Total attempts including the first (1 = never retry). */
  maxAttempts: number;
  /**
   * The longest Retry-After we are willing to honour. A server asking for
   * longer gets its error passed on rather than a caller blocked for minutes.
   */
  maxRetryAfterMs?: number;
}

export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/** 5xx, or 429 (a proxy's rate limit): a status that says the server side is struggling, not us. */
const isTransientStatus = (status: number | null): boolean => status !== null && (status === 429 || status >= 500);

/** Whether this failure, taken alone, is worth another attempt for this kind of call. */
export function isRetryable(error: unknown, kind: CallKind): boolean {
  if (!(error instanceof KieError)) return false;
  // Both kinds: the request was refused before anything was created.
  if (error instanceof KieRateLimitedError || error instanceof KieMaintenanceError) return true;
  if (error instanceof KieNetworkError && error.connectFailed) return true;
  if (kind === 'create') {
    // An HTTP 429 without a readable body still means "refused", never "created".
    return error instanceof KieInvalidResponseError && error.httpStatus === 429;
  }
  if (error instanceof KieNetworkError || error instanceof KieTimeoutError) return true;
  if (error instanceof KieInvalidResponseError) return isTransientStatus(error.httpStatus);
  // 500 is transient; 501 (generation failed) and 505 (disabled) are answers, not glitches.
  return error instanceof KieServerError;
}

/**
 * Whether to try again after `attempt` attempts (1 after the first failure)
 * out of `maxAttempts` in total.
 */
export function shouldRetry(error: unknown, policy: { kind: CallKind }, attempt: number, maxAttempts: number): boolean {
  return attempt < maxAttempts && isRetryable(error, policy.kind);
}

type HeaderValue = string | string[] | undefined;
/** undici's IncomingHttpHeaders, a fetch Headers, or a plain map. */
export type HeaderBag = Record<string, HeaderValue> | { get(name: string): string | null };

function headerValue(headers: HeaderBag, name: string): string | null {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name);
  }
  const bag = headers as Record<string, HeaderValue>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

/**
 * The wait a Retry-After header asks for, in ms: delta-seconds (fractions
 * tolerated) or an HTTP date. Null when absent or unreadable; never negative.
 */
export function retryAfterMs(headers: HeaderBag, now: number = Date.now()): number | null {
  const raw = headerValue(headers, 'retry-after')?.trim();
  if (!raw) return null;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  // An HTTP date always has letters (day, month, GMT); this keeps "-1" from parsing as a year.
  const at = /[a-z]/i.test(raw) ? Date.parse(raw) : Number.NaN;
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * How long to wait before the next attempt: the backoff, or Retry-After if the
 * server asked for longer. Null means "do not retry": the server asked for
 * longer than we are willing to block a caller.
 */
export function nextDelay(error: unknown, attempt: number, policy: RetryPolicy, random: () => number): number | null {
  const backoff = backoffDelay(attempt, policy, random);
  const asked = error instanceof KieError ? error.retryAfterMs : null;
  if (asked === null) return backoff;
  if (asked > (policy.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS)) return null;
  return Math.max(backoff, asked);
}

/** Sleeps `ms`, rejecting with the signal's reason if it aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** setTimeout-based Sleep that rejects with `signal.reason` (not a generic AbortError), like fetch does. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export interface RetryDeps {
  sleep?: Sleep;
  random?: () => number;
  signal?: AbortSignal;
  /** Told before each wait; for logging. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * Runs `fn` until it succeeds, the failure is not retryable for this policy,
 * or attempts run out; the last error is thrown as is. `fn` gets the attempt
 * number (1-based). Aborting the signal stops at once with its reason.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  deps: RetryDeps = {},
): Promise<T> {
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    deps.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (deps.signal?.aborted) throw deps.signal.reason;
      if (!shouldRetry(error, policy, attempt, policy.maxAttempts)) throw error;
      const delayMs = nextDelay(error, attempt, policy, random);
      if (delayMs === null) throw error;
      deps.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, deps.signal);
    }
  }
}
