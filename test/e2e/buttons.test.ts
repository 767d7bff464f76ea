/**
 * Every result button end to end, through discord.js and the real app
 * against the local KIE server: which KIE endpoint is called with which
 * index, the message the result lands in and its buttons, double clicks,
 * the manual-extend modal, permission refusals and results KIE no longer
 * has. Also /animate. (Clicks after a restart: restart.test.ts.)
 *
 * Every payload the bot sends is checked against Discord's schema by the
 * harness; a test fails if any was invalid or the app logged an error.
 */
import { describe, expect, it } from 'vitest';
import { EXTEND_PROMPT_INPUT_ID, decodeCustomId } from '../../src/discord/customId.js';
import { STALE_COMPONENT_MESSAGE } from '../../src/discord/router.js';
import type { Job } from '../../src/domain/job.js';
import { snowflake } from '../support/discordClient.js';
import type { FakeMessage } from '../support/fakeDiscord.js';
import {
  bool,
  buttonOf,
  buttonsOf,
  CHANNEL,
  EPHEMERAL,
  int,
  OTHER_USER,
  useE2E,
  str,
  USER,
  type E2E,
  type Injected,
} from './harness.js';

const PROMPT = 'a red fox --ar 16:9 --v 7';
const DAY = 24 * 60 * 60 * 1000;

const start = useE2E();

interface Delivered {
  /** The interaction whose reply (or follow-up) carries the job. */
  via: Injected;
  message: FakeMessage;
  job: Job;
}

/** The job whose message is `messageId` (its origin follows the message). */
async function jobOfMessage(e: E2E, messageId: string): Promise<Job> {
  const job = (await e.jobs()).find((j) => j.origin.messageId === messageId);
  if (!job) throw new Error(`no job lives in message ${messageId}`);
  return job;
}

/** Wait until the job living in `messageId` is delivered; returns the message as Discord has it. */
async function deliveredIn(e: E2E, via: Injected, messageId: () => string | undefined): Promise<Delivered> {
  let found: Job | undefined;
  await e.runUntil(() => {
    const id = messageId();
    const message = id ? e.fake.message(id) : undefined;
    return message !== undefined && message.attachments.length > 0;
  });
  const id = messageId()!;
  found = await jobOfMessage(e, id);
  expect(found).toMatchObject({ state: 'succeeded', delivered: true });
  return { via, message: e.fake.message(id)!, job: found };
}

/** /imagine and its delivered grid. */
async function grid(e: E2E): Promise<Delivered> {
  const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
  return deliveredIn(e, cmd, () => e.fake.originalFor(cmd.token)?.id);
}

/** The message a button made: the follow-up for U (the grid is updated in place), the deferred reply otherwise. */
const newMessageOf = (e: E2E, click: Injected) => (): string | undefined => {
  const record = e.fake.interactionFor(click.token);
  if (!record) return undefined;
  return record.ackType === 7 ? record.followupIds[0] : (record.originalId ?? undefined);
};

async function press(e: E2E, on: FakeMessage, label: string): Promise<Delivered> {
  const click = await e.click(on, label);
  return deliveredIn(e, click, newMessageOf(e, click));
}

/** The grid, and U<n> on it delivered. */
async function upscaled(e: E2E, n: number): Promise<{ grid: Delivered; upscale: Delivered }> {
  const g = await grid(e);
  return { grid: g, upscale: await press(e, g.message, `U${n}`) };
}

/** An ephemeral answer to the click, as its first and only response. */
function ephemeralAnswer(e: E2E, click: Injected): string {
  const responses = e.requestsFor(click.token);
  expect(responses).toHaveLength(1);
  expect(responses[0]).toMatchObject({ route: 'interactionCallback', body: { type: 4 } });
  expect(responses[0]!.status).toBeLessThan(300);
  const reply = e.original(click.token);
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  return reply.content;
}

const labels = (m: FakeMessage) => buttonsOf(m).map((b) => b.label ?? b.emoji);
const GRID_LABELS = ['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4'];

