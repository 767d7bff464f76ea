/**
 * The bot's own way: JobService.submit → the real Tracker with the adaptive
 * schedule of src/domain/schedule.ts, over a JobRepository on an in-memory
 * store, delivering through the same presenter as the naive pollers.
 *
 * Time scaling: the schedule takes `timeScale` itself. The Tracker's other
 * limits are per real second / real time in the code (poll budget, progress
 * edit throttles); they are divided by the scale here so the run is the same
 * system, only faster. The poll budget's window cannot be scaled from
 * outside, so ./budget.ts puts an exactly scaled one in front of record-info.
 */
import { JobRepository } from '../../src/domain/jobs.js';
import { JobService, type NewJob } from '../../src/domain/service.js';
import { Tracker } from '../../src/domain/tracker.js';
import { openStore, type Store } from '../../src/store/store.js';
import { withPollBudget } from './budget.js';
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

export interface AdaptivePoller extends Poller {
  readonly tracker: Tracker;
  readonly repo: JobRepository;
}

export async function createAdaptivePoller(deps: PollerDeps, storeUrl = 'memory://'): Promise<AdaptivePoller> {
  const { presenter, clock, timeScale } = deps;
  const kie = withPollBudget(deps.kie, TRACKER_LIMITS.maxPollsPerSecond, timeScale);
  const store: Store = await openStore(storeUrl);
  const repo = new JobRepository(store);
  const tracker = new Tracker({
    repo,
    kie,
    presenter,
    clock,
    observer: { onFinished: (job) => deps.onDelivered(job) },
    schedule: { timeScale },
    maxPollsPerSecond: Math.max(1, Math.round(TRACKER_LIMITS.maxPollsPerSecond / timeScale)),
    progressIntervalMs: TRACKER_LIMITS.progressIntervalMs * timeScale,
    channelEditBudget: { edits: TRACKER_LIMITS.channelEditBudget.edits, perMs: TRACKER_LIMITS.channelEditBudget.perMs * timeScale },
  });
  const service = new JobService({ repo, kie, tracker, presenter, clock });
  tracker.start();
  return {
    name: 'adaptive',
    description: 'the bot: silent until the earliest plausible finish, every 2.8 s across the expected window, back-off after',
    tracker,
    repo,
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
