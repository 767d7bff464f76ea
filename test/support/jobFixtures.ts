/** Small builders for Job values in domain tests. */
import { newJob, type Job, type JobKind } from '../../src/domain/job.js';
import { makeOrigin } from './jobs.js';
import type { NewJob } from '../../src/domain/service.js';
import type { Speed } from '../../src/domain/midjourney.js';

let counter = 0;

/** A fast txt2img grid request as a command would build it. */
export function newGridJob(overrides: Partial<NewJob> = {}): NewJob {
  const speed: Speed = overrides.speed ?? 'fast';
  return {
    kind: 'grid',
    provider: 'kie',
    // A test that passes a pre-port KIE `request` gets it read the legacy way.
    ...(overrides.request === undefined ? { spec: { kind: 'imagine' as const, prompt: 'a lighthouse at dusk', options: { speed } } } : {}),
    promptText: 'a lighthouse at dusk',
    speed,
    estimatedCredits: 8,
    origin: makeOrigin({
      guildId: 'g1',
      channelId: 'c1',
      userId: 'u1',
      applicationId: 'app1',
      interactionToken: 'secret-interaction-token',
      interactionAt: 0,
    }),
    parent: null,
    ...overrides,
  };
}

/** A stored job in any state (defaults: running fast grid with a taskId). */
export function storedJob(overrides: Partial<Job> = {}, kind: JobKind = 'grid'): Job {
  counter++;
  return {
    ...newJob(newGridJob(), `job${counter}`, 'running', counter),
    kind,
    taskId: `task${counter}`,
    submittedAt: 0,
    ...overrides,
  };
}
