import { describe, expect, it } from 'vitest';
import { decodeCustomId, EXTEND_PROMPT_INPUT_ID } from '../../../src/discord/customId.js';
import {
  formatElapsed,
  formatParams,
  messageLink,
  renderExtendModal,
  renderFailure,
  renderNotice,
  renderPressedGrid,
  renderResult,
  renderStatus,
  renderUserError,
} from '../../../src/discord/render/messages.js';
import type { ButtonRow, MessagePayload, UploadedFile } from '../../../src/discord/render/messages.js';
import type { Job } from '../../../src/domain/job.js';
import {
  expectValidFollowup,
  expectValidInteractionCallback,
  expectValidMessageCreate,
  expectValidMessageEdit,
  expectValidModal,
  expectValidWebhookEdit,
} from '../../support/discordSchema.js';
import {
  FIXTURE_IDS,
  FIXTURE_NOW,
  makeJob,
  makeResults,
  makeSucceededGrid,
  makeSucceededUpscale,
  makeSucceededVideo,
} from '../../support/jobs.js';

const USER = `<@${FIXTURE_IDS.userId}>`;
const PROMPT = 'a red fox in the snow --ar 16:9';
const ctx = { now: FIXTURE_NOW + 1_000 + 42_000 };
const LONG_PROMPT = 'a very long prompt about foxes '.repeat(70).slice(0, 2000);

/** A message payload must be accepted on every route the presenter may use for it. */
function expectValidEverywhere<T extends object>(payload: T): T {
  expectValidMessageCreate(payload);
  expectValidMessageEdit(payload);
  expectValidWebhookEdit(payload);
  expectValidFollowup(payload);
  expectValidInteractionCallback({ type: 4, data: payload });
  expectValidInteractionCallback({ type: 7, data: payload });
  return payload;
}

const labels = (rows: ButtonRow[]) => rows.map((r) => r.components.map((b) => b.label ?? b.emoji?.name));
const styles = (rows: ButtonRow[]) => rows.map((r) => r.components.map((b) => b.style));
const actions = (rows: ButtonRow[]) => rows.flatMap((r) => r.components.map((b) => decodeCustomId(b.custom_id)));
const firstLine = (p: MessagePayload) => p.content.split('\n')[0];
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const PRIMARY = 1;
const SECONDARY = 2;
const DANGER = 4;

describe('renderStatus', () => {
  it('shows a running job like Midjourney, with parameters, speed and estimated cost', () => {
    const payload = expectValidEverywhere(renderStatus(makeJob(), ctx));
    expect(payload.content).toBe(`**${PROMPT}** - ${USER} (Generating · 0:42)\n\`--ar 16:9 --v 7 --s 100\` · fast · ~8 credits`);
    expect(payload.components).toEqual([]);
    expect(payload.allowed_mentions).toEqual({ parse: [] });
  });

  it('measures a running job from creation when it has no submit time', () => {
    const payload = renderStatus(makeJob({ submittedAt: null }), { now: FIXTURE_NOW + 65_000 });
    expect(firstLine(payload)).toContain('(Generating · 1:05)');
  });

  it('says "Waiting to start" for a pending job', () => {
    const payload = expectValidEverywhere(renderStatus(makeJob({ state: 'pending', submittedAt: null }), ctx));
    expect(firstLine(payload)).toBe(`**${PROMPT}** - ${USER} (Waiting to start)`);
    expect(payload.components).toEqual([]);
  });

  it('gives a queued job its position and a ❌ Cancel button', () => {
    const job = makeJob({ state: 'queued', submittedAt: null });
    const payload = expectValidEverywhere(renderStatus(job, { ...ctx, queuePosition: 3 }));
    expect(firstLine(payload)).toBe(`**${PROMPT}** - ${USER} (Queued · position 3)`);
    expect(labels(payload.components)).toEqual([['Cancel']]);
    const [cancel] = payload.components[0]!.components;
    expect(cancel).toMatchObject({ style: DANGER, emoji: { name: '❌' } });
    expect(actions(payload.components)).toEqual([{ action: 'cancel', jobId: job.id }]);
  });

  it('says just "Queued" when the position is unknown', () => {
    expect(firstLine(renderStatus(makeJob({ state: 'queued' }), ctx))).toContain('(Queued)');
  });

  it('names the image for button jobs and omits speed for videos', () => {
    const upscale = makeSucceededUpscale(1, { state: 'running' });
    expect(renderStatus(upscale, ctx).content).toBe(`**${PROMPT}** - Image #2 ${USER} (Generating · 0:42)\nfast · ~2 credits`);
    const video = makeSucceededVideo(2, { state: 'running' });
    expect(renderStatus(video, ctx).content).toBe(
      `**${PROMPT}** - Video (High motion) by ${USER} (Generating · 0:42)\n\`--motion high --bs 2\` · ~30 credits`,
    );
  });

  it('fits a 2000-character prompt into the content limit', () => {
    const payload = expectValidEverywhere(renderStatus(makeJob({ promptText: LONG_PROMPT }), ctx));
    expect(payload.content.length).toBeLessThanOrEqual(2000);
    expect(payload.content).toMatch(/…\*\* - /);
    expect(payload.content).toContain('(Generating · 0:42)');
  });
});

