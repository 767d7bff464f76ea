/**
 * The KIE HTTP client: the production KieApi.
 *
 * Every call goes: validate the request with the shared zod schemas (a bad
 * request never leaves the process) → wait for the rate limiter → HTTP over
 * a keep-alive undici Agent → validate the envelope and the data → typed
 * KieError on any failure. Retries follow retry.ts: reads retry on anything
 * transient; creates (which cost credits) only when KIE provably created
 * nothing. The API key lives in a private field and is redacted from every
 * message; the Authorization header is never logged.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { CallOptions, KieApi } from './api.js';
import { KieTimeoutError, sanitizeMessage, type KieError } from './errors.js';
import { DEFAULT_CREATE_LIMIT, DEFAULT_READS_PER_SECOND, SlidingWindowLimiter, TokenBucketLimiter, type WindowLimit } from './limiter.js';
import { realSleep, withRetry, type CallKind, type RetryPolicy, type Sleep } from './retry.js';
import { interpretResponse, parseData, transportError, validateRequest } from './responses.js';
import {
  CreateTaskDataSchema,
  CreditsDataSchema,
  GenerateRequestSchema,
  KIE_PATHS,
  RecordInfoDataSchema,
  RecordInfoQuerySchema,
  UpscaleRequestSchema,
  VaryRequestSchema,
  VideoExtendRequestSchema,
  type GenerateRequest,
  type KieEndpoint,
  type TaskRecord,
  type UpscaleRequest,
  type VaryRequest,
  type VideoExtendRequest,
} from './schemas.js';

// The pure helpers and the callback helpers live beside the client; re-exported for existing importers.
export { errorCodeOf, interpretResponse, parseData, transportError, validateRequest, type RawResponse } from './responses.js';
export { parseCallbackBody, verifyCallbackSignature, type CallbackSignatureInput } from './callbacks.js';

export const KIE_BASE_URL = 'https://api.kie.ai';

/** pino-compatible: structured object first, message second. */
export interface KieLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface KieRetryOptions {
  /** Total attempts per call, including the first. Reads 4, creates 3 unless told. */
  maxAttempts?: number | { read?: number; create?: number };
  baseMs?: number;
  maxMs?: number;
  /** Longest Retry-After we wait for; a longer one fails the call instead. */
  maxRetryAfterMs?: number;
}

export type CreateLimit = WindowLimit & { marginMs?: number };

/**
 * An outer limit on creates shared by several processes (the store's
 * fleet-wide window, src/store/sql/createWindow.ts). `acquire` resolves
 * once a create may be sent, with the release to call when KIE answered.
 */
export interface CreateGate {
  acquire(signal?: AbortSignal): Promise<() => void>;
}

