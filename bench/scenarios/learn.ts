/**
 * The learning tracker on loads whose durations drift away from the notes,
 * and the poll budget under pressure (issue 11).
 *
 * Unlike the lag scenario (wall clock, compressed by a time scale, real HTTP
 * and the fake Discord), these runs use a virtual clock (test/support's
 * ManualClock): the real Tracker, JobService and JobRepository, with KIE and
 * Discord replaced by in-process fakes that answer at once. Time is then not
 * compressed but skipped, so a 40-minute load runs in seconds at the
 * production settings (time scale 1, 8 polls per second), and every run is
 * exactly repeatable. What it measures is the schedule: lag = when the
 * tracker saw the task done − when KIE finished it; the delivery work after
 * that (download, upload, edit: ~25 ms p50 in the lag scenario) is not in
 * these figures.
 *
 * Pollers, all on the same load:
 * - learned:        the bot (Tracker + LearnedTimings, in-memory DurationStore, default poll order 'auto');
 * - learned, first-come: the same with pollOrder 'due' (the default before 'auto');
 * - learned, likely-done: the same with pollOrder 'likely-done' (always ranked);
 * - fixed schedule: the Tracker with the notes' windows and first-come order (the tracker before issue 11);
 * - fixed 3 s:      the naive poller of ../pollers/fixed.ts, every 3 s.
 *
 * "Before" / "after": a job counts as after once 20 jobs of its speed (of
 * the current regime, for the mid-run change) had finished when it was
 * submitted — i.e. once the learner could have seen 20 of its kind.
 */
import type { Speed } from '../../src/providers/kie/schemas.js';
import type { PollOrder } from '../../src/domain/pollPriority.js';
import { createRng, randomBetween } from '../../src/providers/kie/simulator/random.js';
import { SPEED_SECONDS } from '../../src/providers/kie/simulator/index.js';
import { minReadsBothTargets, minReadsPerSecond } from '../coverageBound.js';
import { summarize } from '../stats.js';
import { buildWorkload, DEFAULT_WORKLOAD, type WorkloadJob, type WorkloadSpec } from '../workload.js';
import { runOne, type LearnJob, type LearnPoller, type Outcome } from './learnRun.js';

export { runOne, type LearnJob, type LearnPoller };

export interface LearnLoad {
  name: string;
  description: string;
  jobs: LearnJob[];
}

export interface PhaseFigures {
  jobs: number;
  lagP50: number;
  lagP95: number;
  taskSecondsPerPoll: number;
  pollsPerJob: number;
}

export interface LearnRun {
  load: string;
  poller: LearnPoller;
  before: PhaseFigures;
  after: PhaseFigures;
  all: PhaseFigures;
  /** What the learner believed at the end (learned poller only). */
  beliefs: string[];
  delivered: number;
  meanInFlight: number;
  longestGapS: number;
  /** The fewest reads/s a schedule needs on this load (../coverageBound.ts): for p95 ≤ 3 s, and for p95 ≤ 3 s with p50 ≤ 1.5 s. */
  minReads: { p95: number; both: number };
  /** Jobs arriving per second over the load's span (turns reads per job into reads per second). */
  arrivalsPerS: number;
}

export interface PressureRun {
  /**
   * burst: 1,000 jobs arriving within 2 minutes; steady: 1,000 jobs in flight
   * throughout (each job seen done is replaced by a new one), measured after
   * a warm-up and before the drain.
   */
  load: 'burst' | 'steady';
  /** Durations uniform over the notes' windows, or peaked (log-normal, σ 0.3) inside them. */
  shape: 'uniform' | 'peaked';
  order: PollOrder;
  /** Timings learned during the run (else the notes' windows, for the schedule and the ranking). */
  learn: boolean;
  jobs: number;
  peakInFlight: number;
  lagP50: number;
  lagP95: number;
  lagMax: number;
  lagMean: number;
  polls: number;
  /** The longest any job went between two checks (s). */
  longestGapS: number;
  /** Mean task duration of the measured jobs (s). */
  meanDurationS: number;
  /** Steady: jobs seen done per second while measured (what the budget lets through); NaN for the burst. */
  throughput: number;
}

/** The steady run: 1,000 in flight; 6,000 jobs, of which the 2,001st to the 5,000th are measured (past the start, before the drain). */
export const STEADY = { inFlight: 1_000, jobs: 6_000, measureFrom: 2_000, measureTo: 5_000 } as const;

/** A longer day than the lag scenario's: 40 minutes at 15 per minute, so every speed sees well over 20 jobs. */
export const LEARN_WORKLOAD: WorkloadSpec = { ...DEFAULT_WORKLOAD, spanMs: 40 * 60_000 };
const AFTER_JOBS = 20;

