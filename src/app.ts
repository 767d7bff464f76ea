/**
 * Wires the parts into a running bot. src/main.ts builds the concrete
 * boundaries (config, store, KIE client, discord.js client) and hands them
 * here; tests and the benchmark hand in their fakes' equivalents (a client
 * whose REST points at a fake Discord, a client for the local KIE server).
 */
import { Events, type Client, type Guild, type Interaction } from 'discord.js';
import type { Logger } from 'pino';
import { commands } from '../commands/index.js';
import { AckPacer, DEFAULT_ACK_BUDGET_MS } from './discord/ack.js';
import type { AppContext } from './discord/context.js';
import { handleComponent } from './discord/handlers/index.js';
import { GuildGate } from './discord/guilds.js';
import { DiscordPresenter, type DiscordPresenterDeps } from './discord/presenter.js';
import { createChannelMessage } from './discord/rest.js';
import { ResultShower } from './discord/show.js';
import { InteractionRouter } from './discord/router.js';
import { LearnedTimings, ProviderTimings, type ProviderDurations } from './domain/durations.js';
import { policyChannelOf, type Job } from './domain/job.js';
import type { JobRepository } from './domain/jobRepository.js';
import { systemClock, type Clock } from './domain/ports.js';
import { providerRegistry, type ProviderRegistry } from './domain/provider.js';
import type { KieApi } from './providers/kie/api.js';
import { KieProvider } from './providers/kie/adapter.js';
import { DEFAULT_PRICES, type PriceTable } from './domain/pricing.js';
import type { ScheduleTuning } from './domain/schedule.js';
import type { JobService } from './domain/service.js';
import { DEFAULT_LEASE_TTL_MS, LeaseKeeper, leasedRepository, type Acquired, type JobLeases } from './domain/leases.js';
import { PollShare, type FleetMembers } from './domain/pollShare.js';
import { Team } from './domain/team/team.js';
import type { Tracker, TrackerObserver } from './domain/tracker.js';
import { buildJobCore } from './jobCore.js';
import { watchAccounts } from './accountWatch.js';
import type { Store } from './domain/storage.js';

/** How long after its create a job whose outcome is unknown may still be matched to a task KIE reports. */
export const UNKNOWN_REVEAL_WINDOW_MS = 2 * 86_400_000;

