/**
 * zod schemas for every KIE Midjourney request and response, written from the
 * documents in docs/kie-api/ and the facts in docs/NOTES.md.
 *
 * The same request schemas are used by the client (to reject a bad request
 * before any HTTP call) and by the local KIE server in ./simulator (to answer
 * a bad request the way KIE does), so the two can never drift apart.
 */
import { z } from 'zod';
import { ASPECT_RATIOS, MOTIONS, PROMPT_MAX_LENGTH, RANGES, SPEEDS, VERSIONS, VIDEO_BATCH_SIZES, type Version } from '../../domain/midjourney.js';

// ---------------------------------------------------------------------------
// Enums and ranges (000: OpenAPI of POST /api/v1/mj/generate)
// ---------------------------------------------------------------------------

export const TASK_TYPES = [
  'mj_txt2img',
  'mj_img2img',
  'mj_style_reference',
  'mj_omni_reference',
  'mj_video',
  'mj_video_hd',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** The versions KIE takes: the domain's, without niji 7 (APIXO's only). */
export const KIE_VERSIONS = ['7', '6.1', '6', '5.2', '5.1', 'niji6'] as const satisfies readonly Version[];

export const VIDEO_TASK_TYPES = ['mj_video', 'mj_video_hd'] as const satisfies readonly TaskType[];
export const EXTEND_TASK_TYPES = ['mj_video_extend_manual', 'mj_video_extend_auto'] as const;
export type ExtendTaskType = (typeof EXTEND_TASK_TYPES)[number];

export {
  SPEEDS,
  type Speed,
  ASPECT_RATIOS,
  type AspectRatio,
  VERSIONS,
  type Version,
  MOTIONS,
  type Motion,
  VIDEO_BATCH_SIZES,
  type VideoBatchSize,
  RANGES,
  PROMPT_MAX_LENGTH,
  describeZodError,
} from '../../domain/midjourney.js';

/**
 * Image indexes differ per endpoint (NOTES.md): generateUpscale takes 0–3,
 * generateVary takes 1–4. Kept here, in one place, so a change is one line.
 */
export const UPSCALE_INDEX = { min: 0, max: 3 } as const;
export const VARY_INDEX = { min: 1, max: 4 } as const;
/** Convert a 0-based grid position (0..3) into each endpoint's index. */
export const gridPositionToIndex = {
  upscale: (position: number): number => position + UPSCALE_INDEX.min,
  vary: (position: number): number => position + VARY_INDEX.min,
} as const;

export const isVideoTaskType = (t: string): boolean => (VIDEO_TASK_TYPES as readonly string[]).includes(t);
/** speed is omitted for video and omni reference (000, NOTES.md). */
export const taskTypeTakesSpeed = (t: TaskType): boolean =>
  t !== 'mj_video' && t !== 'mj_video_hd' && t !== 'mj_omni_reference';

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

const url = z.string().url();
const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const GenerateRequestSchema = z
  .object({
    taskType: z.enum(TASK_TYPES),
    prompt: z.string().min(1).max(PROMPT_MAX_LENGTH),
    speed: z.enum(SPEEDS).optional(),
    fileUrl: url.optional(),
    fileUrls: z.array(url).min(1).optional(),
    aspectRatio: z.enum(ASPECT_RATIOS).optional(),
    version: z.enum(KIE_VERSIONS, { error: `KIE offers versions ${KIE_VERSIONS.join(', ')}` }).optional(),
    variety: int(RANGES.variety.min, RANGES.variety.max).optional(),
    stylization: int(RANGES.stylization.min, RANGES.stylization.max).optional(),
    weirdness: int(RANGES.weirdness.min, RANGES.weirdness.max).optional(),
    ow: int(RANGES.ow.min, RANGES.ow.max).optional(),
    waterMark: z.string().optional(),
    enableTranslation: z.boolean().optional(),
    callBackUrl: url.optional(),
    videoBatchSize: z.union([z.literal(1), z.literal(2), z.literal(4)]).optional(),
    motion: z.enum(MOTIONS).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const files = [...(r.fileUrls ?? []), ...(r.fileUrl ? [r.fileUrl] : [])];
    const video = isVideoTaskType(r.taskType);
    if (r.taskType !== 'mj_txt2img' && files.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['fileUrls'], message: `${r.taskType} requires an image URL (fileUrls)` });
    }
    if (r.taskType === 'mj_txt2img' && files.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['fileUrls'], message: 'mj_txt2img takes no image URL; use mj_img2img' });
    }
    if (video && files.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['fileUrls'], message: 'video generation takes exactly one image URL' });
    }
    if (r.fileUrl && r.fileUrls) {
      ctx.addIssue({ code: 'custom', path: ['fileUrl'], message: 'use either fileUrl or fileUrls, not both' });
    }
    if (!taskTypeTakesSpeed(r.taskType) && r.speed !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['speed'], message: `speed must be omitted for ${r.taskType}` });
    }
    if (video && r.motion === undefined) {
      ctx.addIssue({ code: 'custom', path: ['motion'], message: `motion is required for ${r.taskType}` });
    }
    if (!video && r.motion !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['motion'], message: 'motion is only for mj_video / mj_video_hd' });
    }
    if (!video && r.videoBatchSize !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['videoBatchSize'], message: 'videoBatchSize is only for mj_video / mj_video_hd' });
    }
    if (r.taskType !== 'mj_omni_reference' && r.ow !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['ow'], message: 'ow is only for mj_omni_reference' });
    }
  });
export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;

export const UpscaleRequestSchema = z
  .object({
    taskId: z.string().min(1),
    imageIndex: int(UPSCALE_INDEX.min, UPSCALE_INDEX.max),
    waterMark: z.string().optional(),
    callBackUrl: url.optional(),
  })
  .strict();
