/**
 * The process's HTTP port: exact routes, 404/405, HEAD, errors as 500, and
 * the health and readiness probes with injected checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { healthRoutes, readiness, type ReadinessChecks } from '../../src/http/health.js';
import { HttpListenError, startHttpServer, type HttpServer } from '../../src/http/server.js';

const opened: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const checks = (over: Partial<ReadinessChecks> = {}): ReadinessChecks => ({
  gateway: () => true,
  database: async () => {},
  draining: () => false,
  ...over,
});

async function serve(c: ReadinessChecks) {
  const server = await startHttpServer({
    host: '127.0.0.1',
    routes: [
      ...healthRoutes(c),
      { method: 'GET', path: '/boom', handle: () => Promise.reject(new Error('secret detail')) },
    ],
  });
  opened.push(server);
  return server;
}

describe('HTTP server', () => {
  it('answers /healthz while alive and /readyz when every check passes', async () => {
    const server = await serve(checks());
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks: { gateway: 'ok', database: 'ok', process: 'ok' } });
  });

  it.each([
    ['gateway down', { gateway: () => false }, { gateway: 'down' }],
    ['database failing', { database: () => Promise.reject(new Error('postgres://u:pw@h')) }, { database: 'error' }],
    ['draining', { draining: () => true }, { process: 'draining' }],
  ])('/readyz is 503 when %s, naming the check and no error detail', async (_name, over, failed) => {
    const server = await serve(checks(over as Partial<ReadinessChecks>));
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ ready: false, checks: failed });
    expect(text).not.toContain('pw');
    // alive all the same
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('times out a database check that hangs', async () => {
    const report = await readiness(checks({ database: () => new Promise(() => {}) }));
    expect(report).toMatchObject({ ready: false, checks: { database: 'timeout' } });
  }, 5_000);

  it('404s unknown paths, 405s other methods, answers HEAD, and hides errors behind a 500', async () => {
    const server = await serve(checks());
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const post = await fetch(`${server.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await fetch(`${server.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
    const boom = await fetch(`${server.url}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('secret detail');
  });

  it('says plainly when the port is taken', async () => {
    const first = await serve(checks());
    const err = await startHttpServer({ host: '127.0.0.1', port: first.port, routes: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpListenError);
    expect((err as Error).message).toBe(`could not listen on 127.0.0.1:${first.port}: the port is already in use`);
  });
});
