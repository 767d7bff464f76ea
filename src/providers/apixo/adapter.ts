/**
 * APIXO behind the provider port.
 *
 * Translation, in one place each:
 * - requests: `toApixoBody` turns a CreateRequest / FollowUpRequest into
 *   APIXO's body (modes text-to-image, image-to-image, upload-paint, vary,
 *   upscale), or a ProviderError('bad_input') for what APIXO cannot do;
 *   `check` validates that body with the shared schemas, so a refusal
 *   never sends anything;
 * - buttons: APIXO_CAPABILITIES and the two type tables below;
 * - states: pending → pending, processing → running, success → succeeded
 *   (with resultJson's URLs; none, or a malformed resultJson, is a failure),
 *   failed → failed with failCode mapped by failCodeCategory; an unknown
 *   state is treated as still running;
 * - errors: ApixoError → ProviderError by categoryOf (HTTP codes, transport).
 *
 * Results expire in about a day (notes): the tracker must re-host at once.
 */
import {
  ProviderError,
  type Balance,
  type CreateRequest,
  type FollowUpAction,
  type FollowUpRequest,
  type ImageProvider,
  type CreateCallOptions,
  type ProviderCallOptions,
  type ProviderCapabilities,
  type Submitted,
  type TaskStatus,
  refusalOf,
} from '../../domain/provider.js';
import { ApixoClient, parseCallbackBody, validateCreate } from './client.js';
import { ApixoError, categoryOf, failCodeCategory, sanitizeMessage } from './errors.js';
import {
  APIXO_MAX_IMAGES,
  APIXO_PROMPT_MAX_LENGTH,
  APIXO_RANGES,
  APIXO_RESULT_URL_TTL_MS,
  APIXO_UPSCALE_TYPE,
  APIXO_VARY_TYPE,
  type ApixoCreateRequest,
  type ApixoInput,
  type ApixoTaskStatus,
  type ApixoVersion,
} from './schemas.js';

export const APIXO_PROVIDER_ID = 'apixo';

/** The domain's version names → APIXO's. */
export const APIXO_VERSION_OF: Readonly<Record<string, ApixoVersion>> = Object.freeze({
  '6': 'v6',
  '6.1': 'v6.1',
  '7': 'v7',
  niji6: 'niji 6',
  niji7: 'niji 7',
});

/** Which upscale `type` each upscale button sends (003: 0 standard, 1 creative, 2 2x, 3 4x). */
export const APIXO_UPSCALE_TYPE_OF = Object.freeze({
  upscale: APIXO_UPSCALE_TYPE.standard,
  upscale_subtle: APIXO_UPSCALE_TYPE.standard,
  upscale_creative: APIXO_UPSCALE_TYPE.creative,
  upscale_2x: APIXO_UPSCALE_TYPE.x2,
  upscale_4x: APIXO_UPSCALE_TYPE.x4,
} as const satisfies Partial<Record<FollowUpAction, number>>);

/** Which vary `type` each vary button sends. V1–V4 on a grid vary strongly, as Midjourney's default. */
export const APIXO_VARY_TYPE_OF = Object.freeze({
  vary: APIXO_VARY_TYPE.strong,
  vary_subtle: APIXO_VARY_TYPE.subtle,
  vary_strong: APIXO_VARY_TYPE.strong,
} as const satisfies Partial<Record<FollowUpAction, number>>);

/** No video: 003 documents none. Outpaint, reroll etc. are "contact us to enable". */
export const APIXO_CAPABILITIES: ProviderCapabilities = Object.freeze({
  creates: ['imagine', 'edit'],
  followUps: {
    grid: ['upscale', 'vary', 'reroll'],
    upscale: ['upscale_subtle', 'upscale_creative', 'upscale_2x', 'upscale_4x', 'vary_subtle', 'vary_strong'],
    video: [],
  },
  speeds: ['fast', 'turbo'],
  versions: Object.keys(APIXO_VERSION_OF),
  // 003 takes any 'w:h'; these are the ones the bot offers.
  aspectRatios: ['1:2', '9:16', '2:3', '3:4', '5:6', '6:5', '4:3', '3:2', '1:1', '16:9', '2:1'],
  imageModes: ['reference'],
  maxImages: APIXO_MAX_IMAGES,
  promptMaxLength: APIXO_PROMPT_MAX_LENGTH,
  ranges: { chaos: APIXO_RANGES.chaos, stylize: APIXO_RANGES.stylize, weird: APIXO_RANGES.weird },
  callbacks: true,
  resultUrlTtlMs: APIXO_RESULT_URL_TTL_MS,
} satisfies ProviderCapabilities);

