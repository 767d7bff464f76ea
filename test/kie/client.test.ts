/**
 * KieClient over real HTTP against the local KIE server (src/providers/kie/simulator):
 * every endpoint, request validation, every error code in both styles,
 * transport failures, and which failures are retried for reads and creates.
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KieClient, type KieClientOptions, type KieLogger } from '../../src/providers/kie/client.js';
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
} from '../../src/providers/kie/errors.js';
import type { GenerateRequest } from '../../src/providers/kie/schemas.js';
import { startKieSimulator, type KieSimulator, type RecordedRequest } from '../../src/providers/kie/simulator/index.js';

const KEY = 'sk-kie-test-7f3a9c1e5b2d4068';
const IMG = 'https://example.com/cat.png';

let sim: KieSimulator;
/** Every log line any client wrote, as text, to prove the key never leaks. */
const logLines: string[] = [];
const logger: KieLogger = {
  debug: (obj, msg) => logLines.push(`debug ${msg} ${JSON.stringify(obj)}`),
  warn: (obj, msg) => logLines.push(`warn ${msg} ${JSON.stringify(obj)}`),
};
const clients: KieClient[] = [];

/** A client for the simulator with fast retries and no client-side limits in the way. */
function client(overrides: Partial<KieClientOptions> = {}): KieClient {
  const c = new KieClient({
    baseUrl: sim.url,
    apiKey: KEY,
    timeoutMs: 2_000,
    readsPerSecond: 10_000,
    createLimit: { max: 10_000, windowMs: 1_000, marginMs: 0 },
    retry: { baseMs: 1, maxMs: 5 },
    logger,
    ...overrides,
  });
  clients.push(c);
  return c;
}

const apiRequests = (endpoint?: RecordedRequest['endpoint']): RecordedRequest[] =>
  sim.requests.filter((r) => r.endpoint !== 'file' && (endpoint === undefined || r.endpoint === endpoint));

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<KieError> {
  try {
    await p;
  } catch (e) {
    return e as KieError;
  }
  throw new Error('expected the call to fail');
}

