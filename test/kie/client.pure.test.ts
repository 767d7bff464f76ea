/** The client's pure pieces: response interpretation and transport-error mapping, without HTTP. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { errorCodeOf, interpretResponse, transportError, type KieLogger } from '../../src/providers/kie/client.js';
import {
  KieInvalidResponseError,
  KieNetworkError,
  KieRateLimitedError,
  KieRecordNotFoundError,
  KieTimeoutError,
} from '../../src/providers/kie/errors.js';

const withCode = (code: string, message = 'boom'): Error => Object.assign(new Error(message), { code });

describe('errorCodeOf', () => {
  it('finds the code directly, through causes and inside AggregateError', () => {
    expect(errorCodeOf(withCode('ECONNRESET'))).toBe('ECONNRESET');
    expect(errorCodeOf(new Error('outer', { cause: withCode('ENOTFOUND') }))).toBe('ENOTFOUND');
    expect(errorCodeOf(new AggregateError([new Error('x'), withCode('ECONNREFUSED')], 'all failed'))).toBe('ECONNREFUSED');
    expect(errorCodeOf(new Error('none'))).toBeNull();
    expect(errorCodeOf('text')).toBeNull();
    const loop: Error & { cause?: unknown } = new Error('loop');
    loop.cause = loop;
    expect(errorCodeOf(loop)).toBeNull();
  });
});

describe('transportError', () => {
  const ctx = { endpoint: 'generate' as const, httpStatus: null, timeoutMs: 1234, redact: ['SECRET'] };
  it.each([
    ['ECONNREFUSED', KieNetworkError, true],
    ['ENOTFOUND', KieNetworkError, true],
    ['EAI_AGAIN', KieNetworkError, true],
    ['EHOSTUNREACH', KieNetworkError, true],
    ['UND_ERR_CONNECT_TIMEOUT', KieNetworkError, true],
    ['ECONNRESET', KieNetworkError, false],
    ['EPIPE', KieNetworkError, false],
    ['UND_ERR_SOCKET', KieNetworkError, false],
    ['HPE_INVALID_CONSTANT', KieNetworkError, false],
    ['SOMETHING_NEW', KieNetworkError, false],
    ['UND_ERR_HEADERS_TIMEOUT', KieTimeoutError, null],
    ['UND_ERR_BODY_TIMEOUT', KieTimeoutError, null],
    ['UND_ERR_RES_EXCEEDED_MAX_SIZE', KieInvalidResponseError, null],
  ] as const)('%s → %o (connectFailed %s)', (code, Ctor, connectFailed) => {
    const e = transportError(withCode(code, 'failed with SECRET inside'), ctx);
    expect(e).toBeInstanceOf(Ctor);
    if (connectFailed !== null) expect((e as KieNetworkError).connectFailed).toBe(connectFailed);
    expect(e.message).not.toContain('SECRET');
    expect(e.endpoint).toBe('generate');
  });

  it('an error without a code is a network error that may have been sent', () => {
    const e = transportError(new Error('mystery'), ctx);
    expect(e).toBeInstanceOf(KieNetworkError);
    expect((e as KieNetworkError).sent).toBe(true);
  });
});

describe('interpretResponse', () => {
  const base = { endpoint: 'recordInfo' as const, httpStatus: 200, headers: {} };
  it('returns data for code 200 whatever the HTTP status', () => {
    expect(interpretResponse({ ...base, httpStatus: 500, text: '{"code":200,"msg":"success","data":7}' })).toBe(7);
    expect(interpretResponse({ ...base, text: '{"code":200,"msg":null,"data":{"a":1}}' })).toEqual({ a: 1 });
  });

  it('maps error codes, carrying Retry-After', () => {
    const e = (() => {
      try {
        interpretResponse({ ...base, httpStatus: 429, headers: { 'retry-after': '2' }, text: '{"code":429,"msg":"slow down"}' });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(KieRateLimitedError);
    expect(e).toMatchObject({ retryAfterMs: 2000, httpStatus: 429 });
    expect(() => interpretResponse({ ...base, text: '{"code":422,"msg":"Record does not exist"}' })).toThrow(KieRecordNotFoundError);
  });

  it.each([
    ['an empty body', '', 'not_json'],
    ['HTML', '<html><body>502 Bad Gateway</body></html>', 'not_json'],
    ['JSON without code', '{"msg":"hi"}', 'bad_envelope'],
    ['a JSON array', '[1,2]', 'bad_envelope'],
    ['a fractional code', '{"code":200.5}', 'bad_envelope'],
  ])('%s → KieInvalidResponseError %s', (_name, text, reason) => {
    expect(() => interpretResponse({ ...base, httpStatus: 502, text })).toThrow(KieInvalidResponseError);
    try {
      interpretResponse({ ...base, httpStatus: 502, text });
    } catch (e) {
      expect(e).toMatchObject({ reason, httpStatus: 502 });
    }
  });

  it('redacts secrets echoed in a body', () => {
    try {
      interpretResponse({ ...base, text: 'token SECRET rejected' }, { redact: ['SECRET'] });
    } catch (e) {
      expect((e as Error).message).not.toContain('SECRET');
    }
  });
});

describe('KieLogger', () => {
  it('a pino logger fits', () => {
    const logger: KieLogger = pino({ level: 'silent' });
    logger.debug({ a: 1 }, 'ok');
    expect(logger).toBeDefined();
  });
});
