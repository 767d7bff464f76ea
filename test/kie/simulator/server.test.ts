/**
 * The simulator's routes over real HTTP: happy paths, auth, task lifecycle on
 * a fake clock, parent rules for upscale/vary/extend, credits, the create
 * rate limit, forget(), and the request log.
 */
import { describe, expect, it } from 'vitest';
import { KIE_PATHS, RecordInfoDataSchema } from '../../../src/providers/kie/schemas.js';
import { DEFAULT_SIM_PRICES, startKieSimulator } from '../../../src/providers/kie/simulator/index.js';
import { dataOf, KEY, startHarness, T0, TXT2IMG, VIDEO } from './harness.js';

describe('routes: happy paths', () => {
  it('generate answers {code:200,msg:"success",data:{taskId}} with a 32-hex taskId', async () => {
    const h = await startHarness();
    const r = await h.post(KIE_PATHS.generate, TXT2IMG);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual({ code: 200, msg: 'success', data: { taskId: expect.stringMatching(/^[0-9a-f]{32}$/) } });
  });

  it('record-info answers the documented shape while generating', async () => {
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, { ...TXT2IMG, speed: 'relaxed', aspectRatio: '16:9' });
    const r = await h.recordInfo(taskId);
    expect(r.body?.code).toBe(200);
    const data = dataOf(r);
    expect(data).toEqual({
      taskId,
      taskType: 'mj_txt2img',
      paramJson: expect.any(String),
      completeTime: null,
      resultInfoJson: null,
      successFlag: 0,
      createTime: '2025-01-15T12:00:00Z',
      errorCode: null,
      errorMessage: null,
    });
    // paramJson is a JSON *string* of the request, speed echoed the way KIE does.
    expect(JSON.parse(data['paramJson'] as string)).toEqual({ ...TXT2IMG, speed: 'Relax', aspectRatio: '16:9' });
  });

  it('echoes fast and turbo as "Fast" / "Turbo" and omits speed where none was sent', async () => {
    const h = await startHarness();
    const fast = await h.create(KIE_PATHS.generate, TXT2IMG);
    const turbo = await h.create(KIE_PATHS.generate, { ...TXT2IMG, speed: 'turbo' });
    const video = await h.create(KIE_PATHS.generate, VIDEO);
    const speedOf = async (id: string): Promise<unknown> =>
      (JSON.parse(dataOf(await h.recordInfo(id))['paramJson'] as string) as Record<string, unknown>)['speed'];
    expect(await speedOf(fast)).toBe('Fast');
    expect(await speedOf(turbo)).toBe('Turbo');
    expect(await speedOf(video)).toBeUndefined();
  });

  it('credit answers the balance as a number', async () => {
    const h = await startHarness({ credits: 5916.25 });
    const r = await h.get(KIE_PATHS.credits);
    expect(r.body).toEqual({ code: 200, msg: 'success', data: 5916.25 });
  });

  it('upscale, vary and extend create tasks on finished parents', async () => {
    const h = await startHarness();
    const grid = await h.create(KIE_PATHS.generate, TXT2IMG);
    const video = await h.create(KIE_PATHS.generate, { ...VIDEO, videoBatchSize: 2 });
    h.advance(60_000);
    const up = await h.create(KIE_PATHS.upscale, { taskId: grid, imageIndex: 3 });
    const vary = await h.create(KIE_PATHS.vary, { taskId: grid, imageIndex: 4 });
    const ext = await h.create(KIE_PATHS.extend, { taskType: 'mj_video_extend_manual', taskId: video, index: 1, prompt: 'go on' });
    expect(h.sim.tasks.get(up)).toMatchObject({ op: 'upscale', taskType: 'mj_upscale', parentTaskId: grid, parentPosition: 3, speed: 'fast' });
    expect(h.sim.tasks.get(vary)).toMatchObject({ op: 'vary', taskType: 'mj_vary', parentTaskId: grid, parentPosition: 3 });
    expect(h.sim.tasks.get(ext)).toMatchObject({ op: 'extend', taskType: 'mj_video_extend_manual', parentTaskId: video, speed: null });
  });
});