describe('renderResult', () => {
  const gridFiles: UploadedFile[] = [0, 1, 2, 3].map((position) => ({ name: `fox_${position + 1}.png`, position }));

  it('renders a grid: U1–U4 + 🔄 on row 1, V1–V4 on row 2, with pressed U2 in blue', () => {
    const job = makeSucceededGrid({ pressed: ['upscale:1'] });
    const payload = expectValidEverywhere(renderResult(job, gridFiles, ctx));
    expect(payload.content).toBe(`**${PROMPT}** - ${USER} (fast · 8 credits · 44 s)`);
    expect(labels(payload.components)).toEqual([
      ['U1', 'U2', 'U3', 'U4', '🔄'],
      ['V1', 'V2', 'V3', 'V4'],
    ]);
    expect(styles(payload.components)).toEqual([
      [SECONDARY, PRIMARY, SECONDARY, SECONDARY, SECONDARY],
      [SECONDARY, SECONDARY, SECONDARY, SECONDARY],
    ]);
    expect(actions(payload.components)).toEqual([
      ...[0, 1, 2, 3].map((index) => ({ action: 'upscale', jobId: job.id, index })),
      { action: 'reroll', jobId: job.id },
      ...[0, 1, 2, 3].map((index) => ({ action: 'vary', jobId: job.id, index })),
    ]);
    expect(payload.attachments).toEqual(gridFiles.map((f, n) => ({ id: String(n), filename: f.name })));
    expect(payload.allowed_mentions).toEqual({ parse: [], users: [FIXTURE_IDS.userId] });
  });

  it('renders only the buttons for the images KIE returned', () => {
    const job = makeSucceededGrid({ results: makeResults(2) });
    const payload = expectValidEverywhere(renderResult(job, gridFiles.slice(0, 2)));
    expect(labels(payload.components)).toEqual([
      ['U1', 'U2', '🔄'],
      ['V1', 'V2'],
    ]);
  });

  it('renders a vary job as a grid, naming the source image', () => {
    const job = makeSucceededGrid({
      id: 'm5x1k2var01',
      kind: 'vary',
      request: { op: 'vary', body: { taskId: 'kie-task-0001', imageIndex: 3 } },
      parent: { jobId: 'm5x1k2abc12', position: 2, action: 'vary' },
    });
    const payload = expectValidEverywhere(renderResult(job, gridFiles));
    expect(payload.content).toBe(`**${PROMPT}** - Variations of Image #3 by ${USER} (fast · 8 credits · 44 s)`);
    expect(labels(payload.components)[0]).toEqual(['U1', 'U2', 'U3', 'U4', '🔄']);
  });

  it('links results that could not be attached, and attaches the rest', () => {
    const job = makeSucceededGrid();
    job.results[2] = { ...job.results[2]!, linkedBecause: 'too large to attach' };
    const files = gridFiles.filter((f) => f.position !== 2);
    const payload = expectValidEverywhere(renderResult(job, files));
    expect(payload.content.split('\n')).toEqual([
      `**${PROMPT}** - ${USER} (fast · 8 credits · 44 s)`,
      'Image #3: https://files.kie.example/result/3.png (too large to attach)',
    ]);
    expect(payload.attachments).toEqual([
      { id: '0', filename: 'fox_1.png' },
      { id: '1', filename: 'fox_2.png' },
      { id: '2', filename: 'fox_4.png' },
    ]);
  });

  it('keeps files already attached when re-rendered without uploads', () => {
    const job = makeSucceededGrid({
      results: makeResults(4).map((r, i) => ({ ...r, attachmentId: `90000000000000000${i}` })),
    });
    const payload = expectValidEverywhere(renderResult(job, []));
    expect(payload.attachments).toEqual([0, 1, 2, 3].map((i) => ({ id: `90000000000000000${i}` })));
    expect(payload.content).toBe(`**${PROMPT}** - ${USER} (fast · 8 credits · 44 s)`);
  });

  it('renders an upscale with Vary and Animate buttons', () => {
    const job = makeSucceededUpscale(1, { pressed: ['animate_low'] });
    const payload = expectValidEverywhere(renderResult(job, [{ name: 'fox_up.png', position: 0 }]));
    // Every result carries its cost line, upscales too: speed, credits charged, how long the provider took.
    expect(payload.content).toBe(`**${PROMPT}** - Image #2 ${USER} (fast · 2 credits · 19 s)`);
    expect(labels(payload.components)).toEqual([['Vary', 'Animate (High motion)', 'Animate (Low motion)']]);
    expect(payload.components[0]!.components.map((b) => b.emoji?.name)).toEqual(['🪄', '🎞️', '🎞️']);
    expect(styles(payload.components)).toEqual([[SECONDARY, SECONDARY, PRIMARY]]);
    expect(actions(payload.components)).toEqual([
      { action: 'vary_up', jobId: job.id },
      { action: 'animate_high', jobId: job.id },
      { action: 'animate_low', jobId: job.id },
    ]);
  });

  it.each([
    [1, [['Extend 1', 'Extend 1 ✏️']]],
    [2, [['Extend 1', 'Extend 1 ✏️', 'Extend 2', 'Extend 2 ✏️']]],
    [
      4,
      [
        ['Extend 1', 'Extend 1 ✏️', 'Extend 2', 'Extend 2 ✏️'],
        ['Extend 3', 'Extend 3 ✏️', 'Extend 4', 'Extend 4 ✏️'],
      ],
    ],
  ] as const)('renders a video with batch %i: Extend and Extend ✏️ per clip', (batch, expected) => {
    const job = makeSucceededVideo(batch);
    const files = job.results.map((_, position) => ({ name: `fox_${position + 1}.mp4`, position }));
    const payload = expectValidEverywhere(renderResult(job, files));
    expect(payload.content).toBe(`**${PROMPT}** - Video (High motion) by ${USER} (${15 * batch} credits · 1 min 59 s)`);
    expect(labels(payload.components)).toEqual(expected);
    expect(actions(payload.components)).toEqual(
      Array.from({ length: batch }, (_, index) => [
        { action: 'extend_auto', jobId: job.id, index },
        { action: 'extend_manual', jobId: job.id, index },
      ]).flat(),
    );
  });

  it('renders HD videos and extensions with Extend buttons', () => {
    const hd = makeSucceededVideo(1, {
      kind: 'video_hd',
      request: {
        op: 'generate',
        body: { taskType: 'mj_video_hd', prompt: 'fox', fileUrl: 'https://files.kie.example/u.png', motion: 'low', videoBatchSize: 1 },
      },
    });
    expect(firstLine(expectValidEverywhere(renderResult(hd, [{ name: 'a.mp4', position: 0 }])))).toBe(
      `**${PROMPT}** - HD video (Low motion) by ${USER} (15 credits · 1 min 59 s)`,
    );
    const extend = makeSucceededVideo(1, {
      id: 'm5x1k2ext01',
      kind: 'extend',
      request: { op: 'extend', body: { taskType: 'mj_video_extend_auto', taskId: 'kie-task-0002', index: 1 } },
      estimatedCredits: 1,
    });
    const payload = expectValidEverywhere(renderResult(extend, [{ name: 'b.mp4', position: 0 }]));
    expect(payload.content).toBe(`**${PROMPT}** - Extension of clip #2 by ${USER} (1 credit · 1 min 59 s)`);
    expect(actions(payload.components)).toEqual([
      { action: 'extend_auto', jobId: 'm5x1k2ext01', index: 0 },
      { action: 'extend_manual', jobId: 'm5x1k2ext01', index: 0 },
    ]);
  });

  it('never exceeds five rows of buttons, however many clips', () => {
    const job = makeSucceededVideo(4, { results: makeResults(14, 'video') });
    const payload = expectValidEverywhere(renderResult(job, []));
    expect(payload.components).toHaveLength(5);
    expect(payload.components.every((r) => r.components.length <= 5)).toBe(true);
  });

  it('fits a 2000-character prompt with linked results into 2000 characters, links intact', () => {
    const job = makeSucceededGrid({
      promptText: LONG_PROMPT,
      results: makeResults(4).map((r) => ({ ...r, linkedBecause: 'too large to attach' })),
    });
    const payload = expectValidEverywhere(renderResult(job, []));
    expect(payload.content.length).toBeLessThanOrEqual(2000);
    expect(payload.content).toContain('Image #4: https://files.kie.example/result/4.png (too large to attach)');
    expect(payload.content).toMatch(/^\*\*a very long prompt.*…\*\* - /);
  });

  it('escapes markdown in prompts so the bold frame holds, and never splits an emoji', () => {
    const job = makeSucceededGrid({ promptText: `**bold** \`code\` back\\slash ${'🦊'.repeat(1500)}` });
    const payload = expectValidEverywhere(renderResult(job, gridFiles));
    expect(payload.content).toMatch(/^\*\*\\\*\\\*bold\\\*\\\* \\`code\\` back\\\\slash 🦊/);
    expect(payload.content.length).toBeLessThanOrEqual(2000);
    expect(payload.content).not.toMatch(LONE_SURROGATE);
  });
});

