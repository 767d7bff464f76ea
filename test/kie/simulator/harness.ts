/**
 * Shared set-up for the simulator tests: a simulator on 127.0.0.1 driven by
 * a clock the test moves, and a tiny fetch wrapper that returns the status,
 * headers and parsed KIE envelope.
 */
import { afterEach } from 'vitest';
import { startKieSimulator, type KieSimulator, type SimulatorOptions } from '../../../src/providers/kie/simulator/index.js';

export const KEY = 'sim-test-key';
export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

export interface Envelope {
  code: number;
  msg: string;
  data?: unknown;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON body, or null when it was not JSON. */
  body: Envelope | null;
}

export interface Harness {
  sim: KieSimulator;
  /** Move the simulator clock forward. */
  advance(ms: number): void;
  now(): number;
  call(method: string, path: string, opts?: { body?: unknown; raw?: string; key?: string | null }): Promise<Reply>;
  post(path: string, body: unknown, key?: string | null): Promise<Reply>;
  get(path: string, key?: string | null): Promise<Reply>;
  /** POST /api/v1/mj/generate, expecting success; returns the taskId. */
  create(path: string, body: unknown): Promise<string>;
  recordInfo(taskId: string): Promise<Reply>;
}

const open: KieSimulator[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/**
 * A simulator with a fake clock (starting at T0), fixed seed, the test key,
 * 60 s tasks and its callback timer effectively off (tests call fireCallbacks()).
 */
export async function startHarness(opts: SimulatorOptions = {}): Promise<Harness> {
  let clock = T0;
  const sim = await startKieSimulator({
    apiKey: KEY,
    now: () => clock,
    seed: 7,
    durationMs: () => 60_000,
    callbackIntervalMs: 3_600_000,
    ...opts,
  });
  open.push(sim);
  const call: Harness['call'] = async (method, path, o = {}) => {
    const key = o.key === undefined ? KEY : o.key;
    const headers: Record<string, string> = {};
    if (key !== null) headers['authorization'] = `Bearer ${key}`;
    let payload: string | undefined;
    if (o.raw !== undefined) payload = o.raw;
    else if (o.body !== undefined) payload = JSON.stringify(o.body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(sim.url + path, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await res.text();
    let body: Envelope | null = null;
    try {
      body = JSON.parse(text) as Envelope;
    } catch {
      body = null;
    }
    return { status: res.status, headers: res.headers, text, body };
  };
  const post: Harness['post'] = (path, body, key) => call('POST', path, { body, key });
  const get: Harness['get'] = (path, key) => call('GET', path, { key });
  return {
    sim,
    advance: (ms) => {
      clock += ms;
    },
    now: () => clock,
    call,
    post,
    get,
    create: async (path, body) => {
      const r = await post(path, body);
      if (r.body?.code !== 200) throw new Error(`create failed: ${r.text}`);
      return (r.body.data as { taskId: string }).taskId;
    },
    recordInfo: (taskId) => get(`/api/v1/mj/record-info?taskId=${encodeURIComponent(taskId)}`),
  };
}

export const dataOf = (r: Reply): Record<string, unknown> => (r.body?.data ?? {}) as Record<string, unknown>;

export const TXT2IMG = { taskType: 'mj_txt2img', prompt: 'a lighthouse at dusk', speed: 'fast' } as const;
export const VIDEO = {
  taskType: 'mj_video',
  prompt: 'waves roll in',
  fileUrl: 'https://example.com/a.png',
  motion: 'high',
} as const;