describe('auth', () => {
  it.each([
    ['no Authorization header', null],
    ['a wrong key', 'not-the-key'],
  ])('answers %s with HTTP 200 and body code 401', async (_name, key) => {
    const h = await startHarness();
    for (const r of [
      await h.post(KIE_PATHS.generate, TXT2IMG, key),
      await h.get(`${KIE_PATHS.recordInfo}?taskId=abc`, key),
      await h.get(KIE_PATHS.credits, key),
    ]) {
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ code: 401, msg: 'You do not have access permissions' });
    }
    expect(h.sim.tasks.size).toBe(0);
    expect(h.sim.requests.every((q) => !q.authorized)).toBe(true);
  });

  it('rejects a non-Bearer scheme', async () => {
    const h = await startHarness();
    const res = await fetch(h.sim.url + KIE_PATHS.credits, { headers: { authorization: `Basic ${KEY}` } });
    expect(((await res.json()) as { code: number }).code).toBe(401);
  });

  it('accepts any non-empty bearer when apiKey is null', async () => {
    const h = await startHarness({ apiKey: null });
    expect((await h.get(KIE_PATHS.credits, 'whatever')).body?.code).toBe(200);
    expect((await h.get(KIE_PATHS.credits, null)).body?.code).toBe(401);
  });

  it('never stores the key or the Authorization header in the request log', async () => {
    const h = await startHarness();
    await h.post(KIE_PATHS.generate, TXT2IMG);
    await h.get(KIE_PATHS.credits, 'wrong-key-value');
    const logged = JSON.stringify(h.sim.requests);
    expect(logged).not.toContain(KEY);
    expect(logged).not.toContain('wrong-key-value');
    expect(logged.toLowerCase()).not.toContain('authorization');
  });
});

describe('unknown routes and tasks', () => {
  it('answers an unknown path with HTTP 404 and a JSON body', async () => {
    const h = await startHarness();
    const r = await h.post('/api/v1/mj/upscale', { taskId: 'x', index: 0 });
    expect(r.status).toBe(404);
    expect(r.body?.code).toBe(404);
    expect(h.sim.requests[0]).toMatchObject({ endpoint: 'unknown', responseCode: 404 });
  });

  it('answers the wrong method on a known path with 404', async () => {
    const h = await startHarness();
    expect((await h.get(KIE_PATHS.generate)).status).toBe(404);
  });

  it('record-info on an unknown taskId answers 422 "Record does not exist"', async () => {
    const h = await startHarness();
    const r = await h.recordInfo('ffffffffffffffffffffffffffffffff');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ code: 422, msg: 'Record does not exist' });
  });

  it('record-info without taskId answers 422 naming taskId', async () => {
    const h = await startHarness();
    const r = await h.get(KIE_PATHS.recordInfo);
    expect(r.body?.code).toBe(422);
    expect(r.body?.msg).toContain('taskId');
  });
});

