import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  errorFromEnvelope,
  isKieError,
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
  KieUnknownCodeError,
  KieValidationError,
  sanitizeMessage,
} from '../../src/providers/kie/errors.js';
import { GenerateRequestSchema } from '../../src/providers/kie/schemas.js';

const KEY = 'sk-test-0123456789abcdef';
const ctx = { endpoint: 'generate', httpStatus: 200, redact: [KEY] };

describe('errorFromEnvelope', () => {
  it.each([
    [400, KieBadRequestError],
    [401, KieUnauthorizedError],
    [402, KieInsufficientCreditsError],
    [404, KieNotFoundError],
    [422, KieValidationError],
    [429, KieRateLimitedError],
    [455, KieMaintenanceError],
    [500, KieServerError],
    [501, KieGenerationFailedError],
    [505, KieFeatureDisabledError],
    [418, KieUnknownCodeError],
    [0, KieUnknownCodeError],
  ] as const)('code %i → %o', (code, Ctor) => {
    const e = errorFromEnvelope(code, 'some msg', ctx);
    expect(e).toBeInstanceOf(Ctor);
    expect(e).toBeInstanceOf(KieError);
    expect(e).toBeInstanceOf(Error);
    expect(isKieError(e)).toBe(true);
    expect(e.code).toBe(code);
    expect(e.name).toBe(Ctor.name);
    expect(e.endpoint).toBe('generate');
    expect(e.httpStatus).toBe(200);
    expect(e.kieMessage).toBe('some msg');
    expect(e.message).toBe(`KIE generate: ${code} (HTTP 200): some msg`);
    expect(e.userMessage.length).toBeGreaterThan(10);
  });

  it('the body code decides whatever the HTTP status', () => {
    const e = errorFromEnvelope(402, 'no money', { endpoint: 'generate', httpStatus: 500 });
    expect(e).toBeInstanceOf(KieInsufficientCreditsError);
    expect(e.httpStatus).toBe(500);
  });

  it.each(['Record does not exist', 'record not exist', 'RECORD NOT FOUND', 'task not found'])(
    '422 "%s" → KieRecordNotFoundError (recordMissing)',
    (msg) => {
      const e = errorFromEnvelope(422, msg, { endpoint: 'recordInfo', httpStatus: 200 });
      expect(e).toBeInstanceOf(KieRecordNotFoundError);
      expect(e).toBeInstanceOf(KieValidationError);
      expect((e as KieValidationError).recordMissing).toBe(true);
      expect(e.code).toBe(422);
      expect(e.userMessage).toBe('That result is no longer available at KIE (results are kept about 14 days).');
    },
  );

  it('other 422s are plain validation errors', () => {
    const e = errorFromEnvelope(422, 'imageIndex out of range', ctx);
    expect(e).not.toBeInstanceOf(KieRecordNotFoundError);
    expect((e as KieValidationError).recordMissing).toBe(false);
    expect(e.userMessage).toContain('imageIndex out of range');
  });

  it.each([
    [402, "The team's KIE account is out of credits. Ask an admin to top it up."],
    [401, "The bot's KIE API key was rejected. Ask an admin to check KIE_API_KEY."],
    [429, 'KIE is rate-limiting us; try again in a moment.'],
    [455, 'KIE is under maintenance; try again later.'],
    [505, 'This feature is currently disabled at KIE.'],
  ])('user message for %i', (code, text) => {
    expect(errorFromEnvelope(code, 'x', ctx).userMessage).toBe(text);
  });

  it('carries Retry-After and the cause', () => {
    const cause = new Error('underlying');
    const e = errorFromEnvelope(429, '', { ...ctx, retryAfterMs: 1500, cause });
    expect(e.retryAfterMs).toBe(1500);
    expect(e.cause).toBe(cause);
    expect(e.message).toBe('KIE generate: 429 (HTTP 200)');
  });
});

describe('sanitizing', () => {
  it('never lets the API key into any message', () => {
    const e = errorFromEnvelope(401, `invalid key ${KEY} (Authorization: Bearer ${KEY})`, ctx);
    for (const text of [e.message, e.kieMessage, e.userMessage, String(e), JSON.stringify(e)]) {
      expect(text).not.toContain(KEY);
    }
    expect(e.kieMessage).toContain('***');
  });

  it('masks any Bearer token, collapses whitespace and caps length', () => {
    expect(sanitizeMessage('Authorization: Bearer abc.def  \n\n next')).toBe('Authorization: Bearer *** next');
    const long = sanitizeMessage('<html>'.padEnd(5000, 'x'));
    expect(long.length).toBeLessThanOrEqual(300);
    expect(long.endsWith('…')).toBe(true);
  });

  it('ignores empty secrets', () => {
    expect(sanitizeMessage('hello', [''])).toBe('hello');
  });
});

describe('transport errors', () => {
  it('KieNetworkError says whether the request may have been sent', () => {
    const refused = new KieNetworkError(true, 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', {
      endpoint: 'generate',
      httpStatus: null,
    });
    expect(refused.sent).toBe(false);
    expect(refused.code).toBe('network');
    expect(refused.causeCode).toBe('ECONNREFUSED');
    expect(refused.message).toBe('KIE generate: network: connect ECONNREFUSED 127.0.0.1:1');
    const reset = new KieNetworkError(false, 'ECONNRESET', 'socket hang up', { endpoint: 'generate', httpStatus: null });
    expect(reset.sent).toBe(true);
    expect(reset.userMessage).not.toBe(refused.userMessage);
  });

  it('KieTimeoutError and KieInvalidResponseError carry their facts', () => {
    const t = new KieTimeoutError(30_000, 'headers timeout', { endpoint: 'recordInfo', httpStatus: null });
    expect(t.code).toBe('timeout');
    expect(t.timeoutMs).toBe(30_000);
    const r = new KieInvalidResponseError('not_json', '<html>Bad gateway</html>', { endpoint: 'credits', httpStatus: 502 });
    expect(r.code).toBe('invalid_response');
    expect(r.reason).toBe('not_json');
    expect(r.httpStatus).toBe(502);
    expect(r.userMessage).toContain('HTTP 502');
  });

  it('KieRequestValidationError names the field', () => {
    const parsed = GenerateRequestSchema.safeParse({ taskType: 'mj_video', prompt: 'x', fileUrls: ['https://a/b.png'] });
    expect(parsed.success).toBe(false);
    const e = new KieRequestValidationError(parsed.error as z.ZodError, { endpoint: 'generate' });
    expect(e.field).toBe('motion');
    expect(e.code).toBe('request_invalid');
    expect(e.httpStatus).toBeNull();
    expect(e.kieMessage).toBe('motion: motion is required for mj_video');
    expect(e.userMessage).toContain('motion');
  });
});
