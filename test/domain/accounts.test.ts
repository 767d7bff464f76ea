/**
 * Which account a job must use (src/domain/accounts.ts). The choosing and the
 * create are tested through the job service over the KIE simulator
 * (test/domain/service.test.ts, "several provider accounts").
 */
import { describe, expect, it } from 'vitest';
import { requiredAccountOf } from '../../src/domain/accounts.js';
import type { Job } from '../../src/domain/job.js';
import type { ImageProvider } from '../../src/domain/provider.js';

const several = { accounts: ['a', 'b'] } as unknown as ImageProvider;
const one = {} as unknown as ImageProvider;
const parent = { jobId: 'p', position: 0, action: 'upscale' };

describe('requiredAccountOf', () => {
  it.each([
    ['a new job, no pin: free to choose', {}, several, undefined],
    ['a job pinned by its channel', { account: 'b' }, several, 'b'],
    ["a follow-up: its parent's account (copied onto it)", { account: 'b', parent }, several, 'b'],
    ['a follow-up of a job from before several accounts: the first', { parent }, several, 'a'],
    ['one account: nothing to require', { parent }, one, undefined],
  ])('%s', (_what, job, provider, expected) => {
    expect(requiredAccountOf({ parent: null, ...job } as unknown as Job, provider)).toBe(expected);
  });
});
