/**
 * A bot restart, end to end: a new discord.js client and a new app built over
 * the same SQLite file, while Discord (the fake) and KIE (the local server)
 * keep running. Buttons on messages made before the restart must still work,
 * and work already at KIE must be finished — once — by the new process.
 */
import { describe, expect, it } from 'vitest';
import { EXTEND_PROMPT_INPUT_ID } from '../../src/discord/customId.js';
import { CLAIM_GRACE_MS } from '../../src/domain/claims.js';
import { newJobId, type Job } from '../../src/domain/job.js';
import type { FakeMessage } from '../support/fakeDiscord.js';
import { buttonsOf, CHANNEL, EPHEMERAL, useE2E, str, USER, type E2E, type Injected } from './harness.js';

const PROMPT = 'a red fox --ar 16:9 --v 7';

const start = useE2E();

const delivered = (e: E2E, messageId: () => string | undefined) => (): boolean => {
  const id = messageId();
  return id !== undefined && (e.fake.message(id)?.attachments.length ?? 0) > 0;
};

async function jobIn(e: E2E, messageId: string): Promise<Job> {
  const job = (await e.jobs()).find((j) => j.origin.messageId === messageId);
  if (!job) throw new Error(`no job lives in message ${messageId}`);
  return job;
}

async function grid(e: E2E): Promise<{ cmd: Injected; message: FakeMessage; job: Job }> {
  const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
  await e.runUntil(delivered(e, () => e.fake.originalFor(cmd.token)?.id));
  const message = e.original(cmd.token);
  return { cmd, message, job: await jobIn(e, message.id) };
}

/** The follow-up an upscale click made for its result. */
const followUpOf = (e: E2E, click: Injected) => (): string | undefined => e.fake.interactionFor(click.token)?.followupIds[0];

describe('after a restart', () => {
  it('buttons on a grid made before the restart still work', async () => {
    const e = (await start());
    const g = await grid(e);
    const appBefore = e.app;
    await e.restart();
    expect(e.app).not.toBe(appBefore);

    const click = await e.click(g.message, 'U2');
    expect(e.creates('upscale').map((r) => r.body)).toEqual([{ taskId: g.job.taskId, imageIndex: 1 }]);
    expect(buttonsOf(e.fake.message(g.message.id)!).find((b) => b.label === 'U2')?.style).toBe(1);

    await e.runUntil(delivered(e, followUpOf(e, click)));
    const upscale = e.fake.message(followUpOf(e, click)()!)!;
    expect(upscale.content).toContain('Image #2');
    expect(upscale.content).toContain(`<@${USER}>`);
    expect(buttonsOf(upscale).map((b) => b.label)).toEqual(['Vary', 'Animate (High motion)', 'Animate (Low motion)']);
  });

  it('a job KIE was still working on is delivered once by the new process, without being sent again', async () => {
    const e = (await start({ durationMs: () => 60_000 }));
    const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
    await e.clock.advance(35_000); // polled at least once, still running
    const [running] = await e.jobs();
    expect(running).toMatchObject({ state: 'running' });
    expect(e.sim.requests.filter((r) => r.endpoint === 'recordInfo').length).toBeGreaterThan(0);

    await e.restart();
    await e.runUntil(delivered(e, () => e.fake.originalFor(cmd.token)?.id));

    expect(e.creates()).toHaveLength(1);
    const job = await e.job(running!.id);
    expect(job).toMatchObject({ state: 'succeeded', delivered: true, taskId: running!.taskId });
    const message = e.original(cmd.token);
    expect(message.attachments).toHaveLength(4);
    const finalEdits = e.fake.requests.filter((r) => (r.route === 'webhookEdit' || r.route === 'channelEdit') && r.files.length > 0);
    expect(finalEdits).toHaveLength(1);
    expect(e.fake.messages(CHANNEL)).toHaveLength(1);
  });

  it('a second click after the restart still points at the upscale started before it', async () => {
    const e = (await start({ durationMs: () => 40_000 }));
    const g = await grid(e);
    const first = await e.click(g.message, 'U2');
    const upscaleMessageId = followUpOf(e, first)()!;
    await e.restart();

    const second = await e.click(g.message, 'U2');
    expect(e.fake.interactionFor(second.token)?.ackType).toBe(4);
    const pointer = e.original(second.token);
    expect(pointer.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(pointer.content).toContain(`/${CHANNEL}/${upscaleMessageId}`);
    expect(e.creates('upscale')).toHaveLength(1);

    await e.runUntil(delivered(e, () => upscaleMessageId));
    expect((await jobIn(e, upscaleMessageId)).state).toBe('succeeded');
  });

  it('a click lost in a crash between claiming U2 and storing its job blocks U2 only for a grace period', async () => {
    const e = (await start());
    const g = await grid(e);
    // What a crash right after the claim leaves behind: the claim, and no job.
    await e.app.ctx.repo.claimAction(g.job.id, 'upscale', 1, newJobId(e.clock.now()));
    await e.restart();

    const early = await e.click(g.message, 'U2');
    expect(e.original(early.token).content).toBe('That upscale is already in progress.');
    expect(e.creates('upscale')).toEqual([]);

    await e.clock.advance(CLAIM_GRACE_MS);
    const late = await e.click(g.message, 'U2');
    expect(e.fake.interactionFor(late.token)?.ackType).toBe(7);
    expect(e.creates('upscale').map((r) => r.body)).toEqual([{ taskId: g.job.taskId, imageIndex: 1 }]);
    await e.runUntil(delivered(e, followUpOf(e, late)));
  });

  it('a manual-extend modal opened before the restart can be submitted after it', async () => {
    const e = (await start());
    const g = await grid(e);
    const up = await e.click(g.message, 'U1');
    await e.runUntil(delivered(e, followUpOf(e, up)));
    const animate = await e.click(e.fake.message(followUpOf(e, up)()!)!, 'Animate (Low motion)');
    await e.runUntil(delivered(e, () => e.fake.originalFor(animate.token)?.id));
    const video = e.original(animate.token);
    const videoJob = await jobIn(e, video.id);

    const open = await e.click(video, 'Extend 1 ✏️');
    const modal = e.fake.interactionFor(open.token)!.modal as { custom_id: string };
    await e.restart();

    const submit = await e.submitModal(video, modal.custom_id, { [EXTEND_PROMPT_INPUT_ID]: 'the fox turns to the camera' });
    expect(e.creates('extend').map((r) => r.body)).toEqual([
      { taskType: 'mj_video_extend_manual', taskId: videoJob.taskId, index: 0, prompt: 'the fox turns to the camera' },
    ]);
    await e.runUntil(delivered(e, () => e.fake.originalFor(submit.token)?.id));
    expect(e.original(submit.token).content).toContain('the fox turns to the camera');
  });
});
