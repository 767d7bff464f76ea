/**
 * KIE behind the provider port, over its client (./client.ts, through the
 * KieApi interface in ./api.ts). The domain and the Discord layer talk only
 * to this adapter, through src/domain/provider.ts.
 *
 * Translation, in one place each:
 * - requests: `toKieRequest` turns a CreateRequest / FollowUpRequest into
 *   one of KIE's four create calls (generate / upscale / vary / extend),
 *   converting 0-based positions to each endpoint's index (upscale 0–3,
 *   vary 1–4, extend 0-based); `check` validates it with KIE's zod schemas;
 * - buttons: KIE_CAPABILITIES (U/V/🔄 on grids; Vary and Animate on an
 *   upscale; Extend on a video; no typed upscales or varies);
 * - states: successFlag 0 → running (KIE has no separate "queued"), 1 →
 *   succeeded (no files → failed), 2/3 → failed;
 * - errors: every KieError class → a ProviderError category (on a create,
 *   KIE's own createOutcomeUnknown decides outcome_unknown), keeping KIE's
 *   sentence for people;
 * - lost creates: `taskMatches` compares KIE's echo of a task's parameters
 *   with a request, so a callback can reveal the task of a lost answer.
 */
import type { CallOptions, KieApi } from './api.js';
import {
  ProviderError,
  providerRegistry,
  type ProviderRegistry,
  type Balance,
  type CreateRequest,
  type FollowUpRequest,
  type ImageProvider,
  type ProviderCallOptions,
  type ProviderCapabilities,
  type ProviderErrorCategory,
  type Submitted,
  type TaskFailure,
  type TaskStatus,
  refusalOf,
} from '../../domain/provider.js';
import { parseCallbackBody, validateRequest } from './client.js';
import {
  KieBadRequestError,
  KieError,
  KieFeatureDisabledError,
  KieGenerationFailedError,
  KieInsufficientCreditsError,
  KieInvalidResponseError,
  KieMaintenanceError,
  KieNetworkError,
  KieNotFoundError,
  KieRateLimitedError,
  KieRecordNotFoundError,
  KieRequestValidationError,
  KieServerError,
  KieTimeoutError,
  KieUnauthorizedError,
  KieValidationError,
  createOutcomeUnknown,
  sanitizeMessage,
} from './errors.js';
import {
  ASPECT_RATIOS,
  GenerateRequestSchema,
  gridPositionToIndex,
  isVideoTaskType,
  PROMPT_MAX_LENGTH,
  RANGES,
  SPEEDS,
  UpscaleRequestSchema,
  VaryRequestSchema,
  KIE_VERSIONS,
  VideoExtendRequestSchema,
  type GenerateRequest,
  type KieTaskRequest,
  type TaskRecord,
} from './schemas.js';

export const KIE_PROVIDER_ID = 'kie';

/** The prompt a video gets when none is given (as the domain's /animate). */
export const KIE_DEFAULT_ANIMATE_PROMPT = 'animate';

export const KIE_CAPABILITIES: ProviderCapabilities = Object.freeze({
  creates: ['imagine', 'animate'],
  followUps: {
    grid: ['upscale', 'vary', 'reroll'],
    // 'vary' on an upscale varies the grid image it came from (KIE has no typed vary).
    upscale: ['vary', 'animate_high', 'animate_low'],
    video: ['extend_auto', 'extend_manual'],
  },
  speeds: [...SPEEDS],
  versions: [...KIE_VERSIONS],
  aspectRatios: [...ASPECT_RATIOS],
  imageModes: ['reference', 'style', 'omni'],
  maxImages: 5,
  promptMaxLength: PROMPT_MAX_LENGTH,
  ranges: { chaos: RANGES.variety, stylize: RANGES.stylization, weird: RANGES.weirdness },
  callbacks: true,
} satisfies ProviderCapabilities);

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

