/**
 * The virtual-clock harness of the learned-timings runs (./learn.ts): the
 * real Tracker, JobService and JobRepository on a ManualClock, KIE and
 * Discord as in-process fakes that answer at once; one load through one
 * poller, with when each task finished and when the tracker saw it.
 */
import type { Job } from '../../src/domain/job.js';
import type { JobRepository } from '../../src/domain/jobRepository.js';
import { InMemoryDurationStore, LearnedTimings, type LearnerTuning } from '../../src/domain/durations.js';
import type { JobPresenter } from '../../src/domain/ports.js';
import type { KieApi } from '../../src/providers/kie/api.js';
import { kieProviders } from '../../src/providers/kie/adapter.js';
import type { PollOrder } from '../../src/domain/pollPriority.js';
import type { NewJob } from '../../src/domain/service.js';
import type { TrackerOptions } from '../../src/domain/tracker.js';
import { buildJobCore } from '../../src/jobCore.js';
import type { Speed, TaskRecord } from '../../src/providers/kie/schemas.js';
import { openStore } from '../../src/store/store.js';
import { ManualClock } from '../../test/support/manualClock.js';
import { FixedIntervalPoller } from '../pollers/fixed.js';

export interface LearnJob {
  index: number;
  arriveAtMs: number;
  speed: Speed;
  durationMs: number;
  /** Durations changed mid-run: which regime this job belongs to (0 before, 1 after). */
  regime: number;
  /** The window its duration was drawn from, uniformly (s), when it was (the drift loads). */
  windowS?: readonly [number, number];
}


export type LearnPoller = 'learned' | 'learned, first-come' | 'learned, likely-done' | 'fixed schedule' | 'fixed 3 s' | 'learned, 20 polls/s';

/** KIE as a map of tasks that finish at a known time; counts record-info per task. */
class FakeKie implements KieApi {
  readonly tasks = new Map<string, { prompt: string; createdAt: number; finishAt: number; polls: number }>();
  constructor(
    private readonly clock: ManualClock,
    private readonly durationOf: (prompt: string) => number,
  ) {}
  async generate(body: object): Promise<{ taskId: string }> {
    const taskId = `task${this.tasks.size}`;
    const now = this.clock.now();
    const prompt = 'prompt' in body && typeof body.prompt === 'string' ? body.prompt : '';
    this.tasks.set(taskId, { prompt, createdAt: now, finishAt: now + this.durationOf(prompt), polls: 0 });
    return { taskId };
  }
  upscale = this.generate;
  vary = this.generate;
  extendVideo = this.generate;
  async credits(): Promise<number> {
    return 1e9;
  }
  async recordInfo(taskId: string): Promise<TaskRecord> {
    const t = this.tasks.get(taskId)!;
    t.polls++;
    const done = this.clock.now() >= t.finishAt;
    return {
      taskId,
      taskType: 'mj_txt2img',
      params: null,
      successFlag: done ? 1 : 0,
      resultUrls: done ? ['https://cdn.example.invalid/0.png'] : [],
      errorCode: null,
      errorMessage: null,
      createTime: String(t.createdAt),
      completeTime: done ? String(t.finishAt) : null,
    };
  }
}

const presenter: JobPresenter = {
  progress: async () => {},
  deliver: async () => ({ delivered: true }),
};

const origin = (index: number): NewJob['origin'] => ({
  guildId: '1',
  channelId: `10${index % 5}`,
  userId: `20${index % 12}`,
  applicationId: '3',
  interactionToken: `token${index}`,
  interactionAt: 0,
  messageId: null,
  replyToMessageId: null,
  attachmentSizeLimit: null,
});

const draftFor = (job: LearnJob): NewJob => {
  const prompt = `learn job ${job.index}`;
  return {
    id: `learn${job.index}`,
    kind: 'grid',
    request: { op: 'generate', body: { taskType: 'mj_txt2img', prompt, speed: job.speed } },
    promptText: prompt,
    speed: job.speed,
    estimatedCredits: 0,
    origin: origin(job.index),
    parent: null,
  };
};

export interface Outcome {
  job: LearnJob;
  createdAt: number;
  finishAt: number;
  seenAt: number;
  polls: number;
}

/** Poll orders other than the default ('auto'). */
const ORDER_OF: Partial<Record<LearnPoller, PollOrder>> = {
  'learned, first-come': 'due',
  'learned, likely-done': 'likely-done',
  'fixed schedule': 'due',
};

