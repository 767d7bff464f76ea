/**
 * Event-loop delay, as perf_hooks measures it: a timer samples the loop every
 * RESOLUTION_MS and the histogram records each whole interval, so an idle
 * loop reads ≈ RESOLUTION_MS. The delay is what exceeds it; that is what is
 * reported.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export const ELD_RESOLUTION_MS = 10;

/** Nanoseconds recorded by the histogram → delay beyond the sampling period, in ms. */
export const excessMs = (ns: number, resolutionMs: number = ELD_RESOLUTION_MS): number => Math.max(0, ns / 1e6 - resolutionMs);

export interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** Start measuring; stop() returns the delays (ms) seen in between. A finer resolution catches short stalls. */
export function watchEventLoop(resolutionMs: number = ELD_RESOLUTION_MS): { stop(): EventLoopDelay } {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  return {
    stop() {
      h.disable();
      const ms = (ns: number): number => excessMs(ns, resolutionMs);
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    },
  };
}
