/**
 * Public types of the local KIE server ("simulator"). Kept in one module so
 * the client's tests, the bot's simulator mode and the benchmark all see the
 * same contract, and the server modules can import types without cycles.
 */
import type { Speed } from '../schemas.js';
import type { SimPriceTable } from './pricing.js';

export type { SimPriceTable } from './pricing.js';

/** Which route a request hit. 'file' is a result download; 'unknown' any other path. */
export type RequestEndpoint =
  | 'generate'
  | 'upscale'
  | 'vary'
  | 'extend'
  | 'recordInfo'
  | 'credits'
  | 'file'
  | 'unknown';

/** What a fault matches: one route, 'create' (any of the four creates) or '*' (every request). */
export type Endpoint = Exclude<RequestEndpoint, 'unknown'> | 'create' | '*';

export type SimOp = 'generate' | 'upscale' | 'vary' | 'extend';

export interface SimulatorOptions {
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port; default 0 (ephemeral). */
  port?: number;
  /** The Bearer key every API call must carry; null accepts any non-empty bearer. Default null. */
  apiKey?: string | null;
  /**
   * Several KIE accounts at once, by label: each key is accepted and has its
   * own balance (default `credits`), rate-limit window and tasks (a task made
   * with one key does not exist for another). Overrides `apiKey`. Requests
   * record the label of the key they carried; faults may target one label.
   */
  accounts?: Readonly<Record<string, { apiKey: string; credits?: number }>>;
  /** Starting balance. Default 10_000. Each create deducts its price; 402 when short. */
  credits?: number;
  /** Overrides of DEFAULT_SIM_PRICES (whole fields: `grid` replaces the whole speed table). */
  prices?: Partial<SimPriceTable>;
  /** Clock for task lifecycles, rate limiting and timestamps. Default Date.now. */
  now?: () => number;
  /** How long a task takes (ms). Default: realistic by kind and speed, seeded, times `timeScale`. */
  durationMs?: (t: SimTaskInfo) => number;
  /** Multiplies the default durations (bench / simulator mode use e.g. 0.05). Default 1. */
  timeScale?: number;
  /** PRNG seed for task ids, durations and images. Default: random (so restarts never reuse ids). */
  seed?: number;
  /** Create requests allowed per API key per window → body code 429 beyond. null disables. Default 20 / 10 s. */
  createRateLimit?: { max: number; windowMs: number } | null;
  /** If set, callbacks carry X-Webhook-Timestamp and X-Webhook-Signature (see callbacks.ts). */
  webhookHmacKey?: string | null;
  /** Base URL used inside result URLs. Default: the server's own URL. */
  publicUrl?: string;
  /** How often finished tasks are checked to fire callbacks (ms). Default 250; the timer is unref'd. */
  callbackIntervalMs?: number;
  /** How many identical POSTs each successful callback delivery sends (KIE may repeat one). Default 1. */
  callbackCopies?: number;
  /**
   * Keep tasks across restarts (simulator mode stores them with the bot's
   * data), so a restarted bot finds the tasks it was tracking, as it would at
   * KIE. Default: in memory only.
   */
  persistence?: SimPersistence;
}

/**
 * Where a simulator keeps its tasks between runs. Writes are fire-and-forget.
 * With `get`, tasks are read lazily, by id, when a request names one (nothing
 * is loaded whole at start); otherwise `load` reads them all once at start.
 */
export interface SimPersistence {
  load?(): Promise<Iterable<SimTask>>;
  get?(taskId: string): Promise<SimTask | undefined>;
  save(task: SimTask): Promise<void>;
  remove(taskId: string): Promise<void>;
}

export interface SimTaskInfo {
  taskId: string;
  taskType: string;
  /** The speed the task runs at: the request's (default 'fast' for grids), the parent's for upscale/vary, null for video/omni. */
  speed: Speed | null;
  op: SimOp;
}

