/**
 * Delivery lag and KIE request economy for one poller on one load.
 *
 * The bot side runs in this process — the real KieClient, the poller, the
 * real DiscordPresenter on discord.js's REST — against the local KIE server
 * and the fake Discord in a services process of their own (../services), all
 * over 127.0.0.1. Each job arrives as Discord would send it: an interaction
 * is registered with the fake and deferred ("thinking…") through discord.js's
 * REST, then handed to the poller, which creates the task, follows it and
 * edits the deferred reply with the result files.
 *
 * The bench plays the /imagine command here (not the router): the naive
 * pollers cannot sit behind the JobService, and all of them must see the same
 * path. The router's own cost is what the ack scenario measures.
 *
 * Every rate limit in play is per real second in the code; all are divided
 * by the time scale, so the compressed run keeps the limits' proportions:
 * KIE's 20 creates / 10 s (the simulator's and the client's), the client's
 * read budget, the Tracker's poll budget and edit throttles, and discord.js's
 * 50 requests/s.
 *
 * With callbacks (the adaptive poller only), the KIE server signs and POSTs
 * a callback for every finished task to a receiver in this process
 * (src/providers/kie/callbackServer.ts, the bot's own), which makes the tracker poll
 * that task at once, as the app does. The simulator looks for finished
 * tasks every CALLBACK_CHECK_MS of real-equivalent time, so a callback
 * leaves up to that long after the task is done.
 */
import { Routes, type Client } from 'discord.js';
import { DiscordPresenter } from '../../src/discord/presenter.js';
import type { Job } from '../../src/domain/job.js';
import { systemClock } from '../../src/domain/ports.js';
import type { NewJob } from '../../src/domain/service.js';
import { startCallbackServer, type CallbackServer } from '../../src/providers/kie/callbackServer.js';
import { DEFAULT_CREATE_MARGIN_MS, KieClient } from '../../src/providers/kie/client.js';
import { DEFAULT_CREATE_LIMIT, DEFAULT_READS_PER_SECOND } from '../../src/providers/kie/limiter.js';
import { createTestClient, DEFAULT_GUILD_ID, rawSlashCommand } from '../../test/support/discordClient.js';
import { watchEventLoop } from '../eventLoop.js';
import { detectTime, type JobMeasure, type LagRun } from '../metrics.js';
import { createAdaptivePoller } from '../pollers/adaptive.js';
import { FixedIntervalPoller } from '../pollers/fixed.js';
import type { Poller, PollerDeps } from '../pollers/types.js';
import type { Collected } from '../services/protocol.js';
import { startServices, type Services } from '../services/client.js';
import { durationsBySpeed, type WorkloadJob } from '../workload.js';

/** The bot's Tracker (optionally told of finished tasks by KIE callbacks), or a naive fixed-interval loop. */
export type PollerKind = { kind: 'adaptive'; callbacks?: boolean } | { kind: 'fixed'; intervalMs: number };

