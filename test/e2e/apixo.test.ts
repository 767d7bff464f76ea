/**
 * APIXO against the notes' facts, end to end (the real app, the fake Discord,
 * the local APIXO server): only fast and turbo exist, so a relaxed job is a
 * private refusal with no call; the version and speed sent are the ones the
 * reply shows; a resultJson that cannot be read fails the job with a clear
 * message instead of crashing or polling forever; results are re-hosted at
 * once because APIXO's URLs die after about a day, and /show of an older job
 * comes from Discord's copy, never from APIXO's expired URL.
 */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/domain/job.js';
import { buttonsOf, EPHEMERAL, str, useE2E, type E2E, type Injected } from './harness.js';

const start = useE2E();
const HOUR = 3_600_000;

const apixoCreates = (e: E2E) => e.apixoSim!.requests.filter((r) => r.endpoint === 'create');
const kieCreates = (e: E2E) => e.events.filter((x) => x.startsWith('kie:'));

async function delivered(e: E2E, cmd: Injected): Promise<Job> {
  await e.runUntil(() => {
    const m = e.fake.originalFor(cmd.token);
    return m !== undefined && (m.attachments.length > 0 || m.content.includes('failed'));
  });
  const message = e.original(cmd.token);
  return (await e.jobs()).find((j) => j.origin.messageId === message.id)!;
}

describe('APIXO as the notes describe it', () => {
  it.each([
    ['--relax in the prompt', [str('prompt', 'a fox in the snow --relax')]],
    ['the speed option', [str('prompt', 'a fox in the snow'), str('speed', 'relaxed')]],
  ])('a relaxed job (%s) is refused privately, naming the speeds APIXO has, and nothing is sent', async (_name, options) => {
    const e = await start({ provider: 'apixo' });
    const cmd = await e.slash('imagine', options);
    const reply = e.original(cmd.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toMatch(/relaxed is not available at APIXO \(fast, turbo\)/);
    expect(apixoCreates(e)).toEqual([]);
    expect(kieCreates(e)).toEqual([]);
    expect(await e.jobs()).toEqual([]);
  });

  it('turbo and a version go to APIXO as its names (v6.1 → "v6.1"), as the reply shows them', async () => {
    const e = await start({ provider: 'apixo' });
    const cmd = await e.slash('imagine', [str('prompt', 'a fox --turbo --v 6.1 --ar 16:9')]);
    const job = await delivered(e, cmd);
    expect(job).toMatchObject({ provider: 'apixo', state: 'succeeded', speed: 'turbo' });
    expect(apixoCreates(e).map((r) => (r.body as { input: unknown }).input)).toEqual([
      expect.objectContaining({ mode: 'text-to-image', speed: 'turbo', version: 'v6.1', aspect: '16:9' }),
    ]);
    expect(e.original(cmd.token).content).toContain('turbo');

    // niji 7, which only APIXO has, by number.
    await delivered(e, await e.slash('imagine', [str('prompt', 'a fox --niji 7')]));
    expect((apixoCreates(e)[1]!.body as { input: unknown }).input).toEqual(expect.objectContaining({ version: 'niji 7' }));

    // No version typed: the bot's default (7) is sent, never left to APIXO's own default (6.1).
    await delivered(e, await e.slash('imagine', [str('prompt', 'a fox')]));
    expect((apixoCreates(e)[2]!.body as { input: unknown }).input).toEqual(expect.objectContaining({ version: 'v7', speed: 'fast' }));
  });

  it('niji 7 on a KIE channel is refused privately, naming KIE’s versions, and nothing is sent', async () => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', 'a fox --niji 7')]);
    const reply = e.original(cmd.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toContain('KIE offers versions 7, 6.1, 6, 5.2, 5.1, niji6');
    expect(kieCreates(e)).toEqual([]);
  });

  it('a success whose resultJson cannot be read fails the job with a clear message and 🔄 Retry; nothing crashes', async () => {
    const e = await start({ provider: 'apixo' });
    e.apixoSim!.inject({ kind: 'malformedResult', resultJson: '{"resultUrls": "not a list"' });
    const cmd = await e.slash('imagine', [str('prompt', 'a fox')]);
    const job = await delivered(e, cmd);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'bad_result_json' } });
    const message = e.original(cmd.token);
    expect(message.content).toContain('unreadable resultJson');
    expect(buttonsOf(message).map((b) => b.label ?? b.emoji)).toEqual(['Retry']);
  });

  it('/show of an APIXO job older than a day takes the files from Discord, never from APIXO’s expired URLs', async () => {
    const e = await start({ provider: 'apixo' });
    const cmd = await e.slash('imagine', [str('prompt', 'a fox')]);
    const job = await delivered(e, cmd);
    // A day and more later, as the job's own timestamps say.
    await e.app.ctx.repo.update(job.id, (j) => ({ ...j, finishedAt: e.clock.now() - 25 * HOUR, kieCompletedAt: e.clock.now() - 25 * HOUR }));
    e.apixoSim!.clearRequests();

    const shown = await e.slash('show', [str('job', job.id)]);
    expect(e.original(shown.token).attachments).toHaveLength(4);
    expect(e.apixoSim!.requests).toEqual([]);

    // With the original message gone there is nothing left: a private answer, still no request to APIXO.
    e.fake.failNext({ route: 'channelGet', status: 404, code: 10008 });
    const gone = await e.slash('show', [str('job', job.id)]);
    const record = e.fake.interactionFor(gone.token)!;
    const answer = [record.originalId, ...record.followupIds].map((id) => (id ? e.fake.message(id) : undefined)).find((m) => m && m.flags & EPHEMERAL);
    expect(answer?.content).toContain('can be shown any more');
    expect(e.apixoSim!.requests).toEqual([]);
  });
});
