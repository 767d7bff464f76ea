/**
 * Contract tests: the APIXO adapter (the provider port) against the local
 * APIXO simulator over real HTTP. Every mode, every documented field and
 * range (an invalid one sends nothing), each HTTP error and failCode → the
 * port's category, polling and callbacks, and malformed resultJson.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  canFollowUp,
  ProviderError,
  type CreateRequest,
  type FollowUpRequest,
  type ProviderErrorCategory,
} from '../../../src/domain/provider.js';
import { ApixoProvider, APIXO_CAPABILITIES } from '../../../src/providers/apixo/adapter.js';
import { ApixoClient, type ApixoClientOptions } from '../../../src/providers/apixo/client.js';
import { startApixoSimulator, type ApixoRecordedRequest, type ApixoSimulator } from '../../../src/providers/apixo/simulator/index.js';

const KEY = 'apx-test-key-5d1c9e77b0a2';
const IMG = 'https://example.com/cat.png';
const DURATION = 10_000;

let sim: ApixoSimulator;
let clock = Date.UTC(2026, 0, 1);
const clients: ApixoClient[] = [];

function provider(overrides: Partial<ApixoClientOptions> = {}): ApixoProvider {
  const client = new ApixoClient({ baseUrl: sim.url, apiKey: KEY, timeoutMs: 1_000, retry: { baseMs: 1, maxMs: 5 }, ...overrides });
  clients.push(client);
  return new ApixoProvider(client);
}

const creates = (): ApixoRecordedRequest[] => sim.requests.filter((r) => r.endpoint === 'create');
const lastInput = (): Record<string, unknown> => (creates().at(-1)!.body as { input: Record<string, unknown> }).input;

async function categoryOf(p: Promise<unknown>): Promise<ProviderErrorCategory> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return (e as ProviderError).category;
}

/** A finished grid made through the port. */
async function grid(p: ApixoProvider): Promise<string> {
  const { taskId } = await p.create({ kind: 'imagine', prompt: 'a red fox' });
  sim.finish(taskId);
  return taskId;
}

beforeAll(async () => {
  sim = await startApixoSimulator({ apiKey: KEY, now: () => clock, seed: 7, durationMs: () => DURATION });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.clearRequests();
  sim.setCredits(10_000);
});

describe('capabilities', () => {
  it('offers U/V/🔄 on grids, typed upscales and varies on upscales, and no video', () => {
    expect(canFollowUp(APIXO_CAPABILITIES, 'grid', 'upscale')).toBe(true);
    expect(canFollowUp(APIXO_CAPABILITIES, 'grid', 'reroll')).toBe(true);
    for (const a of ['upscale_subtle', 'upscale_creative', 'upscale_2x', 'upscale_4x', 'vary_subtle', 'vary_strong'] as const) {
      expect(canFollowUp(APIXO_CAPABILITIES, 'upscale', a)).toBe(true);
    }
    expect(canFollowUp(APIXO_CAPABILITIES, 'upscale', 'animate_high')).toBe(false);
    expect(APIXO_CAPABILITIES.followUps.video).toEqual([]);
    expect(APIXO_CAPABILITIES.creates).not.toContain('animate');
  });
});