describe('lifecycle on a fake clock', () => {
  it('a grid stays at successFlag 0 until its finish time, then has 4 image URLs', async () => {
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.advance(59_999);
    expect(dataOf(await h.recordInfo(taskId))['successFlag']).toBe(0);
    h.advance(1);
    const data = dataOf(await h.recordInfo(taskId));
    expect(data['successFlag']).toBe(1);
    expect(data['completeTime']).toBe('2025-01-15T12:01:00Z');
    const urls = (data['resultInfoJson'] as { resultUrls: Array<{ resultUrl: string }> }).resultUrls;
    expect(urls).toEqual([0, 1, 2, 3].map((i) => ({ resultUrl: `${h.sim.url}/files/${taskId}_${i}.png` })));
    // The contract schema reads it as the bot will.
    const record = RecordInfoDataSchema.parse(data);
    expect(record).toMatchObject({ successFlag: 1, taskType: 'mj_txt2img', params: { speed: 'Fast' } });
    expect(record.resultUrls).toHaveLength(4);
  });

  it.each([
    ['upscale', 1, 'png'],
    ['vary', 4, 'png'],
  ] as const)('%s yields %i %s', async (op, count, ext) => {
    const h = await startHarness();
    const grid = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.finish(grid);
    const child = await h.create(KIE_PATHS[op], { taskId: grid, imageIndex: 1 });
    h.sim.finish(child);
    const record = RecordInfoDataSchema.parse(dataOf(await h.recordInfo(child)));
    expect(record.resultUrls).toHaveLength(count);
    expect(record.resultUrls.every((u) => u.endsWith(`.${ext}`))).toBe(true);
  });

  it.each([1, 2, 4])('a video with videoBatchSize %i yields that many mp4s', async (n) => {
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, { ...VIDEO, videoBatchSize: n });
    h.advance(60_000);
    const record = RecordInfoDataSchema.parse(dataOf(await h.recordInfo(taskId)));
    expect(record.resultUrls).toEqual(Array.from({ length: n }, (_, i) => `${h.sim.url}/files/${taskId}_${i}.mp4`));
  });

  it('a video without videoBatchSize yields one mp4, and so does an extend', async () => {
    const h = await startHarness();
    const video = await h.create(KIE_PATHS.generate, { ...VIDEO, taskType: 'mj_video_hd' });
    h.advance(60_000);
    expect(RecordInfoDataSchema.parse(dataOf(await h.recordInfo(video))).resultUrls).toHaveLength(1);
    const ext = await h.create(KIE_PATHS.extend, { taskType: 'mj_video_extend_auto', taskId: video, index: 0 });
    h.advance(60_000);
    const record = RecordInfoDataSchema.parse(dataOf(await h.recordInfo(ext)));
    expect(record.taskType).toBe('mj_video_extend_auto');
    expect(record.resultUrls).toEqual([`${h.sim.url}/files/${ext}_0.mp4`]);
  });

  it('finish() ends a task now, with a given failure outcome', async () => {
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.finish(taskId, { successFlag: 2, errorMessage: 'banned prompt' });
    const data = dataOf(await h.recordInfo(taskId));
    expect(data).toMatchObject({ successFlag: 2, errorCode: 501, errorMessage: 'banned prompt', resultInfoJson: null });
    expect(() => h.sim.finish('nope')).toThrow(/no task/);
  });

  it('uses publicUrl in result URLs', async () => {
    const h = await startHarness({ publicUrl: 'https://files.example.test/' });
    const taskId = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.finish(taskId);
    const record = RecordInfoDataSchema.parse(dataOf(await h.recordInfo(taskId)));
    expect(record.resultUrls[0]).toBe(`https://files.example.test/files/${taskId}_0.png`);
  });
});

describe('default durations', () => {
  const spanOf = async (speed: 'relaxed' | 'fast' | 'turbo', timeScale?: number): Promise<number> => {
    let t = T0;
    const sim = await startKieSimulator({ now: () => t, seed: 3, ...(timeScale ? { timeScale } : {}) });
    try {
      const res = await fetch(sim.url + KIE_PATHS.generate, {
        method: 'POST',
        headers: { authorization: 'Bearer any', 'content-type': 'application/json' },
        body: JSON.stringify({ ...TXT2IMG, speed }),
      });
      const { data } = (await res.json()) as { data: { taskId: string } };
      const task = sim.tasks.get(data.taskId)!;
      t += 1;
      return task.finishAt - task.createdAt;
    } finally {
      await sim.close();
    }
  };

  it('follow NOTES.md by speed, scaled by timeScale', async () => {
    const turbo = await spanOf('turbo');
    expect(turbo).toBeGreaterThanOrEqual(10_000);
    expect(turbo).toBeLessThanOrEqual(40_000);
    const relaxed = await spanOf('relaxed');
    expect(relaxed).toBeGreaterThanOrEqual(90_000);
    expect(relaxed).toBeLessThanOrEqual(300_000);
    expect(await spanOf('relaxed', 0.05)).toBe(Math.round(relaxed * 0.05));
  });

  it('are reproducible from the seed, and so are task ids', async () => {
    const run = async (): Promise<string[]> => {
      const sim = await startKieSimulator({ now: () => T0, seed: 99 });
      try {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await fetch(sim.url + KIE_PATHS.generate, {
            method: 'POST',
            headers: { authorization: 'Bearer any' },
            body: JSON.stringify(TXT2IMG),
          });
          ids.push(((await res.json()) as { data: { taskId: string } }).data.taskId);
        }
        return ids.map((id) => `${id}:${sim.tasks.get(id)!.finishAt}`);
      } finally {
        await sim.close();
      }
    };
    expect(await run()).toEqual(await run());
  });
});