describe('renderFailure', () => {
  it('says what failed and KIE’s reason, with 🔄 Retry', () => {
    const job = makeJob({ state: 'failed', error: { code: '400', message: 'Prompt contains\nbanned *words*' } });
    const payload = expectValidEverywhere(renderFailure(job, ctx));
    expect(payload.content.split('\n')).toEqual([
      `**${PROMPT}** - ${USER} (failed)`,
      '❌ Generation failed: Prompt contains banned \\*words\\*',
    ]);
    expect(labels(payload.components)).toEqual([['Retry']]);
    expect(payload.components[0]!.components[0]!.emoji).toEqual({ name: '🔄' });
    expect(actions(payload.components)).toEqual([{ action: 'reroll', jobId: job.id }]);
  });

  it('names the image of a failed upscale and copes with no error', () => {
    const job = makeSucceededUpscale(3, { state: 'failed', results: [], error: null });
    const payload = expectValidEverywhere(renderFailure(job));
    expect(payload.content.split('\n')[1]).toBe('❌ Upscale of Image #4 failed: unknown error');
  });

  it('stays within limits with a long prompt and a long reason', () => {
    const job = makeJob({ state: 'failed', promptText: LONG_PROMPT, error: { code: 'x', message: 'e'.repeat(5000) } });
    const payload = expectValidEverywhere(renderFailure(job));
    expect(payload.content.length).toBeLessThanOrEqual(2000);
    expect(payload.content.split('\n')[1]!.length).toBeLessThanOrEqual(350);
  });
});