const fromWorkload = (jobs: readonly WorkloadJob[], f: (j: WorkloadJob) => Pick<LearnJob, 'durationMs' | 'regime' | 'windowS'>): LearnJob[] =>
  jobs.map((j) => ({ index: j.index, arriveAtMs: j.arriveAtMs, speed: j.speed, ...f(j) }));

/** The notes' window of a speed (the workload draws uniformly from it), times `factor`. */
const scaled = (speed: Speed, factor: number): readonly [number, number] => [SPEED_SECONDS[speed][0] * factor, SPEED_SECONDS[speed][1] * factor];

/** The drift loads: the notes' own ranges, 3× faster, 2.5× slower, and fast dropping to 8–20 s halfway. */
export function learnLoads(spec: WorkloadSpec = LEARN_WORKLOAD): LearnLoad[] {
  const base = buildWorkload(spec);
  const rng = createRng(spec.seed + 11);
  const half = spec.spanMs / 2;
  return [
    { name: 'as the notes say', description: 'turbo 10–40 s, fast 30–100 s, relaxed 90–300 s', jobs: fromWorkload(base, (j) => ({ durationMs: j.durationMs, regime: 0, windowS: scaled(j.speed, 1) })) },
    { name: '3× faster', description: 'every duration ÷ 3 (fast 10–33 s)', jobs: fromWorkload(base, (j) => ({ durationMs: Math.round(j.durationMs / 3), regime: 0, windowS: scaled(j.speed, 1 / 3) })) },
    { name: '2.5× slower', description: 'every duration × 2.5 (fast 75–250 s)', jobs: fromWorkload(base, (j) => ({ durationMs: Math.round(j.durationMs * 2.5), regime: 0, windowS: scaled(j.speed, 2.5) })) },
    {
      name: 'fast drops mid-run',
      description: 'fast tasks go from 30–100 s to 8–20 s halfway through',
      jobs: fromWorkload(base, (j) =>
        j.speed === 'fast' && j.arriveAtMs >= half
          ? { durationMs: Math.round(randomBetween(rng, 8, 20) * 1000), regime: 1, windowS: [8, 20] }
          : { durationMs: j.durationMs, regime: 0, windowS: scaled(j.speed, 1) },
      ),
    },
  ];
}


function figures(outcomes: readonly Outcome[]): PhaseFigures {
  const lags = summarize(outcomes.map((o) => (o.seenAt - o.finishAt) / 1000));
  const taskMs = outcomes.reduce((s, o) => s + (o.finishAt - o.createdAt), 0);
  const polls = outcomes.reduce((s, o) => s + o.polls, 0);
  return {
    jobs: outcomes.length,
    lagP50: lags.p50,
    lagP95: lags.p95,
    taskSecondsPerPoll: polls > 0 ? taskMs / 1000 / polls : NaN,
    pollsPerJob: outcomes.length > 0 ? polls / outcomes.length : NaN,
  };
}

/** Whether, when this job was created, 20 jobs of its speed and regime had finished. */
function splitByExperience(outcomes: readonly Outcome[]): { before: Outcome[]; after: Outcome[] } {
  const before: Outcome[] = [];
  const after: Outcome[] = [];
  for (const o of outcomes) {
    const seenBefore = outcomes.filter(
      (x) => x.job.speed === o.job.speed && x.job.regime === o.job.regime && x.seenAt <= o.createdAt,
    ).length;
    (seenBefore >= AFTER_JOBS ? after : before).push(o);
  }
  return { before, after };
}

export const LEARN_POLLERS: readonly LearnPoller[] = ['learned', 'learned, first-come', 'learned, likely-done', 'fixed schedule', 'fixed 3 s'];

/** Every drift load through every poller. */
export async function runLearnScenario(log: (line: string) => void = () => {}): Promise<LearnRun[]> {
  const runs: LearnRun[] = [];
  for (const load of learnLoads()) {
    const windows = load.jobs.map((j) => (j.windowS ? j.windowS[1] - j.windowS[0] : 0));
    const perS = load.jobs.length / (LEARN_WORKLOAD.spanMs / 1000);
    const minReads = { p95: minReadsPerSecond(windows, perS, 0.95, 3), both: minReadsBothTargets(windows, perS) };
    // On the slow load the 8/s budget binds (see RESULTS.md); one more run shows the schedule without it.
    const pollers: LearnPoller[] = load.name === '2.5× slower' ? [...LEARN_POLLERS, 'learned, 20 polls/s'] : [...LEARN_POLLERS];
    for (const poller of pollers) {
      const { outcomes, beliefs, meanInFlight, longestGapMs } = await runOne(load.jobs, poller);
      const { before, after } = splitByExperience(outcomes);
      const run: LearnRun = {
        load: load.name,
        poller,
        before: figures(before),
        after: figures(after),
        all: figures(outcomes),
        beliefs,
        delivered: outcomes.length,
        meanInFlight,
        longestGapS: longestGapMs / 1000,
        minReads,
        arrivalsPerS: perS,
      };
      log(
        `learn: ${load.name} / ${poller}: ${outcomes.length}/${load.jobs.length} seen; after 20: lag p50 ${run.after.lagP50.toFixed(2)} s, p95 ${run.after.lagP95.toFixed(2)} s, ${run.after.taskSecondsPerPoll.toFixed(2)} task s/poll`,
      );
      runs.push(run);
    }
  }
  return runs;
}

