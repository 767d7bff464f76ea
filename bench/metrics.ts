/**
 * From what a lag run recorded (the simulator's request log and tasks, the
 * fake Discord's message timestamps) to the figures in RESULTS.md. Pure, so
 * the arithmetic — and especially the time-scale conversion — is testable
 * without a run.
 *
 * Time scaling, honestly: a run at scale s compresses KIE's task durations
 * and every schedule interval by s, but not the cost of our own work (HTTP
 * to KIE and Discord, downloading and uploading the results). So each lag is
 * split in two at the poll that first saw the task done:
 *
 *   detect   = that poll − KIE marks it done   → schedule-bound, scales: ÷ s
 *   overhead = Discord shows it − that poll    → work-bound, does not scale
 *
 * and the real-equivalent lag is detect ÷ s + overhead. Dividing the whole
 * measured lag by s instead would inflate a 20 ms upload into 0.4 s.
 */
import type { Speed } from '../src/providers/kie/schemas.js';
import { percentileInterval, ratio, slidingWindowMax, summarize, type Summary } from './stats.js';

/** One job of a lag run, as measured. Times are wall-clock ms in the scaled run. */
export interface JobMeasure {
  index: number;
  speed: Speed;
  burst: boolean;
  taskId: string | null;
  /** The simulator's task creation and "done" moments (null when KIE refused the create). */
  createdAt: number | null;
  finishAt: number | null;
  /** The first record-info (answered 200) at or after finishAt. */
  detectAt: number | null;
  /** When the fake Discord stored the final edit (null if never delivered). */
  discordAt: number | null;
  /** When the bot's receiver got the task's first KIE callback (null: none, e.g. a polling-only run). */
  calledBackAt: number | null;
  /** Whether that final message carries the results as attachments. */
  attachments: number;
  /** record-info requests the simulator saw for this task. */
  polls: number;
  state: 'succeeded' | 'failed' | 'undelivered';
}

/** One KIE request as the simulator logged it. */
export interface RequestMeasure {
  endpoint: string;
  at: number;
  responseCode: number;
  /** The task a create made or a record-info asked about. */
  taskId?: string | null;
}

export interface LagRun {
  name: string;
  description: string;
  timeScale: number;
  jobs: JobMeasure[];
  requests: RequestMeasure[];
  /** Wall-clock span of the run and CPU time the process used in it (user + system). */
  wallMs: number;
  cpuMs: number;
  discordRequests: number;
  /** The bot process's event-loop delay p99 during the run (wall ms; in schedule terms it counts 1/scale times). */
  eventLoopP99Ms: number;
}

export interface PollerMetrics {
  name: string;
  description: string;
  jobs: number;
  delivered: number;
  failed: number;
  /** Real-equivalent delivery lag (s): detect ÷ scale + overhead. */
  lagS: Summary;
  /** ~95 % intervals of the lag's p50 and p95 (how far a rerun could move them). */
  lagInterval: { p50: [number, number]; p95: [number, number] };
  lagSBySpeed: Partial<Record<Speed, Summary>>;
  /** Real-equivalent time from "done" to the poll that saw it (s). */
  detectS: Summary;
  /** Our work after that poll until Discord shows the result (ms, unscaled). */
  overheadMs: Summary;
  /** As measured in the scaled run, before any conversion (ms). */
  rawLagMs: Summary;
  /** Gaps between consecutive polls of one task (s, real-equivalent): the schedule's interval plus whatever stretches it. */
  pollGapS: Summary;
  /** KIE done → its callback reached the bot (s, real-equivalent); empty without callbacks. */
  callbackS: Summary;
  /** Delivered jobs whose detecting poll came after their callback (so the callback, not the schedule, found them). */
  detectedAfterCallback: number;
  polls: number;
  pollsPerTask: number;
  pollsPerTaskBySpeed: Partial<Record<Speed, number>>;
  /** Task seconds per poll, per speed (real-equivalent). */
  taskSecondsPerPollBySpeed: Partial<Record<Speed, number>>;
  /** Real-equivalent task time (creation → done) summed over tasks. */
  taskMinutes: number;
  pollsPerTaskMinute: number;
  /** Task seconds per poll (the target: ≥ 4). */
  taskSecondsPerPoll: number;
  /** Most KIE API requests in any real-equivalent second (creates + record-info). */
  peakRequestsPerSecond: number;
  peakRecordInfoPerSecond: number;
  creates: number;
  /** Most creates in any real-equivalent 10 s (KIE allows 20). */
  peakCreatesPer10s: number;
  /** KIE answers with code 429 (must be 0). */
  rateLimited: number;
  kieRequests: number;
  cpuMs: number;
  wallS: number;
  discordRequests: number;
  eventLoopP99Ms: number;
}

const CREATE_ENDPOINTS: ReadonlySet<string> = new Set(['generate', 'upscale', 'vary', 'extend']);
const API_ENDPOINTS: ReadonlySet<string> = new Set([...CREATE_ENDPOINTS, 'recordInfo', 'credits']);

/**
 * The KIE server stamps a request when it arrives and judges "done" a few
 * microseconds later, both on a millisecond clock: the poll that saw a task
 * done can carry a stamp up to this much before the task's finishAt.
 */
export const STAMP_SLACK_MS = 1;

/**
 * When the poll that saw the task done reached KIE: the first 200-answered
 * record-info at or after `finishAt`. Failing that, a last one stamped just
 * before it (within STAMP_SLACK_MS) straddled the clock's tick and saw it
 * done — every poller stops asking once it has — so it counts at finishAt.
 */
