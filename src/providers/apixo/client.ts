/**
 * The APIXO HTTP client (undici), speaking APIXO's own shapes.
 *
 * Every call: validate the request with the shared zod schemas (a bad request
 * never leaves the process) → HTTP over a keep-alive Agent with one deadline
 * per exchange → read the envelope (the body's `code` decides when it is an
 * error; else the HTTP status) → validate the data → ApixoError on any
 * failure. Retries reuse KIE's pure helpers (backoff with full jitter,
 * Retry-After) with APIXO's own rule, `isRetryable`: reads retry anything
 * transient; creates (which cost credits) only when APIXO provably created
 * nothing: 429, 503, or a connection never made. The key lives in a private
 * field and is redacted from every message.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { errorCodeOf } from '../kie/responses.js';
import { backoffDelay, DEFAULT_MAX_RETRY_AFTER_MS, realSleep, retryAfterMs, type HeaderBag, type Sleep } from '../kie/retry.js';
import { ApixoError } from './errors.js';
import {
  APIXO_PATHS,
  ApixoCreateRequestSchema,
  ApixoEnvelopeSchema,
  BalanceDataSchema,
  CreateDataSchema,
  describeZodError,
  StatusDataSchema,
  StatusQuerySchema,
  type ApixoCreateRequest,
  type ApixoEndpoint,
  type ApixoTaskStatus,
} from './schemas.js';

export const APIXO_BASE_URL = 'https://api.apixo.ai';

export type CallKind = 'create' | 'read';

export interface ApixoClientOptions {
  /** https://api.apixo.ai unless told (a path prefix, for a proxy, is kept). */
  baseUrl?: string;
  apiKey: string;
  /** One deadline per HTTP exchange. Default 30 s. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  retry?: { maxAttempts?: { read?: number; create?: number }; baseMs?: number; maxMs?: number; maxRetryAfterMs?: number };
  /** Use this dispatcher instead of our own Agent (tests, proxies); close() leaves it open. */
  dispatcher?: Dispatcher;
  sleep?: Sleep;
  random?: () => number;
  now?: () => number;
  logger?: { debug(obj: Record<string, unknown>, msg: string): void; warn(obj: Record<string, unknown>, msg: string): void };
  /** Told of every HTTP answer (200, else the error's code or HTTP status; 'network' when none came), as KIE's client does: for metrics. */
  onResponse?: (endpoint: string, code: string | number) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const CONNECT_FAILED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

// ---------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------

/** The body, validated; or ApixoError('request_invalid') naming the field. Nothing is sent. */
export function validateCreate(body: unknown): ApixoCreateRequest {
  const parsed = ApixoCreateRequestSchema.safeParse(body);
  if (!parsed.success) {
    const { field, message } = describeZodError(parsed.error);
    throw new ApixoError('request_invalid', { endpoint: 'create', httpStatus: null, code: 'request_invalid', detail: message, field });
  }
  return parsed.data;
}

export interface RawAnswer {
  endpoint: ApixoEndpoint;
  httpStatus: number;
  headers: HeaderBag;
  text: string;
}

/**
 * The `data` of a successful answer, or the ApixoError. A JSON body with a
 * non-200 `code` is an error whatever the HTTP status; a non-2xx status with
 * no readable envelope is an error by its status.
 */
export function interpretAnswer(res: RawAnswer, { redact = [], now = Date.now() }: { redact?: readonly string[]; now?: number } = {}): unknown {
  const base = { endpoint: res.endpoint, httpStatus: res.httpStatus, redact, retryAfterMs: retryAfterMs(res.headers, now) };
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    json = undefined;
  }
  const envelope = ApixoEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const detail = res.text.trim() ? res.text : '(empty body)';
    if (res.httpStatus >= 200 && res.httpStatus < 300) {
      throw new ApixoError('invalid_response', { ...base, code: 'invalid_response', detail });
    }
    throw new ApixoError('invalid_response', { ...base, code: res.httpStatus, detail });
  }
  const { code, message, data } = envelope.data;
  if (code !== 200) throw new ApixoError('answer', { ...base, code, detail: message });
  if (res.httpStatus < 200 || res.httpStatus >= 300) {
    throw new ApixoError('answer', { ...base, code: res.httpStatus, detail: message });
  }
  // A bare object (no `data`) is accepted for status: the envelope's own fields are the data.
  return data === undefined ? json : data;
}

export function parseData<S extends z.ZodType>(schema: S, data: unknown, endpoint: ApixoEndpoint, httpStatus: number): z.output<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new ApixoError('invalid_response', { endpoint, httpStatus, code: 'invalid_response', detail: describeZodError(parsed.error).message });
  }
  return parsed.data;
}