const badInput = (detail: string, field?: string): ProviderError =>
  new ProviderError('bad_input', { provider: APIXO_PROVIDER_ID, providerCode: 'unsupported', detail, ...(field ? { field } : {}) });

const isFollowUp = (r: CreateRequest | FollowUpRequest): r is FollowUpRequest => 'action' in r;

/** The APIXO `input` for a request, or the reason APIXO cannot do it (thrown as bad_input). */
export function toApixoInput(request: CreateRequest | FollowUpRequest): ApixoInput {
  if (isFollowUp(request)) return followUpInput(request);
  switch (request.kind) {
    case 'imagine': {
      const o = request.options ?? {};
      if (request.imageMode && request.imageMode !== 'reference') throw badInput(`APIXO has no ${request.imageMode} reference`, 'imageMode');
      if (o.omniWeight !== undefined) throw badInput('APIXO has no omni reference weight', 'omniWeight');
      const common = {
        prompt: request.prompt,
        ...(o.version !== undefined ? { version: versionOf(o.version) } : {}),
        ...(o.speed !== undefined ? { speed: speedOf(o.speed) } : {}),
        ...(o.aspectRatio !== undefined ? { aspect: o.aspectRatio } : {}),
        ...(o.chaos !== undefined ? { chaos: o.chaos } : {}),
        ...(o.stylize !== undefined ? { stylize: o.stylize } : {}),
        ...(o.weird !== undefined ? { weird: o.weird } : {}),
        ...(o.translate !== undefined ? { enableTranslation: o.translate } : {}),
      };
      const images = request.imageUrls ?? [];
      return images.length === 0
        ? ({ mode: 'text-to-image', ...common } as ApixoInput)
        : ({ mode: 'image-to-image', image_urls: [...images], ...common } as ApixoInput);
    }
    case 'edit': {
      const { width, height } = request.imageSize;
      const o = request.options ?? {};
      return {
        mode: 'upload-paint',
        prompt: request.prompt,
        image_urls: [request.imageUrl],
        ...(o.version !== undefined ? { version: versionOf(o.version) } : {}),
        ...(o.speed !== undefined ? { speed: speedOf(o.speed) } : {}),
        mask:
          request.mask.kind === 'image'
            ? { url: request.mask.url }
            : { areas: request.mask.polygons.map((points) => ({ width, height, points: [...points] })) },
        canvas: { width, height },
        imgPos: { width, height, x: 0, y: 0 },
      } as ApixoInput;
    }
    case 'animate':
      throw badInput('APIXO cannot animate images', 'kind');
  }
}

function followUpInput(r: FollowUpRequest): ApixoInput {
  const { source } = r;
  switch (r.action) {
    case 'upscale':
    case 'vary': {
      if (source.resultKind !== 'grid') throw badInput(`${r.action === 'upscale' ? 'Upscale' : 'Vary'} works on a 4-image grid`, 'source');
      return r.action === 'upscale'
        ? { mode: 'upscale', taskId: source.taskId, imageIndex: source.position, type: APIXO_UPSCALE_TYPE_OF.upscale }
        : { mode: 'vary', taskId: source.taskId, imageIndex: source.position, type: APIXO_VARY_TYPE_OF.vary, ...(r.prompt ? { prompt: r.prompt } : {}) };
    }
    case 'upscale_subtle':
    case 'upscale_creative':
    case 'upscale_2x':
    case 'upscale_4x':
    case 'vary_subtle':
    case 'vary_strong': {
      // Typed upscales and varies act on the grid image the upscale came from.
      if (source.resultKind !== 'upscale') throw badInput('That button works on an upscaled image', 'source');
      if (!source.grid) throw badInput('The grid this image was upscaled from is unknown', 'source.grid');
      const { taskId, position: imageIndex } = source.grid;
      if (r.action === 'vary_subtle' || r.action === 'vary_strong') {
        return { mode: 'vary', taskId, imageIndex, type: APIXO_VARY_TYPE_OF[r.action], ...(r.prompt ? { prompt: r.prompt } : {}) };
      }
      return { mode: 'upscale', taskId, imageIndex, type: APIXO_UPSCALE_TYPE_OF[r.action] };
    }
    case 'animate_high':
    case 'animate_low':
    case 'extend_auto':
    case 'extend_manual':
      throw badInput('APIXO has no video', 'action');
  }
}

function versionOf(v: string): ApixoVersion {
  const mapped = APIXO_VERSION_OF[v];
  if (!mapped) throw badInput(`version ${v} is not available at APIXO (${Object.keys(APIXO_VERSION_OF).join(', ')})`, 'version');
  return mapped;
}