export interface SimTask extends SimTaskInfo {
  createdAt: number;
  /** successFlag stays 0 until now() >= finishAt. */
  finishAt: number;
  /** The validated request body, as sent. */
  params: Record<string, unknown>;
  parentTaskId: string | null;
  /** How many result files the task has when it succeeds. */
  resultCount: number;
  outcome: { successFlag: 1 | 2 | 3; errorCode: number | null; errorMessage: string | null };
  callbackUrl: string | null;
  /** Callback POSTs sent so far (attempts, whatever their answer). */
  callbacksSent: number;
  /** True once a callback POST was answered with a 2xx. */
  callbackDelivered: boolean;
  /** Credits deducted when the task was created. */
  price: number;
  /** The label of the account whose key created it (with `accounts`). */
  account?: string;
  /** Aspect ratio of the result files (the parent's for upscale/vary). */
  aspectRatio: string;
  media: 'image' | 'video';
  /** For upscale/vary: the parent's image position (0-based) the task acted on; for extend: the video index. */
  parentPosition: number | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; the raw text if it was not JSON; null when empty. */
  body: unknown;
  /** Whether the request carried an accepted Bearer key (files need none; this still says whether one was sent). */
  authorized: boolean;
  /** The simulator clock when the request arrived. */
  at: number;
  endpoint: RequestEndpoint;
  /** The body's `code` for JSON answers, else the HTTP status; 0 for a reset socket or a request still being answered. */
  responseCode: number;
  /** With `accounts`: the label of the account whose key the request carried. */
  account?: string;
  /** The task a create made, or the task a record-info / file request asked about. */
  taskId?: string;
}

/** Every fault may be limited to requests carrying one account's key (`account`, a label of `accounts`). */
export type Fault = FaultKind & { account?: string };
type FaultKind =
  /** HTTP 200 with {code, msg}: KIE's usual error style. */
  | { kind: 'code'; code: number; msg?: string; endpoint?: Endpoint; times?: number }
  /** A real HTTP error status with a JSON body ({code: code ?? status, msg}). */
  | { kind: 'http'; status: number; code?: number; msg?: string; endpoint?: Endpoint; times?: number }
  /** A proxy's HTML error page (default 502). */
  | { kind: 'html'; status?: number; endpoint?: Endpoint; times?: number }
  /** Destroy the socket without answering. */
  | { kind: 'reset'; endpoint?: Endpoint; times?: number }
  /** Do the work (a create makes its task) but destroy the socket instead of answering: the answer is lost. */
  | { kind: 'lostAnswer'; endpoint?: Endpoint; times?: number }
  /** Answer normally after a delay (real timers). */
  | { kind: 'slow'; delayMs: number; endpoint?: Endpoint; times?: number }
  /** The next created task(s) end failed with this outcome (defaults: errorCode 501, a generic message). */
  | { kind: 'taskFailure'; successFlag: 2 | 3; errorCode?: number | null; errorMessage?: string | null; times?: number }
  /** The next `count` matching requests get body code 429. */
  | { kind: 'burst429'; count: number; endpoint?: Endpoint };

export interface KieSimulator {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  /** Every request, in order. The Authorization header is never stored. */
  readonly requests: RecordedRequest[];
  readonly tasks: ReadonlyMap<string, SimTask>;
  inject(fault: Fault): void;
  clearFaults(): void;
  /** The balance of the one account, or of `account` (a label of `accounts`). */
  setCredits(n: number, account?: string): void;
  credits(account?: string): number;
  /** Make a task finish now (default: success); throws if the task is unknown. */
  finish(taskId: string, outcome?: Partial<SimTask['outcome']>): void;
  /** Simulate retention expiry: record-info then answers 422 "Record does not exist", files 404. */
  forget(taskId: string): void;
  /** Send due callbacks now and wait for every callback POST in flight (tests with fake time). */
  fireCallbacks(): Promise<void>;
  clearRequests(): void;
  close(): Promise<void>;
}