describe('parents of upscale / vary / extend', () => {
  it('answers an unknown parent with 422 "Record does not exist"', async () => {
    const h = await startHarness();
    for (const [path, body] of [
      [KIE_PATHS.upscale, { taskId: 'deadbeefdeadbeef', imageIndex: 0 }],
      [KIE_PATHS.vary, { taskId: 'deadbeefdeadbeef', imageIndex: 1 }],
      [KIE_PATHS.extend, { taskType: 'mj_video_extend_auto', taskId: 'deadbeefdeadbeef', index: 0 }],
    ] as const) {
      expect((await h.post(path, body)).body).toEqual({ code: 422, msg: 'Record does not exist' });
    }
  });

  it('refuses a parent that is still generating or failed, without charging', async () => {
    const h = await startHarness();
    const running = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.inject({ kind: 'taskFailure', successFlag: 3 });
    const failed = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.finish(failed);
    const before = h.sim.credits();
    const r1 = await h.post(KIE_PATHS.upscale, { taskId: running, imageIndex: 0 });
    expect(r1.body).toMatchObject({ code: 422, msg: expect.stringContaining('still generating') });
    const r2 = await h.post(KIE_PATHS.vary, { taskId: failed, imageIndex: 1 });
    expect(r2.body).toMatchObject({ code: 422, msg: expect.stringContaining('did not finish successfully') });
    expect(h.sim.credits()).toBe(before);
    expect(h.sim.tasks.size).toBe(2);
  });

  it('upscale/vary need a grid parent; vary results are grids, upscales are not', async () => {
    const h = await startHarness();
    const grid = await h.create(KIE_PATHS.generate, TXT2IMG);
    const video = await h.create(KIE_PATHS.generate, VIDEO);
    h.advance(60_000);
    const up = await h.create(KIE_PATHS.upscale, { taskId: grid, imageIndex: 0 });
    const vary = await h.create(KIE_PATHS.vary, { taskId: grid, imageIndex: 1 });
    h.advance(60_000);
    expect((await h.post(KIE_PATHS.upscale, { taskId: video, imageIndex: 0 })).body?.code).toBe(422);
    expect((await h.post(KIE_PATHS.vary, { taskId: up, imageIndex: 1 })).body?.msg).toContain('mj_upscale');
    expect((await h.post(KIE_PATHS.upscale, { taskId: vary, imageIndex: 2 })).body?.code).toBe(200);
  });

  it('extend needs a video parent and an index below its clip count', async () => {
    const h = await startHarness();
    const grid = await h.create(KIE_PATHS.generate, TXT2IMG);
    const video = await h.create(KIE_PATHS.generate, { ...VIDEO, videoBatchSize: 2 });
    h.advance(60_000);
    const extend = (taskId: string, index: number) => h.post(KIE_PATHS.extend, { taskType: 'mj_video_extend_auto', taskId, index });
    expect((await extend(grid, 0)).body?.msg).toContain('mj_txt2img');
    expect((await extend(video, 2)).body).toMatchObject({ code: 422, msg: expect.stringContaining('out of range') });
    const ext = (await extend(video, 1)).body?.data as { taskId: string };
    h.advance(60_000);
    expect((await extend(ext.taskId, 0)).body?.code).toBe(200);
    expect((await extend(ext.taskId, 1)).body?.code).toBe(422);
  });
});

describe('credits', () => {
  it('deducts each create price from the balance', async () => {
    const h = await startHarness();
    await h.create(KIE_PATHS.generate, { ...TXT2IMG, speed: 'relaxed' });
    await h.create(KIE_PATHS.generate, { ...TXT2IMG, speed: 'turbo' });
    const hd = await h.create(KIE_PATHS.generate, { ...VIDEO, taskType: 'mj_video_hd', videoBatchSize: 4 });
    expect(h.sim.tasks.get(hd)?.price).toBe(4 * DEFAULT_SIM_PRICES.videoHdPerClip);
    expect(h.sim.credits()).toBe(10_000 - 3 - 16 - 180);
    expect(dataOf(await h.get(KIE_PATHS.credits))).toBe(10_000 - 3 - 16 - 180);
  });

  it('answers 402 "Credits insufficient" when the balance is below the price, creating nothing', async () => {
    const h = await startHarness({ credits: 10 });
    await h.create(KIE_PATHS.generate, TXT2IMG); // 8
    const r = await h.post(KIE_PATHS.generate, TXT2IMG);
    expect(r.body).toEqual({ code: 402, msg: 'Credits insufficient' });
    expect(h.sim.credits()).toBe(2);
    expect(h.sim.tasks.size).toBe(1);
    h.sim.setCredits(8);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(200);
    expect(h.sim.credits()).toBe(0);
  });

  it('takes price overrides', async () => {
    const h = await startHarness({ prices: { upscale: 5, grid: { relaxed: 1, fast: 2, turbo: 3 } } });
    const grid = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.finish(grid);
    await h.create(KIE_PATHS.upscale, { taskId: grid, imageIndex: 0 });
    expect(h.sim.credits()).toBe(10_000 - 2 - 5);
  });
});