/** How long stop() waits for commands and KIE creates already under way. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 15_000;

/** Wait for `work` to settle, but no longer than `ms` (real time). */
async function settleWithin(work: Promise<unknown>[], ms: number): Promise<void> {
  if (work.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(work), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export interface AppDeps {
  client: Client;
  store: Store;
  /** The KIE API (tests, the benchmark); used as the only provider when `providers` is not given. */
  kie?: KieApi;
  /** The configured image providers (main.ts); the default one takes new jobs unless a channel chose another. */
  providers?: ProviderRegistry;
  logger: Logger;
  clock?: Clock;
  prices?: PriceTable;
  /** Price tables per provider id (each in its provider's credits). */
  providerPrices?: Readonly<Record<string, PriceTable>>;
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
  /**
   * Result URL origins that may be http or on loopback: only the configured
   * simulator or a KIE base URL on loopback. Everything else is https to a
   * public address (src/media/download.ts).
   */
  trustedMediaOrigins?: readonly string[];
  /** How long stop() waits for commands and KIE creates already under way (default 15 s). */
  shutdownGraceMs?: number;
  /** The servers the bot serves (see src/discord/guilds.ts); null or unset = any. */
  allowedGuildIds?: readonly string[] | null;
  /** A provider accepted a job's create (metrics: credits spent). */
  onCreated?: (job: Job) => void;
  /** Where learned task durations are kept, per provider; default: the store's (shared by every process on the database). */
  durations?: ProviderDurations;
  /**
   * Several processes on one PostgreSQL: this process tracks only the jobs
   * whose leases it holds (src/domain/leases.ts). Unset: one process, every
   * unfinished job is its own (SQLite mode).
   */
  fleet?: {
    leases: JobLeases;
    /** Unique per process run. */
    owner: string;
    ttlMs?: number;
    acquireEveryMs?: number;
    onTakeover?: (acquired: Acquired) => void;
    /** The live processes: each polls at its share of maxPollsPerSecond (src/domain/pollShare.ts). Unset: the whole budget. */
    members?: FleetMembers;
  };
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
  /** Stop listening and tracking (jobs stay persisted for the next start; with a fleet, leases are handed back). */
  stop(): Promise<void>;
  /** With a fleet: this process's leases. */
  leases: LeaseKeeper | null;
}

export async function buildApp(deps: AppDeps): Promise<App> {
  const clock = deps.clock ?? systemClock;
  const { client, logger } = deps;
  const providers = deps.providers ?? (deps.kie ? providerRegistry('kie', [new KieProvider(deps.kie)]) : null);
  if (!providers) throw new Error('createApp needs providers (or a KIE API)');
  const defaultProvider = providers.get(providers.defaultId)!;
  const fleet = deps.fleet;
  const leaseTtlMs = fleet?.ttlMs;
  // With a fleet, a job is born leased to the process that creates it.
  const repo: JobRepository = fleet
    ? leasedRepository(deps.store.jobs, fleet.leases, fleet.owner, leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, clock)
    : deps.store.jobs;
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
    queuePosition: (job) => team.queue.position(policyChannelOf(job.origin), job.id),
    capabilitiesOf: (id) => providers.get(id)?.capabilities,
    ...(deps.trustedMediaOrigins ? { trustedMediaOrigins: deps.trustedMediaOrigins } : {}),
    ...deps.presenter,
  });
  const timingsLog = logger.child({ module: 'timings' });
  const durations = deps.durations ?? deps.store.durations;
  // Each provider learns from its own tasks (KIE and APIXO run at their own speeds).
  const timings = new ProviderTimings(
    (provider) =>
      new LearnedTimings({
        clock,
        store: durations.forProvider(provider),
        onError: (err, what) => timingsLog.warn({ err, what, provider }, 'task duration store failed; keeping the timings learned so far'),
      }),
    providers.ids(),
  );
  let keeper: LeaseKeeper | null = null;
  const { tracker, jobs: service } = buildJobCore({
    repo,
    providers,
    presenter,
    clock,
    tracker: {
      timings,
      ...(fleet ? { claimDelivery: (jobId: string) => keeper!.claim(jobId) } : {}),
      logger: logger.child({ module: 'tracker' }),
      ...(deps.observer ? { observer: deps.observer } : {}),
      ...(deps.schedule ? { schedule: deps.schedule } : {}),
      ...(deps.maxPollsPerSecond ? { maxPollsPerSecond: deps.maxPollsPerSecond } : {}),
    },
    service: {
      admission: team.policy,
      logger: logger.child({ module: 'jobs' }),
      ...(deps.callBackUrl ? { callBackUrl: deps.callBackUrl } : {}),
      ...(deps.onCreated ? { onCreated: deps.onCreated } : {}),
      // Per server (/settings failover); only meaningful with a second provider configured.
      failover: async (job) =>
        providers.ids().length > 1 && job.origin.guildId !== null && (await team.settings.resolve(job.origin.guildId, policyChannelOf(job.origin))).values.failover,
    },
  });
  jobs = service;

  if (fleet) {
    const leaseLog = logger.child({ module: 'leases' });
    keeper = new LeaseKeeper({
      leases: fleet.leases,
      owner: fleet.owner,
      clock,
      ...(leaseTtlMs ? { ttlMs: leaseTtlMs } : {}),
      ...(fleet.acquireEveryMs ? { acquireEveryMs: fleet.acquireEveryMs } : {}),
      logger: leaseLog,
      ...(fleet.onTakeover ? { observer: { onTakeover: fleet.onTakeover } } : {}),
      // Jobs whose leases this process just took: resumed as after a restart (never re-sent to KIE).
      onAcquired: async (ids) => {
        const taken = (await Promise.all(ids.map((id) => repo.get(id)))).filter((j): j is Job => j !== undefined);
        const summary = await jobs!.resume(taken);
        leaseLog.info(summary, 'took over jobs');
      },
      onNudged: (ids) => {
        for (const id of ids) tracker.pollSoon(id);
      },
      onLost: (ids) => {
        for (const id of ids) tracker.untrack(id);
      },
    });
  }

  const pollShare =
    fleet?.members
      ? new PollShare({
          members: fleet.members,
          owner: fleet.owner,
          clock,
          total: deps.maxPollsPerSecond ?? 8,
          logger: logger.child({ module: 'poll-share' }),
          onShare: (perSecond) => tracker.setMaxPollsPerSecond(perSecond),
        })
      : null;

  const ctx: AppContext = {
    clock,
    logger,
    providers,
    jobs,
    repo,
    team,
    prices: deps.prices ?? DEFAULT_PRICES,
    ...(deps.providerPrices ? { providerPrices: deps.providerPrices } : {}),
    limits: { maxInputImageBytes: deps.maxInputImageBytes ?? 25 * 1024 * 1024 },
    acks: new AckPacer(deps.ackBudgetMs ?? DEFAULT_ACK_BUDGET_MS),
    history: deps.store.history,
    batches: deps.store.batches,
    timings,
    show: new ResultShower({
      rest: client.rest,
      clock,
      logger: logger.child({ module: 'show' }),
      capabilitiesOf: (id) => providers.get(id)?.capabilities,
      ...(deps.trustedMediaOrigins ? { trustedMediaOrigins: deps.trustedMediaOrigins } : {}),
      ...(deps.presenter?.download ? { download: deps.presenter.download } : {}),
      ...(deps.presenter?.downloadTimeoutMs ? { downloadTimeoutMs: deps.presenter.downloadTimeoutMs } : {}),
    }),
  };
  const guilds = new GuildGate(deps.allowedGuildIds ?? null);
  const router = new InteractionRouter(commands, handleComponent, ctx, guilds);
  // Handlers in flight: shutdown waits (bounded) for them, so a create already sent is recorded, not cut.
  const inFlight = new Set<Promise<void>>();
  const onInteraction = (interaction: Interaction): void => {
    const p = router.handle(interaction).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const guildLogger = logger.child({ module: 'guilds' });
  const onGuildCreate = (guild: Guild): void => void guilds.leaveIfNotAllowed(guild, guildLogger);
  const onReady = (ready: Client<true>): void => {
    for (const guild of ready.guilds.cache.values()) void guilds.leaveIfNotAllowed(guild, guildLogger);
  };
  let stopBalance: (() => void) | null = null;
  const accounts = watchAccounts({ providers, team, clock, logger: logger.child({ module: 'accounts' }), ...(deps.balanceCheckMs ? { everyMs: deps.balanceCheckMs } : {}) });

  return {
    ctx,
    taskMayBeDone(taskId) {
      void repo
        .findByTaskId(taskId)
        .then(async (job) => {
          if (job) {
            // Another process holds it: a flag its lease keeper reads within a second.
            if (keeper && !tracker.isTracking(job.id)) return keeper.nudge(job.id);
            return tracker.pollSoon(job.id);
          }
          // No job has this task: it may belong to one whose create answer was lost.
          const since = clock.now() - UNKNOWN_REVEAL_WINDOW_MS;
          const unknown = (await team.ledger.query({ since, state: 'unknown' })).map((e) => e.jobId);
          const revealed = unknown.length > 0 ? await jobs!.revealTask(taskId, unknown) : null;
          if (revealed) tracker.pollSoon(revealed.id);
        })
        .catch((err: unknown) => logger.warn({ err, taskId }, 'could not look up a called-back task'));
    },
    router,
    tracker,
    jobs,
    team,
    async start() {
      client.on(Events.InteractionCreate, onInteraction);
      client.on(Events.GuildCreate, onGuildCreate);
      client.once(Events.ClientReady, onReady);
      if (!guilds.restricted) logger.warn('no ALLOWED_GUILD_IDS or DISCORD_GUILD_ID: any server the bot is added to can use it (turn "Public Bot" off)');
      // Settle every open ledger line against its job: lines of jobs lost in a crash between admission and their first
      // write, or of jobs that ended without their line being released, would hold slots and credits forever; a queued
      // job missing from its channel's line would never start.
      // With a fleet, lines of the last minute may be another live process's jobs not yet written: left to it.
      await team.policy.settle((id) => repo.get(id), fleet ? { createdBefore: clock.now() - 60_000 } : {});
      // The newest few dozen durations per kind and speed, never the whole history.
      await timings.load();
      for (const line of timings.describeAll()) timingsLog.debug({}, `tracker believes: ${line}`);
      if (keeper) {
        // This process's share of the fleet's read budget, before it polls anything.
        await pollShare?.start();
        // Only the jobs this process takes the leases of (free ones, and those of processes that died).
        tracker.start();
        await keeper.start();
      } else {
        const resumed = await jobs.resume();
        logger.info(resumed, 'resumed unfinished jobs');
        tracker.start();
      }
      // Queued jobs whose slots freed up while the bot was down start now.
      for (const job of await team.policy.resume()) await startQueued(job);
      if (deps.balanceCheckMs) {
        stopBalance = team.watchBalance({ credits: async () => (await defaultProvider.balance()).credits }, deps.balanceCheckMs, (err) => logger.warn({ err }, 'balance check failed'));
        accounts.start();
      }
    },
    async stop() {
      // First take no new commands, then let those already running (and their KIE creates) finish, within a bound.
      client.off(Events.InteractionCreate, onInteraction);
      await settleWithin([...inFlight, jobs!.sendsInFlight()], deps.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
      client.off(Events.GuildCreate, onGuildCreate);
      client.off(Events.ClientReady, onReady);
      stopBalance?.();
      accounts.stop();
      await tracker.stop();
      // Hand every lease back at once: another process takes these jobs over within its next look (about a second).
      await keeper?.stop().catch((err: unknown) => logger.warn({ err }, 'could not hand the leases back; they lapse on their own'));
      await pollShare?.stop();
    },
    leases: keeper,
  };
}
