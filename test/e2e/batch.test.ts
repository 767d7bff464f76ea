/**
 * Batches end to end (permutations, --repeat, the expensive-job confirm):
 * the real app, discord.js against the fake Discord (every payload checked
 * against Discord's schema), the real KIE client against the local KIE
 * server. Nothing reaches KIE before the author confirms; Confirm is decided
 * once; the batch is admitted whole or not at all.
 */
import { describe, expect, it } from 'vitest';
import { BATCH_TTL_MS } from '../../src/domain/batches.js';
import { bool, buttonsOf, CHANNEL, EPHEMERAL, OTHER_USER, str, useE2E, USER, type E2E, type Injected } from './harness.js';
import type { FakeMessage } from '../support/fakeDiscord.js';

const start = useE2E();

const bodyOf = (c: { body: unknown }): Record<string, unknown> => c.body as Record<string, unknown>;

/** The one private answer to an interaction (a refusal). */
function privateAnswer(e: E2E, i: Injected): string {
  const responses = e.requestsFor(i.token);
  expect(responses).toHaveLength(1);
  expect(responses[0]).toMatchObject({ route: 'interactionCallback', body: { type: 4 } });
  const reply = e.original(i.token);
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  return reply.content;
}

/** /imagine that should ask first: the public question and its message. */
async function ask(e: E2E, prompt: string): Promise<{ cmd: Injected; question: FakeMessage }> {
  const cmd = await e.slash('imagine', [str('prompt', prompt)]);
  const question = e.original(cmd.token);
  expect(question.flags & EPHEMERAL).toBe(0);
  return { cmd, question };
}

/** The job messages a Confirm made (its follow-ups). */
function jobMessages(e: E2E, confirm: Injected): FakeMessage[] {
  const record = e.fake.interactionFor(confirm.token)!;
  return record.followupIds.map((id) => e.fake.message(id)!);
}

describe('permutations and --repeat', () => {
  it('asks first with the count and the credits, then on Confirm runs every combination, each in its own message with its cost', async () => {
    const e = await start();
    const { question } = await ask(e, 'a {red, blue} car --ar {1:1, 16:9}');
    expect(e.creates()).toHaveLength(0);
    expect(await e.jobs()).toHaveLength(0);
    expect(question.content).toContain('**4 jobs** · fast · 8 credits each · **32 credits** in all');
    expect(question.content).toContain('- a red car --ar 1:1');
    expect(question.content).toMatch(/expires <t:\d+:R> \(15 minutes\)/);
    expect(question.mentions).toEqual([]);
    expect(buttonsOf(question).map((b) => [b.label, b.action?.action])).toEqual([
      ['Confirm 4 jobs', 'batch_confirm'],
      ['Cancel', 'batch_cancel'],
    ]);

    const confirm = await e.click(question, 'Confirm 4 jobs');
    expect(e.requestsFor(confirm.token)[0]).toMatchObject({ route: 'interactionCallback', body: { type: 7 } });
    expect(e.fake.message(question.id)!.content).toContain('confirmed · 4 jobs · 32 credits');
    expect(buttonsOf(e.fake.message(question.id)!)).toEqual([]);
    const messages = jobMessages(e, confirm);
    expect(messages).toHaveLength(4);

    await e.runUntil(() => e.creates().length === 4 && messages.every((m) => (e.fake.message(m.id)?.attachments.length ?? 0) === 4));
    const bodies = e.creates('generate').map((c) => `${String(bodyOf(c).prompt)} ${String(bodyOf(c).aspectRatio)}`).sort();
    expect(bodies).toEqual(['a blue car 16:9', 'a blue car 1:1', 'a red car 16:9', 'a red car 1:1']);
    const jobs = await e.jobs();
    expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    for (const job of jobs) {
      const message = e.fake.message(job.origin.messageId!)!;
      // Cost on every result: speed, credits charged, how long KIE took (20 s in the simulator).
      expect(message.content).toContain('(fast · 8 credits · 20 s)');
      expect(message.content).toContain(job.promptText);
      expect(buttonsOf(message)).toHaveLength(9);
    }
    // Each job's ledger line is its own, 8 credits each.
    expect((await e.app.team.ledger.query({ channelId: CHANNEL })).map((l) => l.credits)).toEqual([8, 8, 8, 8]);
  });

  it('--repeat N runs the prompt N times', async () => {
    const e = await start();
    const { question } = await ask(e, 'a lighthouse --r 3 --relax');
    expect(question.content).toContain('**3 jobs** · relaxed · 3 credits each · **9 credits** in all');
    await e.click(question, 'Confirm 3 jobs');
    await e.settle();
    expect(e.creates('generate').map((c) => bodyOf(c).prompt)).toEqual(['a lighthouse', 'a lighthouse', 'a lighthouse']);
  });

  it.each([
    ['a {red, blue car', /never closed/],
    ['a red} car', /without its/],
    ['a {red, blue} car --repeat 41', /out of range/],
    ['{a, b, c, d, e, f, g} {h, i, j, k, l, m, n}', /at most 40/],
    ['a {cat, dog} --tile', /--tile/],
  ])('malformed %s: a clear private error, nothing saved, no KIE call', async (prompt, message) => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', prompt)]);
    expect(privateAnswer(e, cmd)).toMatch(message);
    expect(e.creates()).toHaveLength(0);
    expect(await e.jobs()).toHaveLength(0);
    const saved = await e.app.ctx.repo.listActive();
    expect(saved).toEqual([]);
  });

  it('a single prompt without braces or --repeat runs at once, as before', async () => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')]);
    expect(e.requestsFor(cmd.token)[0]).toMatchObject({ body: { type: 5 } });
    expect(e.creates()).toHaveLength(1);
    expect(buttonsOf(e.original(cmd.token))).toEqual([]);
  });
});

