/**
 * Simulated tasks: how a validated create request becomes a task, how a task
 * looks at a given moment, and the two shapes KIE reports it in (record-info
 * and the callback body, which differ: see NOTES.md "Result shapes").
 */
import type { Speed, SuccessFlag } from '../schemas.js';
import { resultFileName } from './media.js';
import type { SimTask } from './types.js';

/** taskType the simulator reports for generateUpscale / generateVary tasks (KIE does not document theirs). */
export const UPSCALE_TASK_TYPE = 'mj_upscale';
export const VARY_TASK_TYPE = 'mj_vary';

/** Tasks whose results are a 4-image grid: what upscale and vary act on. */
export const GRID_PARENT_TYPES: ReadonlySet<string> = new Set([
  'mj_txt2img',
  'mj_img2img',
  'mj_style_reference',
  'mj_omni_reference',
  VARY_TASK_TYPE,
]);
/** Tasks whose results are videos: what extend acts on. */
export const VIDEO_PARENT_TYPES: ReadonlySet<string> = new Set([
  'mj_video',
  'mj_video_hd',
  'mj_video_extend_manual',
  'mj_video_extend_auto',
]);

/** How real KIE echoes `speed` inside paramJson (002's example: "relaxed" → "Relax"). */
export const SPEED_ECHO: Readonly<Record<Speed, string>> = Object.freeze({ relaxed: 'Relax', fast: 'Fast', turbo: 'Turbo' });

export const SUCCESS_OUTCOME: SimTask['outcome'] = Object.freeze({ successFlag: 1, errorCode: null, errorMessage: null });

/** Defaults for a failure whose error fields were not given. */
export const DEFAULT_FAILURE = Object.freeze({
  errorCode: 501,
  messages: { 2: 'Midjourney generation failed (simulated)', 3: 'Task created but generation failed (simulated)' },
} as const);

/** The task's successFlag at time `now`. */
export const flagAt = (task: SimTask, now: number): SuccessFlag => (now >= task.finishAt ? task.outcome.successFlag : 0);

/** KIE's timestamps look like "2024-03-20T10:30:00Z" (002): ISO without milliseconds. */
export const kieTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The request as KIE echoes it: a JSON *string*, with speed spelled "Relax"/"Fast"/"Turbo". */
export function paramJsonOf(params: Record<string, unknown>): string {
  const speed = params['speed'];
  const echoed = typeof speed === 'string' && speed in SPEED_ECHO ? { ...params, speed: SPEED_ECHO[speed as Speed] } : params;
  return JSON.stringify(echoed);
}

/** Absolute URLs of a task's result files under `baseUrl`. */
export function resultUrlsOf(task: SimTask, baseUrl: string): string[] {
  return Array.from({ length: task.resultCount }, (_, i) => `${baseUrl}/files/${resultFileName(task.taskId, i, task.media)}`);
}

/** `data` of GET /api/v1/mj/record-info, in the documented shape (002). */
export function recordInfoData(task: SimTask, now: number, baseUrl: string): Record<string, unknown> {
  const flag = flagAt(task, now);
  const failed = flag === 2 || flag === 3;
  return {
    taskId: task.taskId,
    taskType: task.taskType,
    paramJson: paramJsonOf(task.params),
    completeTime: flag === 0 ? null : kieTime(task.finishAt),
    resultInfoJson: flag === 1 ? { resultUrls: resultUrlsOf(task, baseUrl).map((resultUrl) => ({ resultUrl })) } : null,
    successFlag: flag,
    createTime: kieTime(task.createdAt),
    errorCode: failed ? task.outcome.errorCode : null,
    errorMessage: failed ? task.outcome.errorMessage : null,
  };
}

/** The body POSTed to callBackUrl when a task ends (002): code 200/500, `promptJson`, `resultUrls: string[]`. */
export function callbackBodyOf(task: SimTask, baseUrl: string): { code: number; msg: string; data: Record<string, unknown> } {
  const ok = task.outcome.successFlag === 1;
  return {
    code: ok ? 200 : 500,
    msg: ok ? 'success' : (task.outcome.errorMessage ?? 'Image generation failed'),
    data: {
      taskId: task.taskId,
      promptJson: paramJsonOf(task.params),
      resultUrls: ok ? resultUrlsOf(task, baseUrl) : [],
    },
  };
}

/** Why `parent` cannot be acted on now, or null if it can. */
export function parentProblem(parent: SimTask, now: number, allowed: ReadonlySet<string>, action: string): string | null {
  if (!allowed.has(parent.taskType)) {
    return `${action} needs a ${[...allowed].join(' / ')} task; ${parent.taskId} is ${parent.taskType}`;
  }
  const flag = flagAt(parent, now);
  if (flag === 0) return `task ${parent.taskId} is still generating`;
  if (flag !== 1) return `task ${parent.taskId} did not finish successfully (successFlag ${flag})`;
  return null;
}

/**
 * Apply a partial outcome (KieSimulator.finish). Turning a success into a
 * failure fills the error fields with DEFAULT_FAILURE unless given; turning a
 * failure into a success clears them.
 */
export function mergeOutcome(current: SimTask['outcome'], patch: Partial<SimTask['outcome']>): SimTask['outcome'] {
  const successFlag = patch.successFlag ?? current.successFlag;
  if (successFlag === 1) return { successFlag, errorCode: patch.errorCode ?? null, errorMessage: patch.errorMessage ?? null };
  const wasFailure = current.successFlag !== 1;
  return {
    successFlag,
    errorCode: patch.errorCode !== undefined ? patch.errorCode : wasFailure ? current.errorCode : DEFAULT_FAILURE.errorCode,
    errorMessage:
      patch.errorMessage !== undefined ? patch.errorMessage : wasFailure ? current.errorMessage : DEFAULT_FAILURE.messages[successFlag],
  };
}
