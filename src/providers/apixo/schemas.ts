/**
 * zod schemas of every APIXO Midjourney request and response, written from
 * APIXO's Midjourney page (document 003) and the APIXO section of the notes.
 *
 * Shared by the client (a bad request never leaves the process) and the
 * local simulator (which answers a bad request the way APIXO does), so the
 * two cannot drift apart.
 *
 * Choices where 003 is silent (each marked "uncertain" below):
 * - the optional enhancement parameters (aspect, chaos, stylize, weird,
 *   enableTranslation) are accepted on text-to-image and image-to-image (003
 *   names them for text-to-image), refused on the other modes;
 * - the prompt limit is 2,000 characters (APIXO has a PROMPT_TOO_LONG failCode
 *   but documents no number);
 * - which vary `type` is subtle and which strong is undocumented: one table,
 *   APIXO_VARY_TYPE, holds our guess;
 * - the status answer is the `{code, message, data}` envelope like create's;
 *   a bare status object is accepted too.
 */
import { z } from 'zod';

export const APIXO_PATHS = {
  create: '/api/v1/generateTask/midjourney',
  status: '/api/v1/statusTask/midjourney',
  /** From APIXO's own published tooling, not in 003 (notes: uncertain). */
  balance: '/api/v1/apikeys/current-balance',
} as const;
export type ApixoEndpoint = keyof typeof APIXO_PATHS;

export const APIXO_MODES = ['text-to-image', 'image-to-image', 'upload-paint', 'vary', 'upscale'] as const;
export type ApixoMode = (typeof APIXO_MODES)[number];

export const APIXO_VERSIONS = ['v6', 'v6.1', 'v7', 'niji 6', 'niji 7'] as const;
export type ApixoVersion = (typeof APIXO_VERSIONS)[number];
export const APIXO_DEFAULT_VERSION: ApixoVersion = 'v6.1';

export const APIXO_SPEEDS = ['fast', 'turbo'] as const;
export type ApixoSpeed = (typeof APIXO_SPEEDS)[number];

export const APIXO_REQUEST_TYPES = ['async', 'callback'] as const;

export const APIXO_RANGES = {
  chaos: { min: 0, max: 100 },
  stylize: { min: 0, max: 1000 },
  weird: { min: 0, max: 3000 },
  imageIndex: { min: 0, max: 3 },
} as const;

/** Upscale `type` (003): 0 standard HD, 1 creative HD, 2 2x, 3 4x. */
export const APIXO_UPSCALE_TYPE = { standard: 0, creative: 1, x2: 2, x4: 3 } as const;
/** Vary `type`: 003 does not say which is which (notes). Our guess, kept in one place. */
export const APIXO_VARY_TYPE = { subtle: 0, strong: 1 } as const;

/** Result URLs expire after about 24 hours (notes): the bot re-hosts at once; the simulator's files 404 after this. */
export const APIXO_RESULT_URL_TTL_MS = 24 * 60 * 60 * 1000;

/** Uncertain (see header). */
export const APIXO_PROMPT_MAX_LENGTH = 2000;
/** 003's advice: "More reference images = less control"; no documented maximum. Ours. */
export const APIXO_MAX_IMAGES = 5;

export const APIXO_STATES = ['pending', 'processing', 'success', 'failed'] as const;
export type ApixoState = (typeof APIXO_STATES)[number];

/** failCodes seen on APIXO's pages (both versions); the field stays an open string. */
export const KNOWN_FAIL_CODES = [
  'CONTENT_VIOLATION',
  'INVALID_IMAGE_URL',
  'INVALID_TASK_ID',
  'NSFW_DETECTED',
  'PROMPT_TOO_LONG',
  'INSUFFICIENT_CREDITS',
  'PROCESSING_TIMEOUT',
  'SensitiveContentDetected',
  'NSFW',
  'PromptLengthExceeded',
] as const;

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL');
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const prompt = z.string().trim().min(1).max(APIXO_PROMPT_MAX_LENGTH);
const aspect = z.string().regex(/^[1-9]\d{0,2}:[1-9]\d{0,2}$/, "aspect must look like 'w:h', e.g. 16:9");
const taskId = z.string().min(1).max(200);