export interface LagScenarioOptions {
  poller: PollerKind;
  workload: readonly WorkloadJob[];
  timeScale: number;
  seed: number;
  /** The adaptive poller's store (the bot's default is SQLite on disk). Default memory://. */
  storeUrl?: string;
  /** Give up waiting for deliveries after this much wall time (ms). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** discord.js's global limit (requests per second per bot). */
const DISCORD_GLOBAL_PER_SECOND = 50;
const API_KEY = 'bench-key';
const WEBHOOK_KEY = 'bench-webhook-key';
/**
 * How often the KIE server looks for finished tasks to call back about
 * (real-equivalent ms; 20 ms of wall time at a scale of 0.05). KIE does not
 * say how soon it calls back; this is short next to the 2.8 s between checks.
 */
export const CALLBACK_CHECK_MS = 400;

const channelId = (n: number): string => `13000000000000000${String(n).padStart(2, '0')}`;
const userId = (n: number): string => `14000000000000000${String(n).padStart(2, '0')}`;

/** Job ids the bench chooses up front, so a delivery can be matched to its load entry. */
export const benchJobId = (index: number): string => `bench${index}`;

/** The job a /imagine with this prompt and speed becomes (what the command would hand the service). */
export function draftFor(job: WorkloadJob, origin: NewJob['origin']): NewJob {
  const prompt = `bench job ${job.index}: a lighthouse at dusk, ${job.speed}`;
  return {
    id: benchJobId(job.index),
    kind: 'grid',
    request: { op: 'generate', body: { taskType: 'mj_txt2img', prompt, speed: job.speed } },
    promptText: prompt,
    speed: job.speed,
    estimatedCredits: 0,
    origin,
    parent: null,
  };
}

/** Register an interaction with the fake and defer it through discord.js, as the router would. */
async function acknowledge(services: Services, client: Client, job: WorkloadJob): Promise<NewJob['origin']> {
  const raw = rawSlashCommand({
    name: 'imagine',
    channelId: channelId(job.channel),
    user: { id: userId(job.user) },
    options: [{ name: 'prompt', type: 3, value: `bench job ${job.index}` }],
  });
  await services.register([raw]);
  await client.rest.post(Routes.interactionCallback(raw.id, raw.token), { body: { type: 5 }, auth: false });
  return {
    guildId: DEFAULT_GUILD_ID,
    channelId: channelId(job.channel),
    userId: userId(job.user),
    applicationId: services.applicationId,
    interactionToken: raw.token,
    interactionAt: Date.now(),
    messageId: null,
    replyToMessageId: null,
    attachmentSizeLimit: null,
  };
}

/** The poller, and for callback runs the receiver (started first: creates must name its URL). */
async function buildPoller(
  kind: PollerKind,
  deps: PollerDeps,
  storeUrl: string,
  onCallback: (taskId: string) => void,
): Promise<{ poller: Poller; receiver: CallbackServer | null }> {
  if (kind.kind === 'fixed') return { poller: new FixedIntervalPoller({ ...deps, intervalMs: kind.intervalMs }), receiver: null };
  if (!kind.callbacks) return { poller: await createAdaptivePoller(deps, { storeUrl }), receiver: null };
  // Late-bound, as in the app: the receiver exists before the poller it notifies.
  let notify: (taskId: string) => Promise<void> = async () => {};
  const receiver = await startCallbackServer({
    host: '127.0.0.1',
    hmacKey: WEBHOOK_KEY,
    onTask: (taskId) => {
      onCallback(taskId);
      notify(taskId).catch(() => {}); // a failed look-up leaves the task to the schedule, as in the app
    },
  });
  const poller = await createAdaptivePoller(deps, { storeUrl, callBackUrl: receiver.url });
  notify = (taskId) => poller.taskMayBeDone(taskId);
  return { poller, receiver };
}

/** One job's figures, from what the services saw. */
function measure(world: Collected, job: WorkloadJob, delivered: Job | undefined, calledBack: ReadonlyMap<string, number>): JobMeasure {
  const base: JobMeasure = {
    index: job.index,
    speed: job.speed,
    burst: job.burst,
    taskId: null,
    createdAt: null,
    finishAt: null,
    detectAt: null,
    discordAt: null,
    calledBackAt: null,
    attachments: 0,
    polls: 0,
    state: 'undelivered',
  };
  if (!delivered) return base;
  const task = delivered.taskId ? world.tasks.find((t) => t.taskId === delivered.taskId) : undefined;
  const message = delivered.origin.messageId ? world.messages.find((m) => m.id === delivered.origin.messageId) : undefined;
  const taskId = task?.taskId ?? null;
  const attachments = message?.attachments ?? 0;
  return {
    ...base,
    taskId,
    createdAt: task?.createdAt ?? null,
    finishAt: task?.finishAt ?? null,
    detectAt: task ? detectTime(world.requests, task.taskId, task.finishAt) : null,
    discordAt: message?.storedAt ?? null,
    calledBackAt: taskId ? (calledBack.get(taskId) ?? null) : null,
    attachments,
    polls: taskId ? world.requests.filter((r) => r.endpoint === 'recordInfo' && r.taskId === taskId).length : 0,
    state: delivered.state === 'succeeded' && attachments > 0 ? 'succeeded' : 'failed',
  };
}

/** Run the load through one poller and return what was measured. */
export async function runLagScenario(opts: LagScenarioOptions): Promise<LagRun> {
  const s = opts.timeScale;
  const log = opts.log ?? (() => {});
  const callbacks = opts.poller.kind === 'adaptive' && opts.poller.callbacks === true;
  const services = await startServices({
    seed: opts.seed,
    createRateLimit: { max: DEFAULT_CREATE_LIMIT.max, windowMs: DEFAULT_CREATE_LIMIT.windowMs * s },
    durations: durationsBySpeed(opts.workload, s),
    fallbackDurationMs: 60_000 * s,
    ...(callbacks ? { callbacks: { hmacKey: WEBHOOK_KEY, intervalMs: Math.max(1, Math.round(CALLBACK_CHECK_MS * s)) } } : {}),
  });
  const client = createTestClient(services.discordStub(), {
    rest: { globalRequestsPerSecond: Math.round(DISCORD_GLOBAL_PER_SECOND / s), timeout: 30_000 },
  });
  const adaptive = opts.poller.kind === 'adaptive';
  const kie = new KieClient({
    baseUrl: services.kieUrl,
    apiKey: API_KEY,
    createLimit: { max: DEFAULT_CREATE_LIMIT.max, windowMs: DEFAULT_CREATE_LIMIT.windowMs * s, marginMs: DEFAULT_CREATE_MARGIN_MS * s },
    // The naive pollers are measured as written: no read budget of ours in their way.
    readsPerSecond: adaptive ? DEFAULT_READS_PER_SECOND / s : 1e6,
  });
  const presenter = new DiscordPresenter({ rest: client.rest, clock: systemClock, trustedMediaOrigins: [new URL(services.kieUrl).origin] });

  const delivered = new Map<string, Job>();
  let notify: () => void = () => {};
  const deps: PollerDeps = {
    kie,
    presenter,
    clock: systemClock,
    timeScale: s,
    onDelivered: (job) => {
      delivered.set(job.id, job);
      notify();
    },
  };
  /** Task id → when its first callback reached the receiver (wall ms). */
  const calledBack = new Map<string, number>();
  const { poller, receiver } = await buildPoller(opts.poller, deps, opts.storeUrl ?? 'memory://', (taskId) => {
    if (!calledBack.has(taskId)) calledBack.set(taskId, Date.now());
  });
  log(`${poller.name}: ${opts.workload.length} jobs at time scale ${s}`);

  const submissions: Promise<void>[] = [];
  const cpu0 = process.cpuUsage();
  const eld = watchEventLoop();
  const t0 = Date.now();
  const timers = opts.workload.map((job) =>
    setTimeout(() => {
      submissions.push(
        (async () => {
          const origin = await acknowledge(services, client, job);
          await poller.submit(draftFor(job, origin));
        })().catch((error: unknown) => log(`job ${job.index}: ${error instanceof Error ? error.message : String(error)}`)),
      );
    }, job.arriveAtMs * s),
  );

  const lastArrival = Math.max(0, ...opts.workload.map((j) => j.arriveAtMs * s));
  const timeoutMs = opts.timeoutMs ?? lastArrival + 30 * 60_000 * s + 60_000;
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(resolve, timeoutMs);
    notify = () => {
      if (delivered.size >= opts.workload.length) {
        clearTimeout(deadline);
        resolve();
      }
    };
  });
  const wallMs = Date.now() - t0;
  const usage = process.cpuUsage(cpu0);
  const eventLoop = eld.stop();
  for (const t of timers) clearTimeout(t);
  await Promise.allSettled(submissions);
  await receiver?.close();
  await poller.stop();

  const world = await services.collect({
    messageIds: [...delivered.values()].flatMap((j) => (j.origin.messageId ? [j.origin.messageId] : [])),
  });
  const jobs = opts.workload.map((job) => measure(world, job, delivered.get(benchJobId(job.index)), calledBack));
  const run: LagRun = {
    name: poller.name,
    description: poller.description,
    timeScale: s,
    jobs,
    requests: world.requests.map((r) => ({ endpoint: r.endpoint, at: r.at, responseCode: r.responseCode, taskId: r.taskId })),
    wallMs,
    cpuMs: (usage.user + usage.system) / 1000,
    discordRequests: world.discordRequests,
    eventLoopP99Ms: eventLoop.p99,
  };
  log(`${poller.name}: ${delivered.size}/${opts.workload.length} delivered in ${(wallMs / 1000).toFixed(1)} s`);

  await client.destroy();
  await kie.close();
  await services.close();
  return run;
}
