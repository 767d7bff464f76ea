/** The batch question and what it becomes: within Discord's limits and schemas, never pinging, with the numbers. */
import { describe, expect, it } from 'vitest';
import { LISTED_PROMPTS, renderBatchClosed, renderBatchConfirmed, renderBatchQuestion } from '../../../src/discord/render/batch.js';
import type { BatchDraft, PendingBatch } from '../../../src/domain/batches.js';
import { decodeCustomId } from '../../../src/discord/customId.js';
import { expectValidInteractionCallback, expectValidWebhookEdit } from '../../support/discordSchema.js';

const T = Date.UTC(2025, 0, 1, 12);
const draft = (promptText: string, estimatedCredits = 8, speed: BatchDraft['speed'] = 'fast'): BatchDraft =>
  ({ kind: 'grid', provider: 'kie', spec: { kind: 'imagine', prompt: promptText, options: {} }, promptText, speed, parent: null, estimatedCredits }) as BatchDraft;
const batch = (drafts: BatchDraft[], o: Partial<PendingBatch> = {}): PendingBatch => ({
  id: 'm5x1k2batch1',
  guildId: 'g',
  channelId: 'c',
  userId: '1400000000000000001',
  promptText: 'a {red, blue} car',
  reason: 'batch',
  drafts,
  createdAt: T,
  expiresAt: T + 15 * 60_000,
  ...o,
});

const valid = <T extends object>(m: T): T => {
  expectValidWebhookEdit(m);
  expectValidInteractionCallback({ type: 7, data: m });
  return m;
};

describe('renderBatchQuestion', () => {
  it('says how many jobs, per job and in all, when it expires, with Confirm and Cancel', () => {
    const m = valid(renderBatchQuestion(batch([draft('a red car'), draft('a blue car')])));
    expect(m.content.split('\n')).toEqual([
      '**a {red, blue} car** - <@1400000000000000001> (2 jobs · confirm)',
      'This makes **2 jobs** · fast · 8 credits each · **16 credits** in all.',
      '- a red car',
      '- a blue car',
      `Only <@1400000000000000001> can confirm. Nothing is sent until then; this expires <t:${(T + 900_000) / 1000}:R> (15 minutes).`,
    ]);
    expect(m.allowed_mentions).toEqual({ parse: [] });
    expect(m.components[0]!.components.map((b) => [b.label, decodeCustomId(b.custom_id)])).toEqual([
      ['Confirm 2 jobs', { action: 'batch_confirm', batchId: 'm5x1k2batch1' }],
      ['Cancel', { action: 'batch_cancel', batchId: 'm5x1k2batch1' }],
    ]);
  });

  it('counts repeats, gives a cost range for mixed speeds, and lists at most a few prompts', () => {
    const mixed = renderBatchQuestion(batch([draft('a cat'), draft('a cat'), draft('a dog', 3, 'relaxed')]));
    expect(mixed.content).toContain('**3 jobs** · fast/relaxed · 3–8 credits each · **19 credits** in all');
    expect(mixed.content).toContain('- a cat ×2');
    const many = renderBatchQuestion(batch(Array.from({ length: 40 }, (_, i) => draft(`prompt ${i} ${'x'.repeat(200)}`))));
    expect(many.content.length).toBeLessThanOrEqual(2000);
    expect(many.content).toContain(`… and ${40 - LISTED_PROMPTS} more`);
    valid(many);
  });

  it('asks about one expensive job without listing it', () => {
    const m = valid(renderBatchQuestion(batch([draft('a fox', 16, 'turbo')], { reason: 'expensive', promptText: 'a fox --turbo' })));
    expect(m.content).toContain("This job costs **16 credits** (turbo), above this channel's confirmation threshold.");
    expect(m.components[0]!.components[0]!.label).toBe('Confirm');
  });

  it('escapes the prompt (no masked links or mentions)', () => {
    const m = renderBatchQuestion(batch([draft('x'), draft('y')], { promptText: '[free](https://evil.example) <@&1> {x, y}' }));
    expect(m.content).toContain('\\[free\\](https://evil.example) \\<@&1\\>');
  });
});

describe('after the decision', () => {
  it('confirmed and cancelled drop the buttons', () => {
    const b = batch([draft('a red car'), draft('a blue car')]);
    const confirmed = valid(renderBatchConfirmed(b));
    expect(confirmed.content).toContain('(confirmed · 2 jobs · 16 credits)');
    expect(confirmed.components).toEqual([]);
    const cancelled = valid(renderBatchClosed(b, 'cancelled'));
    expect(cancelled.content).toContain('(cancelled · 2 jobs)\nNothing was started.');
    expect(cancelled.components).toEqual([]);
  });
});