const common = {
  version: z.enum(APIXO_VERSIONS).optional(),
  speed: z.enum(APIXO_SPEEDS).optional(),
};
const enhancements = {
  enableTranslation: z.boolean().optional(),
  aspect: aspect.optional(),
  chaos: int(APIXO_RANGES.chaos.min, APIXO_RANGES.chaos.max).optional(),
  stylize: int(APIXO_RANGES.stylize.min, APIXO_RANGES.stylize.max).optional(),
  weird: int(APIXO_RANGES.weird.min, APIXO_RANGES.weird.max).optional(),
};
const imageUrls = z.array(httpUrl).min(1).max(APIXO_MAX_IMAGES);

export const TextToImageInputSchema = z
  .object({ mode: z.literal('text-to-image'), prompt, ...common, ...enhancements })
  .strict();

export const ImageToImageInputSchema = z
  .object({ mode: z.literal('image-to-image'), prompt, image_urls: imageUrls, ...common, ...enhancements })
  .strict();

const positive = z.number().int().min(1).max(16384);
export const MaskAreaSchema = z
  .object({
    width: positive,
    height: positive,
    /** Clockwise [x1,y1,x2,y2,…] from the top-left; at least a triangle. */
    points: z.array(z.number().min(0)).min(6),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.points.length % 2 !== 0) ctx.addIssue({ code: 'custom', path: ['points'], message: 'points must be x,y pairs' });
    a.points.forEach((p, i) => {
      const limit = i % 2 === 0 ? a.width : a.height;
      if (p > limit) ctx.addIssue({ code: 'custom', path: ['points', i], message: `point ${p} is outside the ${a.width}x${a.height} area` });
    });
  });

export const UploadPaintInputSchema = z
  .object({
    mode: z.literal('upload-paint'),
    prompt,
    image_urls: imageUrls,
    ...common,
    mask: z
      .object({
        areas: z.array(MaskAreaSchema).min(1).optional(),
        /** A black/white image (white = repaint) or base64 data. */
        url: z.string().min(1).optional(),
      })
      .strict()
      .refine((m) => (m.areas ? 1 : 0) + (m.url ? 1 : 0) === 1, 'mask needs exactly one of areas or url'),
    canvas: z.object({ width: positive, height: positive }).strict(),
    imgPos: z.object({ width: positive, height: positive, x: z.number().int().min(0), y: z.number().int().min(0) }).strict(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.imgPos.x + r.imgPos.width > r.canvas.width || r.imgPos.y + r.imgPos.height > r.canvas.height) {
      ctx.addIssue({ code: 'custom', path: ['imgPos'], message: 'imgPos must lie inside the canvas' });
    }
  });

export const VaryInputSchema = z
  .object({
    mode: z.literal('vary'),
    taskId,
    imageIndex: int(APIXO_RANGES.imageIndex.min, APIXO_RANGES.imageIndex.max),
    type: z.union([z.literal(0), z.literal(1)]),
    prompt: prompt.optional(),
  })
  .strict();

export const UpscaleInputSchema = z
  .object({
    mode: z.literal('upscale'),
    taskId,
    imageIndex: int(APIXO_RANGES.imageIndex.min, APIXO_RANGES.imageIndex.max),
    type: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
  })
  .strict();

export const ApixoInputSchema = z.discriminatedUnion('mode', [
  TextToImageInputSchema,
  ImageToImageInputSchema,
  UploadPaintInputSchema,
  VaryInputSchema,
  UpscaleInputSchema,
]);
export type ApixoInput = z.infer<typeof ApixoInputSchema>;

export const ApixoCreateRequestSchema = z
  .object({
    request_type: z.enum(APIXO_REQUEST_TYPES).optional(),
    callback_url: httpUrl.optional(),
    provider: z.literal('auto').optional(),
    input: ApixoInputSchema,
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.request_type === 'callback' && !r.callback_url) {
      ctx.addIssue({ code: 'custom', path: ['callback_url'], message: "request_type 'callback' needs a callback_url" });
    }
    if (r.callback_url && r.request_type !== 'callback') {
      ctx.addIssue({ code: 'custom', path: ['request_type'], message: "callback_url needs request_type 'callback'" });
    }
  });
