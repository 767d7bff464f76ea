/**
 * How long a simulated task takes by default. NOTES.md's (uncertain) figures:
 * turbo 10–40 s, fast 30–100 s, relaxed 1.5–5 min; video about 1.5× fast.
 * Upscales are quicker than a grid (half), varies take as long as a grid.
 */
import type { Speed } from '../schemas.js';
import { randomBetween, type Rng } from './random.js';
import type { SimTaskInfo } from './types.js';

export const SPEED_SECONDS: Readonly<Record<Speed, readonly [number, number]>> = Object.freeze({
  turbo: [10, 40],
  fast: [30, 100],
  relaxed: [90, 300],
});

const VIDEO_TYPES = new Set(['mj_video', 'mj_video_hd', 'mj_video_extend_manual', 'mj_video_extend_auto']);

/** Multiplier on the speed's range for a kind of task. */
export function durationFactor(info: SimTaskInfo): number {
  if (VIDEO_TYPES.has(info.taskType)) return 1.5;
  if (info.op === 'upscale') return 0.5;
  return 1;
}

/** A realistic duration in ms, drawn from `rng`, scaled by `timeScale`. Speedless tasks run at fast. */
export function defaultDurationMs(info: SimTaskInfo, rng: Rng, timeScale: number): number {
  const [min, max] = SPEED_SECONDS[info.speed ?? 'fast'];
  return Math.round(randomBetween(rng, min, max) * 1000 * durationFactor(info) * timeScale);
}