describe('Confirm / Cancel', () => {
  it('only the author may press them: a teammate gets a private refusal and nothing happens', async () => {
    const e = await start();
    const { question } = await ask(e, 'a {red, blue} car');
    const other = await e.click(question, 'Confirm 2 jobs', { user: { id: OTHER_USER } });
    expect(privateAnswer(e, other)).toBe(`Only <@${USER}> can confirm or cancel this batch.`);
    const otherCancel = await e.click(question, 'Cancel', { user: { id: OTHER_USER } });
    expect(privateAnswer(e, otherCancel)).toMatch(/Only/);
    expect(e.creates()).toHaveLength(0);
    expect(buttonsOf(e.fake.message(question.id)!)).toHaveLength(2);

    const cancel = await e.click(question, 'Cancel');
    expect(e.requestsFor(cancel.token)[0]).toMatchObject({ body: { type: 7 } });
    expect(e.fake.message(question.id)!.content).toContain('cancelled · 2 jobs');
    expect(e.fake.message(question.id)!.content).toContain('Nothing was started.');
    expect(buttonsOf(e.fake.message(question.id)!)).toEqual([]);
    // A stale Confirm on the old message answers clearly.
    const late = await e.click(question, 'Confirm 2 jobs');
    expect(privateAnswer(e, late)).toMatch(/was cancelled; nothing was started/);
    expect(e.creates()).toHaveLength(0);
    expect(await e.jobs()).toHaveLength(0);
  });

  it('a double click confirms once: one admission, one set of jobs', async () => {
    const e = await start();
    const { question } = await ask(e, 'a cat --repeat 2');
    const a = e.inject(e.rawClick(question, 'Confirm 2 jobs'));
    const b = e.inject(e.rawClick(question, 'Confirm 2 jobs'));
    await Promise.all([a.handled, b.handled]);
    await e.settle();
    expect(e.creates()).toHaveLength(2);
    expect(await e.jobs()).toHaveLength(2);
    expect(await e.app.team.ledger.query({ channelId: CHANNEL })).toHaveLength(2);
    const answers = [a, b].map((c) => e.fake.interactionFor(c.token)!.ackType).sort();
    expect(answers).toEqual([4, 7]);
    const loser = [a, b].find((c) => e.fake.interactionFor(c.token)!.ackType === 4)!;
    expect(privateAnswer(e, loser)).toMatch(/already confirmed/);
  });

  it('at the budget edge (the budget fits 3 of 4) nothing is admitted or sent, and the author is told why', async () => {
    const e = await start();
    await e.app.team.settings.set('channel', CHANNEL, { dailyBudget: 24 });
    const { question } = await ask(e, 'a cat --repeat 4');
    const confirm = await e.click(question, 'Confirm 4 jobs');
    expect(privateAnswer(e, confirm)).toBe(
      `<#${CHANNEL}> has 24 of 24 credits left today; these 4 jobs cost 32 credits in all (8 each). The daily budget resets at 00:00 UTC. ` +
        'Nothing was started. The batch is still open: Confirm again once it fits, or Cancel it.',
    );
    expect(e.creates()).toHaveLength(0);
    expect(await e.jobs()).toHaveLength(0);
    expect(await e.app.team.ledger.query({})).toEqual([]);
    // Still open: the author can cancel it.
    await e.click(question, 'Cancel');
    expect(e.fake.message(question.id)!.content).toContain('cancelled');
  });

  it('an expired batch answers clearly and sends nothing', async () => {
    const e = await start();
    const { question } = await ask(e, 'a {cat, dog}');
    await e.clock.advance(BATCH_TTL_MS + 1_000);
    const late = await e.click(question, 'Confirm 2 jobs');
    expect(privateAnswer(e, late)).toMatch(/expired .*15 minutes.*nothing was started/);
    expect(e.creates()).toHaveLength(0);
  });

  it('survives a restart: the batch is in the database', async () => {
    const e = await start();
    const { question } = await ask(e, 'a {cat, dog}');
    await e.restart();
    await e.click(question, 'Confirm 2 jobs');
    await e.settle();
    expect(e.creates()).toHaveLength(2);
  });
});