describe('renderPressedGrid', () => {
  it('returns the grid buttons with the pressed ones in blue, as a message update', () => {
    const job: Job = makeSucceededGrid({ pressed: ['upscale:1', 'vary:3'] });
    const update = renderPressedGrid(job);
    expectValidInteractionCallback({ type: 7, data: update });
    expectValidWebhookEdit(update);
    expectValidMessageEdit(update);
    expect(Object.keys(update)).toEqual(['components']);
    expect(styles(update.components)).toEqual([
      [SECONDARY, PRIMARY, SECONDARY, SECONDARY, SECONDARY],
      [SECONDARY, SECONDARY, SECONDARY, PRIMARY],
    ]);
  });
});

describe('renderExtendModal', () => {
  it('asks for the prompt of one clip, prefilled with the original prompt', () => {
    const job = makeSucceededVideo(2);
    const modal = expectValidModal(renderExtendModal(job, 1));
    expectValidInteractionCallback({ type: 9, data: modal });
    expect(modal.title).toBe('Extend clip 2');
    expect(decodeCustomId(modal.custom_id)).toEqual({ action: 'extend_modal', jobId: job.id, index: 1 });
    expect(modal.components).toEqual([
      expect.objectContaining({
        type: 18,
        component: expect.objectContaining({ type: 4, custom_id: EXTEND_PROMPT_INPUT_ID, style: 2, value: PROMPT, required: true }),
      }),
    ]);
  });

  it('truncates a prompt longer than KIE accepts', () => {
    const modal = expectValidModal(renderExtendModal(makeSucceededVideo(1, { promptText: 'x'.repeat(2500) }), 0));
    const input = (modal.components[0] as { component: { value: string; max_length: number } }).component;
    expect(input.value.length).toBeLessThanOrEqual(input.max_length);
  });
});

