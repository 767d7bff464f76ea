/**
 * KIE's answers → the port's words: every KieError class → a ProviderError
 * category (on a create, KIE's own createOutcomeUnknown decides
 * outcome_unknown), keeping KIE's sentence for people; a record-info record
 * → TaskStatus (successFlag 0 → running, as KIE has no separate "queued";
 * 1 → succeeded, or failed with no files; 2/3 → failed).
 */
import {
  ProviderError,
  type ProviderErrorCategory,
  type TaskFailure,
  type TaskStatus,
} from '../../domain/provider.js';
import {
  KieBadRequestError,
  KieError,
  KieFeatureDisabledError,
  KieGenerationFailedError,
  KieInsufficientCreditsError,
  KieInvalidResponseError,
  KieMaintenanceError,
  KieNetworkError,
  KieNotFoundError,
  KieRateLimitedError,
  KieRecordNotFoundError,
  KieRequestValidationError,
  KieServerError,
  KieTimeoutError,
  KieUnauthorizedError,
  KieValidationError,
  createOutcomeUnknown,
  sanitizeMessage,
} from './errors.js';
import { isVideoTaskType, type TaskRecord } from './schemas.js';

const KIE_PROVIDER_ID = 'kie';

/** The port category of a KieError for a call of `kind`. */
export function kieCategoryOf(e: KieError, kind: 'create' | 'read'): ProviderErrorCategory {
  if (e instanceof KieRecordNotFoundError) return 'not_found';
  if (e instanceof KieRequestValidationError || e instanceof KieBadRequestError || e instanceof KieValidationError) return 'bad_input';
  if (e instanceof KieUnauthorizedError) return 'unauthorized';
  if (e instanceof KieInsufficientCreditsError) return 'insufficient_credits';
  if (e instanceof KieNotFoundError) return 'not_found';
  if (e instanceof KieRateLimitedError) return 'rate_limited';
  if (e instanceof KieMaintenanceError || e instanceof KieFeatureDisabledError || e instanceof KieServerError) return 'unavailable';
  if (e instanceof KieGenerationFailedError) return 'generation_failed';
  if (e instanceof KieNetworkError) return e.connectFailed ? 'unavailable' : kind === 'create' ? 'outcome_unknown' : 'unavailable';
  if (e instanceof KieTimeoutError) return kind === 'create' ? 'outcome_unknown' : 'unavailable';
  if (e instanceof KieInvalidResponseError) {
    if (e.httpStatus === 429) return 'rate_limited';
    return kind === 'create' ? 'outcome_unknown' : 'invalid_response';
  }
  return 'generation_failed';
}

/** KIE's field names → the port's, so a refusal names what the domain sent. */
const PORT_FIELD: Readonly<Record<string, string>> = Object.freeze({
  variety: 'chaos',
  stylization: 'stylize',
  weirdness: 'weird',
  ow: 'omniWeight',
  fileUrls: 'imageUrls',
  fileUrl: 'imageUrls',
  imageIndex: 'position',
  index: 'position',
});
const portFieldOf = (field: string): string => {
  const [head = '', ...rest] = field.split('.');
  return [PORT_FIELD[head] ?? head, ...rest].join('.');
};

export function asProviderError(e: unknown, kind: 'create' | 'read'): unknown {
  if (e instanceof ProviderError || !(e instanceof KieError)) return e;
  const field = e instanceof KieRequestValidationError && e.field ? { field: portFieldOf(e.field) } : {};
  // On a create, KIE's own rule (createOutcomeUnknown: timeout, cut after sending, 5xx, unreadable success) decides whether a task may exist.
  let category = kieCategoryOf(e, kind);
  if (kind === 'create') {
    if (createOutcomeUnknown(e)) category = 'outcome_unknown';
    else if (category === 'outcome_unknown') category = 'invalid_response';
  }
  return new ProviderError(category, {
    userMessage: e.userMessage,
    provider: KIE_PROVIDER_ID,
    providerCode: String(e.code),
    detail: e.kieMessage,
    ...field,
    retryAfterMs: e.retryAfterMs,
    httpStatus: e.httpStatus,
    cause: e,
  });
}

const CONTENT_WORDS = /sensitive|nsfw|violat|moderat|banned|prohibited|policy/i;

/** KIE's times: an ISO string in its docs, epoch ms in some mirrors (epoch seconds tolerated), as the tracker has always read them. */
const timeOf = (t: string | null): number | null => {
  if (t === null || t === '') return null;
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    return n < 1e12 ? Math.round(n * 1000) : Math.round(n);
  }
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
};

/** KIE's record as the port's TaskStatus. */
export function toTaskStatus(record: TaskRecord): TaskStatus {
  const createdAt = timeOf(record.createTime);
  const completedAt = timeOf(record.completeTime);
  const base = {
    taskId: record.taskId,
    timings: { createdAt, completedAt, costMs: createdAt !== null && completedAt !== null ? completedAt - createdAt : null },
  };
  const kind: 'image' | 'video' = record.taskType && (isVideoTaskType(record.taskType) || record.taskType.startsWith('mj_video')) ? 'video' : 'image';
  switch (record.successFlag) {
    case 0:
      return { ...base, state: 'running', results: [], failure: null };
    case 1:
      return record.resultUrls.length > 0
        ? { ...base, state: 'succeeded', results: record.resultUrls.map((url) => ({ url, kind })), failure: null }
        : { ...base, state: 'failed', results: [], failure: { category: 'generation_failed', code: 'no_results', message: 'KIE reported success but returned no files' } };
    case 2:
    case 3: {
      const msg = record.errorMessage ? sanitizeMessage(record.errorMessage) : '';
      const category: ProviderErrorCategory = CONTENT_WORDS.test(msg) ? 'content_refused' : 'generation_failed';
      const code = record.errorCode != null ? String(record.errorCode) : `successFlag ${record.successFlag}`;
      // KIE's own reason, as the bot has always shown it (the category is for the domain, not the sentence).
      const failure: TaskFailure = {
        category,
        code,
        message: msg || (record.successFlag === 2 ? 'Midjourney generation failed' : 'the task was created but generation failed'),
      };
      return { ...base, state: 'failed', results: [], failure };
    }
  }
}
