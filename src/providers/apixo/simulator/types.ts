/**
 * Public types of the local APIXO server ("simulator"), shared by the
 * adapter's contract tests, the bot's simulator mode and the bench.
 */
import type { ApixoMode } from '../schemas.js';

export type ApixoRequestEndpoint = 'create' | 'status' | 'balance' | 'file' | 'unknown';
/** What a fault matches: one route or '*' (every request). */
export type ApixoFaultEndpoint = Exclude<ApixoRequestEndpoint, 'unknown'> | '*';

export interface ApixoSimulatorOptions {
  host?: string;
  port?: number;
  /** The Bearer key every API call must carry; null accepts any non-empty bearer. Default null. */
  apiKey?: string | null;
  /** Starting balance. Default 10_000. Each create deducts its price; HTTP 402 when short. */
  credits?: number;
  /** Price per mode (and speed for generations). */
  prices?: Partial<ApixoSimPrices>;
  /** Clock for lifecycles, rate limits and timestamps. Default Date.now. */
  now?: () => number;
  /** How long a task takes (ms) from creation to its end. Default: 003's figures by speed, seeded. */
  durationMs?: (t: { mode: ApixoMode; speed: 'fast' | 'turbo' }) => number;
  /** Share of the duration spent 'pending' before 'processing'. Default 0.2. */
  pendingShare?: number;
  timeScale?: number;
  seed?: number;
  /** Creates allowed per key per window → HTTP 429 beyond. Default 003's 10,000 / minute. null disables. */
  createRateLimit?: { max: number; windowMs: number } | null;
  /** Base URL inside result URLs. Default: the server's own URL. */
  publicUrl?: string;
  /** How often finished tasks are checked to fire callbacks (ms). Default 250; unref'd. */
  callbackIntervalMs?: number;
}

export interface ApixoSimPrices {
  /** text-to-image / image-to-image / upload-paint / vary, by speed. */
  generate: { fast: number; turbo: number };
  upscale: number;
}

export interface ApixoSimTask {
  taskId: string;
  mode: ApixoMode;
  speed: 'fast' | 'turbo';
  /** The validated input, as sent. */
  input: Record<string, unknown>;
  createdAt: number;
  /** 'pending' until this, 'processing' until finishAt. */
  startAt: number;
  finishAt: number;
  parentTaskId: string | null;
  parentPosition: number | null;
  aspectRatio: string;
  resultCount: number;
  outcome: { state: 'success' } | { state: 'failed'; failCode: string; failMsg: string };
  /** Serve resultJson as this raw text instead (malformed-result fault). */
  rawResultJson: string | null;
  callbackUrl: string | null;
  callbacksSent: number;
  callbackDelivered: boolean;
  price: number;
}

export interface ApixoRecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorized: boolean;
  at: number;
  endpoint: ApixoRequestEndpoint;
  /** HTTP status answered; 0 for a reset socket. */
  status: number;
  taskId?: string;
}

export type ApixoFault =
  /** A real HTTP error status with APIXO's JSON body {code: status, message}. */
  | { kind: 'http'; status: number; message?: string; endpoint?: ApixoFaultEndpoint; times?: number }
  /** HTTP 200 with a JSON body whose `code` is an error. */
  | { kind: 'code'; code: number; message?: string; endpoint?: ApixoFaultEndpoint; times?: number }
  /** A proxy's HTML error page (default 502). */
  | { kind: 'html'; status?: number; endpoint?: ApixoFaultEndpoint; times?: number }
  /** This exact body with this status (default 200): unreadable or odd answers. */
  | { kind: 'raw'; body: string; status?: number; endpoint?: ApixoFaultEndpoint; times?: number }
  /** Destroy the socket without answering (after the request was read: a create still happens if `afterCreate`). */
  | { kind: 'reset'; endpoint?: ApixoFaultEndpoint; times?: number; afterCreate?: boolean }
  /** Answer normally after a delay (real timers). */
  | { kind: 'slow'; delayMs: number; endpoint?: ApixoFaultEndpoint; times?: number }
  /** The next created task(s) end failed with this failCode. */
  | { kind: 'taskFailure'; failCode: string; failMsg?: string; times?: number }
  /** The next created task(s) succeed with this raw resultJson (malformed). */
  | { kind: 'malformedResult'; resultJson: string; times?: number }
  /** The next `count` matching requests get HTTP 429. */
  | { kind: 'burst429'; count: number; endpoint?: ApixoFaultEndpoint };

export interface ApixoSimulator {
  readonly url: string;
  /** Every request, in order; the Authorization header is never stored. */
  readonly requests: ApixoRecordedRequest[];
  readonly tasks: ReadonlyMap<string, ApixoSimTask>;
  inject(fault: ApixoFault): void;
  clearFaults(): void;
  setCredits(n: number): void;
  credits(): number;
  /** End a task now (default: success). */
  finish(taskId: string, outcome?: ApixoSimTask['outcome']): void;
  /** Retention expiry: status then answers 404, files 404. */
  forget(taskId: string): void;
  /** Send due callbacks now and wait for them. */
  fireCallbacks(): Promise<void>;
  clearRequests(): void;
  close(): Promise<void>;
}
