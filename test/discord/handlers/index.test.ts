import { describe, expect, it } from 'vitest';
import { COMPONENT_ACTIONS } from '../../../src/discord/customId.js';
import { HANDLERS, byAction } from '../../../src/discord/handlers/index.js';
import { extendModalHandler, followUpHandler } from '../../../src/discord/handlers/followUp.js';
import { jobIdTime, newJobId } from '../../../src/domain/job.js';
import type { RepliableInteraction } from 'discord.js';

const fakeInteraction = (kind: 'button' | 'modal', prompt = 'on and on'): RepliableInteraction =>
  ({
    isButton: () => kind === 'button',
    isModalSubmit: () => kind === 'modal',
    fields: { getTextInputValue: () => prompt },
  }) as unknown as RepliableInteraction;

describe('component routing', () => {
  it('gives every custom_id action exactly one handler', () => {
    const routes = byAction(HANDLERS);
    expect([...routes.keys()].sort()).toEqual([...COMPONENT_ACTIONS].sort());
    expect(() => byAction([...HANDLERS, followUpHandler])).toThrow(/two component handlers claim upscale/);
    expect(() => byAction(HANDLERS.slice(1))).toThrow(/no component handler for/);
  });
});

describe('parse', () => {
  it('reads a result button into its follow-up, a job-wide action at position 0', () => {
    const button = fakeInteraction('button');
    expect(followUpHandler.parse(button, { action: 'upscale', jobId: 'abc', index: 2 })).toEqual({
      request: { interaction: button, parentId: 'abc', action: 'upscale', position: 2 },
    });
    expect(followUpHandler.parse(button, { action: 'reroll', jobId: 'abc' })).toMatchObject({ request: { position: 0 } });
    expect(followUpHandler.parse(fakeInteraction('modal'), { action: 'reroll', jobId: 'abc' })).toBe('ignore');
  });

  it('reads the extend modal with its prompt, and refuses it as anything but a modal submit', () => {
    const modal = fakeInteraction('modal', 'the camera pulls back');
    expect(extendModalHandler.parse(modal, { action: 'extend_modal', jobId: 'abc', index: 1 })).toMatchObject({
      request: { parentId: 'abc', action: 'extend_manual', position: 1, prompt: 'the camera pulls back' },
    });
    expect(extendModalHandler.parse(fakeInteraction('button'), { action: 'extend_modal', jobId: 'abc', index: 1 })).toEqual({
      refusal: 'That form has expired; press the button again.',
    });
  });
});

describe('jobIdTime', () => {
  it('reads back the time newJobId put in an id', () => {
    const now = Date.UTC(2026, 10, 29, 6);
    expect(jobIdTime(newJobId(now))).toBe(now);
    expect(jobIdTime('zz')).toBeNull();
  });
});
