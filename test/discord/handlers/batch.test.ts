/** The batch handler's parse step: a button press into a typed Confirm/Cancel request; anything else ignored. */
import { describe, expect, it } from 'vitest';
import type { RepliableInteraction } from 'discord.js';
import { batchHandler } from '../../../src/discord/handlers/batch.js';

const fake = (button: boolean): RepliableInteraction =>
  ({ isButton: () => button, isModalSubmit: () => !button, user: { id: 'u1' } }) as unknown as RepliableInteraction;

describe('batchHandler.parse', () => {
  it('reads Confirm and Cancel with the batch and the presser', () => {
    const i = fake(true);
    expect(batchHandler.parse(i, { action: 'batch_confirm', batchId: 'b1' })).toEqual({
      request: { interaction: i, decision: 'confirm', batchId: 'b1', userId: 'u1' },
    });
    expect(batchHandler.parse(i, { action: 'batch_cancel', batchId: 'b1' })).toMatchObject({ request: { decision: 'cancel' } });
  });

  it('ignores anything but a button', () => {
    expect(batchHandler.parse(fake(false), { action: 'batch_confirm', batchId: 'b1' })).toBe('ignore');
  });
});