describe('modes', () => {
  it('text-to-image sends every option under APIXO names and polls pending → running → succeeded with 4 real PNGs', async () => {
    const p = provider();
    const { taskId } = await p.create({
      kind: 'imagine',
      prompt: 'a red fox',
      options: { speed: 'turbo', version: 'niji7', aspectRatio: '16:9', chaos: 20, stylize: 250, weird: 10, translate: true },
    });
    expect(creates().at(-1)!.body).toEqual({
      request_type: 'async',
      input: { mode: 'text-to-image', prompt: 'a red fox', speed: 'turbo', version: 'niji 7', aspect: '16:9', chaos: 20, stylize: 250, weird: 10, enableTranslation: true },
    });
    expect(creates().at(-1)!.path).toBe('/api/v1/generateTask/midjourney');
    expect((await p.status(taskId)).state).toBe('pending');
    clock += DURATION / 2;
    expect((await p.status(taskId)).state).toBe('running');
    clock += DURATION;
    const done = await p.status(taskId);
    expect(done.state).toBe('succeeded');
    expect(done.results).toHaveLength(4);
    expect(done.failure).toBeNull();
    expect(done.timings.costMs).toBe(DURATION);
    expect(done.timings.completedAt! - done.timings.createdAt!).toBe(DURATION);
    const png = Buffer.from(await (await fetch(done.results[0]!.url)).arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('image-to-image carries image_urls', async () => {
    const p = provider();
    await p.create({ kind: 'imagine', prompt: 'a dog in a park', imageUrls: [IMG, 'https://example.com/b.webp'], imageMode: 'reference' });
    expect(lastInput()).toEqual({ mode: 'image-to-image', prompt: 'a dog in a park', image_urls: [IMG, 'https://example.com/b.webp'] });
  });

  it('edit becomes upload-paint with a mask image, canvas and imgPos', async () => {
    const p = provider();
    const { taskId } = await p.create({ kind: 'edit', prompt: 'a hat', imageUrl: IMG, imageSize: { width: 1024, height: 768 }, mask: { kind: 'image', url: 'https://example.com/mask.png' } });
    expect(lastInput()).toEqual({
      mode: 'upload-paint',
      prompt: 'a hat',
      image_urls: [IMG],
      mask: { url: 'https://example.com/mask.png' },
      canvas: { width: 1024, height: 768 },
      imgPos: { width: 1024, height: 768, x: 0, y: 0 },
    });
    sim.finish(taskId);
    expect((await p.status(taskId)).results).toHaveLength(4);
  });

  it('edit with polygons sends mask.areas', async () => {
    const p = provider();
    await p.create({ kind: 'edit', prompt: 'a hat', imageUrl: IMG, imageSize: { width: 100, height: 80 }, mask: { kind: 'polygons', polygons: [[10, 10, 90, 10, 90, 70]] } });
    expect(lastInput()['mask']).toEqual({ areas: [{ width: 100, height: 80, points: [10, 10, 90, 10, 90, 70] }] });
  });

  it('U and V on a grid: upscale type 0 and vary type 1 (strong) with the 0-based position', async () => {
    const p = provider();
    const g = await grid(p);
    const u = await p.followUp({ action: 'upscale', source: { taskId: g, position: 2, resultKind: 'grid' } });
    expect(lastInput()).toEqual({ mode: 'upscale', taskId: g, imageIndex: 2, type: 0 });
    sim.finish(u.taskId);
    expect((await p.status(u.taskId)).results).toHaveLength(1);
    const v = await p.followUp({ action: 'vary', source: { taskId: g, position: 3, resultKind: 'grid' } });
    expect(lastInput()).toEqual({ mode: 'vary', taskId: g, imageIndex: 3, type: 1 });
    sim.finish(v.taskId);
    expect((await p.status(v.taskId)).results).toHaveLength(4);
  });

  it.each([
    ['upscale_subtle', { mode: 'upscale', type: 0 }],
    ['upscale_creative', { mode: 'upscale', type: 1 }],
    ['upscale_2x', { mode: 'upscale', type: 2 }],
    ['upscale_4x', { mode: 'upscale', type: 3 }],
    ['vary_subtle', { mode: 'vary', type: 0 }],
    ['vary_strong', { mode: 'vary', type: 1 }],
  ] as const)('%s on an upscale acts on the grid image it came from', async (action, expected) => {
    const p = provider();
    const g = await grid(p);
    const up = await p.followUp({ action: 'upscale', source: { taskId: g, position: 1, resultKind: 'grid' } });
    sim.finish(up.taskId);
    const { taskId } = await p.followUp({ action, source: { taskId: up.taskId, position: 0, resultKind: 'upscale', grid: { taskId: g, position: 1 } } });
    expect(lastInput()).toEqual({ ...expected, taskId: g, imageIndex: 1 });
    sim.finish(taskId);
    expect((await p.status(taskId)).state).toBe('succeeded');
  });

  it('vary passes an optional new prompt', async () => {
    const p = provider();
    const g = await grid(p);
    await p.followUp({ action: 'vary', prompt: 'more snow', source: { taskId: g, position: 0, resultKind: 'grid' } });
    expect(lastInput()).toEqual({ mode: 'vary', taskId: g, imageIndex: 0, type: 1, prompt: 'more snow' });
  });

  it('balance reads current-balance and drops with each create', async () => {
    const p = provider();
    expect(await p.balance()).toEqual({ credits: 10_000 });
    await p.create({ kind: 'imagine', prompt: 'x', options: { speed: 'fast' } });
    expect((await p.balance()).credits).toBe(10_000 - 8);
  });
});

describe('validation: an invalid request sends nothing', () => {
  const long = 'x'.repeat(2000);
  const valid: Array<[string, CreateRequest]> = [
    ['chaos 0', { kind: 'imagine', prompt: 'a', options: { chaos: 0 } }],
    ['chaos 100', { kind: 'imagine', prompt: 'a', options: { chaos: 100 } }],
    ['stylize 0', { kind: 'imagine', prompt: 'a', options: { stylize: 0 } }],
    ['stylize 1000', { kind: 'imagine', prompt: 'a', options: { stylize: 1000 } }],
    ['weird 0', { kind: 'imagine', prompt: 'a', options: { weird: 0 } }],
    ['weird 3000', { kind: 'imagine', prompt: 'a', options: { weird: 3000 } }],
    ['prompt of 2000', { kind: 'imagine', prompt: long, options: {} }],
    ['every version', { kind: 'imagine', prompt: 'a', options: { version: '6' } }],
    ['aspect 21:9', { kind: 'imagine', prompt: 'a', options: { aspectRatio: '21:9' } }],
  ];
  it.each(valid)('accepts %s', async (_, req) => {
    const p = provider();
    expect(p.check(req)).toBeNull();
    await p.create(req);
    expect(creates()).toHaveLength(1);
  });

  const g = { taskId: 'a'.repeat(32), position: 0, resultKind: 'grid' as const };
  const invalid: Array<[string, CreateRequest | FollowUpRequest, string]> = [
    ['chaos -1', { kind: 'imagine', prompt: 'a', options: { chaos: -1 } }, 'chaos'],
    ['chaos 101', { kind: 'imagine', prompt: 'a', options: { chaos: 101 } }, 'chaos'],
    ['chaos 1.5', { kind: 'imagine', prompt: 'a', options: { chaos: 1.5 } }, 'chaos'],
    ['stylize 1001', { kind: 'imagine', prompt: 'a', options: { stylize: 1001 } }, 'stylize'],
    ['weird 3001', { kind: 'imagine', prompt: 'a', options: { weird: 3001 } }, 'weird'],
    ['weird -1', { kind: 'imagine', prompt: 'a', options: { weird: -1 } }, 'weird'],
    ['empty prompt', { kind: 'imagine', prompt: '  ', options: {} }, 'prompt'],
    ['prompt of 2001', { kind: 'imagine', prompt: `${long}y`, options: {} }, 'prompt'],
    ['aspect "wide"', { kind: 'imagine', prompt: 'a', options: { aspectRatio: 'wide' } }, 'aspect'],
    ['version 5.2', { kind: 'imagine', prompt: 'a', options: { version: '5.2' } }, 'version'],
    ['speed relaxed', { kind: 'imagine', prompt: 'a', options: { speed: 'relaxed' } }, 'speed'],
    ['ftp image', { kind: 'imagine', prompt: 'a', imageUrls: ['ftp://example.com/a.png'] }, 'image_urls.0'],
    ['6 images', { kind: 'imagine', prompt: 'a', imageUrls: Array(6).fill(IMG) }, 'image_urls'],
    ['style reference', { kind: 'imagine', prompt: 'a', imageUrls: [IMG], imageMode: 'style' }, 'imageMode'],
    ['omni weight', { kind: 'imagine', prompt: 'a', options: { omniWeight: 100 } }, 'omniWeight'],
    ['animate', { kind: 'animate', imageUrl: IMG, motion: 'low', hd: false, batch: 1 }, 'kind'],
    ['odd polygon', { kind: 'edit', prompt: 'a', imageUrl: IMG, imageSize: { width: 10, height: 10 }, mask: { kind: 'polygons', polygons: [[1, 1, 2, 2, 3, 3, 4]] } }, 'mask.areas.0.points'],
    ['polygon outside', { kind: 'edit', prompt: 'a', imageUrl: IMG, imageSize: { width: 10, height: 10 }, mask: { kind: 'polygons', polygons: [[1, 1, 20, 1, 5, 5]] } }, 'mask.areas.0.points.2'],
    ['imageIndex 4', { action: 'upscale', source: { ...g, position: 4 } }, 'imageIndex'],
    ['imageIndex -1', { action: 'vary', source: { ...g, position: -1 } }, 'imageIndex'],
    ['U on an upscale', { action: 'upscale', source: { ...g, resultKind: 'upscale' } }, 'source'],
    ['typed upscale on a grid', { action: 'upscale_creative', source: g }, 'source'],
    ['typed vary without its grid', { action: 'vary_subtle', source: { ...g, resultKind: 'upscale' } }, 'source.grid'],
    ['extend', { action: 'extend_auto', source: { ...g, resultKind: 'video' } }, 'action'],
    ['animate an upscale', { action: 'animate_high', source: { ...g, resultKind: 'upscale', url: IMG } }, 'action'],
  ];
  it.each(invalid)('refuses %s (field %s) without a request', async (_, req, field) => {
    const p = provider();
    const refusal = p.check(req);
    expect(refusal?.category).toBe('bad_input');
    expect(refusal?.field).toBe(field);
    const call = 'action' in req ? p.followUp(req) : p.create(req);
    expect(await categoryOf(call)).toBe('bad_input');
    expect(sim.requests).toHaveLength(0);
  });
});

describe('HTTP errors → categories', () => {
  const table: Array<[number, ProviderErrorCategory, ProviderErrorCategory]> = [
    [400, 'bad_input', 'bad_input'],
    [401, 'unauthorized', 'unauthorized'],
    [402, 'insufficient_credits', 'insufficient_credits'],
    [403, 'content_refused', 'content_refused'],
    [404, 'not_found', 'not_found'],
    [429, 'rate_limited', 'rate_limited'],
    [500, 'unavailable', 'unavailable'],
    [503, 'unavailable', 'unavailable'],
  ];
  it.each(table)('HTTP %i → %s on create, %s on status', async (status, onCreate, onStatus) => {
    const p = provider();
    sim.inject({ kind: 'http', status, endpoint: 'create', times: Infinity });
    expect(await categoryOf(p.create({ kind: 'imagine', prompt: 'a' }))).toBe(onCreate);
    // creates are retried only when APIXO provably created nothing (429, 503)
    expect(creates()).toHaveLength(status === 429 || status === 503 ? 3 : 1);
    sim.clearFaults();
    sim.inject({ kind: 'http', status, endpoint: 'status', times: Infinity });
    expect(await categoryOf(p.status('abc'))).toBe(onStatus);
    // reads are retried on 429 and 5xx
    expect(sim.requests.filter((r) => r.endpoint === 'status')).toHaveLength(status === 429 || status >= 500 ? 4 : 1);
  });

  it('every answer is reported by endpoint and code for /metrics (each retry counts)', async () => {
    const seen: string[] = [];
    const p = provider({ onResponse: (endpoint, code) => seen.push(`${endpoint} ${code}`) });
    sim.inject({ kind: 'http', status: 503, endpoint: 'create', times: 1 });
    const { taskId } = await p.create({ kind: 'imagine', prompt: 'a' });
    await p.status(taskId);
    expect(seen).toEqual(['create 503', 'create 200', 'status 200']);
  });

  it('a body code on HTTP 200 decides too', async () => {
    sim.inject({ kind: 'code', code: 402, endpoint: 'create' });
    expect(await categoryOf(provider().create({ kind: 'imagine', prompt: 'a' }))).toBe('insufficient_credits');
  });

  it('the real checks: wrong key 401, empty balance 402, unknown task 404, schema 400 (if sent anyway)', async () => {
    const wrong = provider({ apiKey: 'not-the-key' });
    const e = await wrong.create({ kind: 'imagine', prompt: 'a' }).then(() => { throw new Error('expected a failure'); }, (x: unknown) => x as ProviderError);
    expect(e.category).toBe('unauthorized');
    expect(e.message).not.toContain('not-the-key');
    sim.setCredits(1);
    expect(await categoryOf(provider().create({ kind: 'imagine', prompt: 'a' }))).toBe('insufficient_credits');
    expect(await categoryOf(provider().status('f'.repeat(32)))).toBe('not_found');
    const raw = await fetch(`${sim.url}/api/v1/generateTask/midjourney`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { mode: 'upscale', taskId: 'x', imageIndex: 0, type: 4 } }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { message: string }).message).toMatch(/type/);
  });

  it('a 429 burst is waited out on create', async () => {
    const p = provider();
    sim.inject({ kind: 'burst429', count: 2, endpoint: 'create' });
    await expect(p.create({ kind: 'imagine', prompt: 'a' })).resolves.toHaveProperty('taskId');
    expect(creates()).toHaveLength(3);
  });

  it('a reset after the task was created is outcome_unknown, never resent', async () => {
    const p = provider();
    const before = sim.tasks.size;
    sim.inject({ kind: 'reset', endpoint: 'create', afterCreate: true });
    const e = await p.create({ kind: 'imagine', prompt: 'a' }).then(() => { throw new Error('expected a failure'); }, (x: unknown) => x as ProviderError);
    expect(e.category).toBe('outcome_unknown');
    expect(e.maybeCreated).toBe(true);
    expect(creates()).toHaveLength(1);
    expect(sim.tasks.size).toBe(before + 1);
  });

  it('a proxy HTML 502 on create is outcome_unknown; on status it is retried', async () => {
    const p = provider();
    sim.inject({ kind: 'html', endpoint: 'create' });
    expect(await categoryOf(p.create({ kind: 'imagine', prompt: 'a' }))).toBe('outcome_unknown');
    const g = await grid(p);
    sim.inject({ kind: 'html', endpoint: 'status' });
    expect((await p.status(g)).state).toBe('succeeded');
  });

  it('a slow answer: create times out as outcome_unknown; a slow status is retried', async () => {
    const p = provider({ timeoutMs: 200 });
    sim.inject({ kind: 'slow', delayMs: 600, endpoint: 'create' });
    expect(await categoryOf(p.create({ kind: 'imagine', prompt: 'a' }))).toBe('outcome_unknown');
    const g = await grid(p);
    sim.inject({ kind: 'slow', delayMs: 600, endpoint: 'status' });
    expect((await p.status(g)).state).toBe('succeeded');
    // The slow create still goes through at APIXO once its delay ends (as a real one
    // would): wait for it, so it cannot take a later test's injected task fault.
    await expect.poll(() => creates()[0]?.status, { timeout: 2_000 }).toBe(200);
  });

  it('an unreadable status answer is invalid_response after retries; a refused connection is unavailable', async () => {
    const p = provider();
    sim.inject({ kind: 'raw', body: '{"code":200,"data":{"nope":1}}', endpoint: 'status' });
    expect(await categoryOf(p.status('abc'))).toBe('invalid_response');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const gone = provider({ baseUrl: `http://127.0.0.1:${port}` });
    expect(await categoryOf(gone.create({ kind: 'imagine', prompt: 'a' }))).toBe('unavailable');
  });
});

describe('failCodes → categories (open strings)', () => {
  it.each([
    ['CONTENT_VIOLATION', 'content_refused'],
    ['NSFW_DETECTED', 'content_refused'],
    ['SensitiveContentDetected', 'content_refused'],
    ['NSFW', 'content_refused'],
    ['INVALID_IMAGE_URL', 'bad_input'],
    ['PROMPT_TOO_LONG', 'bad_input'],
    ['PromptLengthExceeded', 'bad_input'],
    ['INVALID_TASK_ID', 'not_found'],
    ['INSUFFICIENT_CREDITS', 'insufficient_credits'],
    ['PROCESSING_TIMEOUT', 'generation_failed'],
    ['SOMETHING_NEW_2027', 'generation_failed'],
  ] as const)('%s → %s', async (failCode, category) => {
    const p = provider();
    sim.inject({ kind: 'taskFailure', failCode, failMsg: `simulated ${failCode}` });
    const { taskId } = await p.create({ kind: 'imagine', prompt: 'a' });
    clock += DURATION;
    const s = await p.status(taskId);
    expect(s.state).toBe('failed');
    expect(s.failure).toMatchObject({ category, code: failCode });
    expect(s.results).toEqual([]);
  });

  it('vary on an unknown grid is accepted, then fails INVALID_TASK_ID → not_found', async () => {
    const p = provider();
    const { taskId } = await p.followUp({ action: 'vary', source: { taskId: 'f'.repeat(32), position: 0, resultKind: 'grid' } });
    clock += DURATION;
    expect((await p.status(taskId)).failure?.category).toBe('not_found');
  });
});

describe('resultJson', () => {
  it.each([['{not json'], ['{"resultUrls":"x"}'], ['[]'], ['{"resultUrls":[]}'], ['"just a string"']])(
    'a success with resultJson %s is a failure, not a crash',
    async (resultJson) => {
      const p = provider();
      sim.inject({ kind: 'malformedResult', resultJson });
      const { taskId } = await p.create({ kind: 'imagine', prompt: 'a' });
      clock += DURATION;
      const s = await p.status(taskId);
      expect(s.state).toBe('failed');
      expect(s.failure?.category).toBe('generation_failed');
    },
  );

  it('drops entries that are not URLs and keeps the rest', async () => {
    const p = provider();
    sim.inject({ kind: 'malformedResult', resultJson: JSON.stringify({ resultUrls: ['https://x/a.png', 3, '', null, { url: 'https://x/b.png' }] }) });
    const { taskId } = await p.create({ kind: 'imagine', prompt: 'a' });
    clock += DURATION;
    expect((await p.status(taskId)).results.map((r) => r.url)).toEqual(['https://x/a.png', 'https://x/b.png']);
  });
});

describe('callbacks', () => {
  let receiver: Server;
  let received: string[] = [];
  let receiverUrl = '';
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/apixo/callback`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  afterEach(() => {
    received = [];
  });

  it("with a callbackUrl the request is request_type 'callback', and the callback parses to the same status as polling", async () => {
    const p = provider();
    const { taskId } = await p.create({ kind: 'imagine', prompt: 'a' }, { callbackUrl: receiverUrl });
    expect(creates().at(-1)!.body).toMatchObject({ request_type: 'callback', callback_url: receiverUrl });
    await sim.fireCallbacks();
    expect(received).toHaveLength(0);
    clock += DURATION;
    await sim.fireCallbacks();
    expect(received).toHaveLength(1);
    const fromCallback = p.parseCallback(received[0]);
    expect(fromCallback?.state).toBe('succeeded');
    expect(fromCallback).toEqual(await p.status(taskId));
  });

  it('a failed task calls back with its failCode', async () => {
    const p = provider();
    sim.inject({ kind: 'taskFailure', failCode: 'CONTENT_VIOLATION' });
    await p.create({ kind: 'imagine', prompt: 'a' }, { callbackUrl: receiverUrl });
    clock += DURATION;
    await sim.fireCallbacks();
    expect(p.parseCallback(JSON.parse(received[0]!))?.failure?.category).toBe('content_refused');
  });

  it('a body that is not a status is null (a hint only)', () => {
    const p = provider();
    expect(p.parseCallback('nope')).toBeNull();
    expect(p.parseCallback({ code: 200, data: { hello: 1 } })).toBeNull();
    expect(p.parseCallback(null)).toBeNull();
  });

  it('without a callbackUrl the request is async and nothing calls back', async () => {
    const p = provider();
    await p.create({ kind: 'imagine', prompt: 'a' });
    expect(creates().at(-1)!.body).toMatchObject({ request_type: 'async' });
    clock += DURATION;
    await sim.fireCallbacks();
    expect(received).toHaveLength(0);
  });
});

describe('the create-sent hook (onSending)', () => {
  it('runs right before the request leaves, again before a retried attempt', async () => {
    const p = provider();
    const seen: number[] = [];
    sim.inject({ kind: 'http', status: 503, endpoint: 'create', times: 1 });
    await p.create({ kind: 'imagine', prompt: 'a' }, { onSending: async () => void seen.push(creates().length) });
    // Before each of the two attempts, the simulator had seen only the earlier ones.
    expect(seen).toEqual([0, 1]);
    expect(creates()).toHaveLength(2);
  });

  it('a hook that throws sends nothing, and the error leaves create as it is', async () => {
    const boom = new Error('store down');
    await expect(provider().create({ kind: 'imagine', prompt: 'a' }, { onSending: () => Promise.reject(boom) })).rejects.toBe(boom);
    expect(creates()).toHaveLength(0);
  });
});
