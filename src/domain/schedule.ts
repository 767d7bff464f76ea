/**
 * When to ask KIE about a running task, and when to give up on it.
 *
 * ## The polling schedule
 *
 * KIE tells us a task is done only when we ask (callbacks help when they are
 * configured, and then simply trigger an early poll). Every question costs a
 * request against KIE's rate limits; every second between "KIE finished" and
 * "we asked" is a second the user waits. The schedule spends requests only
 * where finishes are likely:
 *
 * 1. **Silence until the earliest plausible finish.** Each job kind and speed
 *    has an expected window [earliest, latest]: the learned one when the
 *    tracker has timings (`PollState.window`: the 3 % and 97 % quantiles of
 *    the durations it has seen, ./durations.ts), else the table below, from
 *    the timings in docs/NOTES.md (also the learner's prior). Hardly any task
 *    finishes before `earliest`, so the first check is exactly then.
 * 2. **Dense polling across the window.** Every `denseIntervalMs` (2.8 s) from
 *    `earliest` to `latest`. A finish lands uniformly between two checks, so
 *    the delivery lag is ~U(0, 2.8 s): p50 ≈ 1.4 s, p95 ≈ 2.7 s — inside the
 *    targets (p50 ≤ 1.5 s, p95 ≤ 3 s).
 * 3. **Geometric back-off after the window.** A task that outlives `latest`
 *    is a slow one; the next check waits half of how far past `latest` it is
 *    (so the gaps grow ×1.5 per check), capped per speed (turbo 10 s, fast
 *    15 s, relaxed 30 s). Relaxed tasks sometimes take far longer than 5 min;
 *    this keeps such a task to ~2 checks a minute.
 * 4. **A cost floor.** At most one check per `minTaskMsPerPoll` (4 s) of
 *    task time, not counting the first: after n checks the next waits until
 *    n × 4 s of task time have passed, if that is later than the interval
 *    above. Thanks to the silent start it hardly binds: fast and relaxed
 *    only at the very end of their windows, turbo (whose window starts
 *    early) after ~30 s. A fast job of 45 s costs 1 + 15/2.8 ≈ 7 checks (one
 *    per 6.5 s); with finishes spread evenly over their windows, fast costs
 *    one check per ~4.6 s of task time and relaxed one per ~5 s. Turbo
 *    costs one per ~3.7 s: its window leaves little silence to amortise.
 * 5. **Errors back off exponentially with jitter** (2 s, 4 s, 8 s … capped at
 *    60 s; "equal jitter": half fixed, half random) so a KIE outage isn't
 *    hammered by every job at once; the wait is never shorter than the
 *    normal schedule's.
 *
 * Expected windows (`earliest`–`latest`):
 *
 * | kind                  | turbo      | fast        | relaxed      |
 * |-----------------------|------------|-------------|--------------|
 * | grid, vary            | 10 – 40 s  | 30 – 100 s  | 90 – 300 s   |
 * | upscale (×0.5)        | 5 – 20 s   | 15 – 50 s   | 45 – 150 s   |
 * | video, video_hd, extend (×1.5 / ×2) | 15 – 80 s | 45 – 200 s | 135 – 600 s |
 *
 * Video tasks take no speed; they are timed as fast.
 *
 * ## Timeouts
 *
 * A task still running after `timeoutFor(kind, speed)` is failed with code
 * 'timeout': turbo 10 min, fast 20 min, relaxed 2 h; video kinds +50 %.
 * That is several times the slowest plausible finish, so it only fires when
 * KIE lost the task — and then the user hears so instead of waiting forever.
 *
 * ## Time scale
 *
 * The local KIE server can run tasks faster than life (`timeScale`, e.g.
 * 0.05 in the benchmark and simulator mode). `ScheduleTuning.timeScale`
 * scales every window, interval and timeout the same way, so the schedule's
 * shape — and its cost per task-second — stays the same. Error back-off is
 * not scaled: errors take real time to clear.
 *
 * Everything here is pure: time and randomness come in as arguments.
 */
import type { Speed } from './midjourney.js';
import type { JobKind } from './job.js';
import { backoffDelay } from './backoff.js';

export interface ExpectedWindow {
  earliestMs: number;
  latestMs: number;
}

/** Image grid timings per speed (docs/NOTES.md: turbo ~10–40 s, fast ~30–100 s, relaxed 1.5–5 min). */
const GRID_WINDOWS: Record<Speed, ExpectedWindow> = {
  turbo: { earliestMs: 10_000, latestMs: 40_000 },
  fast: { earliestMs: 30_000, latestMs: 100_000 },
  relaxed: { earliestMs: 90_000, latestMs: 300_000 },
};