/** Whether a failure, taken alone, is worth another attempt for this kind of call. */
export function isRetryable(error: unknown, kind: CallKind): boolean {
  if (!(error instanceof ApixoError)) return false;
  const status = typeof error.code === 'number' ? error.code : error.httpStatus;
  // Refused before anything was created, for both kinds.
  if (status === 429 || status === 503) return true;
  if (error.kind === 'network' && error.connectFailed) return true;
  if (kind === 'create') return false;
  if (error.kind === 'network' || error.kind === 'timeout') return true;
  if (error.kind === 'invalid_response') return error.httpStatus !== null && error.httpStatus >= 500;
  return error.kind === 'answer' && typeof status === 'number' && status >= 500;
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

export class ApixoClient {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #opts: ApixoClientOptions;
  readonly #sleep: Sleep;
  readonly #random: () => number;
  readonly #now: () => number;
  #closed = false;

  constructor(options: ApixoClientOptions) {
    if (!options.apiKey) throw new Error('ApixoClient: apiKey is required');
    this.#opts = options;
    this.#apiKey = options.apiKey;
    this.#baseUrl = (options.baseUrl ?? APIXO_BASE_URL).replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
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
  }

  /** POST generateTask: validated first; returns APIXO's taskId. */
  /** `onSending` is awaited right before each attempt's request leaves (a throw: nothing is sent, no retry). */
  async create(body: ApixoCreateRequest, opts?: { signal?: AbortSignal; onSending?: () => Promise<void> }): Promise<{ taskId: string }> {
    const valid = validateCreate(body);
    return this.#call('create', 'create', 'POST', APIXO_PATHS.create, valid, CreateDataSchema, opts?.signal, opts?.onSending);
  }

  /** GET statusTask?taskId=… */
  async status(taskId: string, opts?: { signal?: AbortSignal }): Promise<ApixoTaskStatus> {
    const q = StatusQuerySchema.safeParse({ taskId });
    if (!q.success) {
      throw new ApixoError('request_invalid', { endpoint: 'status', httpStatus: null, code: 'request_invalid', detail: 'taskId is required', field: 'taskId' });
    }
    const path = `${APIXO_PATHS.status}?taskId=${encodeURIComponent(q.data.taskId)}`;
    return this.#call('status', 'read', 'GET', path, undefined, StatusDataSchema, opts?.signal);
  }

  /** GET current-balance (undocumented in 003; see schemas.ts). */
  async balance(opts?: { signal?: AbortSignal }): Promise<number> {
    return this.#call('balance', 'read', 'GET', APIXO_PATHS.balance, undefined, BalanceDataSchema, opts?.signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.destroy();
  }

  async #call<S extends z.ZodType>(
    endpoint: ApixoEndpoint,
    kind: CallKind,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: S,
    signal: AbortSignal | undefined,
    onSending?: () => Promise<void>,
  ): Promise<z.output<S>> {
    if (this.#closed) throw new Error('ApixoClient is closed');
    const r = this.#opts.retry ?? {};
    const maxAttempts = Math.max(1, r.maxAttempts?.[kind] ?? (kind === 'read' ? 4 : 3));
    const backoff = { baseMs: r.baseMs ?? 500, maxMs: r.maxMs ?? 8_000 };
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        await onSending?.();
        return await this.#send(endpoint, method, path, body, schema, signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (attempt >= maxAttempts || !isRetryable(error, kind)) throw error;
        const asked = (error as ApixoError).retryAfterMs;
        if (asked !== null && asked > (r.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS)) throw error;
        const delayMs = Math.max(backoffDelay(attempt, backoff, this.#random), asked ?? 0);
        this.#opts.logger?.warn({ endpoint, attempt, delayMs, code: (error as ApixoError).code }, 'APIXO call failed; retrying');
        await this.#sleep(delayMs, signal);
      }
    }
  }

  async #send<S extends z.ZodType>(
    endpoint: ApixoEndpoint,
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: S,
    signal: AbortSignal | undefined,
  ): Promise<z.output<S>> {
    const redact = [this.#apiKey];
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const fail = (error: unknown, httpStatus: number | null): unknown => {
      if (signal?.aborted) return signal.reason;
      const code = errorCodeOf(error);
      const detail = error instanceof Error ? error.message || error.name : String(error);
      const base = { endpoint, httpStatus, redact, cause: error };
      if (deadline.aborted || (code !== null && TIMEOUT_CODES.has(code))) {
        return new ApixoError('timeout', { ...base, code: 'timeout', detail: `no complete answer within ${this.#timeoutMs} ms` });
      }
      if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return new ApixoError('invalid_response', { ...base, code: 'invalid_response', detail });
      return new ApixoError('network', { ...base, code: 'network', detail: code ? `${code} ${detail}` : detail, connectFailed: code !== null && CONNECT_FAILED.has(code) });
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.#baseUrl}${path}`, {
        method,
        dispatcher: this.#dispatcher,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
    } catch (error) {
      this.#opts.onResponse?.(endpoint, 'network');
      throw fail(error, null);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (error) {
      this.#opts.onResponse?.(endpoint, res.statusCode);
      throw fail(error, res.statusCode);
    }
    let parsed: z.output<S>;
    try {
      const data = interpretAnswer({ endpoint, httpStatus: res.statusCode, headers: res.headers, text }, { redact, now: this.#now() });
      parsed = parseData(schema, data, endpoint, res.statusCode);
    } catch (error) {
      this.#opts.onResponse?.(endpoint, (error as ApixoError).code ?? res.statusCode);
      throw error;
    }
    this.#opts.onResponse?.(endpoint, 200);
    this.#opts.logger?.debug({ endpoint, method, status: res.statusCode }, 'APIXO call succeeded');
    return parsed;
  }
}

// ---------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------

/**
 * A callback body (JSON text or parsed) as a task status. 003 shows no
 * callback body; we accept the status answer's shape, enveloped or bare.
 * Throws ApixoError('invalid_response') if it is neither.
 */
export function parseCallbackBody(body: unknown): ApixoTaskStatus {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      throw new ApixoError('invalid_response', { endpoint: 'callback', httpStatus: null, code: 'invalid_response', detail: 'not JSON' });
    }
  }
  const inner = value && typeof value === 'object' && 'data' in value && (value as { data?: unknown }).data && typeof (value as { data: unknown }).data === 'object'
    ? (value as { data: unknown }).data
    : value;
  const parsed = StatusDataSchema.safeParse(inner);
  if (!parsed.success) {
    throw new ApixoError('invalid_response', { endpoint: 'callback', httpStatus: null, code: 'invalid_response', detail: describeZodError(parsed.error).message });
  }
  return parsed.data;
}
