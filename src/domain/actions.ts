/**
 * What a button on a result means, as pure domain logic: given the job whose
 * result was acted on, which new KIE request to make. The Discord side only
 * decodes the click and acknowledges it (parse/run split).
 */
import { gridPositionToIndex, PROMPT_MAX_LENGTH, UPSCALE_INDEX, type KieTaskRequest, type Speed } from '../providers/kie/schemas.js';
import { buildVideoRequest } from './prompt.js';
import type { Job, JobKind } from './job.js';

export const FOLLOW_UP_ACTIONS = [
  'upscale',
  'vary',
  'reroll',
  'vary_up',
  'animate_high',
  'animate_low',
  'extend_auto',
  'extend_manual',
] as const;
export type FollowUpAction = (typeof FOLLOW_UP_ACTIONS)[number];

/** A new job's core, before the interaction adds who/where. */
export interface JobDraft {
  kind: JobKind;
  request: KieTaskRequest;
  promptText: string;
  speed: Speed | null;
  parent: Job['parent'];
}

export interface FollowUpContext {
  /** The grid an upscale came from (for Animate's prompt); null if gone. */
  grid: Job | null;
  /** The channel's video defaults. */
  video: { hd: boolean; batchSize: 1 | 2 | 4 };
  /** The continuation prompt from the manual-extend modal. */
  prompt?: string;
}

export type PlanResult = { ok: true; value: JobDraft } | { ok: false; message: string };

const GRID_KINDS: readonly JobKind[] = ['grid', 'vary'];
const VIDEO_KINDS: readonly JobKind[] = ['video', 'video_hd', 'extend'];

const fail = (message: string): PlanResult => ({ ok: false, message });

/** The prompt text KIE saw for a job (generate requests carry it; others inherit). */
export function kiePromptOf(job: Job): string | null {
  const r = job.request;
  if (r.op === 'generate') return r.body.prompt;
  if (r.op === 'extend') return r.body.prompt ?? null;
  return null;
}

/** Does this action need a finished result to act on? (🔄 also works on failures.) */
export const needsResult = (action: FollowUpAction): boolean => action !== 'reroll';

export function planFollowUp(parent: Job, action: FollowUpAction, position: number, ctx: FollowUpContext): PlanResult {
  if (action === 'reroll') {
    if (parent.state !== 'succeeded' && parent.state !== 'failed') return fail('That job is still running; wait for it to finish.');
    return {
      ok: true,
      value: { kind: parent.kind, request: parent.request, promptText: parent.promptText, speed: parent.speed, parent: { jobId: parent.id, position: 0, action } },
    };
  }
  if (parent.state !== 'succeeded' || !parent.taskId) return fail('That result is not available (the job did not finish).');
  if (!Number.isInteger(position) || position < 0 || position >= parent.results.length) {
    return fail(`There is no result #${position + 1} on that message.`);
  }
  const link = { jobId: parent.id, position, action };
  const taskId = parent.taskId;

  switch (action) {
    case 'upscale':
    case 'vary': {
      if (!GRID_KINDS.includes(parent.kind)) return fail(`${action === 'upscale' ? 'Upscale' : 'Vary'} works on a 4-image grid.`);
      const request: KieTaskRequest =
        action === 'upscale'
          ? { op: 'upscale', body: { taskId, imageIndex: gridPositionToIndex.upscale(position) } }
          : { op: 'vary', body: { taskId, imageIndex: gridPositionToIndex.vary(position) } };
      return { ok: true, value: { kind: action, request, promptText: parent.promptText, speed: parent.speed, parent: link } };
    }
    case 'vary_up': {
      if (parent.kind !== 'upscale' || parent.request.op !== 'upscale') return fail('Vary works on an upscaled image.');
      // Vary the grid image this upscale came from: the grid's taskId and this image's position.
      const gridPosition = parent.request.body.imageIndex - UPSCALE_INDEX.min;
      const request: KieTaskRequest = {
        op: 'vary',
        body: { taskId: parent.request.body.taskId, imageIndex: gridPositionToIndex.vary(gridPosition) },
      };
      return { ok: true, value: { kind: 'vary', request, promptText: parent.promptText, speed: parent.speed, parent: { ...link, position: gridPosition } } };
    }
    case 'animate_high':
    case 'animate_low': {
      if (parent.kind !== 'upscale') return fail('Animate works on an upscaled image.');
      const built = buildVideoRequest({
        imageUrl: parent.results[position]!.url,
        prompt: (ctx.grid && kiePromptOf(ctx.grid)) ?? undefined,
        motion: action === 'animate_high' ? 'high' : 'low',
        hd: ctx.video.hd,
        batch: ctx.video.batchSize,
      });
      if (!built.ok) return fail(built.error.message);
      return {
        ok: true,
        value: {
          kind: ctx.video.hd ? 'video_hd' : 'video',
          request: { op: 'generate', body: built.value },
          promptText: parent.promptText,
          speed: null,
          parent: link,
        },
      };
    }
    case 'extend_auto':
    case 'extend_manual': {
      if (!VIDEO_KINDS.includes(parent.kind)) return fail('Extend works on a video.');
      const manual = action === 'extend_manual';
      const prompt = ctx.prompt?.trim();
      if (manual && !prompt) return fail('Write how the video should continue.');
      if (manual && prompt!.length > PROMPT_MAX_LENGTH) return fail(`The continuation prompt is ${prompt!.length} characters; the limit is ${PROMPT_MAX_LENGTH}.`);
      const request: KieTaskRequest = {
        op: 'extend',
        body: manual
          ? { taskType: 'mj_video_extend_manual', taskId, index: position, prompt: prompt! }
          : { taskType: 'mj_video_extend_auto', taskId, index: position },
      };
      return { ok: true, value: { kind: 'extend', request, promptText: manual ? prompt! : parent.promptText, speed: null, parent: link } };
    }
  }
}