/** How each kind scales the grid window: video takes ×1.5–2, an upscale about half. */
const KIND_FACTORS: Record<JobKind, { earliest: number; latest: number }> = {
  grid: { earliest: 1, latest: 1 },
  vary: { earliest: 1, latest: 1 },
  upscale: { earliest: 0.5, latest: 0.5 },
  video: { earliest: 1.5, latest: 2 },
  video_hd: { earliest: 1.5, latest: 2 },
  extend: { earliest: 1.5, latest: 2 },
};

const TIMEOUTS: Record<Speed, number> = {
  turbo: 10 * 60_000,
  fast: 20 * 60_000,
  relaxed: 2 * 60 * 60_000,
};
const VIDEO_TIMEOUT_FACTOR = 1.5;

/** Video and omni-reference tasks are sent without a speed; KIE runs them like fast. */
export const DEFAULT_SPEED: Speed = 'fast';

export interface ScheduleTuning {
  /** Gap between checks inside the expected window. Delivery lag is ~U(0, this). */
  denseIntervalMs: number;
  /** After the window, wait this fraction of the time spent past `latest` (0.5 → gaps grow ×1.5). */
  overdueFraction: number;
  /** Longest gap between checks of a healthy task, per speed. */
  maxIntervalMs: Record<Speed, number>;
  /** At most one check per this much task time (after the first); 0 disables. */
  minTaskMsPerPoll: number;
  /** Error back-off: first wait and cap. */
  errorBaseMs: number;
  errorMaxMs: number;
  /** Multiplies every window, interval and timeout (not error back-off). 1 in production. */
  timeScale: number;
}

export const DEFAULT_TUNING: ScheduleTuning = {
  denseIntervalMs: 2_800,
  overdueFraction: 0.5,
  maxIntervalMs: { turbo: 10_000, fast: 15_000, relaxed: 30_000 },
  minTaskMsPerPoll: 4_000,
  errorBaseMs: 2_000,
  errorMaxMs: 60_000,
  timeScale: 1,
};

const isVideoKind = (kind: JobKind): boolean => KIND_FACTORS[kind].latest > 1;

/** When a task of this kind and speed plausibly finishes, measured from submission. */
export function expectedWindow(kind: JobKind, speed: Speed | null, timeScale = 1): ExpectedWindow {
  const base = GRID_WINDOWS[speed ?? DEFAULT_SPEED];
  const f = KIND_FACTORS[kind];
  return { earliestMs: base.earliestMs * f.earliest * timeScale, latestMs: base.latestMs * f.latest * timeScale };
}

/** How long a task may run before it is failed with 'timeout'. */
export function timeoutFor(kind: JobKind, speed: Speed | null, timeScale = 1): number {
  const base = TIMEOUTS[speed ?? DEFAULT_SPEED] * timeScale;
  return isVideoKind(kind) ? base * VIDEO_TIMEOUT_FACTOR : base;
}

export interface PollState {
  kind: JobKind;
  speed: Speed | null;
  /** Time since KIE accepted the task. */
  elapsedMs: number;
  /** Checks already made (0 before the first). */
  polls: number;
  /** Failed checks in a row (network, 5xx, 429…). */
  consecutiveErrors: number;
  /**
   * The window to use instead of the notes' (real-equivalent ms, unscaled):
   * the learned one, from ./durations.ts. Omitted: `expectedWindow()`.
   */
  window?: ExpectedWindow;
}

/** How long to wait before the next check of a task. See the module comment. */
export function pollDelay(
  state: PollState,
  random: () => number = Math.random,
  tuning: ScheduleTuning = DEFAULT_TUNING,
): number {
  const scale = tuning.timeScale;
  const base = state.window ?? expectedWindow(state.kind, state.speed);
  const earliestMs = base.earliestMs * scale;
  const latestMs = base.latestMs * scale;
  const dense = tuning.denseIntervalMs * scale;
  const elapsed = Math.max(0, state.elapsedMs);
  let delay: number;
  if (state.polls <= 0) {
    delay = Math.max(0, earliestMs - elapsed);
  } else {
    const cap = tuning.maxIntervalMs[state.speed ?? DEFAULT_SPEED] * scale;
    const overdue = elapsed - latestMs;
    delay = overdue <= 0 ? dense : Math.min(cap, Math.max(dense, overdue * tuning.overdueFraction));
    if (tuning.minTaskMsPerPoll > 0) delay = Math.max(delay, state.polls * tuning.minTaskMsPerPoll * scale - elapsed);
  }
  if (state.consecutiveErrors > 0) {
    delay = Math.max(delay, backoffDelay(state.consecutiveErrors, { baseMs: tuning.errorBaseMs, maxMs: tuning.errorMaxMs, jitter: 'equal' }, random));
  }
  return Math.round(delay);
}
