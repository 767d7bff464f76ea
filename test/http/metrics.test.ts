import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, metricsRoute } from '../../src/http/metrics.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { openJobsByState } from '../../src/store/sql/jobCounts.js';
import type { OpenedStore } from '../../src/store/store.js';
import { useHarness } from '../support/domainHarness.js';
import { newGridJob } from '../support/jobFixtures.js';

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('GET /metrics', () => {
  it('answers Prometheus text format 0.0.4 with the bot metrics and Node event-loop lag', async () => {
    const metrics = createMetrics({ jobsByState: async () => ({ running: 2, pending: 1 }), queueLength: async () => 3 });
    metrics.providerResponse('kie', 'generate', 200);
    metrics.providerResponse('kie', 'recordInfo', 'network');
    metrics.providerResponse('apixo', 'status', 429);
    metrics.creditsSpent('kie', 'grid', 'fast', 8);
    metrics.creditsSpent('kie', 'grid', 'fast', 8);
    metrics.creditsSpent('apixo', 'upscale', null, 4);
    server = await startHttpServer({ host: '127.0.0.1', routes: [metricsRoute(metrics.registry)] });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE teamjourney_jobs_open gauge');
    expect(text).toContain('teamjourney_jobs_open{state="running"} 2');
    expect(text).toContain('teamjourney_jobs_open{state="pending"} 1');
    expect(text).toContain('teamjourney_provider_requests_total{provider="kie",endpoint="generate",code="200"} 1');
    expect(text).toContain('teamjourney_provider_requests_total{provider="kie",endpoint="recordInfo",code="network"} 1');
    expect(text).toContain('teamjourney_provider_requests_total{provider="apixo",endpoint="status",code="429"} 1');
    expect(text).toContain('teamjourney_credits_spent_total{provider="kie",kind="grid",speed="fast"} 16');
    expect(text).toContain('teamjourney_credits_spent_total{provider="apixo",kind="upscale",speed="none"} 4');
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toContain('teamjourney_queue_length 3');
    for (const name of ['teamjourney_delivery_lag_seconds', 'teamjourney_polls_per_task', 'teamjourney_lease_takeovers_total', 'teamjourney_discord_rate_limited_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('keeps one registry per app: two apps count separately', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.providerResponse('kie', 'generate', 200);
    expect(await a.registry.metrics()).toContain('endpoint="generate",code="200"} 1');
    expect(await b.registry.metrics()).not.toContain('endpoint="generate"');
  });
});

describe('metrics through a job', () => {
  const harnesses = useHarness();

  it('counts KIE requests and the open job by state, then drops it once delivered', async () => {
    let sdb: OpenedStore['sql'] | undefined;
    const metrics = createMetrics({ defaultMetrics: false, jobsByState: async () => (sdb ? openJobsByState(sdb) : {}) });
    const h = await harnesses.start({ storeUrl: harnesses.sqliteUrl('tj-metrics-'), onKieResponse: (endpoint, code) => metrics.providerResponse('kie', endpoint, code),
      onCreated: (job) => metrics.creditsSpent(job.provider ?? 'kie', job.kind, job.speed, job.estimatedCredits),
      tracker: { observer: { onFinished: (job, times) => metrics.jobDelivered(times, job.polls) } },
    });
    sdb = (h.store as OpenedStore).sql;
    const scrape = (): Promise<string> => metrics.registry.metrics();
    h.tracker.start();
    const result = await h.service.submit(newGridJob({ id: 'j1' }));
    expect(result.kind).toBe('running');

    let text = await scrape();
    expect(text).toContain('teamjourney_jobs_open{state="running"} 1');
    expect(text).toContain('teamjourney_provider_requests_total{provider="kie",endpoint="generate",code="200"} 1');
    expect(text).toMatch(/teamjourney_credits_spent_total\{provider="kie",kind="grid",speed="(fast|relaxed|turbo)"\} [1-9]/);

    await h.clock.advance(60_000);
    expect(await h.repo.require('j1')).toMatchObject({ state: 'succeeded', delivered: true });
    text = await scrape();
    expect(text).not.toContain('teamjourney_jobs_open{state=');
    expect(text).toMatch(/teamjourney_provider_requests_total\{provider="kie",endpoint="recordInfo",code="200"\} [1-9]/);
    expect(text).toContain('teamjourney_delivery_lag_seconds_count 1');
    expect(text).toContain('teamjourney_polls_per_task_count 1');
  });

  it('counts lease takeovers and Discord rate limits', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.leaseTakeover();
    metrics.leaseTakeover();
    metrics.discordRateLimited('/channels/1/messages', false);
    const text = await metrics.registry.metrics();
    expect(text).toContain('teamjourney_lease_takeovers_total 2');
    expect(text).toContain('teamjourney_discord_rate_limited_total{global="false"} 1');
  });
});
