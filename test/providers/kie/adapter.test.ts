/**
 * The KIE adapter (the provider port over the existing KieClient) against
 * the local KIE simulator over real HTTP: the port's basic operations, the
 * index conversions per endpoint, capabilities, refusals that send nothing,
 * and KIE's error codes → the port's categories.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canFollowUp, ProviderError, type ProviderErrorCategory } from '../../../src/domain/provider.js';
import { KieClient } from '../../../src/providers/kie/client.js';
import { startKieSimulator, type KieSimulator, type RecordedRequest } from '../../../src/providers/kie/simulator/index.js';
import { KIE_CAPABILITIES, KieProvider } from '../../../src/providers/kie/adapter.js';

const KEY = 'sk-kie-port-test-3b8d';
const IMG = 'https://example.com/cat.png';
const DURATION = 20_000;

let sim: KieSimulator;
let clock = Date.UTC(2026, 0, 1);
let client: KieClient;
let p: KieProvider;

const creates = (): RecordedRequest[] => sim.requests.filter((r) => ['generate', 'upscale', 'vary', 'extend'].includes(r.endpoint));
const last = (): RecordedRequest => creates().at(-1)!;

async function categoryOf(call: Promise<unknown>): Promise<ProviderErrorCategory> {
  const e = await call.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ProviderError);
  return (e as ProviderError).category;
}

beforeAll(async () => {
  sim = await startKieSimulator({ apiKey: KEY, now: () => clock, seed: 3, durationMs: () => DURATION, createRateLimit: null });
  client = new KieClient({
    baseUrl: sim.url,
    apiKey: KEY,
    timeoutMs: 2_000,
    readsPerSecond: 10_000,
    createLimit: { max: 10_000, windowMs: 1_000, marginMs: 0 },
    retry: { baseMs: 1, maxMs: 5 },
  });
  p = new KieProvider(client);
});
afterAll(async () => {
  await client.close();
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.clearRequests();
  sim.setCredits(10_000);
});

async function finishedGrid(): Promise<string> {
  const { taskId } = await p.create({ kind: 'imagine', prompt: 'a lighthouse' });
  sim.finish(taskId);
  return taskId;
}

describe('capabilities', () => {
  it('U/V/🔄 on grids, Vary and Animate on upscales, Extend on videos; no typed upscales, no edit', () => {
    expect(KIE_CAPABILITIES.followUps.grid).toEqual(['upscale', 'vary', 'reroll']);
    expect(canFollowUp(KIE_CAPABILITIES, 'upscale', 'animate_low')).toBe(true);
    expect(canFollowUp(KIE_CAPABILITIES, 'upscale', 'upscale_subtle')).toBe(false);
    expect(canFollowUp(KIE_CAPABILITIES, 'upscale', 'vary_strong')).toBe(false);
    expect(canFollowUp(KIE_CAPABILITIES, 'video', 'extend_manual')).toBe(true);
    expect(KIE_CAPABILITIES.creates).not.toContain('edit');
  });
});

describe('create and status', () => {
  it('imagine maps the options to KIE names and polls running → succeeded with 4 images', async () => {
    const { taskId } = await p.create({
      kind: 'imagine',
      prompt: 'a lighthouse',
      options: { speed: 'relaxed', version: '7', aspectRatio: '16:9', chaos: 5, stylize: 100, weird: 0, translate: false },
    });
    expect(last().body).toEqual({
      taskType: 'mj_txt2img',
      prompt: 'a lighthouse',
      speed: 'relaxed',
      version: '7',
      aspectRatio: '16:9',
      variety: 5,
      stylization: 100,
      weirdness: 0,
      enableTranslation: false,
    });
    expect((await p.status(taskId)).state).toBe('running');
    clock += DURATION;
    const s = await p.status(taskId);
    expect(s.state).toBe('succeeded');
    expect(s.results).toHaveLength(4);
    expect(s.results.every((r) => r.kind === 'image')).toBe(true);
    expect(s.timings.completedAt).not.toBeNull();
  });

  it.each([
    [undefined, 'mj_img2img'],
    ['reference', 'mj_img2img'],
    ['style', 'mj_style_reference'],
    ['omni', 'mj_omni_reference'],
  ] as const)('reference images with mode %s → %s', async (imageMode, taskType) => {
    await p.create({ kind: 'imagine', prompt: 'x', imageUrls: [IMG], ...(imageMode ? { imageMode } : {}) });
    expect(last().body).toMatchObject({ taskType, fileUrls: [IMG] });
  });

  it('animate creates a video with the default prompt and its results are videos', async () => {
    const { taskId } = await p.create({ kind: 'animate', imageUrl: IMG, motion: 'low', hd: true, batch: 2 });
    expect(last().body).toEqual({ taskType: 'mj_video_hd', prompt: 'animate', fileUrls: [IMG], motion: 'low', videoBatchSize: 2 });
    sim.finish(taskId);
    const s = await p.status(taskId);
    expect(s.results).toHaveLength(2);
    expect(s.results.every((r) => r.kind === 'video')).toBe(true);
  });

  it('a callbackUrl goes into callBackUrl', async () => {
    await p.create({ kind: 'imagine', prompt: 'x' }, { callbackUrl: 'https://bot.example/kie/callback' });
    expect(last().body).toMatchObject({ callBackUrl: 'https://bot.example/kie/callback' });
  });

  it('balance is the account credits', async () => {
    sim.setCredits(123.5);
    expect(await p.balance()).toEqual({ credits: 123.5 });
  });
});

describe('follow-ups', () => {
  it('U converts the 0-based position to upscale index 0–3, V to vary index 1–4', async () => {
    const g = await finishedGrid();
    const u = await p.followUp({ action: 'upscale', source: { taskId: g, position: 2, resultKind: 'grid' } });
    expect(last().endpoint).toBe('upscale');
    expect(last().body).toEqual({ taskId: g, imageIndex: 2 });
    sim.finish(u.taskId);
    expect((await p.status(u.taskId)).results).toHaveLength(1);
    await p.followUp({ action: 'vary', source: { taskId: g, position: 2, resultKind: 'grid' } });
    expect(last().endpoint).toBe('vary');
    expect(last().body).toEqual({ taskId: g, imageIndex: 3 });
  });

  it('Vary on an upscale varies the grid image it came from', async () => {
    const g = await finishedGrid();
    const u = await p.followUp({ action: 'upscale', source: { taskId: g, position: 1, resultKind: 'grid' } });
    sim.finish(u.taskId);
    await p.followUp({ action: 'vary', source: { taskId: u.taskId, position: 0, resultKind: 'upscale', grid: { taskId: g, position: 1 } } });
    expect(last().body).toEqual({ taskId: g, imageIndex: 2 });
  });

  it('Animate on an upscale, then Extend (auto and manual) on the video', async () => {
    const g = await finishedGrid();
    const u = await p.followUp({ action: 'upscale', source: { taskId: g, position: 0, resultKind: 'grid' } });
    sim.finish(u.taskId);
    const url = (await p.status(u.taskId)).results[0]!.url;
    const v = await p.followUp({ action: 'animate_high', source: { taskId: u.taskId, position: 0, resultKind: 'upscale', url }, video: { hd: false, batch: 1 } });
    expect(last().body).toMatchObject({ taskType: 'mj_video', motion: 'high', fileUrls: [url], videoBatchSize: 1 });
    sim.finish(v.taskId);
    await p.followUp({ action: 'extend_auto', source: { taskId: v.taskId, position: 0, resultKind: 'video' } });
    expect(last().body).toEqual({ taskType: 'mj_video_extend_auto', taskId: v.taskId, index: 0 });
    const e = await p.followUp({ action: 'extend_manual', prompt: 'the camera pulls back', source: { taskId: v.taskId, position: 0, resultKind: 'video' } });
    expect(last().body).toEqual({ taskType: 'mj_video_extend_manual', taskId: v.taskId, index: 0, prompt: 'the camera pulls back' });
    sim.finish(e.taskId);
    expect((await p.status(e.taskId)).results[0]!.kind).toBe('video');
  });
});

describe('refusals send nothing', () => {
  const g = { taskId: 'a'.repeat(32), position: 0, resultKind: 'grid' as const };
  it('names the port field, not KIE\'s', () => {
    expect(p.check({ kind: 'imagine', prompt: 'a', options: { chaos: 101 } })?.field).toBe('chaos');
    expect(p.check({ kind: 'imagine', prompt: 'a', options: { weird: -1 } })?.field).toBe('weird');
    expect(p.check({ action: 'upscale', source: { ...g, position: 9 } })?.field).toBe('position');
  });

  it.each([
    ['edit', { kind: 'edit', prompt: 'a', imageUrl: IMG, imageSize: { width: 10, height: 10 }, mask: { kind: 'image', url: IMG } }],
    ['chaos 101', { kind: 'imagine', prompt: 'a', options: { chaos: 101 } }],
    ['version niji7', { kind: 'imagine', prompt: 'a', options: { version: 'niji7' } }],
    ['empty prompt', { kind: 'imagine', prompt: '', options: {} }],
    ['typed upscale', { action: 'upscale_creative', source: { ...g, resultKind: 'upscale' } }],
    ['upscale position 4', { action: 'upscale', source: { ...g, position: 4 } }],
    ['manual extend without a prompt', { action: 'extend_manual', source: { ...g, resultKind: 'video' } }],
    ['extend on a grid', { action: 'extend_auto', source: g }],
  ] as const)('%s', async (_, req) => {
    expect(p.check(req)?.category).toBe('bad_input');
    const call = 'action' in req ? p.followUp(req) : p.create(req);
    expect(await categoryOf(call)).toBe('bad_input');
    expect(sim.requests).toHaveLength(0);
  });
});

describe('KIE errors → categories', () => {
  it.each([
    [402, 'insufficient_credits'],
    [401, 'unauthorized'],
    [422, 'bad_input'],
    [455, 'unavailable'],
    // A 500 on a create may have made the task (the bot's rule since before the port): never resent, never failed over.
    [500, 'outcome_unknown'],
    [501, 'generation_failed'],
  ] as const)('body code %i on create → %s', async (code, category) => {
    sim.inject({ kind: 'code', code, endpoint: 'create', times: Infinity });
    expect(await categoryOf(p.create({ kind: 'imagine', prompt: 'a' }))).toBe(category);
  });

  it('a reset create is outcome_unknown; an unknown task is not_found', async () => {
    sim.inject({ kind: 'reset', endpoint: 'create' });
    expect(await categoryOf(p.create({ kind: 'imagine', prompt: 'a' }))).toBe('outcome_unknown');
    expect(await categoryOf(p.status('f'.repeat(32)))).toBe('not_found');
  });

  it('a failed task is a failure in the status, not a thrown error', async () => {
    sim.inject({ kind: 'taskFailure', successFlag: 2, errorCode: 501, errorMessage: 'Sensitive content detected' });
    const { taskId } = await p.create({ kind: 'imagine', prompt: 'a' });
    clock += DURATION;
    const s = await p.status(taskId);
    expect(s.state).toBe('failed');
    expect(s.failure).toMatchObject({ category: 'content_refused', code: '501' });
  });

  it('parseCallback reads KIE callback bodies and refuses others', () => {
    expect(p.parseCallback({ code: 200, msg: 'success', data: { taskId: 't1', resultUrls: ['https://x/a.png'] } })).toMatchObject({
      taskId: 't1',
      state: 'succeeded',
      results: [{ url: 'https://x/a.png', kind: 'image' }],
    });
    expect(p.parseCallback({ code: 500, msg: 'failed', data: { taskId: 't2' } })?.state).toBe('failed');
    expect(p.parseCallback('garbage')).toBeNull();
  });
});
