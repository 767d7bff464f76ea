import { describe, expect, it, vi } from 'vitest';
import {
  errorFromEnvelope,
  KieInvalidResponseError,
  KieNetworkError,
  KieTimeoutError,
  type KieError,
} from '../../src/providers/kie/errors.js';
import {
  backoffDelay,
  isRetryable,
  nextDelay,
  realSleep,
  retryAfterMs,
  shouldRetry,
  withRetry,
  type CallKind,
  type RetryPolicy,
} from '../../src/providers/kie/retry.js';

const at = { endpoint: 'generate', httpStatus: 200 };
const code = (c: number): KieError => errorFromEnvelope(c, '', at);
const html = (status: number): KieError => new KieInvalidResponseError('not_json', '<html>', { endpoint: 'x', httpStatus: status });
const refused = new KieNetworkError(true, 'ECONNREFUSED', 'refused', { endpoint: 'x', httpStatus: null });
const dns = new KieNetworkError(true, 'ENOTFOUND', 'dns', { endpoint: 'x', httpStatus: null });
const reset = new KieNetworkError(false, 'ECONNRESET', 'reset', { endpoint: 'x', httpStatus: null });
const timeout = new KieTimeoutError(1000, 'timeout', { endpoint: 'x', httpStatus: null });

describe('backoffDelay', () => {
  const opts = { baseMs: 100, maxMs: 1000, factor: 2 };
  it.each([
    // attempt, random, expected
    [1, 0, 0],
    [1, 0.5, 50],
    [1, 0.999, 99],
    [2, 0.5, 100],
    [3, 0.5, 200],
    [4, 0.5, 400],
    [5, 0.5, 500], // capped at maxMs 1000
    [50, 0.5, 500],
    [0, 0.5, 50], // attempt 0 treated as the first
  ])('attempt %i with random %d → %i ms', (attempt, r, expected) => {
    expect(backoffDelay(attempt, opts, () => r)).toBe(expected);
  });

  it('defaults to factor 2 and clamps a bad random', () => {
    expect(backoffDelay(3, { baseMs: 10, maxMs: 1000 }, () => 0.5)).toBe(20);
    expect(backoffDelay(1, opts, () => 7)).toBe(100);
    expect(backoffDelay(1, opts, () => -1)).toBe(0);
  });
});

describe('isRetryable / shouldRetry', () => {
  const table: Array<[string, unknown, boolean, boolean]> = [
    // name, error, read retries, create retries
    ['400', code(400), false, false],
    ['401', code(401), false, false],
    ['402', code(402), false, false],
    ['404', code(404), false, false],
    ['422', code(422), false, false],
    ['429', code(429), true, true],
    ['455', code(455), true, true],
    ['500', code(500), true, false],
    ['501', code(501), false, false],
    ['505', code(505), false, false],
    ['unknown 999', code(999), false, false],
    ['HTML 502', html(502), true, false],
    ['HTML 503', html(503), true, false],
    ['HTTP 429 without body', html(429), true, true],
    ['bad JSON with HTTP 200', html(200), false, false],
    ['bad JSON with HTTP 404', html(404), false, false],
    ['connection refused', refused, true, true],
    ['DNS failure', dns, true, true],
    ['reset after sending', reset, true, false],
    ['timeout', timeout, true, false],
    ['plain Error', new Error('bug'), false, false],
    ['abort', new DOMException('aborted', 'AbortError'), false, false],
  ];
  it.each(table)('%s: read %s, create %s', (_name, error, read, create) => {
    expect(isRetryable(error, 'read')).toBe(read);
    expect(isRetryable(error, 'create')).toBe(create);
  });

  it('stops when attempts run out', () => {
    expect(shouldRetry(code(429), { kind: 'create' }, 1, 3)).toBe(true);
    expect(shouldRetry(code(429), { kind: 'create' }, 2, 3)).toBe(true);
    expect(shouldRetry(code(429), { kind: 'create' }, 3, 3)).toBe(false);
    expect(shouldRetry(code(500), { kind: 'read' }, 1, 1)).toBe(false);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [{ 'retry-after': '3' }, 3000],
    [{ 'Retry-After': '0' }, 0],
    [{ 'retry-after': '1.5' }, 1500],
    [{ 'retry-after': ['2', '9'] }, 2000],
    [{ 'retry-after': 'Wed, 01 Jan 2025 00:00:10 GMT' }, 10_000],
    [{ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, 0],
    [{ 'retry-after': 'soon' }, null],
    [{ 'retry-after': '' }, null],
    [{ 'retry-after': '-1' }, null],
    [{}, null],
  ])('%o → %s', (headers, expected) => {
    expect(retryAfterMs(headers, now)).toBe(expected);
  });

  it('reads a fetch Headers too', () => {
    expect(retryAfterMs(new Headers({ 'Retry-After': '4' }), now)).toBe(4000);
  });
});

describe('nextDelay', () => {
  const policy: RetryPolicy = { kind: 'read', maxAttempts: 4, baseMs: 100, maxMs: 1000, maxRetryAfterMs: 5000 };
  const with429 = (ms: number | null): KieError => errorFromEnvelope(429, '', { ...at, retryAfterMs: ms });
  it('uses the backoff, or Retry-After when longer, or gives up when too long', () => {
    expect(nextDelay(with429(null), 1, policy, () => 0.5)).toBe(50);
    expect(nextDelay(with429(2000), 1, policy, () => 0.5)).toBe(2000);
    expect(nextDelay(with429(10), 1, policy, () => 0.5)).toBe(50);
    expect(nextDelay(with429(6000), 1, policy, () => 0.5)).toBeNull();
    expect(nextDelay(new Error('x'), 2, policy, () => 0.5)).toBe(100);
  });
});

/** Fake time: sleeping only records the wait. */
function fakeSleep() {
  const waits: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    signal?.throwIfAborted();
    waits.push(ms);
  };
  return { waits, sleep };
}

