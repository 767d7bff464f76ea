/**
 * Every fault kind over real HTTP, plus the queue's matching rules
 * (injection order, endpoints, times).
 */
import { describe, expect, it } from 'vitest';
import { KIE_PATHS } from '../../../src/providers/kie/schemas.js';
import { endpointMatches, FaultQueue } from '../../../src/providers/kie/simulator/faults.js';
import { dataOf, startHarness, TXT2IMG } from './harness.js';

describe('request faults over HTTP', () => {
  it("'code' answers HTTP 200 with {code, msg}, then the next request is normal", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'code', code: 455 });
    const r = await h.post(KIE_PATHS.generate, TXT2IMG);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ code: 455, msg: expect.stringContaining('maintenance') });
    expect(h.sim.tasks.size).toBe(0);
    expect(h.sim.requests[0]?.responseCode).toBe(455);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(200);
  });

  it("'code' takes a custom msg and applies before auth", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'code', code: 500, msg: 'upstream exploded' });
    expect((await h.get(KIE_PATHS.credits, null)).body).toEqual({ code: 500, msg: 'upstream exploded' });
  });

  it("'http' answers a real error status with a JSON body", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'http', status: 503 });
    h.sim.inject({ kind: 'http', status: 500, code: 501, msg: 'nope' });
    const r1 = await h.get(KIE_PATHS.credits);
    expect(r1.status).toBe(503);
    expect(r1.body).toEqual({ code: 503, msg: 'Service Unavailable' });
    const r2 = await h.get(KIE_PATHS.credits);
    expect(r2.status).toBe(500);
    expect(r2.body).toEqual({ code: 501, msg: 'nope' });
    expect(h.sim.requests.map((q) => q.responseCode)).toEqual([503, 500]);
  });

  it("'html' answers a proxy's HTML page (502 by default)", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'html' });
    h.sim.inject({ kind: 'html', status: 504 });
    const r1 = await h.post(KIE_PATHS.generate, TXT2IMG);
    expect(r1.status).toBe(502);
    expect(r1.headers.get('content-type')).toBe('text/html');
    expect(r1.body).toBeNull();
    expect(r1.text).toContain('502 Bad Gateway');
    const r2 = await h.post(KIE_PATHS.generate, TXT2IMG);
    expect(r2.status).toBe(504);
    expect(h.sim.tasks.size).toBe(0);
  });

  it("'reset' destroys the socket without an answer", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'reset', endpoint: 'recordInfo' });
    await expect(h.get(`${KIE_PATHS.recordInfo}?taskId=abc`)).rejects.toThrow();
    expect(h.sim.requests[0]).toMatchObject({ endpoint: 'recordInfo', responseCode: 0 });
    expect((await h.get(`${KIE_PATHS.recordInfo}?taskId=abc`)).body?.code).toBe(422);
  });

  it("'slow' answers normally after the delay", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'slow', delayMs: 30 });
    const r = await h.post(KIE_PATHS.generate, TXT2IMG);
    expect(r.body?.code).toBe(200);
    expect(h.sim.tasks.size).toBe(1);
  });

  it("'slow' requests are cut off by close() rather than keeping it waiting", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'slow', delayMs: 3_600_000 });
    const pending = h.get(KIE_PATHS.credits);
    while (h.sim.requests.length === 0) await new Promise((r) => setImmediate(r));
    await h.sim.close();
    await expect(pending).rejects.toThrow();
  });

  it("'burst429' answers the next `count` matching requests with code 429", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'burst429', count: 2, endpoint: 'create' });
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(200);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(429);
    expect((await h.post(KIE_PATHS.upscale, { taskId: 'x', imageIndex: 0 })).body?.code).toBe(429);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(200);
  });

  it("'taskFailure' lets the create succeed and the task end failed", async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'taskFailure', successFlag: 2, times: 2 });
    h.sim.inject({ kind: 'taskFailure', successFlag: 3, errorCode: null, errorMessage: null });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await h.create(KIE_PATHS.generate, TXT2IMG));
    h.advance(59_999);
    expect(dataOf(await h.recordInfo(ids[0]!))['successFlag']).toBe(0);
    h.advance(1);
    const flags = [];
    for (const id of ids) flags.push(dataOf(await h.recordInfo(id)));
    expect(flags[0]).toMatchObject({ successFlag: 2, errorCode: 501, errorMessage: expect.any(String), resultInfoJson: null });
    expect(flags[1]).toMatchObject({ successFlag: 2 });
    expect(flags[2]).toMatchObject({ successFlag: 3, errorCode: null, errorMessage: null, completeTime: '2025-01-15T12:01:00Z' });
    expect(flags[3]).toMatchObject({ successFlag: 1 });
    expect((await h.call('GET', `/files/${ids[0]!}_0.png`)).status).toBe(404);
  });

  it('matches faults in injection order, each on its own endpoint', async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'code', code: 500, endpoint: 'recordInfo' });
    h.sim.inject({ kind: 'code', code: 505, endpoint: 'generate' });
    h.sim.inject({ kind: 'code', code: 455 });
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(455);
    expect((await h.post(KIE_PATHS.generate, TXT2IMG)).body?.code).toBe(505);
    expect((await h.get(`${KIE_PATHS.recordInfo}?taskId=a`)).body?.code).toBe(500);
    expect((await h.get(`${KIE_PATHS.recordInfo}?taskId=a`)).body?.code).toBe(422);
  });

  it('applies a fault `times` times, and clearFaults() drops what is left', async () => {
    const h = await startHarness();
    h.sim.inject({ kind: 'code', code: 500, times: 2 });
    h.sim.inject({ kind: 'taskFailure', successFlag: 2 });
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(500);
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(500);
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(200);
    h.sim.inject({ kind: 'code', code: 500, times: Infinity });
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(500);
    h.sim.clearFaults();
    expect((await h.get(KIE_PATHS.credits)).body?.code).toBe(200);
    const id = await h.create(KIE_PATHS.generate, TXT2IMG);
    expect(h.sim.tasks.get(id)?.outcome.successFlag).toBe(1);
  });

  it('can hit file downloads too', async () => {
    const h = await startHarness();
    const id = await h.create(KIE_PATHS.generate, TXT2IMG);
    h.sim.finish(id);
    h.sim.inject({ kind: 'http', status: 403, endpoint: 'file' });
    expect((await h.call('GET', `/files/${id}_0.png`)).status).toBe(403);
    expect((await h.call('GET', `/files/${id}_0.png`)).status).toBe(200);
  });
});