/** A port nothing listens on: bind, note, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  sim = await startKieSimulator({ apiKey: KEY, credits: 100_000, durationMs: () => 3_600_000, createRateLimit: null, seed: 7 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim.close();
  // The API key never appears in any log line of the whole file.
  expect(logLines.length).toBeGreaterThan(0);
  for (const line of logLines) expect(line).not.toContain(KEY);
});

beforeEach(() => {
  sim.clearFaults();
  sim.clearRequests();
  sim.setCredits(100_000);
});

afterEach(() => {
  for (const line of logLines) expect(line).not.toContain(KEY);
});

describe('happy paths', () => {
  it('generate sends the validated body with the Bearer key and returns the taskId', async () => {
    const body: GenerateRequest = { taskType: 'mj_txt2img', prompt: 'a lighthouse at dusk', speed: 'fast', aspectRatio: '16:9' };
    const { taskId } = await client().generate(body);
    expect(sim.tasks.has(taskId)).toBe(true);
    const [req] = apiRequests();
    expect(req).toMatchObject({ method: 'POST', path: '/api/v1/mj/generate', endpoint: 'generate', responseCode: 200, authorized: true, body });
  });

  it('recordInfo follows a task from generating to success (record-info result shape normalized)', async () => {
    const c = client();
    const { taskId } = await c.generate({ taskType: 'mj_txt2img', prompt: 'x' });
    const running = await c.recordInfo(taskId);
    expect(running).toMatchObject({ taskId, taskType: 'mj_txt2img', successFlag: 0, resultUrls: [] });
    expect(running.params).toMatchObject({ prompt: 'x' });
    sim.finish(taskId);
    const done = await c.recordInfo(taskId);
    expect(done.successFlag).toBe(1);
    expect(done.resultUrls).toHaveLength(4);
    for (const u of done.resultUrls) expect(u).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(apiRequests('recordInfo').map((r) => r.query)).toEqual([{ taskId }, { taskId }]);
  });

  it('recordInfo reports failed tasks', async () => {
    const c = client();
    sim.inject({ kind: 'taskFailure', successFlag: 3, errorMessage: 'banned prompt' });
    const { taskId } = await c.generate({ taskType: 'mj_txt2img', prompt: 'x' });
    sim.finish(taskId, { successFlag: 3, errorMessage: 'banned prompt' });
    expect(await c.recordInfo(taskId)).toMatchObject({ successFlag: 3, errorMessage: 'banned prompt', resultUrls: [] });
  });

  it('upscale and vary act on a finished grid', async () => {
    const c = client();
    const { taskId: grid } = await c.generate({ taskType: 'mj_txt2img', prompt: 'x' });
    sim.finish(grid);
    const up = await c.upscale({ taskId: grid, imageIndex: 0 });
    const vary = await c.vary({ taskId: grid, imageIndex: 4 });
    expect(sim.tasks.get(up.taskId)).toMatchObject({ op: 'upscale', parentTaskId: grid, parentPosition: 0 });
    expect(sim.tasks.get(vary.taskId)).toMatchObject({ op: 'vary', parentTaskId: grid, parentPosition: 3 });
    expect(apiRequests().map((r) => r.path)).toEqual([
      '/api/v1/mj/generate',
      '/api/v1/mj/generateUpscale',
      '/api/v1/mj/generateVary',
    ]);
  });

  it('extendVideo extends a finished video', async () => {
    const c = client();
    const { taskId: video } = await c.generate({ taskType: 'mj_video', prompt: 'waves', fileUrls: [IMG], motion: 'low' });
    sim.finish(video);
    const auto = await c.extendVideo({ taskType: 'mj_video_extend_auto', taskId: video, index: 0 });
    const manual = await c.extendVideo({ taskType: 'mj_video_extend_manual', taskId: video, index: 0, prompt: 'more waves' });
    expect(sim.tasks.get(auto.taskId)).toMatchObject({ op: 'extend', parentTaskId: video });
    expect(sim.tasks.get(manual.taskId)).toMatchObject({ op: 'extend', taskType: 'mj_video_extend_manual' });
    expect(apiRequests('extend').map((r) => r.path)).toEqual(['/api/v1/mj/generateVideoExtend', '/api/v1/mj/generateVideoExtend']);
  });

  it('credits returns the balance, fractions included', async () => {
    sim.setCredits(5916.25);
    expect(await client().credits()).toBe(5916.25);
    expect(apiRequests()).toMatchObject([{ method: 'GET', path: '/api/v1/chat/credit', endpoint: 'credits' }]);
  });

  it('an unknown or expired task is KieRecordNotFoundError', async () => {
    const c = client();
    const unknown = await failure(c.recordInfo('no-such-task'));
    expect(unknown).toBeInstanceOf(KieRecordNotFoundError);
    expect((unknown as KieValidationError).recordMissing).toBe(true);
    const { taskId } = await c.generate({ taskType: 'mj_txt2img', prompt: 'x' });
    sim.forget(taskId);
    const expired = await failure(c.recordInfo(taskId));
    expect(expired).toBeInstanceOf(KieRecordNotFoundError);
    expect(expired.userMessage).toBe('That result is no longer available at KIE (results are kept about 14 days).');
    expect(apiRequests('recordInfo')).toHaveLength(2); // 422 is an answer, not retried
  });
});

describe('request validation happens before any HTTP call', () => {
  const long = 'x'.repeat(2001);
  type Bad = [string, 'generate' | 'upscale' | 'vary' | 'extend', string, Record<string, unknown>];
  const bad: Bad[] = [
    ['img2img without an image', 'generate', 'fileUrls', { taskType: 'mj_img2img', prompt: 'x' }],
    ['style reference without an image', 'generate', 'fileUrls', { taskType: 'mj_style_reference', prompt: 'x' }],
    ['omni reference without an image', 'generate', 'fileUrls', { taskType: 'mj_omni_reference', prompt: 'x' }],
    ['video without an image', 'generate', 'fileUrls', { taskType: 'mj_video', prompt: 'x', motion: 'low' }],
    ['video HD without an image', 'generate', 'fileUrls', { taskType: 'mj_video_hd', prompt: 'x', motion: 'low' }],
    ['txt2img with an image', 'generate', 'fileUrls', { taskType: 'mj_txt2img', prompt: 'x', fileUrls: [IMG] }],
    ['video with two images', 'generate', 'fileUrls', { taskType: 'mj_video', prompt: 'x', motion: 'low', fileUrls: [IMG, IMG] }],
    ['fileUrl and fileUrls together', 'generate', 'fileUrl', { taskType: 'mj_img2img', prompt: 'x', fileUrl: IMG, fileUrls: [IMG] }],
    ['speed on video', 'generate', 'speed', { taskType: 'mj_video', prompt: 'x', motion: 'low', fileUrls: [IMG], speed: 'fast' }],
    ['speed on video HD', 'generate', 'speed', { taskType: 'mj_video_hd', prompt: 'x', motion: 'low', fileUrls: [IMG], speed: 'turbo' }],
    ['speed on omni', 'generate', 'speed', { taskType: 'mj_omni_reference', prompt: 'x', fileUrls: [IMG], speed: 'relaxed' }],
    ['video without motion', 'generate', 'motion', { taskType: 'mj_video', prompt: 'x', fileUrls: [IMG] }],
    ['motion on an image task', 'generate', 'motion', { taskType: 'mj_img2img', prompt: 'x', fileUrls: [IMG], motion: 'low' }],
    ['videoBatchSize on an image task', 'generate', 'videoBatchSize', { taskType: 'mj_txt2img', prompt: 'x', videoBatchSize: 2 }],
    ['ow on txt2img', 'generate', 'ow', { taskType: 'mj_txt2img', prompt: 'x', ow: 100 }],
    ['ow on style reference', 'generate', 'ow', { taskType: 'mj_style_reference', prompt: 'x', fileUrls: [IMG], ow: 100 }],
    ['ow out of range', 'generate', 'ow', { taskType: 'mj_omni_reference', prompt: 'x', fileUrls: [IMG], ow: 1001 }],
    ['prompt over 2000', 'generate', 'prompt', { taskType: 'mj_txt2img', prompt: long }],
    ['empty prompt', 'generate', 'prompt', { taskType: 'mj_txt2img', prompt: '' }],
    ['unknown task type', 'generate', 'taskType', { taskType: 'mj_magic', prompt: 'x' }],
    ['unknown field', 'generate', '', { taskType: 'mj_txt2img', prompt: 'x', seed: 1 }],
    ['bad speed', 'generate', 'speed', { taskType: 'mj_txt2img', prompt: 'x', speed: 'Relax' }],
    ['bad aspect ratio', 'generate', 'aspectRatio', { taskType: 'mj_txt2img', prompt: 'x', aspectRatio: '7:3' }],
    ['stylization out of range', 'generate', 'stylization', { taskType: 'mj_txt2img', prompt: 'x', stylization: 1001 }],
    ['bad callback URL', 'generate', 'callBackUrl', { taskType: 'mj_txt2img', prompt: 'x', callBackUrl: 'not a url' }],
    ['upscale index 4', 'upscale', 'imageIndex', { taskId: 't', imageIndex: 4 }],
    ['upscale index -1', 'upscale', 'imageIndex', { taskId: 't', imageIndex: -1 }],
    ['upscale without taskId', 'upscale', 'taskId', { taskId: '', imageIndex: 0 }],
    ['vary index 0', 'vary', 'imageIndex', { taskId: 't', imageIndex: 0 }],
    ['vary index 5', 'vary', 'imageIndex', { taskId: 't', imageIndex: 5 }],
    ['vary fractional index', 'vary', 'imageIndex', { taskId: 't', imageIndex: 1.5 }],
    ['manual extend without prompt', 'extend', 'prompt', { taskType: 'mj_video_extend_manual', taskId: 't', index: 0 }],
    ['extend negative index', 'extend', 'index', { taskType: 'mj_video_extend_auto', taskId: 't', index: -1 }],
    ['extend prompt over 2000', 'extend', 'prompt', { taskType: 'mj_video_extend_manual', taskId: 't', index: 0, prompt: long }],
  ];

  const call = (c: KieClient, op: Bad[1], body: Record<string, unknown>): Promise<unknown> => {
    switch (op) {
      case 'generate':
        return c.generate(body as never);
      case 'upscale':
        return c.upscale(body as never);
      case 'vary':
        return c.vary(body as never);
      case 'extend':
        return c.extendVideo(body as never);
    }
  };

  it.each(bad)('%s → KieRequestValidationError (%s, field "%s")', async (_name, op, field, body) => {
    const e = await failure(call(client(), op, body));
    expect(e).toBeInstanceOf(KieRequestValidationError);
    expect((e as KieRequestValidationError).field).toBe(field);
    expect(e.endpoint).toBe(op);
    expect(sim.requests).toHaveLength(0);
  });

  it('recordInfo with an empty taskId is rejected locally', async () => {
    expect(await failure(client().recordInfo(''))).toBeInstanceOf(KieRequestValidationError);
    expect(sim.requests).toHaveLength(0);
  });

  const good: Array<[string, GenerateRequest]> = [
    ['txt2img, all image options', { taskType: 'mj_txt2img', prompt: 'x', speed: 'relaxed', aspectRatio: '2:3', version: '7', variety: 100, stylization: 1000, weirdness: 3000, enableTranslation: true, waterMark: '' }],
    ['txt2img, prompt of exactly 2000', { taskType: 'mj_txt2img', prompt: 'y'.repeat(2000) }],
    ['img2img with fileUrls', { taskType: 'mj_img2img', prompt: 'x', fileUrls: [IMG, IMG], speed: 'turbo' }],
    ['img2img with fileUrl', { taskType: 'mj_img2img', prompt: 'x', fileUrl: IMG }],
    ['style reference', { taskType: 'mj_style_reference', prompt: 'x', fileUrls: [IMG], version: 'niji6' }],
    ['omni reference with ow, no speed', { taskType: 'mj_omni_reference', prompt: 'x', fileUrls: [IMG], ow: 1 }],
    ['video, one image, motion, batch 4', { taskType: 'mj_video', prompt: 'x', fileUrls: [IMG], motion: 'high', videoBatchSize: 4 }],
    ['video HD', { taskType: 'mj_video_hd', prompt: 'x', fileUrl: IMG, motion: 'low' }],
    ['with a callback URL', { taskType: 'mj_txt2img', prompt: 'x', callBackUrl: 'http://127.0.0.1:1/cb' }],
  ];

  it.each(good)('%s is sent as is', async (_name, body) => {
    const { taskId } = await client().generate(body);
    expect(taskId).toBeTruthy();
    expect(apiRequests()).toMatchObject([{ endpoint: 'generate', responseCode: 200, body }]);
  });

  it('upscale 0–3 and vary 1–4 reach KIE', async () => {
    const c = client();
    const { taskId } = await c.generate({ taskType: 'mj_txt2img', prompt: 'x' });
    sim.finish(taskId);
    for (const imageIndex of [0, 3]) await c.upscale({ taskId, imageIndex });
    for (const imageIndex of [1, 4]) await c.vary({ taskId, imageIndex });
    expect(apiRequests().map((r) => r.responseCode)).toEqual([200, 200, 200, 200, 200]);
  });
});

describe('every KIE error code', () => {
  const table = [
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
  ] as const;
  const noRetry = { retry: { maxAttempts: 1, baseMs: 1, maxMs: 1 } };

  it.each(table)('HTTP 200 with body code %i → %o', async (code, Ctor) => {
    sim.inject({ kind: 'code', code, msg: `simulated ${code}`, endpoint: 'generate' });
    const e = await failure(client(noRetry).generate({ taskType: 'mj_txt2img', prompt: 'x' }));
    expect(e).toBeInstanceOf(Ctor);
    expect(e).toMatchObject({ code, httpStatus: 200, endpoint: 'generate', kieMessage: `simulated ${code}` });
    expect(apiRequests()).toHaveLength(1);
  });

  it.each(table)('real HTTP status %i → %o', async (code, Ctor) => {
    sim.inject({ kind: 'http', status: code, endpoint: 'credits' });
    const e = await failure(client(noRetry).credits());
    expect(e).toBeInstanceOf(Ctor);
    expect(e).toMatchObject({ code, httpStatus: code, endpoint: 'credits' });
  });

  it('the body code decides, not the HTTP status', async () => {
    sim.inject({ kind: 'http', status: 503, code: 402, endpoint: 'credits' });
    const e = await failure(client(noRetry).credits());
    expect(e).toBeInstanceOf(KieInsufficientCreditsError);
    expect(e.httpStatus).toBe(503);
  });

  it('an undocumented code is KieUnknownCodeError, not retried', async () => {
    sim.inject({ kind: 'code', code: 999, endpoint: 'credits', times: 5 });
    const e = await failure(client().credits());
    expect(e.name).toBe('KieUnknownCodeError');
    expect(e.code).toBe(999);
    expect(apiRequests()).toHaveLength(1);
  });

  it('real 401 and 402 from the simulator itself', async () => {
    const wrongKey = 'sk-wrong-key-0000000000';
    const e401 = await failure(client({ apiKey: wrongKey }).credits());
    expect(e401).toBeInstanceOf(KieUnauthorizedError);
    expect(`${e401.message} ${e401.userMessage} ${e401.kieMessage}`).not.toContain(wrongKey);
    sim.setCredits(0);
    const e402 = await failure(client().generate({ taskType: 'mj_txt2img', prompt: 'x' }));
    expect(e402).toBeInstanceOf(KieInsufficientCreditsError);
    expect(e402.userMessage).toBe("The team's KIE account is out of credits. Ask an admin to top it up.");
  });
});

describe('transport failures', () => {
  it('an HTML 502 from a proxy → KieInvalidResponseError with the status', async () => {
    sim.inject({ kind: 'html', endpoint: 'generate' });
    const e = await failure(client().generate({ taskType: 'mj_txt2img', prompt: 'x' }));
    expect(e).toBeInstanceOf(KieInvalidResponseError);
    expect(e).toMatchObject({ httpStatus: 502, reason: 'not_json' });
    expect(e.kieMessage).toContain('502');
  });

  it('a reset socket → KieNetworkError that may have been sent', async () => {
    sim.inject({ kind: 'reset', endpoint: 'generate' });
    const e = await failure(client().generate({ taskType: 'mj_txt2img', prompt: 'x' }));
    expect(e).toBeInstanceOf(KieNetworkError);
    expect(e).toMatchObject({ connectFailed: false, sent: true, httpStatus: null });
  });

  it('a slow answer → KieTimeoutError', async () => {
    sim.inject({ kind: 'slow', delayMs: 1_000, endpoint: 'credits', times: 5 });
    const e = await failure(client({ timeoutMs: 150, retry: { maxAttempts: 1 } }).credits());
    expect(e).toBeInstanceOf(KieTimeoutError);
    expect(e).toMatchObject({ timeoutMs: 150, endpoint: 'credits' });
  });

  it('a refused connection → KieNetworkError that was never sent', async () => {
    const c = client({ baseUrl: `http://127.0.0.1:${await closedPort()}`, retry: { maxAttempts: 1 } });
    const e = await failure(c.credits());
    expect(e).toBeInstanceOf(KieNetworkError);
    expect(e).toMatchObject({ connectFailed: true, sent: false, causeCode: 'ECONNREFUSED' });
  });

  it('JSON that is not the envelope, or data of the wrong shape → KieInvalidResponseError', async () => {
    sim.inject({ kind: 'http', status: 200, code: 200, endpoint: 'credits' }); // {code: 200, msg} without data
    const e = await failure(client({ retry: { maxAttempts: 1 } }).credits());
    expect(e).toBeInstanceOf(KieInvalidResponseError);
    expect(e).toMatchObject({ reason: 'bad_data', httpStatus: 200 });
  });

  it('aborting a call rejects with the signal reason, at once', async () => {
    sim.inject({ kind: 'slow', delayMs: 1_000, endpoint: 'credits' });
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const p = client().credits({ signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await expect(p).rejects.toBe(reason);
    await expect(client().credits({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('a closed client refuses calls', async () => {
    const c = client();
    await c.close();
    await expect(c.credits()).rejects.toThrow('KieClient is closed');
  });
});

describe('retries', () => {
  it('reads retry: record-info succeeds after 2 × 500', async () => {
    const c = client();
    const { taskId } = await c.generate({ taskType: 'mj_txt2img', prompt: 'x' });
    sim.inject({ kind: 'code', code: 500, endpoint: 'recordInfo', times: 2 });
    expect((await c.recordInfo(taskId)).taskId).toBe(taskId);
    expect(apiRequests('recordInfo').map((r) => r.responseCode)).toEqual([500, 500, 200]);
  });

  it.each([
    ['HTTP 500', { kind: 'http', status: 500 }],
    ['HTML 502', { kind: 'html' }],
    ['reset', { kind: 'reset' }],
    ['455', { kind: 'code', code: 455 }],
    ['429', { kind: 'code', code: 429 }],
  ] as const)('reads retry on %s', async (_name, fault) => {
    sim.inject({ ...fault, endpoint: 'credits', times: 2 });
    expect(await client().credits()).toBe(100_000);
    expect(apiRequests('credits')).toHaveLength(3);
  });

  it('reads retry on a timeout', async () => {
    sim.inject({ kind: 'slow', delayMs: 1_000, endpoint: 'credits' });
    expect(await client({ timeoutMs: 100 }).credits()).toBe(100_000);
    expect(apiRequests('credits')).toHaveLength(2);
  });

  it('reads give up after maxAttempts (4 by default) with the last error', async () => {
    sim.inject({ kind: 'code', code: 500, endpoint: 'credits', times: 10 });
    expect(await failure(client().credits())).toBeInstanceOf(KieServerError);
    expect(apiRequests('credits')).toHaveLength(4);
  });

  it.each([
    ['body code 500', { kind: 'code', code: 500 }, KieServerError],
    ['HTTP 500', { kind: 'http', status: 500 }, KieServerError],
    ['HTML 502', { kind: 'html' }, KieInvalidResponseError],
    ['reset', { kind: 'reset' }, KieNetworkError],
  ] as const)('creates are NOT retried on %s (the task may exist)', async (_name, fault, Ctor) => {
    sim.inject({ ...fault, endpoint: 'create', times: 5 });
    expect(await failure(client().generate({ taskType: 'mj_txt2img', prompt: 'x' }))).toBeInstanceOf(Ctor);
    expect(apiRequests('generate')).toHaveLength(1);
  });

  it('creates are NOT retried on a timeout, even though KIE created the task', async () => {
    sim.inject({ kind: 'slow', delayMs: 300, endpoint: 'generate' });
    const before = sim.tasks.size;
    const e = await failure(client({ timeoutMs: 100 }).generate({ taskType: 'mj_txt2img', prompt: 'x' }));
    expect(e).toBeInstanceOf(KieTimeoutError);
    expect(sim.tasks.size).toBe(before);
    // KIE finishes handling the request after we gave up: the task exists, so a retry would have charged twice.
    await expect.poll(() => sim.tasks.size, { interval: 20, timeout: 3_000 }).toBe(before + 1);
    expect(apiRequests('generate')).toHaveLength(1);
  });

  it('creates ARE retried on 429 (nothing was created), honouring maxAttempts 3', async () => {
    sim.inject({ kind: 'burst429', count: 2, endpoint: 'generate' });
    const before = sim.tasks.size;
    const { taskId } = await client().generate({ taskType: 'mj_txt2img', prompt: 'x' });
    expect(sim.tasks.size).toBe(before + 1);
    expect(sim.tasks.has(taskId)).toBe(true);
    expect(apiRequests('generate').map((r) => r.responseCode)).toEqual([429, 429, 200]);

    sim.clearRequests();
    sim.inject({ kind: 'burst429', count: 5, endpoint: 'upscale' });
    sim.finish(taskId);
    expect(await failure(client().upscale({ taskId, imageIndex: 0 }))).toBeInstanceOf(KieRateLimitedError);
    expect(apiRequests('upscale')).toHaveLength(3);
  });

  it('creates ARE retried on 455 (maintenance refuses before creating)', async () => {
    sim.inject({ kind: 'code', code: 455, endpoint: 'generate' });
    await client().generate({ taskType: 'mj_txt2img', prompt: 'x' });
    expect(apiRequests('generate').map((r) => r.responseCode)).toEqual([455, 200]);
  });

  it('creates ARE retried on connection refused (nothing was sent)', async () => {
    const sleeps: number[] = [];
    const c = client({
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const e = await failure(c.generate({ taskType: 'mj_txt2img', prompt: 'x' }));
    expect(e).toBeInstanceOf(KieNetworkError);
    expect((e as KieNetworkError).connectFailed).toBe(true);
    expect(sleeps).toHaveLength(2); // 3 attempts
    expect(logLines.filter((l) => l.startsWith('warn') && l.includes('"endpoint":"generate"')).length).toBeGreaterThanOrEqual(2);
  });

  it('a create retried after a refused connection succeeds once KIE is back, creating exactly one task', async () => {
    const port = await closedPort();
    let revived: KieSimulator | null = null;
    const c = client({
      baseUrl: `http://127.0.0.1:${port}`,
      // "KIE comes back" during the first backoff: a simulator starts on the dead port.
      sleep: async () => {
        revived ??= await startKieSimulator({ apiKey: KEY, port, createRateLimit: null, durationMs: () => 60_000 });
      },
    });
    try {
      const { taskId } = await c.generate({ taskType: 'mj_txt2img', prompt: 'x' });
      expect(revived).not.toBeNull();
      const back = revived as unknown as KieSimulator;
      expect(back.tasks.has(taskId)).toBe(true);
      expect(back.requests.filter((r) => r.endpoint === 'generate')).toHaveLength(1);
    } finally {
      await c.close();
      await (revived as KieSimulator | null)?.close();
    }
  });
});

describe('secrets', () => {
  it('a KIE message echoing the key is redacted everywhere', async () => {
    sim.inject({ kind: 'code', code: 400, msg: `invalid token Bearer ${KEY} for key ${KEY}`, endpoint: 'credits' });
    const e = await failure(client().credits());
    for (const text of [e.message, e.kieMessage, e.userMessage, String(e), JSON.stringify(e), e.stack ?? '']) {
      expect(text).not.toContain(KEY);
    }
    expect(e.kieMessage).toContain('***');
  });

  it('the client object does not expose the key', () => {
    const c = client();
    expect(JSON.stringify(c)).not.toContain(KEY);
    expect(Object.values(c).join(' ')).not.toContain(KEY);
  });
});
