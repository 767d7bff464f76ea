/**
 * KIE behind the provider port, over its client (./client.ts, through the
 * KieApi interface in ./api.ts), one client per configured key. The domain
 * and the Discord layer talk only to this adapter, through
 * src/domain/provider.ts.
 *
 * Translation, in one place each:
 * - requests: ./requests.ts (the port's requests → KIE's four create calls,
 *   validated with KIE's zod schemas; KIE's echo of a task → "is this ours");
 * - answers: ./mapping.ts (KieError → ProviderError category, record-info →
 *   TaskStatus);
 * - buttons: KIE_CAPABILITIES (U/V/🔄 on grids; Vary and Animate on an
 *   upscale; Extend on a video; no typed upscales or varies);
 * - keys: ./keys.ts (several KIE accounts: the least busy key with credits
 *   takes a new job; a job's polls and follow-ups use its own key; 401/402
 *   take a key out of rotation).
 */
import type { CallOptions, KieApi } from './api.js';
import {
  providerRegistry,
  refusalOf,
  type AccountChange,
  type AccountReport,
  type Balance,
  type CreateRequest,
  type FollowUpRequest,
  type ImageProvider,
  type CreateCallOptions,
  type ProviderCallOptions,
  type ProviderCapabilities,
  type ProviderError,
  type ProviderRegistry,
  type Submitted,
  type TaskStatus,
} from '../../domain/provider.js';
import { parseCallbackBody } from './callbacks.js';
import { sanitizeMessage, KieRecordNotFoundError } from './errors.js';
import { KieKeyPool } from './keys.js';
import { asProviderError, toTaskStatus } from './mapping.js';
import { KIE_PROVIDER_ID, requestMatches, toKieRequest, toValidKieRequest } from './requests.js';
import { ASPECT_RATIOS, KIE_VERSIONS, PROMPT_MAX_LENGTH, RANGES, SPEEDS, type TaskRecord } from './schemas.js';

export { KIE_DEFAULT_ANIMATE_PROMPT, KIE_PROVIDER_ID, requestMatches, toKieRequest, toValidKieRequest } from './requests.js';
export { asProviderError, kieCategoryOf, toTaskStatus } from './mapping.js';

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

export class KieProvider implements ImageProvider {
  readonly id = KIE_PROVIDER_ID;
  readonly displayName = 'KIE';
  readonly capabilities = KIE_CAPABILITIES;
  private readonly pool: KieKeyPool;
  /** Several keys only: the port's account methods (one key needs no choice, and no extra write per job). */
  readonly accounts?: readonly string[];
  readonly chooseAccount?: (pinned?: string) => Promise<string>;

  /** One KIE API (one key, named `default`), or a pool of named keys. */
  constructor(kie: KieApi | KieKeyPool) {
    this.pool = kie instanceof KieKeyPool ? kie : new KieKeyPool([{ name: 'default', api: kie }]);
    if (this.pool.several) {
      this.accounts = this.pool.names;
      this.chooseAccount = (pinned) => this.pool.choose(pinned);
    }
  }

  check(request: CreateRequest | FollowUpRequest): ProviderError | null {
    return refusalOf(() => toValidKieRequest(request));
  }

  create(request: CreateRequest, opts?: CreateCallOptions): Promise<Submitted> {
    return this.#submit(request, opts);
  }

  followUp(request: FollowUpRequest, opts?: CreateCallOptions): Promise<Submitted> {
    return this.#submit(request, opts);
  }

  async status(taskId: string, opts?: ProviderCallOptions): Promise<TaskStatus> {
    return toTaskStatus(await this.#call(opts?.account, 'read', (api) => api.recordInfo(taskId, callOpts(opts))));
  }

  /** The balance new jobs can draw on: the sum over the keys in rotation (one key: its balance, or its error). */
  async balance(opts?: ProviderCallOptions): Promise<Balance> {
    if (!this.pool.several) return { credits: await this.#call(undefined, 'read', (api) => api.credits(callOpts(opts))) };
    const reports = await this.accountReports(opts);
    const read = reports.filter((r) => r.credits !== null);
    if (read.length === 0) {
      // Every read failed: the first key's error, as the port's.
      return { credits: await this.#call(this.pool.names[0], 'read', (api) => api.credits(callOpts(opts))) };
    }
    return { credits: read.filter((r) => r.inRotation).reduce((sum, r) => sum + (r.credits ?? 0), 0) };
  }

  accountReports(opts?: ProviderCallOptions): Promise<AccountReport[]> {
    return this.pool.reports(opts?.signal);
  }

  onAccountChange(listener: (change: AccountChange) => void): () => void {
    return this.pool.onChange(listener);
  }

  /** Whether a task (a callback about it) is one of these requests; a task of unknown key is looked for under each key. */
  async taskMatches(taskId: string, requests: readonly (CreateRequest | FollowUpRequest)[], opts?: ProviderCallOptions): Promise<boolean[]> {
    let record: TaskRecord | null = null;
    const names = opts?.account !== undefined ? [opts.account] : this.pool.names;
    for (const [i, name] of names.entries()) {
      try {
        record = await this.#call(name, 'read', (api) => api.recordInfo(taskId, callOpts(opts)));
        break;
      } catch (e) {
        const missing = (e as { cause?: unknown }).cause instanceof KieRecordNotFoundError;
        if (!missing || i === names.length - 1) throw e;
      }
    }
    return requests.map((request) => {
      try {
        return requestMatches(toKieRequest(request), record!.taskType, record!.params);
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

  async #submit(request: CreateRequest | FollowUpRequest, opts?: CreateCallOptions): Promise<Submitted> {
    const r = toValidKieRequest(request, opts?.callbackUrl);
    const o: CallOptions = { ...callOpts(opts), ...(opts?.onSending ? { onSending: opts.onSending } : {}) };
    return this.#call(opts?.account, 'create', (api) => {
      switch (r.op) {
        case 'generate':
          return api.generate(r.body, o);
        case 'upscale':
          return api.upscale(r.body, o);
        case 'vary':
          return api.vary(r.body, o);
        case 'extend':
          return api.extendVideo(r.body, o);
      }
    });
  }

  /** One call with a key; a 401/402 takes that key out of rotation; every failure leaves as a ProviderError. */
  async #call<T>(account: string | undefined, kind: 'create' | 'read', call: (api: KieApi) => Promise<T>): Promise<T> {
    const api = this.pool.api(account);
    try {
      return await call(api);
    } catch (e) {
      await this.pool.observe(account, e).catch(() => undefined);
      throw asProviderError(e, kind);
    }
  }
}

const callOpts = (opts?: ProviderCallOptions): CallOptions | undefined => (opts?.signal ? { signal: opts.signal } : undefined);

/** A registry with KIE as its only (and default) provider: the bot before there were several, tests, the benchmark. */
export const kieProviders = (kie: KieApi): ProviderRegistry => providerRegistry(KIE_PROVIDER_ID, [new KieProvider(kie)]);
