/**
 * The benchmark must not rot: the same code `npm run bench` runs, with a
 * handful of jobs and a short window, plus the pure pieces its figures rest
 * on (percentiles, sliding windows, the time-scale split, judging targets,
 * the chart). No timing thresholds: a slow CI machine must not fail this,
 * only a broken benchmark.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeXml, linearTicks, logTicks, renderLagChart } from '../../bench/chart.js';
import { POLLERS, runBench, type BenchConfig } from '../../bench/core.js';
import { detectTime, pollerMetrics, pollGaps, realLagS, type JobMeasure, type LagRun } from '../../bench/metrics.js';
import { CHART_FILE, evaluateTargets, judgeAtLeast, judgeAtMost, renderResults, writeReport } from '../../bench/report.js';
import type { BenchResults } from '../../bench/results.js';
import { callbackToken } from '../../bench/sent.js';
import { percentile, percentileInterval, slidingWindowMax, summarize } from '../../bench/stats.js';
import { buildWorkload, DEFAULT_WORKLOAD, durationQueue, durationsBySpeed } from '../../bench/workload.js';

describe('stats', () => {
  it('interpolates percentiles between closest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10], 99)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, min: 1, max: 5, mean: 3, p50: 3 });
  });

  it('brackets a percentile with order statistics either side of its rank', () => {
    const sample = Array.from({ length: 100 }, (_, i) => i + 1);
    const [lo, hi] = percentileInterval(sample, 50);
    expect(lo).toBeLessThan(50);
    expect(hi).toBeGreaterThan(50);
    expect(hi - lo).toBeGreaterThan(15);
    expect(hi - lo).toBeLessThan(25);
    expect(percentileInterval([7], 95)).toEqual([7, 7]);
    expect(percentileInterval([], 50).every(Number.isNaN)).toBe(true);
  });

  it('counts the most events in any half-open window', () => {
    expect(slidingWindowMax([0, 100, 999, 1000, 1500], 1000)).toBe(3);
    expect(slidingWindowMax([], 1000)).toBe(0);
    expect(slidingWindowMax([5, 5, 5], 1)).toBe(3);
  });
});

describe('workload', () => {
  it('is the same for the same seed, and hands out durations per speed in arrival order', () => {
    const a = buildWorkload({ ...DEFAULT_WORKLOAD, spanMs: 60_000, burst: 3 });
    expect(buildWorkload({ ...DEFAULT_WORKLOAD, spanMs: 60_000, burst: 3 })).toEqual(a);
    expect(a.filter((j) => j.burst)).toHaveLength(3);
    const next = durationQueue(durationsBySpeed(a, 0.5), 42);
    const firstFast = a.find((j) => j.speed === 'fast')!;
    expect(next({ taskId: 't', taskType: 'mj_txt2img', speed: 'fast', op: 'generate' })).toBe(Math.round(firstFast.durationMs * 0.5));
    expect(next({ taskId: 't', taskType: 'mj_video', speed: null, op: 'generate' })).toBeGreaterThan(0);
  });
});

describe('metrics', () => {
  const job = (over: Partial<JobMeasure>): JobMeasure => ({
    index: 0,
    speed: 'fast',
    burst: false,
    taskId: 't1',
    createdAt: 0,
    finishAt: 1_000,
    detectAt: 1_100,
    discordAt: 1_130,
    calledBackAt: null,
    attachments: 4,
    polls: 3,
    state: 'succeeded',
    ...over,
  });

  it('scales the schedule-bound part of the lag and keeps the work after the poll unscaled', () => {
    // 100 ms of detect at scale 0.05 is 2 s real; the 30 ms of delivery stays 30 ms.
    expect(realLagS(job({}), 0.05)).toBeCloseTo(2.03, 6);
    expect(realLagS(job({ discordAt: null }), 0.05)).toBeNull();
  });

  it('finds the first successful record-info at or after the finish', () => {
    const requests = [
      { endpoint: 'recordInfo', taskId: 't1', at: 900, responseCode: 200 },
      { endpoint: 'recordInfo', taskId: 't1', at: 1_200, responseCode: 200 },
      { endpoint: 'recordInfo', taskId: 't1', at: 1_050, responseCode: 500 },
      { endpoint: 'recordInfo', taskId: 't2', at: 1_010, responseCode: 200 },
    ];
    expect(detectTime(requests, 't1', 1_000)).toBe(1_200);
    expect(detectTime(requests, 't3', 1_000)).toBeNull();
  });

  it('counts a last poll stamped a tick before the finish as the one that saw it done', () => {
    const polls = (...at: number[]) => at.map((t) => ({ endpoint: 'recordInfo', taskId: 't1', at: t, responseCode: 200 }));
    expect(detectTime(polls(950, 999), 't1', 1_000)).toBe(1_000);
    // Earlier than the clock's tick: that poll saw the task running, and nothing saw it done.
    expect(detectTime(polls(950, 998), 't1', 1_000)).toBeNull();
  });

  it('measures the gaps between polls of the same task only', () => {
    const gaps = pollGaps([
      { endpoint: 'recordInfo', taskId: 'a', at: 0, responseCode: 200 },
      { endpoint: 'recordInfo', taskId: 'b', at: 5, responseCode: 200 },
      { endpoint: 'generate', taskId: 'a', at: 6, responseCode: 200 },
      { endpoint: 'recordInfo', taskId: 'a', at: 10, responseCode: 200 },
      { endpoint: 'recordInfo', taskId: 'b', at: 25, responseCode: 200 },
    ]);
    expect(gaps.sort((x, y) => x - y)).toEqual([10, 20]);
  });

  it('turns a run into per-task and per-time figures', () => {
    const run: LagRun = {
      name: 'adaptive',
      description: 'd',
      timeScale: 0.1,
      jobs: [job({}), job({ index: 1, speed: 'turbo', polls: 1 })],
      requests: [
        { endpoint: 'generate', at: 0, responseCode: 200 },
        { endpoint: 'generate', at: 10, responseCode: 429 },
        { endpoint: 'recordInfo', at: 50, responseCode: 200 },
      ],
      wallMs: 2_000,
      cpuMs: 10,
      discordRequests: 4,
      eventLoopP99Ms: 1,
    };
    const m = pollerMetrics(run);
    expect(m.polls).toBe(4);
    expect(m.pollsPerTask).toBe(2);
    // Two tasks of 1 s at scale 0.1 = 20 s of real task time, 4 polls.
    expect(m.taskSecondsPerPoll).toBeCloseTo(5, 6);
    expect(m.creates).toBe(2);
    expect(m.rateLimited).toBe(1);
    expect(m.peakCreatesPer10s).toBe(2);
    expect(m.pollsPerTaskBySpeed).toEqual({ turbo: 1, fast: 3 });
    expect(m.callbackS.n).toBe(0);
    expect(m.detectedAfterCallback).toBe(0);
  });

  it('times callbacks from the finish and counts the tasks a callback found', () => {
    const run: LagRun = {
      name: 'adaptive + callbacks',
      description: 'd',
      timeScale: 0.1,
      // Called back 20 ms after done (0.2 s real); the first is read after its callback, the second before it.
      jobs: [job({ calledBackAt: 1_020, detectAt: 1_025 }), job({ index: 1, calledBackAt: 1_020, detectAt: 1_010 })],
      requests: [],
      wallMs: 1_000,
      cpuMs: 1,
      discordRequests: 2,
      eventLoopP99Ms: 1,
    };
    const m = pollerMetrics(run);
    expect(m.callbackS.n).toBe(2);
    expect(m.callbackS.p50).toBeCloseTo(0.2, 6);
    expect(m.detectedAfterCallback).toBe(1);
  });
});

describe('report pieces', () => {
  it('judges targets with the margin either way', () => {
    expect(judgeAtMost(1.2, 1.5, ' s')).toEqual({ pass: true, margin: '0.30 s to spare' });
    expect(judgeAtMost(2, 1.5, ' s')).toEqual({ pass: false, margin: 'missed by 0.50 s (+33 %)' });
    expect(judgeAtLeast(3, 4, ' s')).toEqual({ pass: false, margin: 'missed by 1.00 s (−25 %)' });
    expect(judgeAtMost(Number.NaN, 1, ' s').pass).toBeNull();
  });

  it('draws a standalone SVG with escaped labels and sane ticks', () => {
    expect(linearTicks(37)).toEqual([0, 10, 20, 30, 40]);
    expect(logTicks(0.8, 27)).toEqual([0.5, 1, 2, 5, 10, 20, 50]);
    const svg = renderLagChart([{ label: 'a<b', color: '#000', x: 3, p50: 1, p95: 2, p99: 3 }], {
      title: 't & u',
      xLabel: 'x',
      yLabel: 'y',
      lines: [{ y: 1.5, label: 'p50' }],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('t &amp; u');
    expect(svg).not.toContain('NaN');
    expect(escapeXml(`"'`)).toBe('&quot;&apos;');
  });

  it('reads the interaction token out of a callback path', () => {
    expect(callbackToken('/api/v10/interactions/123/abc_DEF-1/callback?with_response=true')).toBe('abc_DEF-1');
    expect(callbackToken('/api/v10/webhooks/1/abc/messages/@original')).toBeNull();
  });
});

/** A few jobs at a strong time scale: seconds, not minutes. */
const SMOKE: BenchConfig = {
  quick: true,
  seed: 7,
  timeScale: 0.01,
  workload: { seed: 7, spanMs: 20_000, perMinute: 12, mix: { turbo: 0.5, fast: 0.5, relaxed: 0 }, burst: 2, channels: 2, users: 3 },
  pollers: POLLERS,
  ack: { commands: 4, bursts: 1, variants: [{ label: 'bot, SQLite, 2 channels', judged: true, mode: 'app', channels: 2, store: 'sqlite' }] },
  scale: { sizes: [8], windowMs: 300, scheduleTimeScale: 0.05, store: 'sqlite', channels: 2 },
};

