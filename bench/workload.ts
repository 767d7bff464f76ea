/**
 * The load every poller is measured on: when each /imagine arrives, at which
 * speed, in which channel, and how long KIE takes for it. Drawn once from a
 * seed, so every poller sees exactly the same load and a rerun sees the
 * same numbers.
 *
 * Times here are REAL-equivalent (what a user would live through); the
 * scenario multiplies them by the run's time scale.
 *
 * Durations are uniform over docs/NOTES.md's ranges (turbo 10–40 s, fast
 * 30–100 s, relaxed 90–300 s), the same spread the simulator draws by
 * default. The simulator cannot be told "this request takes d": it draws a
 * duration per task as it is created. `durationQueue` hands out each speed's
 * durations in arrival order, so whatever order the creates happen in, every
 * poller gets the same durations for the same speeds.
 */
import type { Speed } from '../src/providers/kie/schemas.js';
import { SPEED_SECONDS, type SimTaskInfo } from '../src/providers/kie/simulator/index.js';
import { createRng, randomBetween, type Rng } from '../src/providers/kie/simulator/random.js';

export interface WorkloadJob {
  /** 0-based, in arrival order. */
  index: number;
  /** Real-equivalent ms after the start of the run. */
  arriveAtMs: number;
  speed: Speed;
  /** Real-equivalent task duration at KIE. */
  durationMs: number;
  channel: number;
  user: number;
  /** Part of the simultaneous burst (tests the create limit). */
  burst: boolean;
}

export interface WorkloadSpec {
  seed: number;
  /** Real-equivalent span over which the steady arrivals come. */
  spanMs: number;
  /** Steady arrivals per real-equivalent minute (Poisson). */
  perMinute: number;
  /** Share of each speed among jobs. */
  mix: Readonly<Record<Speed, number>>;
  /** Commands arriving at the same instant, halfway through the span (0 for none). */
  burst: number;
  channels: number;
  users: number;
}

/** A busy team: one image every 4 s for 12 minutes, plus 30 commands at once midway (more than KIE's 20 creates / 10 s). */
export const DEFAULT_WORKLOAD: WorkloadSpec = {
  seed: 20250101,
  spanMs: 12 * 60_000,
  perMinute: 15,
  mix: { turbo: 0.2, fast: 0.6, relaxed: 0.2 },
  burst: 30,
  channels: 5,
  users: 12,
};

function pickSpeed(rng: Rng, mix: WorkloadSpec['mix']): Speed {
  const total = mix.turbo + mix.fast + mix.relaxed;
  let r = rng() * total;
  for (const speed of ['turbo', 'fast', 'relaxed'] as const) {
    r -= mix[speed];
    if (r < 0) return speed;
  }
  return 'fast';
}

/** Draw the load. Pure: the same spec gives the same jobs. */
export function buildWorkload(spec: WorkloadSpec): WorkloadJob[] {
  const rng = createRng(spec.seed);
  const arrivals: Array<{ at: number; burst: boolean }> = [];
  const meanGapMs = 60_000 / spec.perMinute;
  for (let t = -Math.log(1 - rng()) * meanGapMs; t < spec.spanMs; t += -Math.log(1 - rng()) * meanGapMs) {
    arrivals.push({ at: Math.round(t), burst: false });
  }
  for (let i = 0; i < spec.burst; i++) arrivals.push({ at: Math.round(spec.spanMs / 2), burst: true });
  arrivals.sort((a, b) => a.at - b.at);
  return arrivals.map((a, index) => {
    const speed = pickSpeed(rng, spec.mix);
    const [min, max] = SPEED_SECONDS[speed];
    return {
      index,
      arriveAtMs: a.at,
      speed,
      durationMs: Math.round(randomBetween(rng, min, max) * 1000),
      channel: Math.floor(rng() * spec.channels),
      user: Math.floor(rng() * spec.users),
      burst: a.burst,
    };
  });
}

/** Each speed's task durations (ms, times `timeScale`) in arrival order. */
export function durationsBySpeed(jobs: readonly WorkloadJob[], timeScale: number): Partial<Record<Speed, number[]>> {
  const out: Partial<Record<Speed, number[]>> = {};
  for (const job of jobs) (out[job.speed] ??= []).push(Math.round(job.durationMs * timeScale));
  return out;
}

/**
 * The simulator's `durationMs` option: each speed's listed durations in
 * creation order, then `fallbackMs` for any task the lists do not cover.
 */
export function durationQueue(bySpeed: Partial<Record<Speed, readonly number[]>>, fallbackMs: number): (info: SimTaskInfo) => number {
  const queues = new Map<string, number[]>(Object.entries(bySpeed).map(([speed, list]) => [speed, [...(list ?? [])]]));
  return (info) => queues.get(info.speed ?? 'fast')?.shift() ?? fallbackMs;
}

/** Total real-equivalent task time of a load, in minutes. */
export const taskMinutes = (jobs: readonly WorkloadJob[]): number => jobs.reduce((s, j) => s + j.durationMs, 0) / 60_000;