export type UpscaleRequest = z.infer<typeof UpscaleRequestSchema>;

export const VaryRequestSchema = z
  .object({
    taskId: z.string().min(1),
    imageIndex: int(VARY_INDEX.min, VARY_INDEX.max),
    waterMark: z.string().optional(),
    callBackUrl: url.optional(),
  })
  .strict();
export type VaryRequest = z.infer<typeof VaryRequestSchema>;

export const VideoExtendRequestSchema = z
  .object({
    taskType: z.enum(EXTEND_TASK_TYPES),
    taskId: z.string().min(1),
    index: z.number().int().min(0),
    prompt: z.string().min(1).max(PROMPT_MAX_LENGTH).optional(),
    waterMark: z.string().optional(),
    callBackUrl: url.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.taskType === 'mj_video_extend_manual' && !r.prompt) {
      ctx.addIssue({ code: 'custom', path: ['prompt'], message: 'mj_video_extend_manual requires a prompt' });
    }
  });
export type VideoExtendRequest = z.infer<typeof VideoExtendRequestSchema>;

export const RecordInfoQuerySchema = z.object({ taskId: z.string().min(1) });

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/** Every documented `code` (000). 200 is success; the others are errors. */
export const KIE_CODES = [200, 400, 401, 402, 404, 422, 429, 455, 500, 501, 505] as const;
export type KieCode = (typeof KIE_CODES)[number];

/** The envelope every KIE endpoint answers with. `code` decides, not the HTTP status. */
export const EnvelopeSchema = z.object({
  code: z.number().int(),
  msg: z.string().nullish().transform((m) => m ?? ''),
  data: z.unknown().optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

export const CreateTaskDataSchema = z.object({ taskId: z.string().min(1) });
export type CreateTaskData = z.infer<typeof CreateTaskDataSchema>;

export const SUCCESS_FLAGS = { generating: 0, success: 1, failed: 2, generationFailed: 3 } as const;
export type SuccessFlag = 0 | 1 | 2 | 3;

/** Result URLs arrive as `[{resultUrl}]` (record-info) or `string[]` (callbacks); accept both. */
export const ResultUrlsSchema = z
  .array(z.union([z.string(), z.object({ resultUrl: z.string() }).passthrough()]))
  .nullish()
  .transform((list) => (list ?? []).map((u) => (typeof u === 'string' ? u : u.resultUrl)).filter((u) => u.length > 0));

/** `paramJson` / `promptJson` are JSON strings; some mirrors send an object. */
export const JsonStringSchema = z
  .union([z.string(), z.record(z.string(), z.unknown())])
  .nullish()
  .transform((v): Record<string, unknown> | null => {
    if (v == null || v === '') return null;
    if (typeof v !== 'string') return v;
    try {
      const parsed: unknown = JSON.parse(v);
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  });

export const RecordInfoDataSchema = z
  .object({
    taskId: z.string(),
    taskType: z.string().nullish(),
    paramJson: JsonStringSchema,
    completeTime: z.union([z.string(), z.number()]).nullish(),
    createTime: z.union([z.string(), z.number()]).nullish(),
    resultInfoJson: z
      .object({ resultUrls: ResultUrlsSchema })
      .passthrough()
      .nullish(),
    resultUrls: ResultUrlsSchema.optional(),
    successFlag: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
    errorCode: z.union([z.number(), z.string()]).nullish(),
    errorMessage: z.string().nullish(),
  })
  .passthrough()
  .transform((d) => ({
    taskId: d.taskId,
    taskType: d.taskType ?? null,
    params: d.paramJson,
    successFlag: d.successFlag as SuccessFlag,
    resultUrls: d.resultInfoJson?.resultUrls?.length ? d.resultInfoJson.resultUrls : (d.resultUrls ?? []),
    errorCode: d.errorCode ?? null,
    errorMessage: d.errorMessage ?? null,
    createTime: d.createTime == null ? null : String(d.createTime),
    completeTime: d.completeTime == null ? null : String(d.completeTime),
  }));
/** A task as the rest of the bot sees it, whichever shape KIE used. */
export type TaskRecord = z.output<typeof RecordInfoDataSchema>;

/** GET /api/v1/chat/credit → data is a number (may be fractional). */
export const CreditsDataSchema = z.number();

/** The body KIE POSTs to callBackUrl (002): string[] results and `promptJson`. */
export const CallbackBodySchema = z.object({
  code: z.number().int(),
  msg: z.string().nullish().transform((m) => m ?? ''),
  data: z
    .object({
      taskId: z.string().min(1),
      promptJson: JsonStringSchema.optional(),
      paramJson: JsonStringSchema.optional(),
      resultUrls: ResultUrlsSchema.optional(),
    })
    .passthrough(),
});
export type CallbackBody = z.output<typeof CallbackBodySchema>;

// ---------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------

export const KIE_PATHS = {
  generate: '/api/v1/mj/generate',
  upscale: '/api/v1/mj/generateUpscale',
  vary: '/api/v1/mj/generateVary',
  extend: '/api/v1/mj/generateVideoExtend',
  recordInfo: '/api/v1/mj/record-info',
  credits: '/api/v1/chat/credit',
} as const;
export type KieEndpoint = keyof typeof KIE_PATHS;

/** A KIE task request as stored on a job: which create endpoint, and its body. */
export type KieTaskRequest =
  | { op: 'generate'; body: GenerateRequest }
  | { op: 'upscale'; body: UpscaleRequest }
  | { op: 'vary'; body: VaryRequest }
  | { op: 'extend'; body: VideoExtendRequest };
export type CreateOp = KieTaskRequest['op'];
