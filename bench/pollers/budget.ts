/**
 * The Tracker's poll budget, exactly time-scaled.
 *
 * The Tracker allows `maxPollsPerSecond` record-info requests in any real
 * second; the window is fixed in its code. Dividing the count by the time
 * scale keeps the average rate of a compressed run right, but lets a whole
 * scaled second's worth (8 / 0.05 = 160) go out at once, which production
 * never allows. This decorator restores the shape: the same count in a
 * sliding window of one scaled second, in front of record-info. The
 * Tracker's own (coarser) budget stays on behind it.
 *
 * The KIE client's sliding window counts a request until the window has
 * passed after it *finished* (the Tracker's counts from its start): a
 * millisecond per request stricter, so if anything this is pessimistic.
 */
import type { CallOptions, KieApi } from '../../src/domain/ports.js';
import { SlidingWindowLimiter } from '../../src/kie/limiter.js';
import type { TaskRecord } from '../../src/kie/schemas.js';

export function withPollBudget(kie: KieApi, perSecond: number, timeScale: number): KieApi {
  const gate = new SlidingWindowLimiter({ max: perSecond, windowMs: 1_000 * timeScale });
  return {
    generate: (body, opts) => kie.generate(body, opts),
    upscale: (body, opts) => kie.upscale(body, opts),
    vary: (body, opts) => kie.vary(body, opts),
    extendVideo: (body, opts) => kie.extendVideo(body, opts),
    credits: (opts) => kie.credits(opts),
    async recordInfo(taskId: string, opts?: CallOptions): Promise<TaskRecord> {
      const release = await gate.acquire(opts?.signal);
      try {
        return await kie.recordInfo(taskId, opts);
      } finally {
        release();
      }
    },
  };
}
