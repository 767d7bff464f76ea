/**
 * The bot's own way: JobService.submit → the real Tracker with the adaptive
 * schedule of src/domain/schedule.ts, over a JobRepository on the given
 * store, delivering through the same presenter as the naive pollers.
 * Optionally with KIE callbacks, wired as src/app.ts wires them: creates
 * carry a callBackUrl, and a callback only makes the tracker poll that task
 * now (taskMayBeDone).
 *
 * Time scaling: the schedule takes `timeScale` itself. The Tracker's other
 * limits are per real second / real time in the code (poll budget, progress
 * edit throttles); they are scaled here so the run is the same system, only
 * faster. The poll budget keeps its count and gets a window of one scaled
 * second, so its shape (never more than 8 in any second) holds too, not
 * only its average rate.
 */
import { kieProviders } from '../../src/providers/kie/adapter.js';
import type { JobRepository } from '../../src/domain/jobRepository.js';
import type { NewJob } from '../../src/domain/service.js';
import type { Tracker } from '../../src/domain/tracker.js';
import { buildJobCore } from '../../src/jobCore.js';
import { openStore, type Store } from '../../src/store/store.js';
import type { Poller, PollerDeps } from './types.js';

/**
 * The Tracker's production limits (its defaults when this was written), in
 * real time. Kept here so the bench can scale them; if the Tracker's
 * defaults change, change these with them.
 */
export const TRACKER_LIMITS = {
  maxPollsPerSecond: 8,
  progressIntervalMs: 5_000,
  channelEditBudget: { edits: 5, perMs: 5_000 },
} as const;

/** The two variants' names in tables and the chart. */
export const ADAPTIVE_NAME = 'adaptive';
export const CALLBACKS_NAME = 'adaptive + callbacks';

export interface AdaptivePollerOptions {
  /** The job store (the bot's default is SQLite on disk). Default memory://. */
  storeUrl?: string;
  /** Where KIE should send callbacks; unset = polling only. */
  callBackUrl?: string;
}

export interface AdaptivePoller extends Poller {
  readonly tracker: Tracker;
  readonly repo: JobRepository;
  /** A KIE callback named this task: poll it now, exactly as App.taskMayBeDone does. */
  taskMayBeDone(taskId: string): Promise<void>;
}

export async function createAdaptivePoller(deps: PollerDeps, options: AdaptivePollerOptions = {}): Promise<AdaptivePoller> {
  const { kie, presenter, clock, timeScale } = deps;
  const store: Store = await openStore(options.storeUrl ?? 'memory://');
  const repo: JobRepository = store.jobs;
  const { callBackUrl } = options;
  const callbacks = callBackUrl !== undefined;
  const { tracker, jobs: service } = buildJobCore({
    repo,
    providers: kieProviders(kie),
    presenter,
    clock,
    tracker: {
      observer: { onFinished: (job) => deps.onDelivered(job) },
      schedule: { timeScale },
      maxPollsPerSecond: TRACKER_LIMITS.maxPollsPerSecond,
      pollBudgetWindowMs: 1_000 * timeScale,
      progressIntervalMs: TRACKER_LIMITS.progressIntervalMs * timeScale,
      channelEditBudget: { edits: TRACKER_LIMITS.channelEditBudget.edits, perMs: TRACKER_LIMITS.channelEditBudget.perMs * timeScale },
    },
    service: { callBackUrl },
  });
  tracker.start();
  return {
    name: callbacks ? CALLBACKS_NAME : ADAPTIVE_NAME,
    description: callbacks
      ? 'the same schedule, plus KIE callbacks: a signed callback makes the tracker read that task at once'
      : 'the bot: silent until the earliest plausible finish, every 2.8 s across the expected window, back-off after',
    tracker,
    repo,
    async taskMayBeDone(taskId: string): Promise<void> {
      const job = await repo.findByTaskId(taskId);
      if (job) tracker.pollSoon(job.id);
    },
    async submit(draft: NewJob): Promise<void> {
      await service.submit(draft);
    },
    async stop(): Promise<void> {
      await tracker.stop();
      service.dispose();
      await store.close();
    },
  };
}