describe('grid buttons', () => {
  it('U2 upscales image 2 (imageIndex 1), turns U2 blue on the grid and delivers the upscale in a new message', async () => {
    const e = (await start());
    const g = await grid(e);
    const click = await e.click(g.message, 'U2');

    const upscales = e.creates('upscale');
    expect(upscales).toHaveLength(1);
    expect(upscales[0]!.body).toEqual({ taskId: g.job.taskId, imageIndex: 1 });
    expect(e.creates()).toHaveLength(2);

    // The click is answered by updating the grid: U2 primary, everything else as it was, files kept.
    const first = e.requestsFor(click.token)[0]!;
    expect(first).toMatchObject({ route: 'interactionCallback', body: { type: 7 } });
    const gridNow = e.fake.message(g.message.id)!;
    expect(buttonsOf(gridNow).map((b) => [b.label ?? b.emoji, b.style])).toEqual(
      GRID_LABELS.map((l) => [l, l === 'U2' ? 1 : 2]),
    );
    expect(gridNow.attachments.map((a) => a.id)).toEqual(g.message.attachments.map((a) => a.id));
    expect((await e.job(g.job.id)).pressed).toEqual(['upscale:1']);

    // The upscale arrives in a new message that names the image and pings its requester.
    const up = await deliveredIn(e, click, newMessageOf(e, click));
    expect(up.message.id).not.toBe(g.message.id);
    expect(up.message.attachments).toHaveLength(1);
    expect(up.message.attachments[0]!.content_type).toBe('image/png');
    expect(up.message.content).toContain('Image #2');
    expect(up.message.content).toContain(`<@${USER}>`);
    expect(up.message.mentions.map((u) => u.id)).toEqual([USER]);
    expect(up.message.flags & EPHEMERAL).toBe(0);
    expect(up.job).toMatchObject({ kind: 'upscale', parent: { jobId: g.job.id, position: 1, action: 'upscale' } });
    expect(labels(up.message)).toEqual(['Vary', 'Animate (High motion)', 'Animate (Low motion)']);
    expect(buttonsOf(up.message).map((b) => b.action)).toEqual([
      { action: 'vary_up', jobId: up.job.id },
      { action: 'animate_high', jobId: up.job.id },
      { action: 'animate_low', jobId: up.job.id },
    ]);
  });

  it('V3 varies image 3 (imageIndex 3) into a new grid with its own U/V/🔄', async () => {
    const e = (await start());
    const g = await grid(e);
    const click = await e.click(g.message, 'V3');

    const varies = e.creates('vary');
    expect(varies).toHaveLength(1);
    expect(varies[0]!.body).toEqual({ taskId: g.job.taskId, imageIndex: 3 });
    const first = e.requestsFor(click.token)[0]!;
    expect(first).toMatchObject({ route: 'interactionCallback', body: { type: 5 } });
    expect(((first.body as { data?: { flags?: number } }).data?.flags ?? 0) & EPHEMERAL).toBe(0);

    const v = await deliveredIn(e, click, newMessageOf(e, click));
    expect(v.message.id).not.toBe(g.message.id);
    expect(v.message.attachments).toHaveLength(4);
    expect(v.message.content).toContain('Variations of Image #3');
    expect(v.message.content).toContain(`<@${USER}>`);
    expect(labels(v.message)).toEqual(GRID_LABELS);
    expect(buttonsOf(v.message).every((b) => b.action !== null && 'jobId' in b.action && b.action.jobId === v.job.id)).toBe(true);
    expect(v.job).toMatchObject({ kind: 'vary', parent: { jobId: g.job.id, position: 2, action: 'vary' } });
  });

  it('🔄 sends the same generate request again as a new job in a new message', async () => {
    const e = (await start());
    const g = await grid(e);
    const again = await press(e, g.message, '🔄');

    const generates = e.creates('generate');
    expect(generates).toHaveLength(2);
    expect(generates[1]!.body).toEqual(generates[0]!.body);
    expect(again.job.id).not.toBe(g.job.id);
    expect(again.job.taskId).not.toBe(g.job.taskId);
    expect(again.job).toMatchObject({ kind: 'grid', promptText: PROMPT, parent: { jobId: g.job.id, action: 'reroll' } });
    expect(again.message.id).not.toBe(g.message.id);
    expect(again.message.attachments).toHaveLength(4);
    expect(labels(again.message)).toEqual(GRID_LABELS);
  });

  it('a custom_id from another version of the bot gets a polite ephemeral answer and no KIE call', async () => {
    const e = (await start());
    const g = await grid(e);
    const stale = { ...g.message, components: [{ type: 1, components: [{ type: 2, style: 2, label: 'U1', custom_id: `tj0:upscale:${g.job.id}:0` }] }] };
    const click = await e.click(stale, 'U1');
    expect(ephemeralAnswer(e, click)).toBe(STALE_COMPONENT_MESSAGE);
    expect(e.creates()).toHaveLength(1);
  });
});