/** 1,000 jobs arriving within two minutes (the default mix), 8 polls/s: learned priority vs first-come. */
export function pressureLoad(shape: 'uniform' | 'peaked' = 'uniform', count = 1_000, spreadMs = 120_000, seed = 20250102): LearnJob[] {
  const rng = createRng(seed);
  const jobs: LearnJob[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng();
    const speed: Speed = r < 0.2 ? 'turbo' : r < 0.8 ? 'fast' : 'relaxed';
    const [min, max] = speed === 'turbo' ? [10, 40] : speed === 'fast' ? [30, 100] : [90, 300];
    let durationMs = Math.round(randomBetween(rng, min, max) * 1000);
    if (shape === 'peaked') {
      // Log-normal around the window's geometric middle, σ 0.3 (like "median 41 s, 90 % within 28–77 s").
      const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
      durationMs = Math.round(Math.sqrt(min * max) * 0.75 * Math.exp(0.3 * z) * 1000);
    }
    jobs.push({ index: i, arriveAtMs: Math.round((i / count) * spreadMs), speed, durationMs, regime: 0 });
  }
  return jobs;
}

export async function runPressureScenario(log: (line: string) => void = () => {}): Promise<PressureRun[]> {
  const out: PressureRun[] = [];
  // Round 1 first: the tracker as issue 11 found it (notes' windows, first-come) — the issue's "today's first-come order".
  const variants = [
    { order: 'due', learn: false },
    { order: 'due', learn: true },
    { order: 'likely-done', learn: true },
    { order: 'likely-done', learn: false },
    { order: 'auto', learn: true },
  ] as const;
  const steadyVariants = [variants[0], variants[1], variants[4]];
  for (const load of ['burst', 'steady'] as const) {
    for (const shape of ['uniform', 'peaked'] as const) {
      for (const { order, learn } of load === 'burst' ? variants : steadyVariants) {
        const steady = load === 'steady';
        const jobs = steady ? pressureLoad(shape, STEADY.jobs, 10_000) : pressureLoad(shape);
        const { outcomes, peakInFlight, longestGapMs } = await runOne(jobs, { order, learn }, steady ? { keepInFlight: STEADY.inFlight } : {});
        const measured = steady ? outcomes.filter((o) => o.job.index >= STEADY.measureFrom && o.job.index < STEADY.measureTo) : outcomes;
        const lags = summarize(measured.map((o) => (o.seenAt - o.finishAt) / 1000));
        // Steady: a job is created the moment an earlier one is seen done, so the measured jobs' creation rate is the rate jobs leave.
        const created = measured.map((o) => o.createdAt);
        const spanS = steady ? (Math.max(...created) - Math.min(...created)) / 1000 : NaN;
        const run: PressureRun = {
          load,
          shape,
          order,
          learn,
          jobs: measured.length,
          peakInFlight,
          lagP50: lags.p50,
          lagP95: lags.p95,
          lagMax: lags.max,
          lagMean: lags.mean,
          polls: measured.reduce((s, o) => s + o.polls, 0),
          longestGapS: longestGapMs / 1000,
          throughput: spanS > 0 ? measured.length / spanS : NaN,
          meanDurationS: measured.reduce((sum, o) => sum + (o.finishAt - o.createdAt), 0) / 1000 / Math.max(1, measured.length),
        };
        log(
          `pressure ${load}: ${shape} / ${order}${learn ? '' : ' (notes’ windows)'}: ${run.jobs} measured, peak ${run.peakInFlight}, polls ${run.polls}, mean ${lags.mean.toFixed(1)}, lag p50 ${run.lagP50.toFixed(1)} s, p95 ${run.lagP95.toFixed(1)} s, longest gap ${run.longestGapS.toFixed(0)} s`,
        );
        out.push(run);
      }
    }
  }
  return out;
}
