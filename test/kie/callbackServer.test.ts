/**
 * The KIE callback receiver against the local KIE server's real callbacks:
 * signed callbacks are accepted and name the task; forged, unsigned,
 * malformed or misrouted requests are refused and never reach the tracker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { CALLBACK_PATH, refusalLogger, startCallbackServer, type CallbackServer } from '../../src/providers/kie/callbackServer.js';
import { KieClient } from '../../src/providers/kie/client.js';
import { signWebhook, startKieSimulator, type KieSimulator } from '../../src/providers/kie/simulator/index.js';

const KEY = 'webhook-hmac-key';
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

async function setup(hmacKey: string | null) {
  const seen: string[] = [];
  let now = 1_700_000_000_000;
  const server = await startCallbackServer({ host: '127.0.0.1', hmacKey, now: () => now, onTask: (id) => seen.push(id) });
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
    const ts = '1700000000'; // the setup clock's now, in seconds
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

  it('refuses a correctly signed callback whose timestamp is more than 5 minutes away (replay)', async () => {
    const { seen, server } = await setup(KEY);
    for (const ts of ['1699999690', '1700000310', 'soon']) {
      const signed = { 'x-webhook-timestamp': ts, 'x-webhook-signature': signWebhook('t5', ts, KEY) };
      expect((await post(server, body('t5'), signed)).statusCode).toBe(401);
    }
    const fresh = '1700000290';
    expect((await post(server, body('t5'), { 'x-webhook-timestamp': fresh, 'x-webhook-signature': signWebhook('t5', fresh, KEY) })).statusCode).toBe(200);
    await expect.poll(() => seen).toEqual(['t5']);
  });
});

describe('refusalLogger', () => {
  it('logs the first refusal in a minute and counts the rest into the next line', () => {
    const lines: object[] = [];
    let now = 0;
    const log = refusalLogger({ warn: (obj) => lines.push(obj), debug: () => {} }, () => now);
    for (let i = 0; i < 100; i++) log(401, 'bad or missing webhook signature');
    expect(lines).toEqual([{ status: 401, reason: 'bad or missing webhook signature' }]);
    now = 60_000;
    log(400, 'not a KIE callback body');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({ status: 400, reason: 'not a KIE callback body', suppressedSinceLast: 99 });
  });
});
