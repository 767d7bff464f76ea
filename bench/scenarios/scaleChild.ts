/**
 * One scale measurement, in a fresh process (started by ./scale.ts), so its
 * memory figures are this bot's and this size's alone.
 *
 * The bot side only — JobService, the real Tracker, KieClient, the real
 * DiscordPresenter on discord.js — on the store production uses (SQLite),
 * against the services process's KIE server and fake Discord. N jobs are
 * submitted (each with its own deferred interaction), their KIE tasks never
 * finish, and then the process is watched for a while as the Tracker keeps
 * following all N: memory, event-loop delay, CPU.
 *
 * The Tracker runs with its production limits (8 polls/s, progress edits
 * ≤ 1 per 5 s per job and 5 per 5 s per channel) but a compressed schedule,
 * so every job is inside its polling window within seconds: the steady state
 * of N jobs in flight, reached without waiting minutes. Creates bypass the
 * 20-per-10-s limit to build the load up quickly (5,000 creates would take
 * 42 minutes at KIE's pace); that limit is measured by the lag scenario.
 */
import { kieProviders } from '../../src/providers/kie/adapter.js';
import { Routes } from 'discord.js';
import { DiscordPresenter } from '../../src/discord/presenter.js';
import type { JobRepository } from '../../src/domain/jobRepository.js';
import { systemClock } from '../../src/domain/ports.js';
import { buildJobCore } from '../../src/jobCore.js';
import { mapLimited } from '../../src/domain/concurrency.js';
import { KieClient } from '../../src/providers/kie/client.js';
import type { Speed } from '../../src/providers/kie/schemas.js';
import { openStore } from '../../src/store/store.js';
import { createTestClient, DEFAULT_GUILD_ID } from '../../test/support/discordClient.js';
import type { FakeDiscord } from '../../test/support/fakeDiscord.js';
import { watchEventLoop, type EventLoopDelay } from '../eventLoop.js';
import { benchLogger } from '../logger.js';
import { TRACKER_LIMITS } from '../pollers/adaptive.js';
import type { Endpoints } from '../services/protocol.js';

export interface ScaleJobSpec {
  id: string;
  token: string;
  channelId: string;
  userId: string;
  speed: Speed;
}

export interface ScaleChildInput {
  endpoints: Endpoints;
  jobs: ScaleJobSpec[];
  storeUrl: string;
  /** Schedule compression, so jobs reach their polling window quickly. */
  scheduleTimeScale: number;
  /** How long to watch the steady state. */
  windowMs: number;
  /** Submissions in flight at once. */
  submitConcurrency: number;
}

export interface MemorySample {
  rssMB: number;
  heapUsedMB: number;
}

export interface ScaleChildResult {
  jobs: number;
  /** After setup, before any job (after a GC). */
  baseline: MemorySample;
  /** After all submissions (after a GC). */
  loaded: MemorySample;
  /** Highest while tracking all N (sampled every 200 ms, no forced GC). */
  tracking: MemorySample;
  /** Highest over the whole run, the build-up of N submissions included. */
  peak: MemorySample;
  submitWallS: number;
  submitCpuMs: number;
  windowS: number;
  windowCpuMs: number;
  eventLoopMs: EventLoopDelay;
  polls: number;
  progressEdits: number;
  tracked: number;
  running: number;
}

const MB = 1024 * 1024;
const memory = (): MemorySample => {
  const m = process.memoryUsage();
  return { rssMB: m.rss / MB, heapUsedMB: m.heapUsed / MB };
};
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

function settle(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return memory();
}