describe('expensive-job confirm', () => {
  it('a single job above the channel threshold asks first; one below it runs at once', async () => {
    const e = await start();
    await e.app.team.settings.set('channel', CHANNEL, { confirmAbove: 5 });
    const cheap = await e.slash('imagine', [str('prompt', 'a cheap fox --relax')]);
    expect(e.creates()).toHaveLength(1);
    expect(buttonsOf(e.original(cheap.token))).toEqual([]);

    const { question } = await ask(e, 'a fast fox');
    expect(e.creates()).toHaveLength(1);
    expect(question.content).toContain("This job costs **8 credits** (fast), above this channel's confirmation threshold.");
    expect(buttonsOf(question).map((b) => b.label)).toEqual(['Confirm', 'Cancel']);
    const confirm = await e.click(question, 'Confirm');
    expect(e.creates()).toHaveLength(2);
    expect(bodyOf(e.creates()[1]!).prompt).toBe('a fast fox');
    await e.runUntil(() => (e.fake.message(jobMessages(e, confirm)[0]!.id)?.attachments.length ?? 0) === 4);
  });


  it('/animate above the threshold asks first too', async () => {
    const e = await start();
    await e.app.team.settings.set('channel', CHANNEL, { confirmAbove: 20 });
    const cmd = await e.slash('animate', [str('url', 'https://images.example/fox.png'), bool('hd', true)]);
    const question = e.original(cmd.token);
    expect(question.content).toContain("This job costs **45 credits**, above this channel's confirmation threshold.");
    expect(e.creates()).toHaveLength(0);
    await e.click(question, 'Confirm');
    expect(e.creates()).toHaveLength(1);
    expect((await e.jobs())[0]).toMatchObject({ kind: 'video_hd', estimatedCredits: 45 });
  });

  it('a button above the threshold (Animate) asks its presser first; confirming claims the press, so a second question for it makes nothing', async () => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')]);
    await e.runUntil(() => (e.fake.originalFor(cmd.token)?.attachments.length ?? 0) === 4);
    const up = await e.click(e.original(cmd.token), 'U1');
    const upMessage = e.fake.interactionFor(up.token)!.followupIds[0]!;
    await e.runUntil(() => (e.fake.message(upMessage)?.attachments.length ?? 0) === 1);
    await e.app.team.settings.set('channel', CHANNEL, { confirmAbove: 10 });

    const first = await e.click(e.fake.message(upMessage)!, 'Animate (High motion)');
    const second = await e.click(e.fake.message(upMessage)!, 'Animate (High motion)');
    const [q1, q2] = [e.original(first.token), e.original(second.token)];
    expect(q1.content).toContain("This job costs **15 credits**, above this channel's confirmation threshold.");
    expect(e.creates()).toHaveLength(2);

    await e.click(q1, 'Confirm');
    expect(e.creates()).toHaveLength(3);
    expect((await e.jobs()).at(-1)).toMatchObject({ kind: 'video', parent: { action: 'animate_high' } });
    const again = await e.click(q2, 'Confirm');
    const answer = e.fake.messages(CHANNEL).filter((m) => (m.flags & EPHEMERAL) === EPHEMERAL).at(-1)!;
    expect(answer.content).toMatch(/already has this job/);
    expect(e.fake.interactionFor(again.token)!.ackType).toBe(7);
    expect(e.creates()).toHaveLength(3);
  });

  /** A delivered grid in a channel whose confirm_above (3) is below an upscale's 4 credits. */
  async function gridAskingForUpscales(e: E2E): Promise<FakeMessage> {
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')]);
    await e.runUntil(() => (e.fake.originalFor(cmd.token)?.attachments.length ?? 0) === 4);
    await e.app.team.settings.set('channel', CHANNEL, { confirmAbove: 3 });
    return e.original(cmd.token);
  }
  /** Each grid button's style (1 Primary, blue; 2 Secondary, grey). */
  const styles = (m: FakeMessage) => buttonsOf(m).map((b) => [b.label ?? b.emoji, b.style]);
  const GRID = ['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4'];

  it('a U above the threshold asks first; Confirm starts the upscale and turns that U blue on the grid, as an unasked U does', async () => {
    const e = await start();
    const grid = await gridAskingForUpscales(e);
    const press = await e.click(grid, 'U2');
    const question = e.original(press.token);
    expect(question.content).toContain("This job costs **4 credits** (fast), above this channel's confirmation threshold.");
    // Asking changes nothing on the grid yet.
    expect(styles(e.fake.message(grid.id)!)).toEqual(GRID.map((l) => [l, 2]));
    expect(e.creates('upscale')).toHaveLength(0);

    const confirm = await e.click(question, 'Confirm');
    expect(e.creates('upscale')).toHaveLength(1);
    const gridJob = (await e.jobs()).find((j) => j.origin.messageId === grid.id)!;
    expect((await e.job(gridJob.id)).pressed).toEqual(['upscale:1']);
    // The grid itself is edited (through the bot's channel route; the harness checks the payload against Discord's schema).
    const edit = e.fake.requests.filter((r) => r.route === 'channelEdit' && r.params.messageId === grid.id);
    expect(edit).toHaveLength(1);
    expect(styles(e.fake.message(grid.id)!)).toEqual(GRID.map((l) => [l, l === 'U2' ? 1 : 2]));
    expect(e.fake.message(grid.id)!.attachments.map((a) => a.id)).toEqual(grid.attachments.map((a) => a.id));
    // The upscale arrives in the Confirm's message; the grid keeps its blue U2.
    const upscale = jobMessages(e, confirm)[0]!;
    await e.runUntil(() => (e.fake.message(upscale.id)?.attachments.length ?? 0) === 1);
    expect(styles(e.fake.message(grid.id)!)).toEqual(GRID.map((l) => [l, l === 'U2' ? 1 : 2]));
  });

  it('a U whose question is cancelled, or left to expire, stays grey', async () => {
    const e = await start();
    const grid = await gridAskingForUpscales(e);
    const cancelled = e.original((await e.click(grid, 'U1')).token);
    await e.click(cancelled, 'Cancel');
    const expired = e.original((await e.click(e.fake.message(grid.id)!, 'U3')).token);
    await e.clock.advance(BATCH_TTL_MS + 1_000);
    await e.click(expired, 'Confirm');

    expect(e.creates('upscale')).toHaveLength(0);
    expect(styles(e.fake.message(grid.id)!)).toEqual(GRID.map((l) => [l, 2]));
    expect((await e.jobs()).every((j) => j.pressed.length === 0)).toBe(true);
    expect(e.fake.requests.filter((r) => r.route === 'channelEdit')).toEqual([]);
  });

  it('a grid the bot cannot edit leaves the confirmed upscale running: the failure is a warning, the upscale is delivered', async () => {
    const e = await start();
    const grid = await gridAskingForUpscales(e);
    const question = e.original((await e.click(grid, 'U4')).token);
    e.fake.failNext({ route: 'channelEdit', status: 403, code: 50001, message: 'Missing Access' });
    const confirm = await e.click(question, 'Confirm');

    expect(e.creates('upscale')).toHaveLength(1);
    expect(styles(e.fake.message(grid.id)!)).toEqual(GRID.map((l) => [l, 2]));
    expect(e.logs.filter((l) => l.level === 40).map((l) => l.msg)).toContain('could not mark the confirmed press on its result; its job goes on');
    const upscale = jobMessages(e, confirm)[0]!;
    await e.runUntil(() => (e.fake.message(upscale.id)?.attachments.length ?? 0) === 1);
    expect((await e.jobs()).at(-1)).toMatchObject({ kind: 'upscale', state: 'succeeded', parent: { action: 'upscale', position: 3 } });
  });
});

describe('cost on every result', () => {
  it('an upscale shows its speed, credits and duration too', async () => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')]);
    await e.runUntil(() => (e.fake.originalFor(cmd.token)?.attachments.length ?? 0) === 4);
    expect(e.original(cmd.token).content).toContain('(fast · 8 credits · 20 s)');
    const click = await e.click(e.original(cmd.token), 'U1');
    const followUp = e.fake.interactionFor(click.token)!.followupIds[0]!;
    await e.runUntil(() => (e.fake.message(followUp)?.attachments.length ?? 0) === 1);
    expect(e.fake.message(followUp)!.content).toMatch(/Image #1 <@\d+> \(fast · \d+ credits · 20 s\)/);
  });
});