describe('withRetry', () => {
  const policy = (kind: CallKind, maxAttempts = 4): RetryPolicy => ({ kind, maxAttempts, baseMs: 100, maxMs: 1000 });

  it('returns the first success and passes the attempt number', async () => {
    const { waits, sleep } = fakeSleep();
    const fn = vi.fn(async (attempt: number) => {
      if (attempt < 3) throw code(500);
      return `ok on ${attempt}`;
    });
    await expect(withRetry(fn, policy('read'), { sleep, random: () => 0.5 })).resolves.toBe('ok on 3');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(waits).toEqual([50, 100]);
  });

  it('throws the last error when attempts run out', async () => {
    const { waits, sleep } = fakeSleep();
    const fn = vi.fn(async () => {
      throw code(455);
    });
    await expect(withRetry(fn, policy('read', 4), { sleep, random: () => 1 })).rejects.toMatchObject({ code: 455 });
    expect(fn).toHaveBeenCalledTimes(4);
    expect(waits).toEqual([100, 200, 400]);
  });

  it('never retries a create after a failure that may have created the task', async () => {
    for (const error of [code(500), reset, timeout, html(502)]) {
      const { waits, sleep } = fakeSleep();
      const fn = vi.fn(async () => {
        throw error;
      });
      await expect(withRetry(fn, policy('create', 3), { sleep })).rejects.toBe(error);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(waits).toEqual([]);
    }
  });

  it('retries a create on 429 and connection refused', async () => {
    const { sleep } = fakeSleep();
    const errors = [code(429), refused];
    const fn = vi.fn(async () => {
      const e = errors.shift();
      if (e) throw e;
      return 'created';
    });
    await expect(withRetry(fn, policy('create', 3), { sleep })).resolves.toBe('created');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('honours Retry-After and tells onRetry', async () => {
    const { waits, sleep } = fakeSleep();
    const onRetry = vi.fn();
    let n = 0;
    const fn = async () => {
      if (n++ === 0) throw errorFromEnvelope(429, '', { ...at, retryAfterMs: 700 });
      return 1;
    };
    await withRetry(fn, policy('create'), { sleep, random: () => 0, onRetry });
    expect(waits).toEqual([700]);
    expect(onRetry).toHaveBeenCalledWith(expect.objectContaining({ attempt: 1, delayMs: 700 }));
  });

  it('stops at once when the signal aborts, with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by user');
    const { sleep } = fakeSleep();
    const fn = vi.fn(async () => {
      controller.abort(reason);
      throw code(500);
    });
    await expect(withRetry(fn, policy('read'), { sleep, signal: controller.signal })).rejects.toBe(reason);
    expect(fn).toHaveBeenCalledTimes(1);
    await expect(withRetry(fn, policy('read'), { sleep, signal: controller.signal })).rejects.toBe(reason);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('realSleep', () => {
  it('rejects with the abort reason', async () => {
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      const p = realSleep(10_000, controller.signal);
      const reason = new Error('stop');
      controller.abort(reason);
      await expect(p).rejects.toBe(reason);
      const done = realSleep(5000);
      vi.advanceTimersByTime(5000);
      await expect(done).resolves.toBeUndefined();
      await expect(realSleep(1, controller.signal)).rejects.toBe(reason);
    } finally {
      vi.useRealTimers();
    }
  });
});
