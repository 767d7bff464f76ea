/**
 * Job fixtures for tests. makeJob() gives a valid running /imagine grid job
 * with realistic ids; override what the test is about. Helpers below build
 * the usual shapes (a finished grid, an upscale, a video) in one call.
 */
import type { Job, JobOrigin, JobResult } from '../../src/domain/job.js';
import { gridPositionToIndex } from '../../src/providers/kie/schemas.js';

/** Fixed so tests are deterministic (2025-01-01T00:00:00Z). */
export const FIXTURE_NOW = Date.UTC(2025, 0, 1);

export const FIXTURE_IDS = {
  guildId: '111111111111111111',
  channelId: '222222222222222222',
  userId: '333333333333333333',
  applicationId: '444444444444444444',
  messageId: '555555555555555555',
} as const;

export function makeOrigin(overrides: Partial<JobOrigin> = {}): JobOrigin {
  return {
    guildId: FIXTURE_IDS.guildId,
    channelId: FIXTURE_IDS.channelId,
    userId: FIXTURE_IDS.userId,
    applicationId: FIXTURE_IDS.applicationId,
    interactionToken: 'fixture-interaction-token',
    interactionAt: FIXTURE_NOW,
    messageId: null,
    replyToMessageId: null,
    attachmentSizeLimit: null,
    ...overrides,
  };
}

/** Job overrides; `origin` may be partial (merged into the default origin). */
export type JobOverrides = Omit<Partial<Job>, 'origin'> & { origin?: Partial<JobOrigin> };

export function makeJob(overrides: JobOverrides = {}): Job {
  const { origin, ...rest } = overrides;
  return {
    id: 'm5x1k2abc12',
    kind: 'grid',
    state: 'running',
    request: {
      op: 'generate',
      body: {
        taskType: 'mj_txt2img',
        prompt: 'a red fox in the snow --ar 16:9',
        speed: 'fast',
        aspectRatio: '16:9',
        version: '7',
        stylization: 100,
      },
    },
    promptText: 'a red fox in the snow --ar 16:9',
    speed: 'fast',
    estimatedCredits: 8,
    origin: makeOrigin(origin),
    parent: null,
    taskId: 'kie-task-0001',
    results: [],
    error: null,
    delivered: false,
    pressed: [],
    polls: 0,
    createdAt: FIXTURE_NOW,
    submittedAt: FIXTURE_NOW + 1_000,
    finishedAt: null,
    kieCompletedAt: null,
    ...rest,
  };
}

/** `count` KIE result URLs of one kind, numbered from 1. */
export function makeResults(count: number, kind: JobResult['kind'] = 'image'): JobResult[] {
  const ext = kind === 'video' ? 'mp4' : 'png';
  return Array.from({ length: count }, (_, i) => ({ url: `https://files.kie.example/result/${i + 1}.${ext}`, kind }));
}

/** A finished /imagine grid with four images. */
export const makeSucceededGrid = (overrides: JobOverrides = {}): Job =>
  makeJob({ state: 'succeeded', results: makeResults(4), finishedAt: FIXTURE_NOW + 45_000, ...overrides });

/** A finished upscale of `position` (0-based) of the grid job `parentId`. */
export const makeSucceededUpscale = (position = 1, overrides: JobOverrides = {}): Job =>
  makeJob({
    id: 'm5x1k2up001',
    kind: 'upscale',
    state: 'succeeded',
    request: { op: 'upscale', body: { taskId: 'kie-task-0001', imageIndex: gridPositionToIndex.upscale(position) } },
    speed: 'fast',
    estimatedCredits: 2,
    parent: { jobId: 'm5x1k2abc12', position, action: 'upscale' },
    results: makeResults(1),
    finishedAt: FIXTURE_NOW + 20_000,
    ...overrides,
  });

/** A finished video (animate of an upscale) with `batch` clips. */
export const makeSucceededVideo = (batch: 1 | 2 | 4 = 1, overrides: JobOverrides = {}): Job =>
  makeJob({
    id: 'm5x1k2vid01',
    kind: 'video',
    state: 'succeeded',
    request: {
      op: 'generate',
      body: {
        taskType: 'mj_video',
        prompt: 'a red fox in the snow',
        fileUrl: 'https://files.kie.example/result/1.png',
        motion: 'high',
        videoBatchSize: batch,
      },
    },
    speed: null,
    estimatedCredits: 15 * batch,
    parent: { jobId: 'm5x1k2up001', position: 0, action: 'animate_high' },
    results: makeResults(batch, 'video'),
    finishedAt: FIXTURE_NOW + 120_000,
    ...overrides,
  });
