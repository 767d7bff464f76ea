/**
 * What a simulated task costs. The defaults are NOTES.md's (uncertain,
 * third-party) figures; KIE publishes none for upscale/vary/extend, so those
 * are guesses: an upscale costs 4 (as the bot's default price table assumes), a vary is a new grid at fast speed, an
 * extend is one more SD clip.
 */
import type { Speed } from '../schemas.js';

export interface SimPriceTable {
  /** A 4-image grid (txt2img, img2img, style reference) by speed. Omni reference takes no speed and is priced as fast. */
  grid: Readonly<Record<Speed, number>>;
  /** Per clip of mj_video (videoBatchSize clips). */
  videoSdPerClip: number;
  /** Per clip of mj_video_hd. */
  videoHdPerClip: number;
  upscale: number;
  vary: number;
  extend: number;
}

export const DEFAULT_SIM_PRICES: Readonly<SimPriceTable> = Object.freeze({
  grid: Object.freeze({ relaxed: 3, fast: 8, turbo: 16 }),
  videoSdPerClip: 15,
  videoHdPerClip: 45,
  upscale: 4,
  vary: 8,
  extend: 15,
});

/** What the simulator needs to know about a task to price it. */
export interface PricedTask {
  op: 'generate' | 'upscale' | 'vary' | 'extend';
  taskType: string;
  speed: Speed | null;
  /** Result count: clips for video. */
  resultCount: number;
}

export function priceOf(task: PricedTask, table: SimPriceTable): number {
  switch (task.op) {
    case 'upscale':
      return table.upscale;
    case 'vary':
      return table.vary;
    case 'extend':
      return table.extend;
    case 'generate':
      if (task.taskType === 'mj_video') return table.videoSdPerClip * task.resultCount;
      if (task.taskType === 'mj_video_hd') return table.videoHdPerClip * task.resultCount;
      return table.grid[task.speed ?? 'fast'];
  }
}
