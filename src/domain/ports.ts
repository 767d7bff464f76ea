/**
 * The boundaries the domain talks through. Implementations live elsewhere:
 * KieApi in src/kie/client.ts, JobPresenter in src/discord/, Clock here.
 */
import type {
  GenerateRequest,
  TaskRecord,
  UpscaleRequest,
  VaryRequest,
  VideoExtendRequest,
} from '../kie/schemas.js';
import type { Job } from './job.js';

export interface CallOptions {
  signal?: AbortSignal;
}

/** The KIE API as the domain needs it. Every method validates its input and throws a typed KieError. */
export interface KieApi {
  generate(body: GenerateRequest, opts?: CallOptions): Promise<{ taskId: string }>;
  upscale(body: UpscaleRequest, opts?: CallOptions): Promise<{ taskId: string }>;
  vary(body: VaryRequest, opts?: CallOptions): Promise<{ taskId: string }>;
  extendVideo(body: VideoExtendRequest, opts?: CallOptions): Promise<{ taskId: string }>;
  recordInfo(taskId: string, opts?: CallOptions): Promise<TaskRecord>;
  credits(opts?: CallOptions): Promise<number>;
}

/**
 * Shows jobs to people (Discord in production). The tracker calls it; it never
 * throws for Discord-side failures it can work around (token expiry → channel
 * edit → new message) and returns what it learned (message id, attachment ids).
 */
export interface JobPresenter {
  /** A non-final status change (queued position, generating · elapsed). Best effort. */
  progress(job: Job): Promise<Partial<Pick<Job, 'origin'>> | void>;
  /** The final state: results (re-hosted) or failure. Returns the updated fields to persist. */
  deliver(job: Job): Promise<Partial<Pick<Job, 'origin' | 'results' | 'delivered'>>>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
