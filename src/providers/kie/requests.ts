/**
 * Port requests → KIE calls: `toKieRequest` turns a CreateRequest /
 * FollowUpRequest into one of KIE's four create calls (generate / upscale /
 * vary / extend), converting 0-based positions to each endpoint's index
 * (upscale 0–3, vary 1–4, extend 0-based); `toValidKieRequest` validates it
 * with KIE's zod schemas; `requestMatches` compares KIE's echo of a task's
 * parameters with a request (revealing the task of a lost create answer).
 */
import { ProviderError, type CreateRequest, type FollowUpRequest } from '../../domain/provider.js';
import { asProviderError } from './mapping.js';
import { validateRequest } from './responses.js';
import {
  GenerateRequestSchema,
  gridPositionToIndex,
  UpscaleRequestSchema,
  VaryRequestSchema,
  VideoExtendRequestSchema,
  type GenerateRequest,
  type KieTaskRequest,
} from './schemas.js';

export const KIE_PROVIDER_ID = 'kie';

/** The prompt a video gets when none is given (as the domain's /animate). */
export const KIE_DEFAULT_ANIMATE_PROMPT = 'animate';

const badInput = (detail: string, field?: string): ProviderError =>
  new ProviderError('bad_input', { provider: KIE_PROVIDER_ID, providerCode: 'unsupported', detail, ...(field ? { field } : {}) });

const isFollowUp = (r: CreateRequest | FollowUpRequest): r is FollowUpRequest => 'action' in r;

function videoRequest(imageUrl: string, prompt: string | undefined, motion: 'high' | 'low', hd: boolean, batch: 1 | 2 | 4): KieTaskRequest {
  return {
    op: 'generate',
    body: {
      taskType: hd ? 'mj_video_hd' : 'mj_video',
      prompt: prompt?.trim() || KIE_DEFAULT_ANIMATE_PROMPT,
      fileUrls: [imageUrl],
      motion,
      videoBatchSize: batch,
    },
  };
}

/** The KIE call for a port request (not yet validated), or bad_input for what KIE cannot do. */
export function toKieRequest(request: CreateRequest | FollowUpRequest): KieTaskRequest {
  if (!isFollowUp(request)) {
    switch (request.kind) {
      case 'imagine': {
        const o = request.options ?? {};
        const images = request.imageUrls ?? [];
        const taskType: GenerateRequest['taskType'] =
          images.length === 0
            ? 'mj_txt2img'
            : request.imageMode === 'style'
              ? 'mj_style_reference'
              : request.imageMode === 'omni'
                ? 'mj_omni_reference'
                : 'mj_img2img';
        const body = {
          taskType,
          prompt: request.prompt,
          ...(images.length ? { fileUrls: [...images] } : {}),
          ...(o.speed !== undefined ? { speed: o.speed } : {}),
          ...(o.aspectRatio !== undefined ? { aspectRatio: o.aspectRatio } : {}),
          ...(o.version !== undefined ? { version: o.version } : {}),
          ...(o.chaos !== undefined ? { variety: o.chaos } : {}),
          ...(o.stylize !== undefined ? { stylization: o.stylize } : {}),
          ...(o.weird !== undefined ? { weirdness: o.weird } : {}),
          ...(o.omniWeight !== undefined ? { ow: o.omniWeight } : {}),
          ...(o.translate !== undefined ? { enableTranslation: o.translate } : {}),
        } as GenerateRequest;
        return { op: 'generate', body };
      }
      case 'animate':
        return videoRequest(request.imageUrl, request.prompt, request.motion, request.hd, request.batch);
      case 'edit':
        throw badInput('KIE cannot edit a region of an image', 'kind');
    }
  }
  const { source } = request;
  switch (request.action) {
    case 'upscale':
      if (source.resultKind !== 'grid') throw badInput('Upscale works on a 4-image grid', 'source');
      return { op: 'upscale', body: { taskId: source.taskId, imageIndex: gridPositionToIndex.upscale(source.position) } };
    case 'vary': {
      if (source.resultKind === 'grid') {
        return { op: 'vary', body: { taskId: source.taskId, imageIndex: gridPositionToIndex.vary(source.position) } };
      }
      if (source.resultKind !== 'upscale') throw badInput('Vary works on a grid or an upscaled image', 'source');
      if (!source.grid) throw badInput('The grid this image was upscaled from is unknown', 'source.grid');
      return { op: 'vary', body: { taskId: source.grid.taskId, imageIndex: gridPositionToIndex.vary(source.grid.position) } };
    }
    case 'animate_high':
    case 'animate_low':
      if (source.resultKind !== 'upscale') throw badInput('Animate works on an upscaled image', 'source');
      if (!source.url) throw badInput('The image to animate has no URL', 'source.url');
      return videoRequest(
        source.url,
        request.prompt,
        request.action === 'animate_high' ? 'high' : 'low',
        request.video?.hd ?? false,
        request.video?.batch ?? 1,
      );
    case 'extend_auto':
    case 'extend_manual': {
      if (source.resultKind !== 'video') throw badInput('Extend works on a video', 'source');
      const manual = request.action === 'extend_manual';
      return {
        op: 'extend',
        body: manual
          ? { taskType: 'mj_video_extend_manual', taskId: source.taskId, index: source.position, prompt: request.prompt?.trim() ?? '' }
          : { taskType: 'mj_video_extend_auto', taskId: source.taskId, index: source.position },
      };
    }
    default:
      throw badInput(`KIE has no ${request.action}`, 'action');
  }
}

const SCHEMAS = { generate: GenerateRequestSchema, upscale: UpscaleRequestSchema, vary: VaryRequestSchema, extend: VideoExtendRequestSchema } as const;

/** The validated KIE call; ProviderError('bad_input') otherwise. Nothing is sent. */
export function toValidKieRequest(request: CreateRequest | FollowUpRequest, callBackUrl?: string): KieTaskRequest {
  try {
    const r = toKieRequest(request);
    const body = { ...r.body, ...(callBackUrl ? { callBackUrl } : {}) };
    return { op: r.op, body: validateRequest(SCHEMAS[r.op], body, r.op) } as KieTaskRequest;
  } catch (e) {
    throw asProviderError(e, 'create');
  }
}

/**
 * Whether KIE's echo of a task's parameters (record-info `paramJson`) is the
 * request we sent: every plain field of ours that KIE echoes is equal (speed
 * is spelled differently by KIE and skipped), and the prompt or parent task
 * is among them.
 */
export function requestMatches(request: KieTaskRequest, taskType: string | null, params: Record<string, unknown> | null): boolean {
  if (!params) return false;
  const body = request.body as unknown as Record<string, unknown>;
  if (taskType && typeof body.taskType === 'string' && body.taskType !== taskType) return false;
  let anchored = false;
  for (const [key, ours] of Object.entries(body)) {
    if (key === 'speed' || key === 'callBackUrl' || !(key in params)) continue;
    if (ours === null || typeof ours === 'object') continue;
    if (String(params[key]) !== String(ours)) return false;
    if (key === 'prompt' || key === 'taskId') anchored = true;
  }
  return anchored;
}
