/**
 * /imagine end to end: a raw slash command through the real discord.js
 * client, the real app (src/app.ts) and the real KIE client against the
 * local KIE server, to the final message in the fake Discord. Every payload
 * the bot sends is checked against Discord's schema by the harness; a test
 * fails if any was invalid or if the app logged an error.
 */
import { describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../src/discord/customId.js';
import type { Job } from '../../src/domain/job.js';
import { buttonOf, buttonsOf, CHANNEL, EPHEMERAL, useE2E, str, USER, type E2E } from './harness.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PROMPT = 'a red fox --ar 16:9 --v 7';

const start = useE2E();

/** The only job the test made. */
async function onlyJob(e: E2E): Promise<Job> {
  const jobs = await e.jobs();
  expect(jobs).toHaveLength(1);
  return jobs[0]!;
}

const hasAttachments = (e: E2E, token: string, n: number) => () => (e.fake.originalFor(token)?.attachments.length ?? 0) === n;

describe('/imagine end to end', () => {
  it('defers publicly first, persists the job before KIE hears of it, and ends with four PNGs and U/V/🔄 buttons', async () => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);

    // The first (and, so far, only) response is a public deferral, accepted by Discord in time.
    const first = e.requestsFor(cmd.token)[0];
    expect(first).toMatchObject({ route: 'interactionCallback', body: { type: 5 } });
    expect(first!.status).toBeLessThan(300);
    expect(((first!.body as { data?: { flags?: number } }).data?.flags ?? 0) & EPHEMERAL).toBe(0);
    expect(e.fake.interactionFor(cmd.token)?.ackType).toBe(5);

    // Order: acknowledged → stored as pending → handed to the KIE client → marked as sent (after the
    // client's limiter, right before the HTTP request) → stored as running.
    const job = await onlyJob(e);
    const timeline = e.events.filter((ev) => ev.startsWith('discord:interactionCallback') || ev.startsWith(`jobs:${job.id}`) || ev === 'kie:generate');
    expect(timeline).toEqual(['discord:interactionCallback:5', `jobs:${job.id}:pending`, 'kie:generate', `jobs:${job.id}:pending`, `jobs:${job.id}:running`]);
    expect((await e.job(job.id)).createSentAt).toEqual(expect.any(Number));

    // KIE got exactly the parsed request, once.
    const creates = e.creates();
    expect(creates).toHaveLength(1);
    expect(creates[0]).toMatchObject({ endpoint: 'generate', responseCode: 200 });
    expect(creates[0]!.body).toEqual({
      taskType: 'mj_txt2img',
      prompt: 'a red fox',
      aspectRatio: '16:9',
      version: '7',
      speed: 'fast',
      stylization: 100,
    });
    expect(job).toMatchObject({ state: 'running', taskId: creates[0]!.taskId, kind: 'grid', promptText: PROMPT });
    expect(job.origin).toMatchObject({ channelId: CHANNEL, userId: USER, messageId: e.original(cmd.token).id });

    await e.runUntil(hasAttachments(e, cmd.token, 4));

    // The final edit of the reply uploads four PNG files …
    const message = e.original(cmd.token);
    const lastEdit = e.requestsFor(cmd.token).filter((r) => r.route === 'webhookEdit').at(-1)!;
    expect(lastEdit.status).toBe(200);
    expect(lastEdit.files).toHaveLength(4);
    expect(lastEdit.files.every((f) => f.contentType === 'image/png' && f.size > 0)).toBe(true);
    const done = await e.job(job.id);
    expect(done).toMatchObject({ state: 'succeeded', delivered: true });
    expect(done.results).toHaveLength(4);
    for (const [i, attachment] of message.attachments.entries()) {
      const bytes = e.fake.attachmentData(attachment.id)!;
      expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      // … the very bytes KIE serves for that result, re-hosted.
      const served = Buffer.from(await (await fetch(done.results[i]!.url)).arrayBuffer());
      expect(bytes.equals(served)).toBe(true);
      expect(done.results[i]!.attachmentId).toBe(attachment.id);
    }

    // … with U1–U4 and 🔄 on row 1, V1–V4 on row 2, every custom_id decoding to this job.
    const buttons = buttonsOf(message);
    expect(buttons.map((b) => [b.row, b.label ?? b.emoji])).toEqual([
      [0, 'U1'], [0, 'U2'], [0, 'U3'], [0, 'U4'], [0, '🔄'],
      [1, 'V1'], [1, 'V2'], [1, 'V3'], [1, 'V4'],
    ]);
    expect(buttons.map((b) => b.action)).toEqual([
      ...[0, 1, 2, 3].map((index) => ({ action: 'upscale', jobId: job.id, index })),
      { action: 'reroll', jobId: job.id },
      ...[0, 1, 2, 3].map((index) => ({ action: 'vary', jobId: job.id, index })),
    ]);
    expect(buttons.every((b) => decodeCustomId(b.customId) !== null && b.style === 2)).toBe(true);

    // The prompt with its parameters, the requester (pinged), the speed and what it cost.
    expect(message.content).toContain('a red fox');
    expect(message.content).toContain('--ar 16:9');
    expect(message.content).toContain('--v 7');
    expect(message.content).toContain(`<@${USER}>`);
    expect(message.content).toMatch(/fast · 8 credits/);
    expect(message.mentions.map((u) => u.id)).toEqual([USER]);
    expect(message.flags & EPHEMERAL).toBe(0);
    // Still exactly one create: polling never re-sends.
    expect(e.creates()).toHaveLength(1);
  });

  it.each<[string, { prompt: string; attachment?: string }, string]>([
    ['an unsupported aspect ratio', { prompt: 'a red fox --ar 7:3' }, '--ar'],
    ['an unsupported parameter', { prompt: 'a red fox --tile' }, '--tile'],
    ['a prompt over 2000 characters', { prompt: 'x'.repeat(2001) }, '2000'],
    ['an attachment that is not an image', { prompt: 'a red fox', attachment: 'notes.txt' }, 'notes.txt'],
  ])('refuses %s privately, naming it, and sends nothing to KIE', async (_what, input, named) => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', input.prompt)], {
      ...(input.attachment ? { attachments: [{ option: 'image', filename: input.attachment, contentType: 'text/plain' }] } : {}),
    });

    const responses = e.requestsFor(cmd.token);
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ route: 'interactionCallback', body: { type: 4 } });
    expect(responses[0]!.status).toBeLessThan(300);
    const reply = e.original(cmd.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toContain(named);
    expect(reply.mentions).toEqual([]);

    expect(e.sim.requests).toEqual([]);
    expect(await e.jobs()).toEqual([]);
  });

  describe('delivery when the interaction token no longer works', () => {
    it('edits the reply through the channel when Discord rejects the token', async () => {
      const e = await start();
      const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
      const replyId = e.original(cmd.token).id;
      e.fake.expireToken(cmd.token);

      await e.runUntil(() => (e.fake.message(replyId)?.attachments.length ?? 0) === 4);

      const rejected = e.requestsFor(cmd.token).filter((r) => r.route === 'webhookEdit');
      expect(rejected.map((r) => r.status)).toEqual([401]);
      const channelEdits = e.fake.requests.filter((r) => r.route === 'channelEdit');
      expect(channelEdits).toHaveLength(1);
      expect(channelEdits[0]).toMatchObject({ status: 200, params: { channelId: CHANNEL, messageId: replyId } });
      expect(channelEdits[0]!.files).toHaveLength(4);
      expect(e.fake.requests.filter((r) => r.route === 'channelCreate')).toEqual([]);

      const message = e.fake.message(replyId)!;
      expect(buttonsOf(message)).toHaveLength(9);
      expect(message.content).toContain(`<@${USER}>`);
      const job = await onlyJob(e);
      expect(job).toMatchObject({ state: 'succeeded', delivered: true });
      // The dead token is forgotten, so later edits go straight to the channel.
      expect(job.origin).toMatchObject({ interactionToken: null, messageId: replyId });
    });

    it('does not even try a token older than Discord allows (a slow relaxed job)', async () => {
      const e = await start({ durationMs: () => 14.5 * 60_000 });
      const cmd = await e.slash('imagine', [str('prompt', `${PROMPT} --relax`)]);
      const replyId = e.original(cmd.token).id;

      await e.runUntil(() => (e.fake.message(replyId)?.attachments.length ?? 0) === 4, 30 * 60_000);

      // Any webhook edit made was a progress edit within the token's life; the result went through the channel.
      const channelEdits = e.fake.requests.filter((r) => r.route === 'channelEdit' && r.files.length === 4);
      expect(channelEdits).toHaveLength(1);
      expect(e.requestsFor(cmd.token).filter((r) => r.status === 401)).toEqual([]);
      expect((await onlyJob(e)).state).toBe('succeeded');
    });

    it('posts a new message that pings the user when the reply cannot be edited either', async () => {
      const e = await start();
      const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
      const replyId = e.original(cmd.token).id;
      e.fake.expireToken(cmd.token);
      e.fake.failNext({ route: 'channelEdit', status: 403, code: 50013, message: 'Missing Permissions' });

      await e.runUntil(() => e.fake.requests.some((r) => r.route === 'channelCreate' && r.status === 200));

      const created = e.fake.messages(CHANNEL).filter((m) => m.id !== replyId);
      expect(created).toHaveLength(1);
      const message = created[0]!;
      expect(message.attachments).toHaveLength(4);
      expect(message.content).toContain(`<@${USER}>`);
      expect(message.mentions.map((u) => u.id)).toEqual([USER]);
      expect(message.message_reference).toMatchObject({ message_id: replyId });
      expect(buttonsOf(message).map((b) => b.label ?? b.emoji)).toContain('U1');
      const job = await onlyJob(e);
      expect(job).toMatchObject({ state: 'succeeded', delivered: true });
      expect(job.origin.messageId).toBe(message.id);
    });
  });

  it('shows KIE’s reason for a failed generation and keeps 🔄, which sends the same request again', async () => {
    const e = await start();
    e.sim.inject({ kind: 'taskFailure', successFlag: 2, errorCode: 501, errorMessage: 'Banned prompt detected' });
    const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);

    await e.runUntil(() => e.fake.originalFor(cmd.token)?.content.includes('❌') ?? false);

    const message = e.original(cmd.token);
    const job = await onlyJob(e);
    expect(job).toMatchObject({ state: 'failed', delivered: true, error: { code: '501', message: 'Banned prompt detected' } });
    expect(message.content).toContain('Banned prompt detected');
    expect(message.content).toContain(`<@${USER}>`);
    expect(message.attachments).toEqual([]);
    const retry = buttonOf(message, 'Retry');
    expect(retry.emoji).toBe('🔄');
    expect(retry.action).toEqual({ action: 'reroll', jobId: job.id });

    const click = await e.click(message, 'Retry');
    const again = e.creates('generate');
    expect(again).toHaveLength(2);
    expect(again[1]!.body).toEqual(again[0]!.body);
    await e.runUntil(hasAttachments(e, click.token, 4));
    const jobs = await e.jobs();
    expect(jobs.map((j) => j.state)).toEqual(['failed', 'succeeded']);
    expect(jobs[1]!.parent).toEqual({ jobId: job.id, position: 0, action: 'reroll' });
  });
});
