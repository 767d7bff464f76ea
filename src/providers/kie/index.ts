/**
 * The public KIE client API: the client, its errors and the callback helpers.
 * The simulator (./simulator) is test tooling and deliberately not exported here.
 */
export {
  KieClient,
  KIE_BASE_URL,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_CREATE_MARGIN_MS,
  verifyCallbackSignature,
  parseCallbackBody,
  type KieClientOptions,
  type CreateLimit,
  type KieRetryOptions,
  type KieLogger,
  type CallbackSignatureInput,
} from './client.js';
export {
  KieError,
  KieBadRequestError,
  KieUnauthorizedError,
  KieInsufficientCreditsError,
  KieNotFoundError,
  KieValidationError,
  KieRecordNotFoundError,
  KieRateLimitedError,
  KieMaintenanceError,
  KieServerError,
  KieGenerationFailedError,
  KieFeatureDisabledError,
  KieUnknownCodeError,
  KieInvalidResponseError,
  KieNetworkError,
  KieTimeoutError,
  KieRequestValidationError,
  errorFromEnvelope,
  isKieError,
  isRecordMissingMessage,
  sanitizeMessage,
  type InvalidResponseReason,
} from './errors.js';
export { isRetryable, type CallKind } from './retry.js';
export { DEFAULT_CREATE_LIMIT, DEFAULT_READS_PER_SECOND, type WindowLimit } from './limiter.js';