describe('create rate limit', () => {
  it('answers 429 after 20 creates in 10 s, creating nothing, and recovers after the window', async () => {
    const h = await startHarness();
    for (let i = 0; i < 20; i++) expect((await h.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(200);
    const r = await h.post(KIE_PATHS.generate, TXT2IMG);
    expect(r.status).toBe(200);
    expect(r.body?.code).toBe(429);
    expect(h.sim.tasks.size).toBe(20);
    expect(h.sim.credits()).toBe(10_000 - 20 * 8);
    // Polling is not limited.
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(200);
    h.advance(10_000);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(200);
  });

  it('counts per key, and can be configured or switched off', async () => {
    const h = await startHarness({ apiKey: null, createRateLimit: { max: 2, windowMs: 1000 } });
    expect((await h.post(KIE_PATHS.generate, TXT2IMG, 'a')).body?.code).toBe(200);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG, 'a')).body?.code).toBe(200);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG, 'a')).body?.code).toBe(429);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG, 'b')).body?.code).toBe(200);
    const off = await startHarness({ createRateLimit: null });
    for (let i = 0; i < 25; i++) expect((await off.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(200);
  });
});

describe('forget()', () => {
  it('makes record-info, children and files answer as after retention expiry', async () => {
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.advance(60_000);
    expect((await h.call('GET', `/files/${taskId}_0.png`)).status).toBe(200);
    h.sim.forget(taskId);
    expect(h.sim.tasks.has(taskId)).toBe(false);
    expect((await h.recordInfo(taskId)).body).toEqual({ code: 422, msg: 'Record does not exist' });
    expect((await h.post(KIE_PATHS.upscale, { taskId, imageIndex: 0 })).body).toEqual({ code: 422, msg: 'Record does not exist' });
    expect((await h.call('GET', `/files/${taskId}_0.png`)).status).toBe(404);
  });
});

describe('request log', () => {
  it('records every request in order with endpoint, body, code and taskId; clearRequests empties it', async () => {
    const h = await startHarness();
    const taskId = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.advance(5);
    await h.recordInfo(taskId);
    await h.get(KIE_PATHS.credits, null);
    expect(h.sim.requests).toEqual([
      { method: 'POST', path: KIE_PATHS.generate, query: {}, body: TXT2IMG, authorized: true, at: T0, endpoint: 'generate', responseCode: 200, taskId },
      { method: 'GET', path: KIE_PATHS.recordInfo, query: { taskId }, body: null, authorized: true, at: T0 + 5, endpoint: 'recordInfo', responseCode: 200, taskId },
      { method: 'GET', path: KIE_PATHS.credits, query: {}, body: null, authorized: false, at: T0 + 5, endpoint: 'credits', responseCode: 401 },
    ]);
    const log = h.sim.requests;
    h.sim.clearRequests();
    expect(log).toHaveLength(0);
    expect(h.sim.requests).toBe(log);
  });
});

describe('start and close', () => {
  it('listens on 127.0.0.1 and closes cleanly, twice', async () => {
    const sim = await startKieSimulator();
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await Promise.all([sim.close(), sim.close()]);
    await expect(fetch(sim.url + KIE_PATHS.credits)).rejects.toThrow();
  });

  it('rejects nonsense options', async () => {
    await expect(startKieSimulator({ timeScale: 0 })).rejects.toThrow(/timeScale/);
    await expect(startKieSimulator({ apiKey: '' })).rejects.toThrow(/apiKey/);
    await expect(startKieSimulator({ createRateLimit: { max: 0, windowMs: 1 } })).rejects.toThrow(/max/);
  });
});
