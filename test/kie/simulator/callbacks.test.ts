/**
 * Callback delivery to a local receiver: the documented body, HMAC signature
 * (checked independently of the simulator's own helper), retries, give-up,
 * repeats, and the automatic timer.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackBodySchema, KIE_PATHS } from '../../../src/providers/kie/schemas.js';
import { signWebhook } from '../../../src/providers/kie/simulator/index.js';
import { startHarness, T0, TXT2IMG, VIDEO } from './harness.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer each POST with, in order; 200 once exhausted. */
  statuses: number[];
  /** Resolves when `n` callbacks have arrived. */
  waitFor(n: number): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const receiver: Receiver = {
    url: '',
    received,
    statuses: [],
    waitFor: (n) => new Promise((resolve) => (received.length >= n ? resolve() : waiters.push({ n, resolve }))),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      res.writeHead(receiver.statuses.shift() ?? 200, { 'content-type': 'application/json' });
      res.end('{"status":"received"}');
      for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kie/callback`;
  return receiver;
}

describe('callbacks', () => {
  it('POSTs the documented body once the task has finished, signed with the HMAC key', async () => {
    const receiver = await startReceiver();
    const h = await startHarness({ webhookHmacKey: 'whsec-test' });
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, speed: 'turbo', callBackUrl: receiver.url });

    await h.sim.fireCallbacks();
    expect(receiver.received).toHaveLength(0); // still generating

    h.advance(60_000);
    await h.sim.fireCallbacks();
    expect(receiver.received).toHaveLength(1);
    const { headers, body } = receiver.received[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(body).toEqual({
      code: 200,
      msg: 'success',
      data: {
        taskId,
        promptJson: expect.any(String),
        resultUrls: [0, 1, 2, 3].map((i) => `${h.sim.url}/files/${taskId}_${i}.png`),
      },
    });
    const data = (body as { data: { promptJson: string } }).data;
    expect(JSON.parse(data.promptJson)).toMatchObject({ prompt: TXT2IMG.prompt, speed: 'Turbo', callBackUrl: receiver.url });
    expect(CallbackBodySchema.parse(body).data.resultUrls).toHaveLength(4);

    // NOTES.md: X-Webhook-Signature = base64(HMAC-SHA256(taskId + "." + timestamp, key)).
    const timestamp = headers['x-webhook-timestamp'] as string;
    expect(timestamp).toBe(String(Math.floor((T0 + 60_000) / 1000)));
    const expected = createHmac('sha256', 'whsec-test').update(`${taskId}.${timestamp}`).digest('base64');
    expect(headers['x-webhook-signature']).toBe(expected);
    expect(signWebhook(taskId, timestamp, 'whsec-test')).toBe(expected);

    expect(h.sim.tasks.get(taskId)).toMatchObject({ callbacksSent: 1, callbackDelivered: true });
    await h.sim.fireCallbacks();
    expect(receiver.received).toHaveLength(1); // sent once
  });

  it('sends no signature headers without a key', async () => {
    const receiver = await startReceiver();
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: receiver.url });
    h.sim.finish(taskId);
    await h.sim.fireCallbacks();
    expect(receiver.received[0]?.headers['x-webhook-signature']).toBeUndefined();
    expect(receiver.received[0]?.headers['x-webhook-timestamp']).toBeUndefined();
  });

  it('reports a failed task with code 500 and no result URLs', async () => {
    const receiver = await startReceiver();
    const h = await startHarness();
    h.sim.inject({ kind: 'taskFailure', successFlag: 2, errorMessage: 'moderation' });
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: receiver.url });
    h.sim.finish(taskId);
    await h.sim.fireCallbacks();
    expect(receiver.received[0]?.body).toEqual({
      code: 500,
      msg: 'moderation',
      data: { taskId, promptJson: expect.any(String), resultUrls: [] },
    });
  });

  it('carries video URLs for a video task', async () => {
    const receiver = await startReceiver();
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, { ...VIDEO, videoBatchSize: 2, callBackUrl: receiver.url });
    h.sim.finish(taskId);
    await h.sim.fireCallbacks();
    expect((receiver.received[0]?.body as { data: { resultUrls: string[] } }).data.resultUrls).toEqual([
      `${h.sim.url}/files/${taskId}_0.mp4`,
      `${h.sim.url}/files/${taskId}_1.mp4`,
    ]);
  });

  it('retries after a non-2xx answer, one attempt per check', async () => {
    const receiver = await startReceiver();
    receiver.statuses.push(500, 503);
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: receiver.url });
    h.sim.finish(taskId);
    await h.sim.fireCallbacks();
    await h.sim.fireCallbacks();
    expect(h.sim.tasks.get(taskId)).toMatchObject({ callbacksSent: 2, callbackDelivered: false });
    await h.sim.fireCallbacks();
    await h.sim.fireCallbacks();
    expect(receiver.received).toHaveLength(3);
    expect(h.sim.tasks.get(taskId)).toMatchObject({ callbacksSent: 3, callbackDelivered: true });
  });

  it('gives up after the first attempt and 3 retries', async () => {
    const receiver = await startReceiver();
    receiver.statuses.push(500, 500, 500, 500, 500, 500);
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: receiver.url });
    h.sim.finish(taskId);
    for (let i = 0; i < 6; i++) await h.sim.fireCallbacks();
    expect(receiver.received).toHaveLength(4);
    expect(h.sim.tasks.get(taskId)).toMatchObject({ callbacksSent: 4, callbackDelivered: false });
  });

  it('counts an unreachable URL as a failed attempt', async () => {
    const receiver = await startReceiver();
    const deadUrl = receiver.url;
    await new Promise<void>((resolve) => {
      const s = servers.pop()!;
      s.closeAllConnections();
      s.close(() => resolve());
    });
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: deadUrl });
    h.sim.finish(taskId);
    await h.sim.fireCallbacks();
    expect(h.sim.tasks.get(taskId)).toMatchObject({ callbacksSent: 1, callbackDelivered: false });
  });

  it('repeats a delivered callback when callbackCopies > 1', async () => {
    const receiver = await startReceiver();
    const h = await startHarness({ callbackCopies: 2, webhookHmacKey: 'k' });
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: receiver.url });
    h.sim.finish(taskId);
    await h.sim.fireCallbacks();
    expect(receiver.received.map((r) => r.body)).toEqual([receiver.received[0]!.body, receiver.received[0]!.body]);
  });

  it('sends nothing for a forgotten task or a task without callBackUrl', async () => {
    const receiver = await startReceiver();
    const h = await startHarness();
    const forgotten = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: receiver.url });
    await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.forget(forgotten);
    h.advance(60_000);
    await h.sim.fireCallbacks();
    expect(receiver.received).toHaveLength(0);
  });

  it('fires on its own timer with the real clock', async () => {
    const receiver = await startReceiver();
    const h = await startHarness({ now: Date.now, durationMs: () => 0, callbackIntervalMs: 10 });
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, callBackUrl: receiver.url });
    await receiver.waitFor(1);
    expect((receiver.received[0]?.body as { data: { taskId: string } }).data.taskId).toBe(taskId);
  });
});
