/**
 * One history measurement, in a fresh process (started by ./history.ts) over
 * a database already holding the history: what the bot does at start
 * (src/main.ts without the Discord login and command registration: open the
 * store — migrations, the legacy check —, build the app, resume, start the
 * tracker), then RSS, then admissions and /usage reports as the commands make
 * them.
 *
 * - Admission: TeamPolicy.admit (the job service's Admission) for new grids
 *   across the 50 channels and 300 users, each channel with daily and monthly
 *   budgets and a per-user daily limit, so every decision sums the channel's
 *   spend and the user's jobs; each admitted job is then finished (untimed).
 * - /usage: the steps of commands/usage.ts for `period:30d scope:server`:
 *   effective settings, the ledger report (SQL aggregates), the budget lines
 *   of the top channels, the formatted text.
 */
import { Client } from 'discord.js';
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { budgetsFor } from '../../commands/usage.js';
import { buildApp } from '../../src/app.js';
import { newJob, newJobId, type Job } from '../../src/domain/job.js';
import { formatUsageReport, usageFilter, type UsageQuery } from '../../src/domain/team/usage.js';
import { KieClient } from '../../src/providers/kie/client.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/store.js';
import { channelIdOf, HISTORY_GUILD, userIdOf } from './historyFill.js';

export interface HistoryChildInput {
  url: string;
  channels: number;
  users: number;
  admissions: number;
  reports: number;
}

export interface HistoryChildResult {
  /** open → ready, in this process (what a restart costs once Node is up). */
  startupMs: number;
  /** Process start (timeOrigin) → ready: adds Node, module loading and tsx. */
  processReadyMs: number;
  rssMB: number;
  heapUsedMB: number;
  admitMs: number[];
  usageMs: number[];
  verdicts: Record<string, number>;
  reportJobs: number;
  /** PostgreSQL: statements sent per admission (each a round trip); 0 on SQLite (in-process calls). */
  admitRoundTrips: number;
}

/** Counts the statements the pg driver sends while `counting` is on (PostgreSQL round trips). */
const sent = { counting: false, n: 0 };
const pgQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (this: unknown, ...args: unknown[]) {
  if (sent.counting) sent.n += 1;
  return pgQuery.apply(this, args);
};

async function run(input: HistoryChildInput): Promise<HistoryChildResult> {
  const t0 = performance.now();
  const store = await openStore(input.url);
  const client = new Client({ intents: [] });
  // Nothing in the history needs work, so nothing calls KIE at start; admissions never reach it.
  const kie = new KieClient({ baseUrl: 'http://127.0.0.1:9', apiKey: 'bench', retry: { maxAttempts: 1 } });
  const app = await buildApp({ client, store, kie, logger: createLogger('silent') });
  await app.start();
  const startupMs = performance.now() - t0;
  const processReadyMs = performance.now();
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();

  const team = app.team;
  for (let c = 0; c < input.channels; c++) {
    await team.settings.set('channel', channelIdOf(c), { dailyBudget: 100_000, monthlyBudget: 2_000_000, userDailyJobs: 500, maxConcurrent: 50 });
  }
  // Warm-up (untimed): the first statements of each kind are prepared and planned.
  const admitMs: number[] = [];
  const verdicts: Record<string, number> = {};
  for (let i = 0; i < input.admissions; i++) {
    const now = Date.now();
    const job: Job = newJob(
      {
        kind: 'grid',
        request: { op: 'generate', body: { taskType: 'mj_txt2img', prompt: `bench admission ${i}`, speed: 'fast' } },
        promptText: `bench admission ${i}`,
        speed: 'fast',
        estimatedCredits: 8,
        origin: {
          guildId: HISTORY_GUILD,
          channelId: channelIdOf((i * 7) % input.channels),
          userId: userIdOf((i * 13) % input.users),
          applicationId: '1100000000000000001',
          interactionToken: null,
          interactionAt: now,
          messageId: null,
          replyToMessageId: null,
          attachmentSizeLimit: null,
        },
        parent: null,
      },
      newJobId(now),
      'pending',
      now,
    );
    const t = performance.now();
    sent.counting = true;
    const decision = await team.policy.admit(job);
    sent.counting = false;
    admitMs.push(performance.now() - t);
    verdicts[decision.verdict] = (verdicts[decision.verdict] ?? 0) + 1;
    if (decision.verdict !== 'reject') await team.policy.release({ ...job, state: 'succeeded', taskId: `bench-${job.id}`, finishedAt: Date.now(), delivered: true });
  }

  const usageMs: number[] = [];
  let reportJobs = 0;
  for (let i = 0; i < input.reports; i++) {
    const t = performance.now();
    const q: UsageQuery = { period: '30d', scope: 'server', guildId: HISTORY_GUILD, channelId: channelIdOf(i % input.channels), userId: userIdOf(i), now: Date.now() };
    const here = (await team.settings.resolve(q.guildId, q.channelId)).values;
    const report = await team.ledger.report(usageFilter(q), here.countFailed);
    const text = formatUsageReport(report, {
      scope: q.scope,
      period: q.period,
      now: q.now,
      channelId: q.channelId,
      userId: q.userId,
      countFailed: here.countFailed,
      budgets: await budgetsFor(team, q, report),
      userDaily: null,
    });
    usageMs.push(performance.now() - t);
    if (text.length === 0) throw new Error('empty report');
    reportJobs = report.jobs;
  }

  await app.stop();
  app.jobs.dispose();
  await client.destroy();
  await kie.close();
  // The keyv namespaces share one pool that the store owns and ends once (src/store/store.ts).
  await store.close();
  const admitRoundTrips = sent.n / Math.max(1, input.admissions);
  return { startupMs, processReadyMs, rssMB: mem.rss / 2 ** 20, heapUsedMB: mem.heapUsed / 2 ** 20, admitMs, usageMs, verdicts, reportJobs, admitRoundTrips };
}

process.once('message', (input: HistoryChildInput) => {
  run(input).then(
    (result) => process.send!({ ok: true, result }, () => process.exit(0)),
    (error: unknown) => process.send!({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)),
  );
});
