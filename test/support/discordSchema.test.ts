/** The validator must reject what Discord rejects, or every test using it proves nothing. */
import { describe, expect, it } from 'vitest';
import {
  DiscordSchemaError,
  discordPayloadIssues,
  expectValidCommand,
  expectValidInteractionCallback,
  expectValidMessageCreate,
  expectValidModal,
  expectValidWebhookEdit,
} from './discordSchema.js';

const button = (custom_id: string, label = 'U1') => ({ type: 2, style: 2, custom_id, label });
const row = (...components: unknown[]) => ({ type: 1, components });

describe('discordSchema', () => {
  it('accepts a classic message with buttons and attachments', () => {
    const payload = {
      content: 'hello',
      components: [row(button('a'), button('b', 'U2'))],
      attachments: [{ id: '0', filename: 'a.png' }],
      allowed_mentions: { parse: [] },
    };
    expect(expectValidMessageCreate(payload)).toBe(payload);
    expect(expectValidWebhookEdit(payload)).toBe(payload);
  });

  it('reports spec violations with their JSON path', () => {
    const issues = discordPayloadIssues('messageCreate', {
      components: [row(button('x'.repeat(101), 'y'.repeat(81)))],
      attachments: [{ id: 0 }],
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^components\[0\]\.components\[0\]\.custom_id: .*100/),
        expect.stringMatching(/^components\[0\]\.components\[0\]\.label: .*80/),
        expect.stringMatching(/^attachments\[0\]\.id: /),
      ]),
    );
  });

  it('rejects unknown fields, which the spec would silently strip', () => {
    expect(discordPayloadIssues('webhookEdit', { content: 'x', components: [row({ ...button('a'), customId: 'a' })] })).toEqual([
      'components[0].components[0].customId: unknown field',
    ]);
  });

  it('enforces the 2000-character content limit the spec leaves at 4000', () => {
    expect(discordPayloadIssues('messageCreate', { content: 'x'.repeat(2001) })).toEqual([
      'content: 2001 characters (max 2000)',
    ]);
  });

  it('rejects duplicate custom_ids, more than 5 rows, and a row with 6 buttons', () => {
    expect(discordPayloadIssues('messageCreate', { components: [row(button('a')), row(button('a'))] })).toEqual([
      'components[1].components[0].custom_id: custom_id "a" is used twice (must be unique per message)',
    ]);
    const six = Array.from({ length: 6 }, (_, i) => row(button(`b${i}`)));
    expect(discordPayloadIssues('messageCreate', { components: six })).toContain('components: 6 rows (max 5 without Components V2)');
    const wide = row(...Array.from({ length: 6 }, (_, i) => button(`c${i}`)));
    expect(discordPayloadIssues('messageCreate', { components: [wide] })).toEqual([
      expect.stringMatching(/^components\[0\]\.components: /),
    ]);
  });

  it('throws a DiscordSchemaError listing the problems', () => {
    expect(() => expectValidMessageCreate({ content: 'x'.repeat(2001) })).toThrow(DiscordSchemaError);
    expect(() => expectValidMessageCreate({ content: 'x'.repeat(2001) })).toThrow(/content: 2001 characters/);
  });

  it('validates interaction callbacks by type, including the data rules', () => {
    expect(expectValidInteractionCallback({ type: 4, data: { content: 'hi', flags: 64 } })).toBeTruthy();
    expect(discordPayloadIssues('interactionCallback', { type: 7, data: { components: [row(button('a')), row(button('a'))] } })).toHaveLength(1);
    expect(discordPayloadIssues('interactionCallback', { type: 3 })).toEqual([
      'type: 3 is not a message or modal callback type (4, 5, 6, 7, 9)',
    ]);
  });

  it('validates modals, alone and as a callback', () => {
    const modal = {
      custom_id: 'm',
      title: 'Extend clip 1',
      components: [{ type: 18, label: 'Prompt', component: { type: 4, custom_id: 'p', style: 2 } }],
    };
    expect(expectValidModal(modal)).toBe(modal);
    expect(expectValidInteractionCallback({ type: 9, data: modal })).toBeTruthy();
    expect(discordPayloadIssues('modal', { ...modal, title: 'x'.repeat(46) })).toEqual([expect.stringMatching(/^title: .*45/)]);
  });

  it('validates command definitions', () => {
    const command = { name: 'imagine', description: 'Create images', options: [{ type: 3, name: 'prompt', description: 'What to draw', required: true }] };
    expect(expectValidCommand(command)).toBe(command);
    expect(discordPayloadIssues('command', { ...command, name: 'x'.repeat(33) })).toEqual([expect.stringMatching(/^name: /)]);
  });
});