describe('FaultQueue', () => {
  it('matches endpoints: undefined and * match all, create matches the four creates', () => {
    expect(endpointMatches(undefined, 'unknown')).toBe(true);
    expect(endpointMatches('*', 'file')).toBe(true);
    for (const e of ['generate', 'upscale', 'vary', 'extend'] as const) expect(endpointMatches('create', e)).toBe(true);
    expect(endpointMatches('create', 'recordInfo')).toBe(false);
    expect(endpointMatches('credits', 'credits')).toBe(true);
    expect(endpointMatches('credits', 'file')).toBe(false);
  });

  it('keeps task failures apart from request faults', () => {
    const q = new FaultQueue();
    q.inject({ kind: 'taskFailure', successFlag: 2 });
    expect(q.takeForRequest('generate')).toBeNull();
    expect(q.takeTaskFailure()).toMatchObject({ successFlag: 2 });
    expect(q.takeTaskFailure()).toBeNull();
    expect(q.size).toBe(0);
  });

  it('rejects invalid times, counts and delays', () => {
    const q = new FaultQueue();
    expect(() => q.inject({ kind: 'reset', times: 0 })).toThrow(RangeError);
    expect(() => q.inject({ kind: 'code', code: 500, times: 1.5 })).toThrow(RangeError);
    expect(() => q.inject({ kind: 'burst429', count: -1 })).toThrow(RangeError);
    expect(() => q.inject({ kind: 'slow', delayMs: -5 })).toThrow(RangeError);
    expect(q.size).toBe(0);
  });
});