describe('upscale buttons', () => {
  it('Vary varies the grid image the upscale came from (the grid’s taskId, imageIndex 2 for U2)', async () => {
    const e = (await start());
    const { grid: g, upscale } = await upscaled(e, 2);
    const v = await press(e, upscale.message, 'Vary');

    const varies = e.creates('vary');
    expect(varies).toHaveLength(1);
    expect(varies[0]!.body).toEqual({ taskId: g.job.taskId, imageIndex: 2 });
    expect(v.message.attachments).toHaveLength(4);
    expect(v.message.content).toContain('Variations of Image #2');
    expect(labels(v.message)).toEqual(GRID_LABELS);
  });

  it.each([
    ['Animate (High motion)', 'high', 1],
    ['Animate (Low motion)', 'low', 2],
  ] as const)('%s makes an mj_video of the upscale (motion %s, batch from the channel: %i), no speed', async (label, motion, batch) => {
    const e = (await start());
    if (batch !== 1) await e.app.team.settings.set('channel', CHANNEL, { videoBatchSize: batch });
    const { upscale } = await upscaled(e, 2);
    const video = await press(e, upscale.message, label);

    const generates = e.creates('generate');
    expect(generates).toHaveLength(2);
    expect(generates[1]!.body).toEqual({
      taskType: 'mj_video',
      prompt: 'a red fox',
      fileUrls: [upscale.job.results[0]!.url],
      motion,
      videoBatchSize: batch,
    });
    expect(video.job).toMatchObject({ kind: 'video', speed: null, parent: { jobId: upscale.job.id, action: label.includes('High') ? 'animate_high' : 'animate_low' } });
    expect(video.message.attachments).toHaveLength(batch);
    expect(video.message.attachments.every((a) => a.content_type === 'video/mp4')).toBe(true);
    expect(video.message.content).toContain(`Video (${motion === 'high' ? 'High' : 'Low'} motion)`);
    expect(video.message.content).toContain(`<@${USER}>`);
    const clips = Array.from({ length: batch }, (_, i) => [`Extend ${i + 1}`, `Extend ${i + 1} ✏️`]).flat();
    expect(labels(video.message)).toEqual(clips);
  });
});

describe('video buttons', () => {
  async function video(e: E2E): Promise<Delivered> {
    const { upscale } = await upscaled(e, 1);
    return press(e, upscale.message, 'Animate (High motion)');
  }

  it('Extend 1 extends clip 1 automatically (mj_video_extend_auto, index 0)', async () => {
    const e = (await start());
    const v = await video(e);
    const ext = await press(e, v.message, 'Extend 1');

    const extends_ = e.creates('extend');
    expect(extends_).toHaveLength(1);
    expect(extends_[0]!.body).toEqual({ taskType: 'mj_video_extend_auto', taskId: v.job.taskId, index: 0 });
    expect(ext.job).toMatchObject({ kind: 'extend', parent: { jobId: v.job.id, position: 0, action: 'extend_auto' } });
    expect(ext.message.attachments).toHaveLength(1);
    expect(ext.message.attachments[0]!.content_type).toBe('video/mp4');
    expect(ext.message.content).toContain('Extension of clip #1');
    expect(labels(ext.message)).toEqual(['Extend 1', 'Extend 1 ✏️']);
  });

  it('Extend 1 ✏️ opens a modal first, prefilled with the prompt; submitting it extends with the typed prompt', async () => {
    const e = (await start());
    const v = await video(e);
    const open = await e.click(v.message, 'Extend 1 ✏️');

    // The modal is the first and only response; nothing is sent to KIE yet.
    const responses = e.requestsFor(open.token);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ route: 'interactionCallback', status: 204, body: { type: 9 } });
    expect(e.creates('extend')).toEqual([]);
    const modal = e.fake.interactionFor(open.token)!.modal as {
      custom_id: string;
      title: string;
      components: Array<{ component: { custom_id: string; value: string; required: boolean } }>;
    };
    expect(decodeCustomId(modal.custom_id)).toEqual({ action: 'extend_modal', jobId: v.job.id, index: 0 });
    expect(modal.title).toBe('Extend clip 1');
    // Prefilled with the prompt KIE saw, without the flags typed on the command line.
    expect(v.job.promptText).toBe('a red fox --ar 16:9 --v 7');
    expect(modal.components[0]!.component).toMatchObject({ custom_id: EXTEND_PROMPT_INPUT_ID, value: 'a red fox', required: true });

    const submit = await e.submitModal(v.message, modal.custom_id, { [EXTEND_PROMPT_INPUT_ID]: 'the fox runs into the snowy forest' });
    const extends_ = e.creates('extend');
    expect(extends_).toHaveLength(1);
    expect(extends_[0]!.body).toEqual({
      taskType: 'mj_video_extend_manual',
      taskId: v.job.taskId,
      index: 0,
      prompt: 'the fox runs into the snowy forest',
    });
    expect(e.requestsFor(submit.token)[0]).toMatchObject({ route: 'interactionCallback', body: { type: 5 } });
    const ext = await deliveredIn(e, submit, () => e.fake.originalFor(submit.token)?.id);
    expect(ext.job).toMatchObject({ kind: 'extend', promptText: 'the fox runs into the snowy forest' });
    expect(ext.message.content).toContain('the fox runs into the snowy forest');
    expect(ext.message.attachments).toHaveLength(1);
  });

  it('an empty continuation prompt is refused privately and nothing is sent', async () => {
    const e = (await start());
    const v = await video(e);
    const open = await e.click(v.message, 'Extend 1 ✏️');
    const customId = (e.fake.interactionFor(open.token)!.modal as { custom_id: string }).custom_id;
    const submit = await e.submitModal(v.message, customId, { [EXTEND_PROMPT_INPUT_ID]: '   ' });
    expect(ephemeralAnswer(e, submit)).toMatch(/continue/);
    expect(e.creates('extend')).toEqual([]);
  });
});

