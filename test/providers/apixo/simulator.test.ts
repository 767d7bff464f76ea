/**
 * The local APIXO server on its own, over plain fetch: routes, auth, the
 * status shape through a task's life, result files, its own rate limit,
 * callback retries, and that it never stores the key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApixoSimulator, type ApixoSimulator, type ApixoSimulatorOptions } from '../../../src/providers/apixo/simulator/index.js';

const KEY = 'apx-sim-key-91f0';
const open: Array<ApixoSimulator | Server> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => ('inject' in s ? s.close() : new Promise<void>((r) => s.close(() => r())))));
});

let clock = Date.UTC(2026, 0, 1);
async function start(opts: ApixoSimulatorOptions = {}): Promise<ApixoSimulator> {
  const sim = await startApixoSimulator({ apiKey: KEY, now: () => clock, seed: 1, durationMs: () => 10_000, ...opts });
  open.push(sim);
  return sim;
}

const call = async (sim: ApixoSimulator, method: string, path: string, body?: unknown, key: string | null = KEY) => {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json().catch(() => null)) as { code: number; message: string; data?: Record<string, unknown> } | null };
};
const CREATE = '/api/v1/generateTask/midjourney';
const STATUS = '/api/v1/statusTask/midjourney';
const t2i = { input: { mode: 'text-to-image', prompt: 'a fox' } };

describe('APIXO simulator', () => {
  it('routes, auth and bad JSON', async () => {
    const sim = await start();
    expect((await call(sim, 'GET', '/nope')).status).toBe(404);
    expect((await call(sim, 'GET', CREATE)).status).toBe(404);
    expect((await call(sim, 'POST', CREATE, t2i, null)).status).toBe(401);
    expect((await call(sim, 'POST', CREATE, t2i, 'wrong')).json).toMatchObject({ code: 401 });
    expect((await call(sim, 'POST', CREATE, '{nope')).status).toBe(400);
    expect(JSON.stringify(sim.requests)).not.toContain(KEY);
  });

  it('status through a life: pending → processing → success with a resultJson string and timings', async () => {
    const sim = await start();
    const { json } = await call(sim, 'POST', CREATE, t2i);
    const taskId = json!.data!['taskId'] as string;
    const status = async () => (await call(sim, 'GET', `${STATUS}?taskId=${taskId}`)).json!.data!;
    expect(await status()).toEqual({ taskId, state: 'pending', createTime: clock });
    const files = await fetch(`${sim.url}/files/${taskId}_0.png`);
    expect(files.status).toBe(404);
    clock += 5_000;
    expect((await status())['state']).toBe('processing');
    clock += 5_000;
    const done = await status();
    expect(done).toMatchObject({ state: 'success', completeTime: clock, costTime: 10_000 });
    const urls = (JSON.parse(done['resultJson'] as string) as { resultUrls: string[] }).resultUrls;
    expect(urls).toHaveLength(4);
    const png = await fetch(urls[3]!);
    expect(png.headers.get('content-type')).toBe('image/png');
    sim.forget(taskId);
    expect((await call(sim, 'GET', `${STATUS}?taskId=${taskId}`)).status).toBe(404);
    expect((await fetch(urls[0]!)).status).toBe(404);
  });

  it('result URLs expire 24 h after the task ends (notes), while its status still answers', async () => {
    const sim = await start();
    const { json } = await call(sim, 'POST', CREATE, t2i);
    const taskId = json!.data!['taskId'] as string;
    clock += 10_000;
    const url = `${sim.url}/files/${taskId}_0.png`;
    expect((await fetch(url)).status).toBe(200);
    clock += 24 * 3_600_000 - 1;
    expect((await fetch(url)).status).toBe(200);
    clock += 1;
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ message: 'File expired' });
    expect((await call(sim, 'GET', `${STATUS}?taskId=${taskId}`)).json!.data!['state']).toBe('success');
  });

  it('its own create limit answers HTTP 429 and charges nothing', async () => {
    const sim = await start({ createRateLimit: { max: 1, windowMs: 60_000 }, credits: 100 });
    expect((await call(sim, 'POST', CREATE, t2i)).status).toBe(200);
    expect((await call(sim, 'POST', CREATE, t2i)).status).toBe(429);
    expect(sim.credits()).toBe(92);
    clock += 60_001;
    expect((await call(sim, 'POST', CREATE, t2i)).status).toBe(200);
  });

  it('retries a failing callback receiver on later checks, 4 attempts at most', async () => {
    const sim = await start();
    let hits = 0;
    const receiver = createServer((_req, res) => {
      hits += 1;
      res.statusCode = 500;
      res.end();
    });
    open.push(receiver);
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;
    await call(sim, 'POST', CREATE, { ...t2i, request_type: 'callback', callback_url: url });
    clock += 10_000;
    for (let i = 0; i < 6; i++) await sim.fireCallbacks();
    expect(hits).toBe(4);
    expect([...sim.tasks.values()][0]!.callbackDelivered).toBe(false);
  });
});