export interface KieClientOptions {
  /** https://api.kie.ai unless told (a path prefix, for a proxy, is kept). */
  baseUrl?: string;
  apiKey: string;
  /** Per request: time allowed for the response headers, and between body chunks. */
  timeoutMs?: number;
  /** Time allowed to establish the connection (a connect timeout proves nothing was sent). */
  connectTimeoutMs?: number;
  /**
   * Client-side limit on creates; KIE's 20 per 10 s unless told. Each
   * request counts until windowMs after its answer (see limiter.ts), and
   * `marginMs` (100 unless told) widens the window a little more for safety.
   */
  createLimit?: CreateLimit;
  /** Several processes: every create also waits for this shared window (the in-process limiter stays the inner layer). */
  createGate?: CreateGate;
  /** Client-side limit on reads (record-info, credits). */
  readsPerSecond?: number;
  retry?: KieRetryOptions;
  logger?: KieLogger;
  /** Told of every answer: the endpoint and 200, the KIE code / HTTP status, or 'network' (metrics). */
  onResponse?: (endpoint: string, code: string | number) => void;
  /** Use this dispatcher instead of our own Agent (tests, proxies); close() leaves it open. */
  dispatcher?: Dispatcher;
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_CREATE_MARGIN_MS = 100;
const DEFAULT_MAX_ATTEMPTS: Record<CallKind, number> = { read: 4, create: 3 };
const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 8_000 };
/** KIE's answers are small JSON; anything bigger is a proxy page or a fault. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

const noopLogger: KieLogger = { debug: () => {}, warn: () => {} };

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

interface Call<S extends z.ZodType> {
  endpoint: KieEndpoint;
  kind: CallKind;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  schema: S;
}

export class KieClient implements KieApi {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #createLimiter: SlidingWindowLimiter;
  readonly #createGate: CreateGate | null;
  readonly #readLimiter: TokenBucketLimiter;
  readonly #policies: Record<CallKind, RetryPolicy>;
  readonly #logger: KieLogger;
  readonly #onResponse: ((endpoint: string, code: string | number) => void) | undefined;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #now: () => number;
  #closed = false;

  constructor(options: KieClientOptions) {
    if (!options.apiKey) throw new Error('KieClient: apiKey is required');
    this.#apiKey = options.apiKey;
    this.#baseUrl = (options.baseUrl ?? KIE_BASE_URL).replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#logger = options.logger ?? noopLogger;
    this.#onResponse = options.onResponse;
    this.#sleep = options.sleep ?? realSleep;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#ownsDispatcher = !options.dispatcher;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS },
        keepAliveTimeout: 10_000,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        maxResponseSize: MAX_RESPONSE_BYTES,
      });
    const gateDeps = { now: this.#now, sleep: this.#sleep };
    const { max, windowMs, marginMs = DEFAULT_CREATE_MARGIN_MS }: CreateLimit = options.createLimit ?? DEFAULT_CREATE_LIMIT;
    this.#createGate = options.createGate ?? null;
    this.#createLimiter = new SlidingWindowLimiter({ max, windowMs: windowMs + Math.max(0, marginMs) }, gateDeps);
    this.#readLimiter = new TokenBucketLimiter({ ratePerSecond: options.readsPerSecond ?? DEFAULT_READS_PER_SECOND }, gateDeps);
    const r = options.retry ?? {};
    const attempts = (kind: CallKind): number =>
      typeof r.maxAttempts === 'number' ? r.maxAttempts : (r.maxAttempts?.[kind] ?? DEFAULT_MAX_ATTEMPTS[kind]);
    const policy = (kind: CallKind): RetryPolicy => ({
      kind,
      maxAttempts: Math.max(1, attempts(kind)),
      baseMs: r.baseMs ?? DEFAULT_BACKOFF.baseMs,
      maxMs: r.maxMs ?? DEFAULT_BACKOFF.maxMs,
      ...(r.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: r.maxRetryAfterMs }),
    });
    this.#policies = { read: policy('read'), create: policy('create') };
  }

  async generate(body: GenerateRequest, opts?: CallOptions): Promise<{ taskId: string }> {
    return this.#create('generate', GenerateRequestSchema, body, opts);
  }

  async upscale(body: UpscaleRequest, opts?: CallOptions): Promise<{ taskId: string }> {
    return this.#create('upscale', UpscaleRequestSchema, body, opts);
  }

  async vary(body: VaryRequest, opts?: CallOptions): Promise<{ taskId: string }> {
    return this.#create('vary', VaryRequestSchema, body, opts);
  }

  async extendVideo(body: VideoExtendRequest, opts?: CallOptions): Promise<{ taskId: string }> {
    return this.#create('extend', VideoExtendRequestSchema, body, opts);
  }

  /** The task as KIE knows it. 422 "Record does not exist" → KieRecordNotFoundError. */
  async recordInfo(taskId: string, opts?: CallOptions): Promise<TaskRecord> {
    const query = validateRequest(RecordInfoQuerySchema, { taskId }, 'recordInfo');
    const path = `${KIE_PATHS.recordInfo}?taskId=${encodeURIComponent(query.taskId)}`;
    return this.#call({ endpoint: 'recordInfo', kind: 'read', method: 'GET', path, schema: RecordInfoDataSchema }, opts);
  }

  /** The account's remaining credits (may be fractional). */
  async credits(opts?: CallOptions): Promise<number> {
    return this.#call(
      { endpoint: 'credits', kind: 'read', method: 'GET', path: KIE_PATHS.credits, schema: CreditsDataSchema },
      opts,
    );
  }

  /** Closes our Agent (an injected dispatcher is the caller's to close). Later calls fail at once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.destroy();
  }

  async #create(
    endpoint: 'generate' | 'upscale' | 'vary' | 'extend',
    schema: z.ZodType,
    body: unknown,
    opts?: CallOptions,
  ): Promise<{ taskId: string }> {
    const valid = validateRequest(schema, body, endpoint);
    return this.#call(
      { endpoint, kind: 'create', method: 'POST', path: KIE_PATHS[endpoint], body: valid, schema: CreateTaskDataSchema },
      opts,
    );
  }

  async #call<S extends z.ZodType>(call: Call<S>, opts?: CallOptions): Promise<z.output<S>> {
    if (this.#closed) throw new Error('KieClient is closed');
    const signal = opts?.signal;
    const limiter = call.kind === 'create' ? this.#createLimiter : this.#readLimiter;
    return withRetry(
      async (attempt) => {
        const releaseShared = call.kind === 'create' && this.#createGate ? await this.#createGate.acquire(signal) : null;
        let release: (() => void) | null = null;
        try {
          release = await limiter.acquire(signal);
          if (call.kind === 'create') await opts?.onSending?.();
          return await this.#send(call, attempt, signal);
        } finally {
          release?.();
          releaseShared?.();
        }
      },
      this.#policies[call.kind],
      {
        sleep: this.#sleep,
        random: this.#random,
        ...(signal ? { signal } : {}),
        onRetry: ({ attempt, delayMs, error }) =>
          this.#logger.warn(
            { endpoint: call.endpoint, attempt, delayMs, code: (error as KieError).code, err: this.#describe(error) },
            'KIE call failed; retrying',
          ),
      },
    );
  }

  /** One HTTP exchange: request, read, interpret. Every failure leaves as a KieError (or the abort reason). */
  async #send<S extends z.ZodType>(call: Call<S>, attempt: number, signal: AbortSignal | undefined): Promise<z.output<S>> {
    const started = this.#now();
    const redact = [this.#apiKey];
    // One precise deadline for the whole exchange. undici's headers/body
    // timeouts stay as a backstop, but they tick coarsely (~1 s) and apply
    // per phase, so alone they could let a request run to twice timeoutMs.
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const fail = (error: unknown, httpStatus: number | null): unknown => {
      if (signal?.aborted) return signal.reason;
      const ctx = { endpoint: call.endpoint, httpStatus, timeoutMs: this.#timeoutMs, redact };
      if (deadline.aborted) {
        const detail = `no complete answer within ${this.#timeoutMs} ms`;
        return new KieTimeoutError(this.#timeoutMs, detail, { ...ctx, cause: error });
      }
      return transportError(error, ctx);
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.#baseUrl}${call.path}`, {
        method: call.method,
        dispatcher: this.#dispatcher,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
    } catch (error) {
      this.#onResponse?.(call.endpoint, 'network');
      throw fail(error, null);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (error) {
      throw fail(error, res.statusCode);
    }
    const log = { endpoint: call.endpoint, method: call.method, attempt, status: res.statusCode, ms: this.#now() - started };
    try {
      const data = interpretResponse(
        { endpoint: call.endpoint, httpStatus: res.statusCode, headers: res.headers, text },
        { redact, now: this.#now() },
      );
      const parsed = parseData(call.schema, data, { endpoint: call.endpoint, httpStatus: res.statusCode });
      this.#onResponse?.(call.endpoint, 200);
      this.#logger.debug({ ...log, code: 200 }, 'KIE call succeeded');
      return parsed;
    } catch (error) {
      this.#onResponse?.(call.endpoint, (error as KieError).code ?? res.statusCode);
      this.#logger.debug({ ...log, code: (error as KieError).code, err: this.#describe(error) }, 'KIE call failed');
      throw error;
    }
  }

  /** A log-safe one-liner for any error. */
  #describe(error: unknown): string {
    return sanitizeMessage(error instanceof Error ? error.message : String(error), [this.#apiKey]);
  }
}
