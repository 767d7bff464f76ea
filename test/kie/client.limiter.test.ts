/**
 * KieClient's client-side limits over real HTTP: the simulator enforces a
 * small create window like KIE's (5 per 300 ms here instead of 20 per 10 s,
 * for speed) and the client must never trip it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KieClient, type KieClientOptions } from '../../src/providers/kie/client.js';
import { KieRateLimitedError } from '../../src/providers/kie/errors.js';
import { KieProvider } from '../../src/providers/kie/adapter.js';
import { startKieSimulator, type KieSimulator, type RecordedRequest } from '../../src/providers/kie/simulator/index.js';

const KEY = 'sk-kie-limiter-test-1234';
const WINDOW = { max: 5, windowMs: 300 };

let sim: KieSimulator;
const clients: KieClient[] = [];

function client(overrides: Partial<KieClientOptions> = {}): KieClient {
  const c = new KieClient({
    baseUrl: sim.url,
    apiKey: KEY,
    timeoutMs: 5_000,
    createLimit: { ...WINDOW, marginMs: 50 },
    readsPerSecond: 10_000,
    retry: { baseMs: 1, maxMs: 5 },
    ...overrides,
  });
  clients.push(c);
  return c;
}

const creates = (): RecordedRequest[] => sim.requests.filter((r) => r.endpoint === 'generate');

/** Most requests seen in any window of `windowMs` (half-open, like the simulator's). */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((t) => sorted.filter((u) => u >= t && u < t + windowMs).length));
}

beforeAll(async () => {
  sim = await startKieSimulator({ apiKey: KEY, credits: 1_000_000, createRateLimit: WINDOW, durationMs: () => 60_000 });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await sim.close();
});

afterEach(async () => {
  sim.clearRequests();
  sim.clearFaults();
  // Let the simulator's window empty so tests do not share it.
  await new Promise((r) => setTimeout(r, WINDOW.windowMs + 50));
});

describe('create limiter', () => {
  it('25 rapid creates all succeed without a single 429 from KIE', async () => {
    const c = client({ retry: { maxAttempts: 1 } }); // a 429 would surface, not be retried away
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => c.generate({ taskType: 'mj_txt2img', prompt: `cat ${i}` })),
    );
    expect(new Set(results.map((r) => r.taskId)).size).toBe(25);
    const seen = creates();
    expect(seen).toHaveLength(25);
    expect(seen.filter((r) => r.responseCode === 429)).toEqual([]);
    expect(busiestWindow(seen.map((r) => r.at), WINDOW.windowMs)).toBeLessThanOrEqual(WINDOW.max);
  });

  it('creates are sent first come, first served', async () => {
    const c = client();
    await Promise.all(Array.from({ length: 12 }, (_, i) => c.generate({ taskType: 'mj_txt2img', prompt: `n${i}` })));
    expect(creates().map((r) => (r.body as { prompt: string }).prompt)).toEqual(
      Array.from({ length: 12 }, (_, i) => `n${i}`),
    );
  });

  it('control: without the client limit the same burst is refused by KIE', async () => {
    const c = client({ createLimit: { max: 1_000, windowMs: 1_000, marginMs: 0 }, retry: { maxAttempts: 1 } });
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, () => c.generate({ taskType: 'mj_txt2img', prompt: 'x' })),
    );
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(KieRateLimitedError);
  });

  it('a caller waiting for the limiter can abort, and nothing is sent for it', async () => {
    const c = client({ createLimit: { max: 1, windowMs: 60_000, marginMs: 0 } });
    await c.generate({ taskType: 'mj_txt2img', prompt: 'first' });
    const controller = new AbortController();
    const reason = new Error('user gave up');
    const waiting = c.generate({ taskType: 'mj_txt2img', prompt: 'second' }, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    await expect(waiting).rejects.toBe(reason);
    expect(creates().map((r) => (r.body as { prompt: string }).prompt)).toEqual(['first']);
  });

  it('reads do not wait behind creates', async () => {
    const c = client({ createLimit: { max: 1, windowMs: 60_000, marginMs: 0 } });
    await c.generate({ taskType: 'mj_txt2img', prompt: 'first' });
    const controller = new AbortController();
    const blocked = c.generate({ taskType: 'mj_txt2img', prompt: 'blocked' }, { signal: controller.signal });
    expect(await c.credits()).toBeGreaterThan(0);
    controller.abort(new Error('done'));
    await expect(blocked).rejects.toThrow('done');
  });
});

describe('read limiter', () => {
  it('spreads a flood of reads at readsPerSecond after the first burst', async () => {
    const c = client({ readsPerSecond: 20 });
    await Promise.all(Array.from({ length: 30 }, () => c.credits()));
    const times = sim.requests.filter((r) => r.endpoint === 'credits').map((r) => r.at);
    expect(times).toHaveLength(30);
    // A burst of 20 (the bucket), then 10 more at 20/s: at least ~500 ms from first to last.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(450);
    expect(busiestWindow(times, 250)).toBeLessThanOrEqual(20 + 5 + 1);
  });
});

describe('the create-sent hook (onSending)', () => {
  it('runs after the create limiter and shared window waits, right before each request leaves', async () => {
    let gateOpen = false;
    const gate = {
      acquire: async () => {
        await new Promise((r) => setTimeout(r, 20));
        gateOpen = true;
        return () => {};
      },
    };
    const kie = new KieProvider(client({ createGate: gate, retry: { maxAttempts: 1 } }));
    const hooks: Array<{ prompt: string; sentBefore: number; alreadySent: boolean; gateOpen: boolean }> = [];
    const prompts = Array.from({ length: WINDOW.max + 2 }, (_, i) => `hook ${i}`);
    const results = await Promise.all(
      prompts.map((prompt) =>
        kie.create(
          { kind: 'imagine', prompt },
          {
            onSending: async () => {
              const seen = creates();
              hooks.push({ prompt, sentBefore: seen.length, alreadySent: seen.some((r) => (r.body as { prompt: string }).prompt.startsWith(prompt)), gateOpen });
            },
          },
        ),
      ),
    );
    expect(new Set(results.map((r) => r.taskId)).size).toBe(prompts.length);
    expect(hooks).toHaveLength(prompts.length);
    // Before its own request, after the gate; the two past the window waited for it (the first five were sent by then).
    expect(hooks.every((h) => !h.alreadySent && h.gateOpen)).toBe(true);
    expect(hooks.filter((h) => h.sentBefore >= WINDOW.max)).toHaveLength(2);
  });

  it('a hook that throws sends nothing, and the error leaves create as it is', async () => {
    const kie = new KieProvider(client());
    const boom = new Error('store down');
    await expect(kie.create({ kind: 'imagine', prompt: 'never' }, { onSending: () => Promise.reject(boom) })).rejects.toBe(boom);
    expect(creates()).toHaveLength(0);
  });

  it('runs again before a retried create (KIE refused the first: nothing was created)', async () => {
    const kie = new KieProvider(client());
    let calls = 0;
    sim.inject({ kind: 'code', code: 455, endpoint: 'generate', times: 1 });
    await kie.create({ kind: 'imagine', prompt: 'again' }, { onSending: async () => void calls++ });
    expect(creates()).toHaveLength(2);
    expect(calls).toBe(2);
  });
});