export async function runScaleChild(input: ScaleChildInput): Promise<ScaleChildResult> {
  const { endpoints } = input;
  const stub = { apiUrl: endpoints.discordApiUrl, applicationId: endpoints.applicationId, botUser: endpoints.botUser } as FakeDiscord;
  const client = createTestClient(stub, { rest: { timeout: 30_000 } });
  const store = await openStore(input.storeUrl);
  const repo: JobRepository = store.jobs;
  const kie = new KieClient({ baseUrl: endpoints.kieUrl, apiKey: 'bench-key', createLimit: { max: 1_000_000, windowMs: 1_000 } });
  const logger = benchLogger();
  let polls = 0;
  let progressEdits = 0;
  const presenter = new DiscordPresenter({ rest: client.rest, clock: systemClock, trustedMediaOrigins: [new URL(endpoints.kieUrl).origin] });
  const counting = {
    progress: async (...args: Parameters<DiscordPresenter['progress']>) => {
      progressEdits++;
      return presenter.progress(...args);
    },
    deliver: (...args: Parameters<DiscordPresenter['deliver']>) => presenter.deliver(...args),
  };
  const { tracker, jobs: service } = buildJobCore({
    repo,
    providers: kieProviders(kie),
    presenter: counting,
    clock: systemClock,
    tracker: {
      logger,
      observer: { onPoll: () => void polls++ },
      schedule: { timeScale: input.scheduleTimeScale },
      maxPollsPerSecond: TRACKER_LIMITS.maxPollsPerSecond,
    },
    service: { logger },
  });
  tracker.start();

  const baseline = settle();
  const peak = memory();
  const tracking = memory();
  let inWindow = false;
  const sampler = setInterval(() => {
    const m = memory();
    for (const target of inWindow ? [peak, tracking] : [peak]) {
      target.rssMB = Math.max(target.rssMB, m.rssMB);
      target.heapUsedMB = Math.max(target.heapUsedMB, m.heapUsedMB);
    }
  }, 200);
  const submitCpu = process.cpuUsage();
  const submitStart = Date.now();
  await mapLimited(input.jobs, input.submitConcurrency, async (spec) => {
    await client.rest.post(Routes.interactionCallback(spec.id, spec.token), { body: { type: 5 }, auth: false });
    const prompt = `scale ${spec.id}: a lighthouse at dusk`;
    await service.submit({
      kind: 'grid',
      request: { op: 'generate', body: { taskType: 'mj_txt2img', prompt, speed: spec.speed } },
      promptText: prompt,
      speed: spec.speed,
      estimatedCredits: 0,
      origin: {
        guildId: DEFAULT_GUILD_ID,
        channelId: spec.channelId,
        userId: spec.userId,
        applicationId: endpoints.applicationId,
        interactionToken: spec.token,
        interactionAt: Date.now(),
        messageId: null,
        replyToMessageId: null,
        attachmentSizeLimit: null,
      },
      parent: null,
    });
  });
  const submitWallS = (Date.now() - submitStart) / 1000;
  const submitCpuMs = cpuMs(process.cpuUsage(submitCpu));
  const loaded = settle();

  const pollsBefore = polls;
  const editsBefore = progressEdits;
  Object.assign(tracking, memory());
  inWindow = true;
  const windowCpu = process.cpuUsage();
  const windowStart = Date.now();
  const eld = watchEventLoop();
  await new Promise((resolve) => setTimeout(resolve, input.windowMs));
  const eventLoopMs = eld.stop();
  const windowS = (Date.now() - windowStart) / 1000;
  const windowCpuMs = cpuMs(process.cpuUsage(windowCpu));
  clearInterval(sampler);

  const stats = tracker.stats();
  const running = (await repo.listActive()).filter((j) => j.state === 'running').length;
  await tracker.stop();
  service.dispose();
  await client.destroy();
  await kie.close();
  await store.close();
  return {
    jobs: input.jobs.length,
    baseline,
    loaded,
    tracking,
    peak,
    submitWallS,
    submitCpuMs,
    windowS,
    windowCpuMs,
    eventLoopMs,
    polls: polls - pollsBefore,
    progressEdits: progressEdits - editsBefore,
    tracked: stats.tracked,
    running,
  };
}

// Entry point when forked by ./scale.ts: one 'run' message in, one result out.
if (process.send && process.env['TEAMJOURNEY_BENCH_SCALE_CHILD'] === '1') {
  // The bench went away (Ctrl-C): nobody to report to.
  process.once('disconnect', () => process.exit(1));
  process.once('message', (input: ScaleChildInput) => {
    runScaleChild(input).then(
      (result) => process.send?.({ ok: true, result }, () => process.exit(0)),
      (error: unknown) =>
        process.send?.({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)),
    );
  });
}
