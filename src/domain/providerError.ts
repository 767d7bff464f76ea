/**
 * The provider port's errors: one error type with a category the domain
 * acts on (refund, failover, tell the user, poll again) without knowing any
 * provider's HTTP codes or failCodes. Re-exported by ./provider.ts; import
 * from there.
 */

/**
 * What went wrong, in terms the domain acts on:
 *
 *   bad_input             our request was refused (by check() or the provider); user's to fix; nothing charged
 *   content_refused       moderation refused the prompt or image
 *   insufficient_credits  the account is empty; tell an admin
 *   unauthorized          the API key was refused; configuration
 *   not_found             the task (or its source) is unknown or expired
 *   rate_limited          refused for now; retry later (retryAfterMs when the provider said)
 *   unavailable           maintenance, 5xx with an answer, unreachable: nothing was created;
 *                         candidates for failover to another provider
 *   outcome_unknown       the request was sent but the answer was lost (timeout, reset,
 *                         unreadable answer): a task MAY exist and may be charged; never
 *                         resend blindly
 *   generation_failed     the provider accepted the task and it failed
 *   invalid_response      a read (status, balance) got an answer we could not read
 */
export const PROVIDER_ERROR_CATEGORIES = [
  'bad_input',
  'content_refused',
  'insufficient_credits',
  'unauthorized',
  'not_found',
  'rate_limited',
  'unavailable',
  'outcome_unknown',
  'generation_failed',
  'invalid_response',
] as const;
export type ProviderErrorCategory = (typeof PROVIDER_ERROR_CATEGORIES)[number];

const USER_MESSAGES: Readonly<Record<ProviderErrorCategory, string>> = Object.freeze({
  bad_input: 'That request is invalid',
  content_refused: 'The image service refused this prompt or image under its content rules',
  insufficient_credits: "The team's image account is out of credits. Ask an admin to top it up",
  unauthorized: "The bot's API key for the image service was rejected. Ask an admin to check it",
  not_found: 'That result is no longer available at the image service',
  rate_limited: 'The image service is busy; try again in a moment',
  unavailable: 'The image service is unavailable right now; try again later',
  outcome_unknown: 'The image service did not confirm the request; it may still run',
  generation_failed: 'The generation failed at the image service',
  invalid_response: 'The image service sent an answer we could not read; try again in a moment',
});

/** Categories where a create provably made nothing, so another provider may be tried. */
export const FAILOVER_CATEGORIES: ReadonlySet<ProviderErrorCategory> = new Set(['unavailable']);

export interface ProviderErrorInit {
  /** The provider's id (ProviderId). */
  provider: string;
  /** The provider's own code: HTTP status, failCode, body code, 'timeout', … */
  providerCode: string;
  /** Sanitised detail from the provider (never a secret). */
  detail?: string;
  /** For bad_input: the offending field. */
  field?: string;
  retryAfterMs?: number | null;
  httpStatus?: number | null;
  /** The provider's own sentence for people, when it has a better one than the category's. */
  userMessage?: string;
  cause?: unknown;
}

/** The one error type the port throws. Branch on `category`. */
export class ProviderError extends Error {
  readonly category: ProviderErrorCategory;
  readonly provider: string;
  readonly providerCode: string;
  readonly detail: string;
  readonly field: string | null;
  readonly retryAfterMs: number | null;
  readonly httpStatus: number | null;
  readonly #userMessage: string | null;

  constructor(category: ProviderErrorCategory, init: ProviderErrorInit) {
    const detail = init.detail ?? '';
    super(
      `${init.provider}: ${category} (${init.providerCode})${detail ? `: ${detail}` : ''}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = 'ProviderError';
    this.category = category;
    this.provider = init.provider;
    this.providerCode = init.providerCode;
    this.detail = detail;
    this.field = init.field ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.httpStatus = init.httpStatus ?? null;
    this.#userMessage = init.userMessage ?? null;
  }

  /** A sentence a Discord user can read; never contains secrets. */
  get userMessage(): string {
    if (this.#userMessage) return this.#userMessage;
    const base = USER_MESSAGES[this.category];
    const withDetail = this.category === 'bad_input' || this.category === 'generation_failed' || this.category === 'content_refused';
    return withDetail && this.detail ? `${base}: ${this.detail}` : `${base}.`;
  }

  /** Whether the request may have reached the provider and created a task. */
  get maybeCreated(): boolean {
    return this.category === 'outcome_unknown';
  }
}

/** Why a task failed, as data (a task failure is an answer, not a thrown error). */
export interface TaskFailure {
  category: ProviderErrorCategory;
  /** The provider's own code (failCode, errorCode, successFlag …), for logs and the ledger. */
  code: string;
  /** Sanitised, safe to show. */
  message: string;
}

export const isProviderError = (e: unknown): e is ProviderError => e instanceof ProviderError;

/** The failure of a task, as stored on a job. */
export const failureOf = (e: ProviderError): TaskFailure => ({
  category: e.category,
  code: e.providerCode,
  message: e.userMessage,
});

/**
 * An adapter's check(): run its request builder, which throws ProviderError
 * for a request the provider would refuse; that refusal, or null when the
 * request is fine. Anything else is a bug and is rethrown.
 */
export function refusalOf(build: () => unknown): ProviderError | null {
  try {
    build();
    return null;
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
}
