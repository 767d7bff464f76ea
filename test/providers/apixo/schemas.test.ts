/**
 * APIXO's schemas and pure helpers on their own: the top-level request
 * fields (request_type, callback_url, provider), the per-mode field rules,
 * defensive resultJson parsing, the uncertain balance shapes, the answer
 * interpretation and the retry rule.
 */
import { describe, expect, it } from 'vitest';
import { interpretAnswer, isRetryable, parseCallbackBody, validateCreate } from '../../../src/providers/apixo/client.js';
import { ApixoError, categoryOf, failCodeCategory } from '../../../src/providers/apixo/errors.js';
import { ApixoCreateRequestSchema, BalanceDataSchema, parseResultJson, StatusDataSchema } from '../../../src/providers/apixo/schemas.js';

const t2i = { mode: 'text-to-image', prompt: 'a fox' };
const ok = (body: unknown): boolean => ApixoCreateRequestSchema.safeParse(body).success;

describe('create request', () => {
  it('request_type async or callback; callback needs callback_url and callback_url needs callback', () => {
    expect(ok({ input: t2i })).toBe(true);
    expect(ok({ request_type: 'async', input: t2i })).toBe(true);
    expect(ok({ request_type: 'callback', callback_url: 'https://bot.example/cb', input: t2i })).toBe(true);
    expect(ok({ request_type: 'callback', input: t2i })).toBe(false);
    expect(ok({ request_type: 'async', callback_url: 'https://bot.example/cb', input: t2i })).toBe(false);
    expect(ok({ request_type: 'sync', input: t2i })).toBe(false);
    expect(ok({ request_type: 'callback', callback_url: 'not a url', input: t2i })).toBe(false);
  });

  it("provider is 'auto' only; unknown fields are refused", () => {
    expect(ok({ provider: 'auto', input: t2i })).toBe(true);
    expect(ok({ provider: 'other', input: t2i })).toBe(false);
    expect(ok({ input: { ...t2i, seed: 1 } })).toBe(false);
    expect(ok({ input: t2i, extra: true })).toBe(false);
    expect(ok({ input: { ...t2i, mode: 'outpaint' } })).toBe(false);
  });

  it.each(['v6', 'v6.1', 'v7', 'niji 6', 'niji 7'])('version %s', (version) => {
    expect(ok({ input: { ...t2i, version } })).toBe(true);
  });

  it('speed fast or turbo only', () => {
    expect(ok({ input: { ...t2i, speed: 'fast' } })).toBe(true);
    expect(ok({ input: { ...t2i, speed: 'turbo' } })).toBe(true);
    expect(ok({ input: { ...t2i, speed: 'relaxed' } })).toBe(false);
  });

  it('enhancements only on generations; not on vary / upscale / upload-paint', () => {
    expect(ok({ input: { mode: 'image-to-image', prompt: 'a', image_urls: ['https://x/a.png'], chaos: 5 } })).toBe(true);
    expect(ok({ input: { mode: 'vary', taskId: 't', imageIndex: 0, type: 0, chaos: 5 } })).toBe(false);
    expect(ok({ input: { mode: 'upscale', taskId: 't', imageIndex: 0, type: 0, aspect: '1:1' } })).toBe(false);
  });

  it('image-to-image needs image_urls; text-to-image takes none', () => {
    expect(ok({ input: { mode: 'image-to-image', prompt: 'a' } })).toBe(false);
    expect(ok({ input: { mode: 'image-to-image', prompt: 'a', image_urls: [] } })).toBe(false);
    expect(ok({ input: { ...t2i, image_urls: ['https://x/a.png'] } })).toBe(false);
  });

  it('vary: type 0 or 1, optional prompt; upscale: type 0–3; imageIndex 0–3; taskId required', () => {
    for (const type of [0, 1]) expect(ok({ input: { mode: 'vary', taskId: 't', imageIndex: 3, type } })).toBe(true);
    expect(ok({ input: { mode: 'vary', taskId: 't', imageIndex: 0, type: 2 } })).toBe(false);
    expect(ok({ input: { mode: 'vary', taskId: 't', imageIndex: 0, type: 0, prompt: 'snow' } })).toBe(true);
    for (const type of [0, 1, 2, 3]) expect(ok({ input: { mode: 'upscale', taskId: 't', imageIndex: 0, type } })).toBe(true);
    expect(ok({ input: { mode: 'upscale', taskId: 't', imageIndex: 0, type: 4 } })).toBe(false);
    expect(ok({ input: { mode: 'upscale', taskId: 't', imageIndex: 4, type: 0 } })).toBe(false);
    expect(ok({ input: { mode: 'upscale', imageIndex: 0, type: 0 } })).toBe(false);
    expect(ok({ input: { mode: 'upscale', taskId: 't', imageIndex: 0 } })).toBe(false);
  });

  it('upload-paint: exactly one of mask.areas / mask.url; imgPos inside the canvas', () => {
    const base = {
      mode: 'upload-paint',
      prompt: 'a hat',
      image_urls: ['https://x/a.png'],
      canvas: { width: 100, height: 100 },
      imgPos: { width: 100, height: 100, x: 0, y: 0 },
    };
    expect(ok({ input: { ...base, mask: { url: 'data:image/png;base64,AAAA' } } })).toBe(true);
    expect(ok({ input: { ...base, mask: { areas: [{ width: 100, height: 100, points: [0, 0, 10, 0, 10, 10] }] } } })).toBe(true);
    expect(ok({ input: { ...base, mask: {} } })).toBe(false);
    expect(ok({ input: { ...base, mask: { url: 'x', areas: [{ width: 1, height: 1, points: [0, 0, 1, 0, 1, 1] }] } } })).toBe(false);
    expect(ok({ input: { ...base, mask: { url: 'x' }, imgPos: { width: 100, height: 100, x: 1, y: 0 } } })).toBe(false);
    expect(ok({ input: { ...base, mask: { url: 'x' }, canvas: undefined } })).toBe(false);
  });

  it('validateCreate names the field and sends nothing', () => {
    try {
      validateCreate({ input: { ...t2i, stylize: 2000 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApixoError);
      expect((e as ApixoError).kind).toBe('request_invalid');
      expect((e as ApixoError).field).toBe('input.stylize');
    }
  });
});

describe('answers', () => {
  const ans = (httpStatus: number, text: string, headers: Record<string, string> = {}) => ({ endpoint: 'create' as const, httpStatus, headers, text });

  it('data of a 200 envelope; a bare status object is its own data', () => {
    expect(interpretAnswer(ans(200, '{"code":200,"message":"success","data":{"taskId":"t"}}'))).toEqual({ taskId: 't' });
    expect(interpretAnswer(ans(200, '{"code":200,"taskId":"t","state":"pending"}'))).toMatchObject({ taskId: 't', state: 'pending' });
  });

  it('a non-200 code decides; Retry-After is kept; the key is redacted', () => {
    try {
      interpretAnswer(ans(429, '{"code":429,"message":"slow down sk-secret"}', { 'retry-after': '2' }), { redact: ['sk-secret'] });
      expect.unreachable();
    } catch (e) {
      const err = e as ApixoError;
      expect(err.code).toBe(429);
      expect(err.retryAfterMs).toBe(2000);
      expect(err.message).not.toContain('sk-secret');
      expect(categoryOf(err, 'create')).toBe('rate_limited');
    }
  });

  it('an HTML error page is invalid_response by its status', () => {
    const e = (() => {
      try {
        interpretAnswer(ans(502, '<html>bad gateway</html>'));
      } catch (x) {
        return x as ApixoError;
      }
      return null;
    })()!;
    expect(e.kind).toBe('invalid_response');
    expect(categoryOf(e, 'create')).toBe('outcome_unknown');
    expect(categoryOf(e, 'read')).toBe('invalid_response');
    expect(isRetryable(e, 'read')).toBe(true);
    expect(isRetryable(e, 'create')).toBe(false);
  });

  it('retry rule: creates only when provably not created', () => {
    const mk = (init: Partial<ConstructorParameters<typeof ApixoError>[1]> & { kind: ApixoError['kind'] }) =>
      new ApixoError(init.kind, { endpoint: 'create', httpStatus: null, code: 'x', detail: '', ...init });
    expect(isRetryable(mk({ kind: 'answer', code: 429, httpStatus: 429 }), 'create')).toBe(true);
    expect(isRetryable(mk({ kind: 'answer', code: 503, httpStatus: 503 }), 'create')).toBe(true);
    expect(isRetryable(mk({ kind: 'answer', code: 500, httpStatus: 500 }), 'create')).toBe(false);
    expect(isRetryable(mk({ kind: 'network', connectFailed: true }), 'create')).toBe(true);
    expect(isRetryable(mk({ kind: 'network' }), 'create')).toBe(false);
    expect(isRetryable(mk({ kind: 'timeout' }), 'create')).toBe(false);
    expect(isRetryable(mk({ kind: 'timeout' }), 'read')).toBe(true);
    expect(isRetryable(mk({ kind: 'answer', code: 400, httpStatus: 400 }), 'read')).toBe(false);
  });
});

describe('status and resultJson', () => {
  it('resultJson as a string, an object, or garbage', () => {
    expect(parseResultJson('{"resultUrls":["https://x/1.png"]}')).toEqual({ urls: ['https://x/1.png'], malformed: false });
    expect(parseResultJson({ resultUrls: ['https://x/1.png'] })).toEqual({ urls: ['https://x/1.png'], malformed: false });
    expect(parseResultJson(null)).toEqual({ urls: [], malformed: false });
    expect(parseResultJson('{oops')).toEqual({ urls: [], malformed: true });
    expect(parseResultJson('42')).toEqual({ urls: [], malformed: true });
    expect(parseResultJson('{"other":[]}')).toEqual({ urls: [], malformed: true });
  });

  it('times as ms numbers or strings; failCode numbers become strings; unknown states are kept', () => {
    const s = StatusDataSchema.parse({ taskId: 't', state: 'queued_somewhere', createTime: '1700000000000', completeTime: null, failCode: 42 });
    expect(s).toMatchObject({ state: 'queued_somewhere', createTime: 1_700_000_000_000, completeTime: null, failCode: '42' });
  });

  it('states are matched case-insensitively', () => {
    expect(StatusDataSchema.parse({ taskId: 't', state: ' SUCCESS ' }).state).toBe('success');
  });

  it('callback bodies: enveloped or bare', () => {
    expect(parseCallbackBody({ code: 200, data: { taskId: 't', state: 'success', resultJson: '{"resultUrls":["u"]}' } }).resultUrls).toEqual(['u']);
    expect(parseCallbackBody('{"taskId":"t","state":"failed","failCode":"NSFW"}').failCode).toBe('NSFW');
    expect(() => parseCallbackBody('{')).toThrow(ApixoError);
  });

  it('failCode categories ignore case and punctuation', () => {
    expect(failCodeCategory('content_violation')).toBe('content_refused');
    expect(failCodeCategory('Insufficient-Credits')).toBe('insufficient_credits');
    expect(failCodeCategory(null)).toBe('generation_failed');
  });
});

describe('balance (shape uncertain)', () => {
  it.each([[12.5], ['12.5'], [{ balance: 12.5 }], [{ credits: '12.5' }], [{ remaining: 12.5 }], [{ currentBalance: 12.5 }]])('%j → 12.5', (data) => {
    expect(BalanceDataSchema.parse(data)).toBe(12.5);
  });
  it('no number is an error', () => {
    expect(BalanceDataSchema.safeParse({ foo: 1 }).success).toBe(false);
    expect(BalanceDataSchema.safeParse('lots').success).toBe(false);
  });
});
