/**
 * APIXO failures as one typed error, and the two mapping tables to the
 * domain's categories: HTTP/body codes (an answer to a call) and failCodes
 * (a task that ended failed). failCode is an open string: APIXO's pages
 * disagree on the spellings (notes), so it is matched case- and
 * punctuation-insensitively by keyword, and anything unknown is a plain
 * generation failure.
 */
import type { ProviderErrorCategory } from '../../domain/provider.js';
import { sanitizeMessage } from '../kie/errors.js';
import type { ApixoEndpoint } from './schemas.js';

export { sanitizeMessage };

/**
 * answer           APIXO answered with an error code (HTTP status or body code)
 * request_invalid  our request failed its schema; nothing was sent
 * invalid_response the answer could not be read (not JSON, wrong shape)
 * network          the connection failed; `connectFailed` proves nothing was sent
 * timeout          no complete answer in time; the request may have been received
 */
export type ApixoErrorKind = 'answer' | 'request_invalid' | 'invalid_response' | 'network' | 'timeout';

export interface ApixoErrorInit {
  endpoint: ApixoEndpoint | 'callback';
  httpStatus: number | null;
  /** The code that decided: body code if not 200, else the HTTP status; or a label. */
  code: number | string;
  detail: string;
  field?: string;
  connectFailed?: boolean;
  retryAfterMs?: number | null;
  redact?: readonly string[];
  cause?: unknown;
}

export class ApixoError extends Error {
  readonly kind: ApixoErrorKind;
  readonly endpoint: ApixoErrorInit['endpoint'];
  readonly httpStatus: number | null;
  readonly code: number | string;
  /** APIXO's message (or the transport's reason), sanitised. */
  readonly detail: string;
  readonly field: string | null;
  readonly connectFailed: boolean;
  readonly retryAfterMs: number | null;

  constructor(kind: ApixoErrorKind, init: ApixoErrorInit) {
    const detail = sanitizeMessage(init.detail, init.redact);
    const status = init.httpStatus === null ? '' : ` (HTTP ${init.httpStatus})`;
    super(`APIXO ${init.endpoint}: ${init.code}${status}${detail ? `: ${detail}` : ''}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ApixoError';
    this.kind = kind;
    this.endpoint = init.endpoint;
    this.httpStatus = init.httpStatus;
    this.code = init.code;
    this.detail = detail;
    this.field = init.field ?? null;
    this.connectFailed = init.connectFailed ?? false;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }
}

export const isApixoError = (e: unknown): e is ApixoError => e instanceof ApixoError;

/** HTTP status / body code → category (notes: 400, 401, 402 balance, 403 policy, 404, 429, 500, 503). */
const CODE_CATEGORY: ReadonlyMap<number, ProviderErrorCategory> = new Map<number, ProviderErrorCategory>([
  [400, 'bad_input'],
  [401, 'unauthorized'],
  [402, 'insufficient_credits'],
  // "policy" in the notes: a content or usage policy refusal.
  [403, 'content_refused'],
  [404, 'not_found'],
  [422, 'bad_input'],
  [429, 'rate_limited'],
  [500, 'unavailable'],
  [502, 'unavailable'],
  [503, 'unavailable'],
  [504, 'unavailable'],
]);

/**
 * The domain category of an APIXO error, for a call of `kind`. On a create,
 * anything after the request may have arrived with no readable answer
 * (timeout, reset, HTML 502) is `outcome_unknown`: a task may exist.
 */
export function categoryOf(error: ApixoError, kind: 'create' | 'read'): ProviderErrorCategory {
  switch (error.kind) {
    case 'request_invalid':
      return 'bad_input';
    case 'network':
      if (error.connectFailed) return 'unavailable';
      return kind === 'create' ? 'outcome_unknown' : 'unavailable';
    case 'timeout':
      return kind === 'create' ? 'outcome_unknown' : 'unavailable';
    case 'invalid_response':
      if (error.httpStatus === 429) return 'rate_limited';
      if (error.httpStatus === 503) return 'unavailable';
      return kind === 'create' ? 'outcome_unknown' : 'invalid_response';
    case 'answer': {
      const code = typeof error.code === 'number' ? error.code : Number(error.code);
      const mapped = CODE_CATEGORY.get(code);
      if (mapped) return mapped;
      if (code >= 500) return 'unavailable';
      return 'bad_input';
    }
  }
}

/** failCode keywords → category; first match wins. Normalised: upper case, letters and digits only. */
const FAIL_CODE_RULES: ReadonlyArray<readonly [RegExp, ProviderErrorCategory]> = [
  [/CONTENT|VIOLATION|NSFW|SENSITIVE|MODERATION|POLICY|BANNED/, 'content_refused'],
  [/CREDIT|BALANCE|INSUFFICIENT|QUOTA/, 'insufficient_credits'],
  [/TASKID|TASKNOTFOUND|NOTFOUND|EXPIRED/, 'not_found'],
  [/IMAGEURL|PROMPTTOOLONG|PROMPTLENGTH|INVALID|TOOLONG|PARAM/, 'bad_input'],
  [/RATELIMIT|TOOMANY/, 'rate_limited'],
  [/MAINTENANCE|UNAVAILABLE/, 'unavailable'],
];

/** A failed task's failCode (open string) as a domain category; unknown → generation_failed. */
export function failCodeCategory(failCode: string | null): ProviderErrorCategory {
  if (!failCode) return 'generation_failed';
  const key = failCode.toUpperCase().replace(/[^A-Z0-9]/g, '');
  for (const [re, category] of FAIL_CODE_RULES) if (re.test(key)) return category;
  return 'generation_failed';
}
