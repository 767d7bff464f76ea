/**
 * GET /metrics in Prometheus text format (prom-client). One Registry per
 * process, made in main.ts (never prom-client's global default registry, so
 * tests can build several apps side by side).
 *
 * Wired today: Node's default metrics (nodejs_eventloop_lag_seconds among
 * them), jobs by state (counted on scrape from the jobs table over the
 * partial index jobs_needs_work), provider requests by provider, endpoint
 * and code (the KIE and APIXO clients' onResponse hooks), credits spent by
 * provider, kind and speed (the job service's onCreated), delivery lag,
 * polls per task, lease takeovers and Discord rate limits. Every label has
 * a bounded set of values: never a channel, user or job id.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Route } from './server.js';

export interface BotMetrics {
  readonly registry: Registry;
  /** One provider HTTP answer (or a network failure, code 'network'). */
  providerResponse(provider: string, endpoint: string, code: string | number): void;
  /** A provider accepted a create: its credits (the price table's estimate) are spent. */
  creditsSpent(provider: string, kind: string, speed: string | null, credits: number): void;
  /** A terminal job was delivered: its lag (provider finish → delivered, when known) and its polls. */
  jobDelivered(times: { kieCompletedAt: number | null; deliveredAt: number }, polls: number): void;
  /** This process took a lapsed lease from another. */
  leaseTakeover(): void;
  /** Discord REST answered 429 (or discord.js waited out a limit). */
  discordRateLimited(route: string, global: boolean): void;
}

export interface BotMetricsOptions {
  /** Open (needs-work) jobs counted by state; read on every scrape. */
  jobsByState?: () => Promise<Record<string, number>>;
  /** Requests waiting in channel queues; read on every scrape. */
  queueLength?: () => Promise<number>;
  /** Node's process/event-loop metrics; default true (tests may turn them off). */
  defaultMetrics?: boolean;
}

export function createMetrics(options: BotMetricsOptions = {}): BotMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const jobsByState = options.jobsByState;
  new Gauge({
    name: 'teamjourney_jobs_open',
    help: 'Jobs not yet finished or not yet delivered, by state (read from the database on scrape)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!jobsByState) return;
      this.reset();
      for (const [state, count] of Object.entries(await jobsByState())) this.set({ state }, count);
    },
  });
  const queueLength = options.queueLength;
  new Gauge({
    name: 'teamjourney_queue_length',
    help: 'Requests waiting in channel queues (read from the database on scrape)',
    registers: [registry],
    async collect() {
      if (queueLength) this.set(await queueLength());
    },
  });
  const requests = new Counter({
    name: 'teamjourney_provider_requests_total',
    help: 'Provider HTTP requests by provider (kie, apixo), endpoint and answer code (200 ok, the provider code or HTTP status otherwise, network)',
    labelNames: ['provider', 'endpoint', 'code'],
    registers: [registry],
  });
  const credits = new Counter({
    name: 'teamjourney_credits_spent_total',
    help: "Credits of the creates a provider accepted (the price table's estimate), by provider, job kind and speed",
    labelNames: ['provider', 'kind', 'speed'],
    registers: [registry],
  });
  const deliveryLag = new Histogram({
    name: 'teamjourney_delivery_lag_seconds',
    help: 'Provider task finished -> result delivered in Discord',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [registry],
  });
  const polls = new Histogram({
    name: 'teamjourney_polls_per_task',
    help: 'record-info polls a job needed, observed when it is delivered',
    buckets: [1, 2, 3, 5, 8, 13, 21, 34, 55],
    registers: [registry],
  });
  const takeovers = new Counter({
    name: 'teamjourney_lease_takeovers_total',
    help: "Jobs this process took over from another process's lapsed lease",
    registers: [registry],
  });
  const discord429 = new Counter({
    name: 'teamjourney_discord_rate_limited_total',
    help: 'Discord REST rate limits hit (discord.js rateLimited events), by global or not',
    labelNames: ['global'],
    registers: [registry],
  });
  return {
    registry,
    providerResponse: (provider, endpoint, code) => requests.inc({ provider, endpoint, code: String(code) }),
    creditsSpent: (provider, kind, speed, n) => credits.inc({ provider, kind, speed: speed ?? 'none' }, n),
    jobDelivered: (times, n) => {
      if (times.kieCompletedAt !== null) deliveryLag.observe(Math.max(0, times.deliveredAt - times.kieCompletedAt) / 1000);
      polls.observe(n);
    },
    leaseTakeover: () => takeovers.inc(),
    // The route is not a label: it holds channel/message ids (unbounded cardinality).
    discordRateLimited: (_route, global) => discord429.inc({ global: String(global) }),
  };
}

/** The route serving a registry's metrics. */
export function metricsRoute(registry: Registry): Route {
  return {
    method: 'GET',
    path: '/metrics',
    handle: async () => ({
      status: 200,
      body: await registry.metrics(),
      headers: { 'content-type': registry.contentType },
    }),
  };
}
