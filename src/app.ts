/**
 * Wires the parts into a running bot. src/main.ts builds the concrete
 * boundaries (config, store, KIE client, discord.js client) and hands them
 * here; tests and the benchmark hand in their fakes' equivalents (a client
 * whose REST points at a fake Discord, a client for the local KIE server).
 */
import { Events, type Client, type Interaction } from 'discord.js';
import type { Logger } from 'pino';
import { commands } from '../commands/index.js';
import { AckPacer, DEFAULT_ACK_BUDGET_MS } from './discord/ack.js';
import type { AppContext } from './discord/context.js';
import { handleComponent } from './discord/components.js';
import { DiscordPresenter, type DiscordPresenterDeps } from './discord/presenter.js';
import { createChannelMessage } from './discord/rest.js';
import { InteractionRouter } from './discord/router.js';
import type { Job } from './domain/job.js';
import type { JobRepository } from './domain/jobs.js';
import { systemClock, type Clock, type KieApi } from './domain/ports.js';
import { DEFAULT_PRICES, type PriceTable } from './domain/pricing.js';
import type { ScheduleTuning } from './domain/schedule.js';
import { JobService } from './domain/service.js';
import { Team } from './domain/team/team.js';
import { Tracker, type TrackerObserver } from './domain/tracker.js';
import type { Store } from './domain/storage.js';

export interface AppDeps {
  client: Client;
  store: Store;
  kie: KieApi;
  logger: Logger;
  clock?: Clock;
  prices?: PriceTable;
  /** Global budget of KIE status reads per second. */
  maxPollsPerSecond?: number;
  /** Polling schedule overrides (the simulator runs faster than life). */
  schedule?: Partial<ScheduleTuning>;
  observer?: TrackerObserver;
  presenter?: Partial<Omit<DiscordPresenterDeps, 'rest' | 'clock'>>;
  /** Largest image accepted as input to /imagine and /animate. */
  maxInputImageBytes?: number;
  /** How long a lone command may check before acknowledging publicly anyway (default 25 ms). */
  ackBudgetMs?: number;
  /** How often to read the KIE balance for the low-balance alert; 0 = never. */
  balanceCheckMs?: number;
  /** The public URL of the KIE callback receiver, sent with every create; unset = polling only. */
  callBackUrl?: string;
}

export interface App {
  ctx: AppContext;
  /** A KIE callback said this task may be done: poll it now (the body itself is never trusted). */
  taskMayBeDone(taskId: string): void;
  router: InteractionRouter;
  tracker: Tracker;
  jobs: JobService;
  team: Team;
  /** Resume unfinished jobs, start the tracker and listen for interactions. */
  start(): Promise<void>;
  /** Stop listening and tracking (jobs stay persisted for the next start). */
  stop(): Promise<void>;
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const clock = deps.clock ?? systemClock;
  const { client, kie, logger } = deps;
  const repo: JobRepository = deps.store.jobs;
  // The team's queue hands back jobs to start; the service starts them. The
  // service exists only after the team, hence the late binding.
  let jobs: JobService | undefined;
  const team = await Team.open({
    store: deps.store,
    clock,
    alertSink: { send: async (channelId, content) => void (await createChannelMessage(client.rest, channelId, { content })) },
    onStartable: (queued) => {
      for (const job of queued) void startQueued(job);
    },
    // Keep "Queued · position N" true as the line moves. The queue holds jobs
    // as admitted; the repository has where their reply message is.
    onQueueChanged: (_channelId, waiting) => {
      for (const { id } of waiting) {
        void repo
          .get(id)
          .then((job) => (job?.state === 'queued' ? presenter.progress(job) : undefined))
          .catch((err: unknown) => logger.warn({ err, jobId: id }, 'could not refresh a queued reply'));
      }
    },
  });
  const startQueued = (job: Job): Promise<unknown> =>
    (jobs?.startQueued(job) ?? Promise.resolve()).catch((err: unknown) => logger.error({ err, jobId: job.id }, 'could not start queued job'));
  const presenter = new DiscordPresenter({
    rest: client.rest,
    clock,
    logger: logger.child({ module: 'presenter' }),
    queuePosition: (job) => team.queue.position(job.origin.channelId, job.id),
    ...deps.presenter,
  });
  const tracker = new Tracker({
    repo,
    kie,
    presenter,
    clock,
    logger: logger.child({ module: 'tracker' }),
    ...(deps.observer ? { observer: deps.observer } : {}),
    ...(deps.schedule ? { schedule: deps.schedule } : {}),
    ...(deps.maxPollsPerSecond ? { maxPollsPerSecond: deps.maxPollsPerSecond } : {}),
  });
  jobs = new JobService({
    repo,
    kie,
    tracker,
    presenter,
    admission: team.policy,
    clock,
    logger: logger.child({ module: 'jobs' }),
    ...(deps.callBackUrl ? { callBackUrl: deps.callBackUrl } : {}),
  });

  const ctx: AppContext = {
    clock,
    logger,
    kie,
    jobs,
    repo,
    team,
    prices: deps.prices ?? DEFAULT_PRICES,
    limits: { maxInputImageBytes: deps.maxInputImageBytes ?? 25 * 1024 * 1024 },
    acks: new AckPacer(deps.ackBudgetMs ?? DEFAULT_ACK_BUDGET_MS),
  };
  const router = new InteractionRouter(commands, handleComponent, ctx);
  const onInteraction = (interaction: Interaction): void => void router.handle(interaction);
  let stopBalance: (() => void) | null = null;

  return {
    ctx,
    taskMayBeDone(taskId) {
      void repo
        .findByTaskId(taskId)
        .then((job) => job && tracker.pollSoon(job.id))
        .catch((err: unknown) => logger.warn({ err, taskId }, 'could not look up a called-back task'));
    },
    router,
    tracker,
    jobs,
    team,
    async start() {
      client.on(Events.InteractionCreate, onInteraction);
      // Ledger lines of jobs lost in a crash between admission and their first write would hold slots and credits forever.
      await team.policy.reconcile(async (id) => (await repo.get(id)) !== undefined);
      const resumed = await jobs.resume();
      logger.info(resumed, 'resumed unfinished jobs');
      tracker.start();
      // Queued jobs whose slots freed up while the bot was down start now.
      for (const job of await team.policy.resume()) await startQueued(job);
      if (deps.balanceCheckMs) {
        stopBalance = team.watchBalance(kie, deps.balanceCheckMs, (err) => logger.warn({ err }, 'balance check failed'));
      }
    },
    async stop() {
      client.off(Events.InteractionCreate, onInteraction);
      stopBalance?.();
      await tracker.stop();
    },
  };
}