export type ApixoCreateRequest = z.infer<typeof ApixoCreateRequestSchema>;

export const StatusQuerySchema = z.object({ taskId });

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/** `{code, message, data}`. Some answers say `msg`; accept both. */
export const ApixoEnvelopeSchema = z
  .object({
    code: z.number().int(),
    message: z.string().nullish(),
    msg: z.string().nullish(),
    data: z.unknown().optional(),
  })
  .passthrough()
  .transform((e) => ({ code: e.code, message: e.message ?? e.msg ?? '', data: e.data }));

export const CreateDataSchema = z.object({ taskId: z.string().min(1) }).passthrough();

const timestamp = z
  .union([z.number(), z.string()])
  .nullish()
  .transform((v): number | null => {
    if (v == null || v === '') return null;
    const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    return Number.isFinite(n) ? n : null;
  });

/**
 * `resultJson` is a JSON *string* holding `{"resultUrls": [...]}`. Parsed
 * defensively: an object is accepted as is, garbage yields `malformed: true`
 * (never a throw), entries that are not non-empty strings are dropped.
 */
export function parseResultJson(raw: unknown): { urls: string[]; malformed: boolean } {
  if (raw == null || raw === '') return { urls: [], malformed: false };
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return { urls: [], malformed: true };
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { urls: [], malformed: true };
  const list = (value as { resultUrls?: unknown }).resultUrls;
  if (!Array.isArray(list)) return { urls: [], malformed: true };
  const urls = list
    .map((u) => (typeof u === 'string' ? u : u && typeof u === 'object' ? (u as { url?: unknown; resultUrl?: unknown }).url ?? (u as { resultUrl?: unknown }).resultUrl : null))
    .filter((u): u is string => typeof u === 'string' && u.length > 0);
  return { urls, malformed: false };
}

export const StatusDataSchema = z
  .object({
    taskId: z.string().min(1),
    /** Open: an unknown state is kept and treated as still running. */
    state: z.string().min(1),
    resultJson: z.unknown().optional(),
    failCode: z.union([z.string(), z.number()]).nullish(),
    failMsg: z.string().nullish(),
    createTime: timestamp,
    completeTime: timestamp,
    costTime: z.number().nullish(),
  })
  .passthrough()
  .transform((d) => {
    const result = parseResultJson(d.resultJson);
    return {
      taskId: d.taskId,
      // Lower-cased so 'SUCCESS' or ' Failed ' cannot leave a task polled forever.
      state: d.state.trim().toLowerCase(),
      resultUrls: result.urls,
      resultJsonMalformed: result.malformed,
      failCode: d.failCode == null || d.failCode === '' ? null : String(d.failCode),
      failMsg: d.failMsg ?? null,
      createTime: d.createTime,
      completeTime: d.completeTime,
      costTime: d.costTime ?? null,
    };
  });
export type ApixoTaskStatus = z.output<typeof StatusDataSchema>;

/**
 * The balance answer's shape is not documented (notes: uncertain). Accept a
 * number, or an object with one of the usual field names.
 */
export const BalanceDataSchema = z
  .union([
    z.number(),
    z.string().regex(/^-?\d+(\.\d+)?$/).transform(Number),
    z
      .object({
        balance: z.union([z.number(), z.string()]).optional(),
        credits: z.union([z.number(), z.string()]).optional(),
        remaining: z.union([z.number(), z.string()]).optional(),
        currentBalance: z.union([z.number(), z.string()]).optional(),
      })
      .passthrough()
      .transform((o, ctx) => {
        const raw = o.balance ?? o.credits ?? o.remaining ?? o.currentBalance;
        const n = typeof raw === 'string' ? Number(raw) : raw;
        if (typeof n !== 'number' || !Number.isFinite(n)) {
          ctx.addIssue({ code: 'custom', message: 'no balance field' });
          return z.NEVER;
        }
        return n;
      }),
  ])
  .pipe(z.number().finite());

/** First human-readable message of a zod error, with its field path. */
export function describeZodError(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  if (!issue) return { field: '', message: 'invalid request' };
  const field = issue.path.join('.');
  return { field, message: `${field ? `${field}: ` : ''}${issue.message}` };
}