describe('double clicks', () => {
  it('a second U2 gets a private pointer to the first upscale, and KIE sees one request', async () => {
    const e = (await start());
    const g = await grid(e);
    const first = await e.click(g.message, 'U2');
    const upscaleMessageId = e.fake.interactionFor(first.token)!.followupIds[0]!;
    const second = await e.click(g.message, 'U2');

    expect(e.creates('upscale')).toHaveLength(1);
    const pointer = ephemeralAnswer(e, second);
    expect(pointer).toMatch(/^That upscale is already in progress/);
    expect(pointer).toContain(`/${CHANNEL}/${upscaleMessageId}`);

    // Once done, a third click says so instead.
    await deliveredIn(e, first, () => upscaleMessageId);
    const third = await e.click(g.message, 'U2');
    expect(ephemeralAnswer(e, third)).toMatch(/^That upscale is already done/);
    expect(e.creates('upscale')).toHaveLength(1);
  });

  it('two concurrent clicks (two teammates) create exactly one upscale; the other gets a pointer', async () => {
    const e = (await start());
    const g = await grid(e);
    const a = e.inject(e.rawClick(g.message, 'U3'));
    const b = e.inject(e.rawClick(g.message, 'U3', { user: { id: OTHER_USER } }));
    await Promise.all([a.handled, b.handled]);
    await e.settle();

    expect(e.creates('upscale')).toHaveLength(1);
    expect(e.creates('upscale')[0]!.body).toEqual({ taskId: g.job.taskId, imageIndex: 2 });
    const acks = [a, b].map((c) => e.fake.interactionFor(c.token)!.ackType);
    expect([...acks].sort()).toEqual([4, 7]);
    const loser = acks[0] === 4 ? a : b;
    const winner = loser === a ? b : a;
    expect(e.original(loser.token).flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(e.original(loser.token).content).toMatch(/^That upscale is already in progress/);
    await deliveredIn(e, winner, newMessageOf(e, winner));
    expect((await e.jobs()).filter((j) => j.kind === 'upscale')).toHaveLength(1);
  });
});

describe('who may press', () => {
  it('in a channel set to buttons=author, a teammate is refused privately and KIE hears nothing; the author still may', async () => {
    const e = (await start());
    const g = await grid(e);
    await e.app.team.settings.set('channel', CHANNEL, { buttons: 'author' });

    const refused = await e.click(g.message, 'U1', { user: { id: OTHER_USER } });
    const text = ephemeralAnswer(e, refused);
    expect(text).toContain(`<@${USER}>`);
    expect(text).toMatch(/only/i);
    expect(e.original(refused.token).mentions).toEqual([]);
    expect(e.creates()).toHaveLength(1);
    expect((await e.job(g.job.id)).pressed).toEqual([]);

    await press(e, g.message, 'U1');
    expect(e.creates('upscale')).toHaveLength(1);
  });

  it('in a disabled channel, a click gets a polite private refusal and KIE hears nothing', async () => {
    const e = (await start());
    const g = await grid(e);
    await e.app.team.settings.set('channel', CHANNEL, { enabled: false });
    const click = await e.click(g.message, 'V1');
    expect(ephemeralAnswer(e, click)).toMatch(/turned off/);
    expect(e.creates()).toHaveLength(1);
  });
});

describe('results KIE no longer has', () => {
  it('a job older than 14 days: a clear private error, nothing sent', async () => {
    const e = (await start());
    const g = await grid(e);
    await e.clock.advance(15 * DAY);
    const click = await e.click(g.message, 'U1');
    expect(ephemeralAnswer(e, click)).toMatch(/no longer available at KIE/);
    expect(e.creates()).toHaveLength(1);
    expect((await e.job(g.job.id)).pressed).toEqual([]);
  });

  it('a result KIE already deleted: the upscale message says so and the button can be pressed again later', async () => {
    const e = (await start());
    const g = await grid(e);
    e.sim.forget(g.job.taskId!);
    const click = await e.click(g.message, 'U1');

    // KIE refused the create (422 Record does not exist); the user reads why where the upscale would be.
    expect(e.creates('upscale')).toHaveLength(1);
    expect(e.creates('upscale')[0]!.responseCode).toBe(422);
    const messageId = e.fake.interactionFor(click.token)!.followupIds[0]!;
    const message = e.fake.message(messageId)!;
    expect(message.content).toContain('no longer available at KIE');
    expect(message.content).toContain(`<@${USER}>`);
    const failed = (await e.jobs()).find((j) => j.kind === 'upscale')!;
    expect(failed).toMatchObject({ state: 'failed', delivered: true, error: { code: '422' } });

    // The claim was given back: pressing again tries again rather than pointing at the failure.
    const again = await e.click(g.message, 'U1');
    expect(e.fake.interactionFor(again.token)!.ackType).toBe(7);
    expect(e.creates('upscale')).toHaveLength(2);
  });
});

describe('/animate', () => {
  it('animates an attached image (default motion high, the channel’s batch, no speed)', async () => {
    const e = (await start());
    const cmd = await e.slash('animate', [str('prompt', 'the cat blinks')], {
      attachments: [{ option: 'image', filename: 'cat.png', contentType: 'image/png' }],
    });
    const attachmentUrl = Object.values(
      ((cmd.raw.data as { resolved: { attachments: Record<string, { url: string }> } }).resolved.attachments),
    )[0]!.url;

    expect(e.requestsFor(cmd.token)[0]).toMatchObject({ route: 'interactionCallback', body: { type: 5 } });
    const generates = e.creates('generate');
    expect(generates).toHaveLength(1);
    expect(generates[0]!.body).toEqual({
      taskType: 'mj_video',
      prompt: 'the cat blinks',
      fileUrls: [attachmentUrl],
      motion: 'high',
      videoBatchSize: 1,
    });
    const v = await deliveredIn(e, cmd, () => e.fake.originalFor(cmd.token)?.id);
    expect(v.job).toMatchObject({ kind: 'video', speed: null, promptText: 'the cat blinks' });
    expect(v.message.attachments).toHaveLength(1);
    expect(v.message.attachments[0]!.content_type).toBe('video/mp4');
    expect(labels(v.message)).toEqual(['Extend 1', 'Extend 1 ✏️']);
  });

  it('animates an image URL with low motion, two clips, in HD', async () => {
    const e = (await start());
    const cmd = await e.slash('animate', [
      str('url', 'https://example.com/cat.png'),
      str('motion', 'low'),
      int('batch', 2),
      bool('hd', true),
    ]);
    const generates = e.creates('generate');
    expect(generates).toHaveLength(1);
    expect(generates[0]!.body).toMatchObject({
      taskType: 'mj_video_hd',
      fileUrls: ['https://example.com/cat.png'],
      motion: 'low',
      videoBatchSize: 2,
    });
    expect(generates[0]!.body).not.toHaveProperty('speed');
    const v = await deliveredIn(e, cmd, () => e.fake.originalFor(cmd.token)?.id);
    expect(v.job.kind).toBe('video_hd');
    expect(v.message.attachments).toHaveLength(2);
    expect(v.message.content).toContain('HD video (Low motion)');
    expect(labels(v.message)).toEqual(['Extend 1', 'Extend 1 ✏️', 'Extend 2', 'Extend 2 ✏️']);
  });

  it.each([
    ['neither an image nor a URL', [], [], /Give an image/],
    ['both an image and a URL', [str('url', 'https://example.com/cat.png')], [{ option: 'image' }], /either/],
    ['an attachment that is not an image', [], [{ option: 'image', filename: 'clip.mov', contentType: 'video/quicktime' }], /clip\.mov/],
  ] as const)('refuses %s privately and sends nothing', async (_what, options, attachments, message) => {
    const e = (await start());
    const cmd = await e.slash('animate', [...options], { attachments: [...attachments], id: snowflake(e.clock.now()) });
    expect(ephemeralAnswer(e, cmd)).toMatch(message);
    expect(e.sim.requests).toEqual([]);
    expect(await e.jobs()).toEqual([]);
  });
});
