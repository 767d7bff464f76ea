/** Prices per kind of task, from NOTES.md's table and the simulator's own guesses. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SIM_PRICES, priceOf } from '../../../src/providers/kie/simulator/pricing.js';

describe('priceOf', () => {
  const P = DEFAULT_SIM_PRICES;
  it.each([
    [{ op: 'generate', taskType: 'mj_txt2img', speed: 'relaxed', resultCount: 4 }, 3],
    [{ op: 'generate', taskType: 'mj_img2img', speed: 'fast', resultCount: 4 }, 8],
    [{ op: 'generate', taskType: 'mj_style_reference', speed: 'turbo', resultCount: 4 }, 16],
    [{ op: 'generate', taskType: 'mj_omni_reference', speed: null, resultCount: 4 }, 8],
    [{ op: 'generate', taskType: 'mj_video', speed: null, resultCount: 2 }, 30],
    [{ op: 'generate', taskType: 'mj_video_hd', speed: null, resultCount: 4 }, 180],
    [{ op: 'upscale', taskType: 'mj_upscale', speed: 'turbo', resultCount: 1 }, 4],
    [{ op: 'vary', taskType: 'mj_vary', speed: 'fast', resultCount: 4 }, 8],
    [{ op: 'extend', taskType: 'mj_video_extend_auto', speed: null, resultCount: 1 }, 15],
  ] as const)('%o costs %i', (task, price) => {
    expect(priceOf(task, P)).toBe(price);
  });

  it('is frozen so no test can change another one’s prices', () => {
    expect(Object.isFrozen(P)).toBe(true);
    expect(Object.isFrozen(P.grid)).toBe(true);
  });
});
