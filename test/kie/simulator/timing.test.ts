/** Default task durations: NOTES.md's ranges by speed, factors by kind, timeScale. */
import { describe, expect, it } from 'vitest';
import { defaultDurationMs, durationFactor, SPEED_SECONDS } from '../../../src/providers/kie/simulator/timing.js';
import type { SimTaskInfo } from '../../../src/providers/kie/simulator/types.js';

const info = (patch: Partial<SimTaskInfo>): SimTaskInfo => ({ taskId: 't', taskType: 'mj_txt2img', speed: 'fast', op: 'generate', ...patch });

describe('defaultDurationMs', () => {
  it.each([
    ['relaxed', 0],
    ['fast', 0.5],
    ['turbo', 0.999],
  ] as const)('stays within the %s range', (speed, r) => {
    const [min, max] = SPEED_SECONDS[speed];
    const ms = defaultDurationMs(info({ speed }), () => r, 1);
    expect(ms).toBeGreaterThanOrEqual(min * 1000);
    expect(ms).toBeLessThanOrEqual(max * 1000);
  });

  it('runs video at 1.5× fast and upscales at half, scaled by timeScale', () => {
    expect(durationFactor(info({ taskType: 'mj_video_hd', speed: null }))).toBe(1.5);
    expect(durationFactor(info({ taskType: 'mj_video_extend_manual', speed: null, op: 'extend' }))).toBe(1.5);
    expect(durationFactor(info({ taskType: 'mj_upscale', op: 'upscale' }))).toBe(0.5);
    expect(defaultDurationMs(info({ taskType: 'mj_video', speed: null }), () => 0, 1)).toBe(45_000);
    expect(defaultDurationMs(info({ speed: 'relaxed' }), () => 0, 0.05)).toBe(4_500);
  });
});
