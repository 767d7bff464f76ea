/**
 * The KIE callback receiver against the local KIE server's real callbacks:
 * signed callbacks are accepted and name the task; forged, unsigned,
 * malformed or misrouted requests are refused and never reach the tracker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CALLBACK_PATH, startCallbackServer, type CallbackServer } from '../../src/kie/callbackServer.js';
import { KieClient } from '../../src/kie/client.js';
import { signWebhook, startKieSimulator, type KieSimulator } from '../../src/kie/simulator/index.js';

const KEY = 'webhook-hmac-key';
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

async function setup(hmacKey: string | null) {
  const seen: string[] = [];
  const server = await startCallbackServer({ host: '127.0.0.1', hmacKey, onTask: (id) => seen.push(id) });
  let now = 1_000_000;
  const sim = await startKieSimulator({ webhookHmacKey: KEY, now: () => now, durationMs: () => 1_000, callbackIntervalMs: 60_000 });
  const kie = new KieClient({ baseUrl: sim.url, apiKey: 'test-key' });
  opened.push(server, sim, { close: async () => kie.close() });
  return { seen, server, sim, kie, advance: (ms: number) => (now += ms) };
}

const post = (server: CallbackServer, body: unknown, headers: Record<string, string> = {}, path = CALLBACK_PATH) =>
  request(server.url.replace(CALLBACK_PATH, path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const body = (taskId: string) => ({ code: 200, msg: 'success', data: { taskId, promptJson: '{}', resultUrls: [] } });

describe('KIE callback receiver', () => {
  it('accepts the simulator’s signed callback and names the finished task', async () => {
    const { seen, server, sim, kie, advance } = await setup(KEY);
    const { taskId } = await kie.generate({ taskType: 'mj_txt2img', prompt: 'a fox', speed: 'fast', callBackUrl: server.url });
    advance(2_000);
    await sim.fireCallbacks();
    await expect.poll(() => seen).toEqual([taskId]);
  });

  it('refuses unsigned and forged callbacks when a key is set', async () => {
    const { seen, server } = await setup(KEY);
    expect((await post(server, body('t1'))).statusCode).toBe(401);
    const ts = '1700000000';
    const forged = { 'x-webhook-timestamp': ts, 'x-webhook-signature': signWebhook('t1', ts, 'another-key') };
    expect((await post(server, body('t1'), forged)).statusCode).toBe(401);
    const good = { 'x-webhook-timestamp': ts, 'x-webhook-signature': signWebhook('t1', ts, KEY) };
    expect((await post(server, body('t1'), good)).statusCode).toBe(200);
    await expect.poll(() => seen).toEqual(['t1']);
  });

  it('accepts unsigned callbacks without a key (they only trigger a record-info read)', async () => {
    const { seen, server } = await setup(null);
    expect((await post(server, body('t2'))).statusCode).toBe(200);
    await expect.poll(() => seen).toEqual(['t2']);
  });

  it.each([
    ['not JSON', 'nope', CALLBACK_PATH, 400],
    ['not a callback body', { hello: 'world' }, CALLBACK_PATH, 400],
    ['another path', body('t3'), '/elsewhere', 404],
  ])('refuses %s', async (_name, payload, path, status) => {
    const { seen, server } = await setup(null);
    expect((await post(server, payload, {}, path)).statusCode).toBe(status);
    expect(seen).toEqual([]);
  });

  it('refuses an oversized body', async () => {
    const { seen, server } = await setup(null);
    const res = await post(server, { ...body('t4'), pad: 'x'.repeat(300 * 1024) }).catch(() => null);
    if (res) expect(res.statusCode).toBe(413);
    expect(seen).toEqual([]);
  });
});