describe('renderUserError / renderNotice', () => {
  it('are ephemeral, never ping, and fit the limit', () => {
    const link = messageLink(FIXTURE_IDS.guildId, FIXTURE_IDS.channelId, FIXTURE_IDS.messageId);
    const notice = renderNotice(`That upscale is already running: ${link} @everyone`);
    const error = renderUserError('x'.repeat(3000));
    for (const payload of [notice, error]) {
      expectValidInteractionCallback({ type: 4, data: payload });
      expectValidFollowup(payload);
      expect(payload.flags).toBe(64);
      expect(payload.allowed_mentions).toEqual({ parse: [] });
    }
    expect(notice.content).toBe(`That upscale is already running: ${link} @everyone`);
    expect(error.content.startsWith('⚠️ x')).toBe(true);
    expect(error.content.length).toBe(2000);
    const { flags: _flags, ...edit } = error;
    expectValidWebhookEdit(edit);
  });
});

describe('helpers', () => {
  it.each([
    [0, '0:00'],
    [999, '0:00'],
    [42_000, '0:42'],
    [65_000, '1:05'],
    [3_599_000, '59:59'],
    [3_903_000, '1:05:03'],
    [-5_000, '0:00'],
  ])('formatElapsed(%i) = %s', (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it('formatParams shows the resolved parameters as Midjourney flags', () => {
    const imagine = (options: Record<string, unknown>) => ({ kind: 'imagine' as const, prompt: 'x', options });
    expect(formatParams(imagine({ aspectRatio: '16:9', version: '7', stylize: 100, weird: 0, chaos: 0 }))).toBe('--ar 16:9 --v 7 --s 100 --w 0 --c 0');
    expect(formatParams(imagine({ version: 'niji6' }))).toBe('--niji 6');
    expect(formatParams(imagine({}))).toBe('');
    expect(formatParams({ action: 'upscale', source: { taskId: 't', position: 0, resultKind: 'grid' } })).toBe('');
    expect(formatParams({ kind: 'animate', imageUrl: 'https://x/a.png', motion: 'low', hd: false, batch: 2 })).toBe('--motion low --bs 2');
  });

  it('messageLink links guild messages and DMs', () => {
    expect(messageLink('1', '2', '3')).toBe('https://discord.com/channels/1/2/3');
    expect(messageLink(null, '2', '3')).toBe('https://discord.com/channels/@me/2/3');
  });
});
