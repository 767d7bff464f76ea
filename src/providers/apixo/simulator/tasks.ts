/**
 * Simulated APIXO tasks: how a validated create becomes a task, what a task
 * looks like at a moment (the status `data`), and the injected faults queue.
 */
import { resultFileName } from '../../kie/simulator/media.js';
import { randomBetween, type Rng } from '../../kie/simulator/random.js';
import type { ApixoCreateRequest, ApixoMode } from '../schemas.js';
import type { ApixoFault, ApixoFaultEndpoint, ApixoRequestEndpoint, ApixoSimPrices, ApixoSimTask } from './types.js';

export const DEFAULT_APIXO_PRICES: Readonly<ApixoSimPrices> = Object.freeze({
  generate: Object.freeze({ fast: 8, turbo: 16 }),
  upscale: 4,
});

/** 003: fast ~30–45 s, turbo ~15–25 s. Upscales take half. */
export const APIXO_SPEED_SECONDS = Object.freeze({ fast: [30, 45], turbo: [15, 25] } as const);

export function defaultApixoDurationMs(t: { mode: ApixoMode; speed: 'fast' | 'turbo' }, rng: Rng, timeScale: number): number {
  const [min, max] = APIXO_SPEED_SECONDS[t.speed];
  return Math.round(randomBetween(rng, min, max) * 1000 * (t.mode === 'upscale' ? 0.5 : 1) * timeScale);
}

export const priceOf = (mode: ApixoMode, speed: 'fast' | 'turbo', prices: ApixoSimPrices): number =>
  mode === 'upscale' ? prices.upscale : prices.generate[speed];

export type ApixoSimState = 'pending' | 'processing' | 'success' | 'failed';

export function stateAt(task: ApixoSimTask, now: number): ApixoSimState {
  if (now >= task.finishAt) return task.outcome.state;
  return now >= task.startAt ? 'processing' : 'pending';
}

export function resultUrlsOf(task: ApixoSimTask, baseUrl: string): string[] {
  return Array.from({ length: task.resultCount }, (_, i) => `${baseUrl}/files/${resultFileName(task.taskId, i, 'image')}`);
}

/** The status `data` (003's fields): resultJson is a JSON string; fail fields only when failed. */
export function statusData(task: ApixoSimTask, now: number, baseUrl: string): Record<string, unknown> {
  const state = stateAt(task, now);
  const ended = state === 'success' || state === 'failed';
  const data: Record<string, unknown> = {
    taskId: task.taskId,
    state,
    createTime: task.createdAt,
  };
  if (state === 'success') {
    data['resultJson'] = task.rawResultJson ?? JSON.stringify({ resultUrls: resultUrlsOf(task, baseUrl) });
  }
  if (state === 'failed' && task.outcome.state === 'failed') {
    data['failCode'] = task.outcome.failCode;
    data['failMsg'] = task.outcome.failMsg;
  }
  if (ended) {
    data['completeTime'] = task.finishAt;
    data['costTime'] = task.finishAt - task.createdAt;
  }
  return data;
}

/** The speed a task runs at: its own, or its parent's for vary/upscale (default fast). */
export function speedOf(req: ApixoCreateRequest, parent: ApixoSimTask | undefined): 'fast' | 'turbo' {
  const input = req.input;
  if ('speed' in input && input.speed) return input.speed;
  return parent?.speed ?? 'fast';
}

/** What a vary/upscale parent must be: a finished grid (4 images). Null = fine; else the failMsg. */
export function parentProblem(parent: ApixoSimTask | undefined, now: number, imageIndex: number): string | null {
  if (!parent) return 'task not found';
  if (stateAt(parent, now) !== 'success') return `task ${parent.taskId} has not succeeded`;
  if (parent.mode === 'upscale') return `task ${parent.taskId} is an upscale, not a grid`;
  if (imageIndex >= parent.resultCount) return `task ${parent.taskId} has no image ${imageIndex}`;
  return null;
}

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

export type RequestFault = Exclude<ApixoFault, { kind: 'taskFailure' } | { kind: 'malformedResult' } | { kind: 'burst429' }>;
export type TaskFault = Extract<ApixoFault, { kind: 'taskFailure' } | { kind: 'malformedResult' }>;

const matches = (pattern: ApixoFaultEndpoint | undefined, endpoint: ApixoRequestEndpoint): boolean =>
  pattern === undefined || pattern === '*' || pattern === endpoint;

function checkTimes(times: number): number {
  if (!(times === Infinity || (Number.isInteger(times) && times >= 1))) throw new RangeError(`times must be a positive integer or Infinity, got ${times}`);
  return times;
}

/** FIFO of faults; the first matching one is used, once per `times`. */
export class ApixoFaultQueue {
  private requestFaults: { fault: RequestFault; remaining: number }[] = [];
  private taskFaults: { fault: TaskFault; remaining: number }[] = [];

  inject(fault: ApixoFault): void {
    if (fault.kind === 'taskFailure' || fault.kind === 'malformedResult') {
      this.taskFaults.push({ fault, remaining: checkTimes(fault.times ?? 1) });
    } else if (fault.kind === 'burst429') {
      this.requestFaults.push({
        fault: { kind: 'http', status: 429, message: 'Rate limit exceeded', endpoint: fault.endpoint ?? '*' },
        remaining: checkTimes(fault.count),
      });
    } else {
      this.requestFaults.push({ fault, remaining: checkTimes(fault.times ?? 1) });
    }
  }

  clear(): void {
    this.requestFaults = [];
    this.taskFaults = [];
  }

  takeForRequest(endpoint: ApixoRequestEndpoint): RequestFault | null {
    const i = this.requestFaults.findIndex((e) => matches(e.fault.endpoint, endpoint));
    const entry = this.requestFaults[i];
    if (!entry) return null;
    if (--entry.remaining <= 0) this.requestFaults.splice(i, 1);
    return entry.fault;
  }

  takeForTask(): TaskFault | null {
    const entry = this.taskFaults[0];
    if (!entry) return null;
    if (--entry.remaining <= 0) this.taskFaults.shift();
    return entry.fault;
  }
}
