import { describe, expect, it } from 'vitest';
import {
  COMPONENT_ACTIONS,
  CUSTOM_ID_MAX_LENGTH,
  decodeCustomId,
  encodeCustomId,
  InvalidComponentActionError,
  pressedKey,
} from '../../src/discord/customId.js';
import type { ComponentAction } from '../../src/discord/customId.js';
import { newJobId } from '../../src/domain/job.js';

const JOB = 'm5x1k2abc12';
const LONGEST_JOB = 'z'.repeat(24);

/** One valid example of every action, at the edges of its index range. */
const EXAMPLES: ComponentAction[] = [
  { action: 'upscale', jobId: JOB, index: 0 },
  { action: 'upscale', jobId: JOB, index: 3 },
  { action: 'vary', jobId: JOB, index: 0 },
  { action: 'vary', jobId: JOB, index: 3 },
  { action: 'reroll', jobId: JOB },
  { action: 'vary_up', jobId: JOB },
  { action: 'upscale_subtle', jobId: JOB },
  { action: 'upscale_creative', jobId: JOB },
  { action: 'vary_subtle', jobId: JOB },
  { action: 'vary_strong', jobId: JOB },
  { action: 'animate_high', jobId: JOB },
  { action: 'animate_low', jobId: JOB },
  { action: 'extend_auto', jobId: JOB, index: 0 },
  { action: 'extend_auto', jobId: JOB, index: 99 },
  { action: 'extend_manual', jobId: JOB, index: 3 },
  { action: 'cancel', jobId: JOB },
  { action: 'history_page', viewId: JOB, index: 0 },
  { action: 'history_page', viewId: JOB, index: 999 },
  { action: 'extend_modal', jobId: JOB, index: 1 },
  { action: 'extend_manual', jobId: LONGEST_JOB, index: 99 },
  { action: 'batch_confirm', batchId: JOB },
  { action: 'batch_cancel', batchId: LONGEST_JOB },
];

describe('encodeCustomId / decodeCustomId', () => {
  it('covers every action in the examples', () => {
    expect(new Set(EXAMPLES.map((e) => e.action))).toEqual(new Set(COMPONENT_ACTIONS));
  });

  it.each(EXAMPLES.map((e) => [encodeCustomId(e), e] as const))('round-trips %s', (id, action) => {
    expect(decodeCustomId(id)).toEqual(action);
    expect(id.length).toBeLessThanOrEqual(CUSTOM_ID_MAX_LENGTH);
  });

  it('uses the documented versioned format', () => {
    expect(encodeCustomId({ action: 'upscale', jobId: JOB, index: 1 })).toBe(`tj1:upscale:${JOB}:1`);
    expect(encodeCustomId({ action: 'reroll', jobId: JOB })).toBe(`tj1:reroll:${JOB}`);
  });

  it('round-trips ids made by newJobId', () => {
    const jobId = newJobId(1_735_689_600_000, () => 0.123456);
    expect(decodeCustomId(encodeCustomId({ action: 'vary', jobId, index: 2 }))).toEqual({ action: 'vary', jobId, index: 2 });
  });

  it('keeps the longest possible id within Discord’s 100 characters', () => {
    const longest = Math.max(
      ...COMPONENT_ACTIONS.map((action) => `tj1:${action}:${LONGEST_JOB}:99`.length),
    );
    expect(longest).toBeLessThanOrEqual(CUSTOM_ID_MAX_LENGTH);
  });

  it.each([
    ['empty', ''],
    ['another app', 'confirm_button'],
    ['another app with colons', 'mj:upscale:abc:1'],
    ['old version', `tj0:upscale:${JOB}:1`],
    ['future version', `tj2:upscale:${JOB}:1`],
    ['unknown action', `tj1:zoom:${JOB}:1`],
    ['missing job', 'tj1:reroll'],
    ['empty job', 'tj1:reroll:'],
    ['upper-case job', 'tj1:reroll:ABC'],
    ['job with symbols', 'tj1:reroll:ab-c'],
    ['job too long', `tj1:reroll:${'a'.repeat(25)}`],
    ['grid index missing', `tj1:upscale:${JOB}`],
    ['grid index out of range', `tj1:upscale:${JOB}:4`],
    ['vary index negative', `tj1:vary:${JOB}:-1`],
    ['non-canonical index', `tj1:vary:${JOB}:01`],
    ['fractional index', `tj1:vary:${JOB}:1.0`],
    ['hex index', `tj1:extend_auto:${JOB}:0x1`],
    ['clip index too large', `tj1:extend_auto:${JOB}:100`],
    ['index on a job action', `tj1:reroll:${JOB}:1`],
    ['empty index', `tj1:extend_modal:${JOB}:`],
    ['extra part', `tj1:upscale:${JOB}:1:x`],
    ['over 100 chars', `tj1:upscale:${JOB}:1${' '.repeat(100)}`],
    ['prototype key as action', `tj1:__proto__:${JOB}`],
  ])('rejects %s', (_name, id) => {
    expect(decodeCustomId(id)).toBeNull();
  });

  it('refuses to encode an action that could never decode', () => {
    expect(() => encodeCustomId({ action: 'upscale', jobId: JOB, index: 4 })).toThrow(InvalidComponentActionError);
    expect(() => encodeCustomId({ action: 'reroll', jobId: 'Bad Id' })).toThrow(InvalidComponentActionError);
    expect(() => encodeCustomId({ action: 'extend_auto', jobId: JOB, index: 0.5 })).toThrow(/index/);
  });
});

describe('pressedKey', () => {
  it('is the action and index without the job, as stored in Job.pressed', () => {
    expect(pressedKey({ action: 'upscale', jobId: JOB, index: 1 })).toBe('upscale:1');
    expect(pressedKey({ action: 'vary_up', jobId: JOB })).toBe('vary_up');
  });
});

describe('history page ids', () => {
  it('carry a view id and a page, and refuse pages past 999 or a job-style id without page', () => {
    expect(encodeCustomId({ action: 'history_page', viewId: 'abc123', index: 4 })).toBe('tj1:history_page:abc123:4');
    expect(decodeCustomId('tj1:history_page:abc123:4')).toEqual({ action: 'history_page', viewId: 'abc123', index: 4 });
    expect(decodeCustomId('tj1:history_page:abc123:1000')).toBeNull();
    expect(decodeCustomId('tj1:history_page:abc123')).toBeNull();
  });
});