/** Run one load through one poller in virtual time. */
export async function runOne(
  jobs: readonly LearnJob[],
  poller: LearnPoller | { order: PollOrder; learn: boolean },
  opts: {
    maxPollsPerSecond?: number;
    tracker?: Partial<TrackerOptions>;
    learner?: Partial<LearnerTuning>;
    /** Keep this many jobs in flight: the first ones arrive as listed, each later one when a job is seen done (arriveAtMs ignored). */
    keepInFlight?: number;
  } = {},
): Promise<{ outcomes: Outcome[]; beliefs: string[]; peakInFlight: number; meanInFlight: number; longestGapMs: number }> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const byPrompt = new Map(jobs.map((j) => [`learn job ${j.index}`, j]));
  const kie = new FakeKie(clock, (prompt) => byPrompt.get(prompt)!.durationMs);
  const seen = new Map<string, number>();
  const pollTimes = new Map<string, number[]>();
  let onSeen = (): void => {};
  const onDelivered = (job: Job): void => {
    if (seen.has(job.id)) return;
    seen.set(job.id, clock.now());
    onSeen();
  };
  const submits = new Set<Promise<unknown>>();
  let submit: (job: LearnJob) => Promise<unknown>;
  let stop: () => Promise<void>;
  let beliefs: () => string[] = () => [];
  if (poller === 'fixed 3 s') {
    const fixed = new FixedIntervalPoller({ kie, presenter, clock, timeScale: 1, intervalMs: 3_000, onDelivered });
    submit = (job) => fixed.submit(draftFor(job));
    stop = () => fixed.stop();
  } else {
    const store = await openStore('memory://');
    const repo: JobRepository = store.jobs;
    const learning = typeof poller === 'object' ? poller.learn : poller !== 'fixed schedule';
    const timings = learning ? new LearnedTimings({ clock, store: new InMemoryDurationStore(), ...(opts.learner ? { tuning: opts.learner } : {}) }) : undefined;
    const { tracker, jobs: service } = buildJobCore({
      repo,
      providers: kieProviders(kie),
      presenter,
      clock,
      tracker: {
        ...(timings ? { timings } : {}),
        // The fixed schedule is the tracker as it was: notes' windows, first-come budget.
        ...(typeof poller === 'object' ? { pollOrder: poller.order } : ORDER_OF[poller] ? { pollOrder: ORDER_OF[poller] } : {}),
        maxPollsPerSecond: poller === 'learned, 20 polls/s' ? 20 : (opts.maxPollsPerSecond ?? 8),
        observer: {
          onPoll: (job) => {
            const list = pollTimes.get(job.id) ?? [];
            list.push(clock.now());
            pollTimes.set(job.id, list);
          },
          onFinished: onDelivered,
        },
        ...opts.tracker,
      },
    });
    tracker.start();
    clock.settleWith(() => tracker.idle());
    submit = (job) => service.submit(draftFor(job));
    stop = async () => {
      await tracker.stop();
      service.dispose();
      await store.close();
    };
    beliefs = () => timings?.describe() ?? [];
  }
  clock.settleWith(async () => {
    while (submits.size > 0) await Promise.allSettled([...submits]);
  });
  const t0 = clock.now();
  const launch = (job: LearnJob, afterMs: number): void => {
    clock.setTimeout(() => {
      const p = submit(job).finally(() => submits.delete(p));
      submits.add(p);
    }, afterMs);
  };
  const upFront = opts.keepInFlight ?? jobs.length;
  jobs.slice(0, upFront).forEach((job) => launch(job, job.arriveAtMs));
  let next = upFront;
  onSeen = () => {
    if (next < jobs.length) launch(jobs[next++]!, 0);
  };
  let peakInFlight = 0;
  let inFlightSum = 0;
  let samples = 0;
  const lastArrival = Math.max(...jobs.slice(0, upFront).map((j) => j.arriveAtMs)) + (upFront < jobs.length ? 24 * 3_600_000 : 0);
  const limit = t0 + lastArrival + 3 * 3_600_000;
  while (seen.size < jobs.length && clock.now() < limit) {
    await clock.advance(10_000);
    const inFlight = kie.tasks.size - seen.size;
    peakInFlight = Math.max(peakInFlight, inFlight);
    inFlightSum += inFlight;
    samples++;
  }
  await stop();

  const outcomes: Outcome[] = [];
  for (const t of kie.tasks.values()) {
    const job = byPrompt.get(t.prompt)!;
    const seenAt = seen.get(`learn${job.index}`);
    if (seenAt !== undefined) outcomes.push({ job, createdAt: t.createdAt, finishAt: t.finishAt, seenAt, polls: t.polls });
  }
  let longestGapMs = 0;
  for (const times of pollTimes.values()) for (let k = 1; k < times.length; k++) longestGapMs = Math.max(longestGapMs, times[k]! - times[k - 1]!);
  return { outcomes, beliefs: beliefs(), peakInFlight, meanInFlight: samples ? inFlightSum / samples : 0, longestGapMs };
}