function speedOf(s: string): 'fast' | 'turbo' {
  if (s === 'fast' || s === 'turbo') return s;
  throw badInput(`speed ${s} is not available at APIXO (fast, turbo)`, 'speed');
}

/** The whole create body; throws ProviderError('bad_input') when APIXO cannot take it. */
export function toApixoBody(request: CreateRequest | FollowUpRequest, callbackUrl?: string): ApixoCreateRequest {
  let input: ApixoInput;
  try {
    input = toApixoInput(request);
  } catch (e) {
    throw asProviderError(e, 'create');
  }
  const body: ApixoCreateRequest = callbackUrl ? { request_type: 'callback', callback_url: callbackUrl, input } : { request_type: 'async', input };
  try {
    return validateCreate(body);
  } catch (e) {
    throw asProviderError(e, 'create');
  }
}

export function asProviderError(e: unknown, kind: 'create' | 'read'): unknown {
  if (e instanceof ProviderError) return e;
  if (!(e instanceof ApixoError)) return e;
  return new ProviderError(categoryOf(e, kind), {
    provider: APIXO_PROVIDER_ID,
    providerCode: String(e.code),
    detail: e.detail,
    ...(e.field ? { field: e.field.replace(/^input\./, '') } : {}),
    retryAfterMs: e.retryAfterMs,
    httpStatus: e.httpStatus,
    cause: e,
  });
}

/** APIXO's status as the port's TaskStatus. */
export function toTaskStatus(s: ApixoTaskStatus): TaskStatus {
  const timings = { createdAt: s.createTime, completedAt: s.completeTime, costMs: s.costTime };
  const base = { taskId: s.taskId, timings };
  switch (s.state) {
    case 'pending':
      return { ...base, state: 'pending', results: [], failure: null };
    case 'success': {
      if (s.resultUrls.length === 0) {
        const why = s.resultJsonMalformed ? 'APIXO reported success with an unreadable resultJson' : 'APIXO reported success but returned no images';
        return { ...base, state: 'failed', results: [], failure: { category: 'generation_failed', code: s.resultJsonMalformed ? 'bad_result_json' : 'no_results', message: why } };
      }
      return { ...base, state: 'succeeded', results: s.resultUrls.map((url) => ({ url, kind: 'image' as const })), failure: null };
    }
    case 'failed': {
      const category = failCodeCategory(s.failCode);
      const detail = s.failMsg ? sanitizeMessage(s.failMsg) : '';
      const message = new ProviderError(category, { provider: APIXO_PROVIDER_ID, providerCode: s.failCode ?? 'failed', detail }).userMessage;
      return { ...base, state: 'failed', results: [], failure: { category, code: s.failCode ?? 'failed', message } };
    }
    default:
      // 'processing', or a state APIXO added later: keep polling.
      return { ...base, state: 'running', results: [], failure: null };
  }
}

export class ApixoProvider implements ImageProvider {
  readonly id = APIXO_PROVIDER_ID;
  readonly displayName = 'APIXO';
  readonly capabilities = APIXO_CAPABILITIES;

  constructor(private readonly client: ApixoClient) {}

  check(request: CreateRequest | FollowUpRequest): ProviderError | null {
    return refusalOf(() => toApixoBody(request));
  }

  create(request: CreateRequest, opts?: CreateCallOptions): Promise<Submitted> {
    return this.#submit(request, opts);
  }

  followUp(request: FollowUpRequest, opts?: CreateCallOptions): Promise<Submitted> {
    return this.#submit(request, opts);
  }

  async status(taskId: string, opts?: ProviderCallOptions): Promise<TaskStatus> {
    try {
      return toTaskStatus(await this.client.status(taskId, opts));
    } catch (e) {
      throw asProviderError(e, 'read');
    }
  }

  async balance(opts?: ProviderCallOptions): Promise<Balance> {
    try {
      return { credits: await this.client.balance(opts) };
    } catch (e) {
      throw asProviderError(e, 'read');
    }
  }

  parseCallback(body: unknown): TaskStatus | null {
    try {
      return toTaskStatus(parseCallbackBody(body));
    } catch {
      return null;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  async #submit(request: CreateRequest | FollowUpRequest, opts?: CreateCallOptions): Promise<Submitted> {
    const body = toApixoBody(request, opts?.callbackUrl);
    try {
      return await this.client.create(body, { ...(opts?.signal ? { signal: opts.signal } : {}), ...(opts?.onSending ? { onSending: opts.onSending } : {}) });
    } catch (e) {
      throw asProviderError(e, 'create');
    }
  }
}
