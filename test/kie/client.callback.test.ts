/**
 * Callback helpers: the HMAC signature check and the body parser, as pure
 * functions and against real signed callbacks POSTed by the simulator.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KieClient, parseCallbackBody, verifyCallbackSignature } from '../../src/providers/kie/client.js';
import { KieInvalidResponseError } from '../../src/providers/kie/errors.js';
import { startKieSimulator, type KieSimulator } from '../../src/providers/kie/simulator/index.js';

const HMAC_KEY = 'whk-test-secret';
const sign = (taskId: string, timestamp: string, key = HMAC_KEY): string =>
  createHmac('sha256', key).update(`${taskId}.${timestamp}`).digest('base64');

describe('verifyCallbackSignature', () => {
  const taskId = 'task-123';
  const timestamp = '1732170000';
  const good = sign(taskId, timestamp);

  it.each([
    ['the right signature', { signature: good }, true],
    ['surrounding whitespace', { signature: ` ${good}\n` }, true],
    ['a numeric timestamp', { signature: good, timestamp: 1732170000 }, true],
    ['another key', { signature: sign(taskId, timestamp, 'other') }, false],
    ['another task', { signature: sign('task-124', timestamp) }, false],
    ['another timestamp', { signature: sign(taskId, '1732170001') }, false],
    ['a truncated signature', { signature: good.slice(0, -2) }, false],
    ['hex instead of base64', { signature: createHmac('sha256', HMAC_KEY).update(`${taskId}.${timestamp}`).digest('hex') }, false],
    ['no signature', { signature: undefined }, false],
    ['an empty signature', { signature: '' }, false],
    ['an empty key', { signature: good, key: '' }, false],
  ] as const)('%s → %s', (_name, patch, expected) => {
    expect(verifyCallbackSignature({ taskId, timestamp, key: HMAC_KEY, ...patch })).toBe(expected);
  });
});

describe('parseCallbackBody', () => {
  const body = {
    code: 200,
    msg: 'success',
    data: {
      taskId: 't1',
      promptJson: '{"prompt":"cat","taskType":"mj_txt2img"}',
      resultUrls: ['https://cdn.example/a.png', 'https://cdn.example/b.png'],
    },
  };

  it('parses an object or JSON text, normalizing params and results', () => {
    for (const input of [body, JSON.stringify(body)]) {
      const parsed = parseCallbackBody(input);
      expect(parsed.code).toBe(200);
      expect(parsed.data.taskId).toBe('t1');
      expect(parsed.data.promptJson).toEqual({ prompt: 'cat', taskType: 'mj_txt2img' });
      expect(parsed.data.resultUrls).toEqual(['https://cdn.example/a.png', 'https://cdn.example/b.png']);
    }
  });

  it('accepts the record-info result shape too', () => {
    const parsed = parseCallbackBody({ ...body, data: { taskId: 't1', resultUrls: [{ resultUrl: 'https://x/y.png' }] } });
    expect(parsed.data.resultUrls).toEqual(['https://x/y.png']);
  });

  it('accepts a failure callback', () => {
    const parsed = parseCallbackBody({ code: 501, msg: 'generation failed', data: { taskId: 't1' } });
    expect(parsed).toMatchObject({ code: 501, msg: 'generation failed' });
  });

  it.each([
    ['not JSON', '<html>', 'not_json'],
    ['no data', { code: 200, msg: 'ok' }, 'bad_data'],
    ['no taskId', { code: 200, data: {} }, 'bad_data'],
    ['no code', { data: { taskId: 't' } }, 'bad_data'],
    ['null', null, 'bad_data'],
  ] as const)('%s → KieInvalidResponseError (%s)', (_name, input, reason) => {
    let error: unknown;
    try {
      parseCallbackBody(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KieInvalidResponseError);
    expect(error).toMatchObject({ reason, endpoint: 'callback', httpStatus: null });
  });
});

describe('against the simulator’s signed callbacks', () => {
  const KEY = 'sk-kie-callback-test-5678';
  let sim: KieSimulator;
  let client: KieClient;
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"received"}');
    });
  });
  let callbackUrl = '';

  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const address = receiver.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    callbackUrl = `http://127.0.0.1:${address.port}/kie/callback`;
    sim = await startKieSimulator({ apiKey: KEY, webhookHmacKey: HMAC_KEY, createRateLimit: null, durationMs: () => 3_600_000 });
    client = new KieClient({ baseUrl: sim.url, apiKey: KEY });
  });

  afterAll(async () => {
    await client.close();
    await sim.close();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('a real callback verifies and parses; a tampered one does not verify', async () => {
    const { taskId } = await client.generate({ taskType: 'mj_txt2img', prompt: 'cat', callBackUrl: callbackUrl });
    sim.finish(taskId);
    await sim.fireCallbacks();
    const cb = received.find((r) => r.body.includes(taskId));
    expect(cb).toBeDefined();
    if (!cb) return;
    const timestamp = String(cb.headers['x-webhook-timestamp']);
    const signature = String(cb.headers['x-webhook-signature']);
    const parsed = parseCallbackBody(cb.body);
    expect(parsed.data.taskId).toBe(taskId);
    expect(parsed.data.resultUrls).toHaveLength(4);
    expect(verifyCallbackSignature({ taskId: parsed.data.taskId, timestamp, signature, key: HMAC_KEY })).toBe(true);
    expect(verifyCallbackSignature({ taskId: `${taskId}x`, timestamp, signature, key: HMAC_KEY })).toBe(false);
    expect(verifyCallbackSignature({ taskId, timestamp, signature, key: 'wrong-key' })).toBe(false);
  });
});