export function detectTime(
  requests: readonly { at: number; responseCode: number; taskId?: string | null; endpoint: string }[],
  taskId: string,
  finishAt: number,
): number | null {
  let first: number | null = null;
  let last: number | null = null;
  for (const r of requests) {
    if (r.endpoint !== 'recordInfo' || r.taskId !== taskId || r.responseCode !== 200) continue;
    if (last === null || r.at > last) last = r.at;
    if (r.at >= finishAt && (first === null || r.at < first)) first = r.at;
  }
  if (first !== null) return first;
  return last !== null && last >= finishAt - STAMP_SLACK_MS ? finishAt : null;
}

function bySpeed<T>(jobs: readonly JobMeasure[], f: (js: JobMeasure[]) => T): Partial<Record<Speed, T>> {
  const out: Partial<Record<Speed, T>> = {};
  for (const speed of ['turbo', 'fast', 'relaxed'] as const) {
    const of = jobs.filter((j) => j.speed === speed);
    if (of.length > 0) out[speed] = f(of);
  }
  return out;
}

/** Real-equivalent lag of one delivered job, in seconds; null when it cannot be measured. */
export function realLagS(job: JobMeasure, timeScale: number): number | null {
  if (job.finishAt === null || job.detectAt === null || job.discordAt === null) return null;
  return (job.detectAt - job.finishAt) / timeScale / 1000 + (job.discordAt - job.detectAt) / 1000;
}

/** Every gap between consecutive record-info requests of the same task, in request-log time units. */
export function pollGaps(requests: readonly RequestMeasure[]): number[] {
  const last = new Map<string, number>();
  const gaps: number[] = [];
  for (const r of [...requests].sort((a, b) => a.at - b.at)) {
    if (r.endpoint !== 'recordInfo' || !r.taskId) continue;
    const prev = last.get(r.taskId);
    if (prev !== undefined) gaps.push(r.at - prev);
    last.set(r.taskId, r.at);
  }
  return gaps;
}

export function pollerMetrics(run: LagRun): PollerMetrics {
  const s = run.timeScale;
  const ok = run.jobs.filter((j) => j.state === 'succeeded' && j.finishAt !== null && j.detectAt !== null && j.discordAt !== null);
  const withTask = run.jobs.filter((j) => j.createdAt !== null && j.finishAt !== null);
  const lags = (js: JobMeasure[]): number[] => js.map((j) => realLagS(j, s)!);
  const lag = (js: JobMeasure[]): Summary => summarize(lags(js));
  const sortedLags = lags(ok).sort((x, y) => x - y);
  const polls = withTask.reduce((n, j) => n + j.polls, 0);
  const taskMs = withTask.reduce((n, j) => n + (j.finishAt! - j.createdAt!), 0) / s;
  const api = run.requests.filter((r) => API_ENDPOINTS.has(r.endpoint));
  const creates = api.filter((r) => CREATE_ENDPOINTS.has(r.endpoint));
  const taskMinutes = taskMs / 60_000;
  return {
    name: run.name,
    description: run.description,
    jobs: run.jobs.length,
    delivered: run.jobs.filter((j) => j.state !== 'undelivered').length,
    failed: run.jobs.filter((j) => j.state === 'failed').length,
    lagS: lag(ok),
    lagInterval: { p50: percentileInterval(sortedLags, 50), p95: percentileInterval(sortedLags, 95) },
    lagSBySpeed: bySpeed(ok, lag),
    detectS: summarize(ok.map((j) => (j.detectAt! - j.finishAt!) / s / 1000)),
    overheadMs: summarize(ok.map((j) => j.discordAt! - j.detectAt!)),
    rawLagMs: summarize(ok.map((j) => j.discordAt! - j.finishAt!)),
    pollGapS: summarize(pollGaps(run.requests).map((g) => g / s / 1000)),
    callbackS: summarize(ok.flatMap((j) => (j.calledBackAt === null ? [] : [(j.calledBackAt - j.finishAt!) / s / 1000]))),
    detectedAfterCallback: ok.filter((j) => j.calledBackAt !== null && j.calledBackAt <= j.detectAt!).length,
    polls,
    pollsPerTask: ratio(polls, withTask.length),
    pollsPerTaskBySpeed: bySpeed(withTask, (js) => ratio(js.reduce((n, j) => n + j.polls, 0), js.length)),
    taskSecondsPerPollBySpeed: bySpeed(withTask, (js) =>
      ratio(js.reduce((n, j) => n + (j.finishAt! - j.createdAt!), 0) / s / 1000, js.reduce((n, j) => n + j.polls, 0)),
    ),
    taskMinutes,
    pollsPerTaskMinute: ratio(polls, taskMinutes),
    taskSecondsPerPoll: ratio(taskMs / 1000, polls),
    peakRequestsPerSecond: slidingWindowMax(api.map((r) => r.at), 1_000 * s),
    peakRecordInfoPerSecond: slidingWindowMax(api.filter((r) => r.endpoint === 'recordInfo').map((r) => r.at), 1_000 * s),
    creates: creates.length,
    peakCreatesPer10s: slidingWindowMax(creates.map((r) => r.at), 10_000 * s),
    rateLimited: api.filter((r) => r.responseCode === 429).length,
    kieRequests: api.length,
    cpuMs: run.cpuMs,
    wallS: run.wallMs / 1000,
    discordRequests: run.discordRequests,
    eventLoopP99Ms: run.eventLoopP99Ms,
  };
}