/** The port category of a KieError for a call of `kind`. */
export function kieCategoryOf(e: KieError, kind: 'create' | 'read'): ProviderErrorCategory {
  if (e instanceof KieRecordNotFoundError) return 'not_found';
  if (e instanceof KieRequestValidationError || e instanceof KieBadRequestError || e instanceof KieValidationError) return 'bad_input';
  if (e instanceof KieUnauthorizedError) return 'unauthorized';
  if (e instanceof KieInsufficientCreditsError) return 'insufficient_credits';
  if (e instanceof KieNotFoundError) return 'not_found';
  if (e instanceof KieRateLimitedError) return 'rate_limited';
  if (e instanceof KieMaintenanceError || e instanceof KieFeatureDisabledError || e instanceof KieServerError) return 'unavailable';
  if (e instanceof KieGenerationFailedError) return 'generation_failed';
  if (e instanceof KieNetworkError) return e.connectFailed ? 'unavailable' : kind === 'create' ? 'outcome_unknown' : 'unavailable';
  if (e instanceof KieTimeoutError) return kind === 'create' ? 'outcome_unknown' : 'unavailable';
  if (e instanceof KieInvalidResponseError) {
    if (e.httpStatus === 429) return 'rate_limited';
    return kind === 'create' ? 'outcome_unknown' : 'invalid_response';
  }
  return 'generation_failed';
}

/** KIE's field names → the port's, so a refusal names what the domain sent. */
const PORT_FIELD: Readonly<Record<string, string>> = Object.freeze({
  variety: 'chaos',
  stylization: 'stylize',
  weirdness: 'weird',
  ow: 'omniWeight',
  fileUrls: 'imageUrls',
  fileUrl: 'imageUrls',
  imageIndex: 'position',
  index: 'position',
});
const portFieldOf = (field: string): string => {
  const [head = '', ...rest] = field.split('.');
  return [PORT_FIELD[head] ?? head, ...rest].join('.');
};

export function asProviderError(e: unknown, kind: 'create' | 'read'): unknown {
  if (e instanceof ProviderError || !(e instanceof KieError)) return e;
  const field = e instanceof KieRequestValidationError && e.field ? { field: portFieldOf(e.field) } : {};
  // On a create, KIE's own rule (createOutcomeUnknown: timeout, cut after sending, 5xx, unreadable success) decides whether a task may exist.
  let category = kieCategoryOf(e, kind);
  if (kind === 'create') {
    if (createOutcomeUnknown(e)) category = 'outcome_unknown';
    else if (category === 'outcome_unknown') category = 'invalid_response';
  }
  return new ProviderError(category, {
    userMessage: e.userMessage,
    provider: KIE_PROVIDER_ID,
    providerCode: String(e.code),
    detail: e.kieMessage,
    ...field,
    retryAfterMs: e.retryAfterMs,
    httpStatus: e.httpStatus,
    cause: e,
  });
}

const CONTENT_WORDS = /sensitive|nsfw|violat|moderat|banned|prohibited|policy/i;

/** KIE's times: an ISO string in its docs, epoch ms in some mirrors (epoch seconds tolerated), as the tracker has always read them. */
const timeOf = (t: string | null): number | null => {
  if (t === null || t === '') return null;
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    return n < 1e12 ? Math.round(n * 1000) : Math.round(n);
  }
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? null : ms;
};