describe('npm run bench, in small', () => {
  let results: BenchResults;
  let out: string;

  beforeAll(async () => {
    results = await runBench(SMOKE);
    out = mkdtempSync(join(tmpdir(), 'teamjourney-bench-smoke-'));
  }, 120_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('delivers every job with every poller and measures it', () => {
    expect(results.pollers.map((p) => p.name)).toEqual(['adaptive', 'adaptive + callbacks', 'fixed 3 s', 'fixed 30 s']);
    for (const p of results.pollers) {
      expect(p.delivered, p.name).toBe(results.workload.jobs);
      expect(p.failed, p.name).toBe(0);
      expect(p.lagS.n, p.name).toBe(results.workload.jobs);
      for (const v of [p.lagS.p50, p.lagS.p95, p.lagS.p99, p.pollsPerTask, p.taskSecondsPerPoll, p.peakRequestsPerSecond, p.cpuMs]) {
        expect(Number.isFinite(v)).toBe(true);
      }
      expect(p.pollsPerTask).toBeGreaterThanOrEqual(1);
      expect(p.creates).toBe(results.workload.jobs);
      expect(p.rateLimited).toBe(0);
    }
  });

  it('calls the bot back about every finished task, only in the callbacks run', () => {
    const withCallbacks = results.pollers.filter((p) => p.callbackS.n > 0).map((p) => p.name);
    expect(withCallbacks).toEqual(['adaptive + callbacks']);
    // Whether the callback or a poll sees a task first is a race at this time
    // scale (a 28 ms dense interval against a loopback HTTP round trip on a
    // loaded machine), so the smoke run checks that every task was called back,
    // not who won; the full bench reports how many were found through the callback.
    const run = results.pollers.find((p) => p.name === 'adaptive + callbacks')!;
    expect(run.callbackS.n).toBe(run.lagS.n);
  });

  it('acknowledges every command and tracks every job of the scale run', () => {
    const [ack] = results.ack;
    expect(ack?.unacknowledged).toBe(0);
    expect(ack?.sent.n).toBe(SMOKE.ack.commands);
    expect(Number.isFinite(ack?.sent.p99)).toBe(true);
    const [scale] = results.scale.results;
    expect(scale?.jobs).toBe(8);
    expect(scale?.tracked).toBe(8);
    expect(scale?.running).toBe(8);
    for (const v of [scale!.baseline.rssMB, scale!.tracking.rssMB, scale!.eventLoopMs.p99, scale!.submitCpuMs]) {
      expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('renders RESULTS.md and the chart', async () => {
    const written = await writeReport(out, results);
    expect(existsSync(written.chart)).toBe(true);
    expect(readFileSync(written.chart, 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    const md = readFileSync(written.markdown, 'utf8');
    expect(md).toBe(renderResults(results));
    expect(md).toContain('## Targets');
    expect(md).toContain(`![Delivery lag vs polls per task](${CHART_FILE})`);
    expect(md).toContain('adaptive + callbacks vs **adaptive**');
    expect(readFileSync(written.chart, 'utf8')).toContain('adaptive + callbacks');
    expect(md).toContain(results.machine.node);
    expect(md).not.toMatch(/NaN|undefined/);
    expect(evaluateTargets(results).map((t) => t.pass)).not.toContain(null);
  });
});
