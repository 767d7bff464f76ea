/**
 * Several KIE accounts in one simulator (`accounts`): each key is accepted,
 * has its own balance and its own tasks (unknown to the other keys, as at
 * KIE), requests record which account they carried, and faults can aim at
 * one account (a 402 or 401 from one key only).
 */
import { describe, expect, it } from 'vitest';
import { KIE_PATHS } from '../../../src/providers/kie/schemas.js';
import { dataOf, startHarness, TXT2IMG } from './harness.js';

const accounts = { a: { apiKey: 'key-a', credits: 100 }, b: { apiKey: 'key-b', credits: 5 } };

describe('several accounts', () => {
  it('each key has its own balance; an unknown key is 401', async () => {
    const h = await startHarness({ accounts });
    expect(dataOf(await h.get(KIE_PATHS.credits, 'key-a'))).toBe(100);
    expect((await h.get(KIE_PATHS.credits, 'key-b')).body?.data).toBe(5);
    expect((await h.get(KIE_PATHS.credits, 'key-c')).body?.code).toBe(401);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG, 'key-a')).body?.code).toBe(200);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG, 'key-b')).body?.code).toBe(402); // 5 < 8
    expect(h.sim.credits('a')).toBe(92);
    expect(h.sim.credits('b')).toBe(5);
    h.sim.setCredits(50, 'b');
    expect((await h.get(KIE_PATHS.credits, 'key-b')).body?.data).toBe(50);
    expect(h.sim.requests.map((r) => r.account)).toEqual(['a', 'b', undefined, 'a', 'b', 'b']);
    expect(() => h.sim.credits()).toThrow(/name the account/);
  });

  it("a task of one key does not exist for another: record-info and follow-ups answer 'Record does not exist'", async () => {
    const h = await startHarness({ accounts });
    const taskId = String(dataOf(await h.post(KIE_PATHS.generate, TXT2IMG, 'key-a')).taskId);
    expect((await h.get(`${KIE_PATHS.recordInfo}?taskId=${taskId}`, 'key-a')).body?.code).toBe(200);
    expect((await h.get(`${KIE_PATHS.recordInfo}?taskId=${taskId}`, 'key-b')).body?.code).toBe(422);
    h.sim.finish(taskId);
    h.sim.setCredits(100, 'b');
    expect((await h.post(KIE_PATHS.upscale, { taskId, imageIndex: 0 }, 'key-b')).body?.code).toBe(422);
    expect((await h.post(KIE_PATHS.upscale, { taskId, imageIndex: 0 }, 'key-a')).body?.code).toBe(200);
  });

  it('a fault can aim at one account', async () => {
    const h = await startHarness({ accounts });
    h.sim.inject({ kind: 'code', code: 401, endpoint: 'credits', account: 'b' });
    expect((await h.get(KIE_PATHS.credits, 'key-a')).body?.code).toBe(200);
    expect((await h.get(KIE_PATHS.credits, 'key-b')).body?.code).toBe(401);
    expect((await h.get(KIE_PATHS.credits, 'key-b')).body?.code).toBe(200);
  });
});