/** KIE's record as the port's TaskStatus. */
export function toTaskStatus(record: TaskRecord): TaskStatus {
  const createdAt = timeOf(record.createTime);
  const completedAt = timeOf(record.completeTime);
  const base = {
    taskId: record.taskId,
    timings: { createdAt, completedAt, costMs: createdAt !== null && completedAt !== null ? completedAt - createdAt : null },
  };
  const kind: 'image' | 'video' = record.taskType && (isVideoTaskType(record.taskType) || record.taskType.startsWith('mj_video')) ? 'video' : 'image';
  switch (record.successFlag) {
    case 0:
      return { ...base, state: 'running', results: [], failure: null };
    case 1:
      return record.resultUrls.length > 0
        ? { ...base, state: 'succeeded', results: record.resultUrls.map((url) => ({ url, kind })), failure: null }
        : { ...base, state: 'failed', results: [], failure: { category: 'generation_failed', code: 'no_results', message: 'KIE reported success but returned no files' } };
    case 2:
    case 3: {
      const msg = record.errorMessage ? sanitizeMessage(record.errorMessage) : '';
      const category: ProviderErrorCategory = CONTENT_WORDS.test(msg) ? 'content_refused' : 'generation_failed';
      const code = record.errorCode != null ? String(record.errorCode) : `successFlag ${record.successFlag}`;
      // KIE's own reason, as the bot has always shown it (the category is for the domain, not the sentence).
      const failure: TaskFailure = {
        category,
        code,
        message: msg || (record.successFlag === 2 ? 'Midjourney generation failed' : 'the task was created but generation failed'),
      };
      return { ...base, state: 'failed', results: [], failure };
    }
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

export class KieProvider implements ImageProvider {
  readonly id = KIE_PROVIDER_ID;
  readonly displayName = 'KIE';
  readonly capabilities = KIE_CAPABILITIES;

  constructor(private readonly kie: KieApi) {}

  check(request: CreateRequest | FollowUpRequest): ProviderError | null {
    return refusalOf(() => toValidKieRequest(request));
  }

  create(request: CreateRequest, opts?: ProviderCallOptions & { callbackUrl?: string }): Promise<Submitted> {
    return this.#submit(request, opts);
  }

  followUp(request: FollowUpRequest, opts?: ProviderCallOptions & { callbackUrl?: string }): Promise<Submitted> {
    return this.#submit(request, opts);
  }

  async status(taskId: string, opts?: ProviderCallOptions): Promise<TaskStatus> {
    try {
      return toTaskStatus(await this.kie.recordInfo(taskId, callOpts(opts)));
    } catch (e) {
      throw asProviderError(e, 'read');
    }
  }

  async balance(opts?: ProviderCallOptions): Promise<Balance> {
    try {
      return { credits: await this.kie.credits(callOpts(opts)) };
    } catch (e) {
      throw asProviderError(e, 'read');
    }
  }

  async taskMatches(taskId: string, requests: readonly (CreateRequest | FollowUpRequest)[], opts?: ProviderCallOptions): Promise<boolean[]> {
    let record: TaskRecord;
    try {
      record = await this.kie.recordInfo(taskId, callOpts(opts));
    } catch (e) {
      throw asProviderError(e, 'read');
    }
    return requests.map((request) => {
      try {
        return requestMatches(toKieRequest(request), record.taskType, record.params);
      } catch {
        return false;
      }
    });
  }

  /** KIE's callback (002): code 200 with string[] results, or a failure code. */
  parseCallback(body: unknown): TaskStatus | null {
    try {
      const cb = parseCallbackBody(body);
      const urls = cb.data.resultUrls ?? [];
      const base = { taskId: cb.data.taskId, timings: { createdAt: null, completedAt: null, costMs: null } };
      if (cb.code === 200 && urls.length > 0) {
        return { ...base, state: 'succeeded', results: urls.map((url) => ({ url, kind: /\.mp4(\?|$)/i.test(url) ? 'video' : 'image' })), failure: null };
      }
      const code = String(cb.code);
      return { ...base, state: 'failed', results: [], failure: { category: 'generation_failed', code, message: sanitizeMessage(cb.msg) || 'The generation failed at KIE.' } };
    } catch {
      return null;
    }
  }

  async #submit(request: CreateRequest | FollowUpRequest, opts?: ProviderCallOptions & { callbackUrl?: string }): Promise<Submitted> {
    const r = toValidKieRequest(request, opts?.callbackUrl);
    const o = callOpts(opts);
    try {
      switch (r.op) {
        case 'generate':
          return await this.kie.generate(r.body, o);
        case 'upscale':
          return await this.kie.upscale(r.body, o);
        case 'vary':
          return await this.kie.vary(r.body, o);
        case 'extend':
          return await this.kie.extendVideo(r.body, o);
      }
    } catch (e) {
      throw asProviderError(e, 'create');
    }
  }
}

const callOpts = (opts?: ProviderCallOptions): CallOptions | undefined => (opts?.signal ? { signal: opts.signal } : undefined);

/** A registry with KIE as its only (and default) provider: the bot before there were several, tests, the benchmark. */
export const kieProviders = (kie: KieApi): ProviderRegistry => providerRegistry(KIE_PROVIDER_ID, [new KieProvider(kie)]);
