/**
 * The KIE API as the KIE adapter needs it (implemented by ./client.ts, faked
 * in tests). The domain never sees it: it talks to the provider port.
 */
import type { GenerateRequest, TaskRecord, UpscaleRequest, VaryRequest, VideoExtendRequest } from './schemas.js';

export interface CallOptions {
  signal?: AbortSignal;
  /** Creates only: awaited right before each request leaves, after the limiter waits (a throw: nothing is sent). */
  onSending?: () => Promise<void>;
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

