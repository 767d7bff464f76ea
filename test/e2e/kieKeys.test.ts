/**
 * Several KIE accounts (KIE_API_KEYS), end to end: the real app through the
 * fake Discord against the local KIE server running one account per key,
 * each with its own balance and tasks (a task of one key does not exist for
 * another, as at KIE). Key selection, rotation out on 402 with an alert and
 * back in, follow-up buttons on the parent's key, /credits per key.
 */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/domain/job.js';
import type { FakeMessage } from '../support/fakeDiscord.js';
import { ApplicationCommandOptionType } from 'discord.js';
import { EPHEMERAL, GUILD, str, useE2E, type E2E, type Injected, type Option } from './harness.js';

/** A subcommand option, e.g. /settings set. */
const sub = (name: string, options: Option[] = []): Option => ({ type: ApplicationCommandOptionType.Subcommand, name, options }) as unknown as Option;

const start = useE2E();
const ALERTS = '1300000000000000099';

/** The account label of each create the KIE server received, in order. */
const createKeys = (e: E2E): (string | undefined)[] => e.creates().map((r) => r.account);

async function imagine(e: E2E, prompt = 'a lighthouse at dusk'): Promise<Injected> {
  return e.slash('imagine', [str('prompt', prompt)]);
}

async function jobOf(e: E2E, cmd: Injected): Promise<Job> {
  const id = e.original(cmd.token).id;
  const job = (await e.jobs()).find((j) => j.origin.messageId === id);
  if (!job) throw new Error('no job for that reply');
  return job;
}

async function finished(e: E2E, cmd: Injected): Promise<FakeMessage> {
  await e.runUntil(() => (e.fake.originalFor(cmd.token)?.attachments.length ?? 0) > 0);
  return e.original(cmd.token);
}

/** What the app posted to the alert channel. */
const alerts = (e: E2E): string[] => e.fake.messages(ALERTS).map((m) => m.content);

/** The alert is sent in the background of the call that took the key out: wait until `n` have landed. */
async function alertsWhen(e: E2E, n: number): Promise<string[]> {
  await e.fake.waitFor((f) => f.messages(ALERTS).length >= n, 5_000);
  return alerts(e);
}

async function withAlertChannel(e: E2E): Promise<void> {
  await e.app.team.settings.set('server', GUILD, { alertChannelId: ALERTS });
}

describe('several KIE keys', () => {
  it('a new job goes to the least busy key; busy counts open jobs in the jobs table', async () => {
    // Long tasks, so a's stay open while b's is finished early.
    const e = await start({ kieKeys: { a: 1000, b: 1000 }, durationMs: () => 600_000 });
    const first = await imagine(e);
    const second = await imagine(e);
    // One job running on each: a tie goes to the first key in the configured order.
    const third = await imagine(e);
    expect(createKeys(e)).toEqual(['a', 'b', 'a']);
    expect((await jobOf(e, first)).account).toBe('a');
    expect((await jobOf(e, second)).account).toBe('b');
    expect((await jobOf(e, third)).account).toBe('a');
    // b's job ends: a has two open, b none, so the next goes to b.
    e.sim.finish((await jobOf(e, second)).taskId!);
    await finished(e, second);
    await imagine(e);
    expect(createKeys(e).at(-1)).toBe('b');
  });

  it('a key whose last known balance is 0 gets no new jobs, even when it is the least busy', async () => {
    const e = await start({ kieKeys: { a: 1000, b: 1000 } });
    await imagine(e); // a
    e.sim.setCredits(0, 'b');
    await e.slash('credits', []);
    await imagine(e);
    await imagine(e);
    expect(createKeys(e)).toEqual(['a', 'a', 'a']);
  });

  it('a key answering 402 is taken out of rotation with one alert, the job goes to the next key, and the key comes back (with an alert) on a top-up', async () => {
    const e = await start({ kieKeys: { a: 1000, b: 1000 } });
    await withAlertChannel(e);
    e.sim.setCredits(3, 'a'); // not enough for a fast grid (8)
    const moved = await imagine(e);
    // a refused it (nothing created), so the job went to b.
    expect(createKeys(e)).toEqual(['a', 'b']);
    expect(await jobOf(e, moved)).toMatchObject({ state: 'running', account: 'b' });
    expect(await alertsWhen(e, 1)).toHaveLength(1);
    expect(alerts(e)[0]).toContain('KIE key `a` is out of rotation');
    expect(alerts(e)[0]).toContain('402');

    // Out of rotation: the next job goes to b too, though a is less busy.
    await imagine(e);
    expect(createKeys(e)).toEqual(['a', 'b', 'b']);

    // /credits shows each key by name, never the key, and which are out.
    const credits = await e.slash('credits', []);
    const report = e.original(credits.token).content;
    expect(report).toContain('`a`: 3 credits — **out of rotation**');
    expect(report).toContain('`b`:');
    expect(report).not.toContain('key-a');
    expect(report).not.toContain('key-b');
    expect(alerts(e)).toHaveLength(1); // the same 3 credits: still out

    e.sim.setCredits(500, 'a');
    const again = await e.slash('credits', []);
    expect(e.original(again.token).content).not.toContain('out of rotation');
    expect(await alertsWhen(e, 2)).toHaveLength(2);
    expect(alerts(e)[1]).toContain('KIE key `a` is back in rotation');
    await imagine(e);
    expect(createKeys(e).at(-1)).toBe('a');
    // Nothing the bot logged carries a key.
    expect(JSON.stringify(e.logs)).not.toMatch(/key-[ab]/);
  });

  it('a 401 takes the key out too; with every key out the job fails, and the next one is refused privately with nothing sent', async () => {
    const e = await start({ kieKeys: { a: 1000, b: 1000 } });
    await withAlertChannel(e);
    e.sim.inject({ kind: 'code', code: 401, endpoint: 'create', account: 'a' });
    e.sim.inject({ kind: 'code', code: 402, endpoint: 'create', account: 'b' });
    const failed = await imagine(e);
    expect(createKeys(e)).toEqual(['a', 'b']);
    expect((await jobOf(e, failed)).state).toBe('failed');
    expect((await alertsWhen(e, 2)).join('\n')).toMatch(/`a` is out of rotation:\*\* KIE rejected the key \(401\)/);
    expect(alerts(e).join('\n')).toMatch(/`b` is out of rotation:\*\* the account has no credits left \(402\)/);
    const refused = await imagine(e);
    expect(createKeys(e)).toHaveLength(2);
    const reply = e.original(refused.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toContain('Every KIE key is out of rotation');
  });

  it("follow-up buttons use the key that made the parent, and are refused privately while that key is out", async () => {
    const e = await start({ kieKeys: { a: 1000, b: 1000 } });
    const onA = await imagine(e, 'first');
    const onB = await imagine(e, 'second');
    const grid = await finished(e, onB);
    await finished(e, onA);
    expect((await jobOf(e, onB)).account).toBe('b');

    // a is idle and b is idle: U1 on b's grid still goes to b (at KIE the task exists only for b's key).
    const u1 = await e.click(grid, 'U1');
    await e.runUntil(() => (e.fake.message(e.fake.interactionFor(u1.token)!.followupIds[0] ?? '')?.attachments.length ?? 0) > 0);
    expect(e.creates('upscale').map((r) => r.account)).toEqual(['b']);
    await e.click(grid, '🔄');
    expect(createKeys(e).at(-1)).toBe('b');

    // b answers 402 on its next create: out of rotation; V1 on its grid is then refused before any call.
    e.sim.inject({ kind: 'code', code: 402, endpoint: 'create', account: 'b' });
    await e.click(grid, 'V2');
    const before = e.creates().length;
    const v1 = await e.click(grid, 'V1');
    expect(e.creates()).toHaveLength(before);
    const answer = e.original(v1.token);
    expect(answer.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(answer.content).toContain('The KIE key "b" this needs is out of rotation');
  });

  it('/settings pins a channel to one named key: its jobs use only that key, and are refused at admission while it is out', async () => {
    const e = await start({ kieKeys: { a: 1000, b: 1000 } });
    const wrong = await e.slash('settings', [sub('set', [str('kie_key', 'team-z')])]);
    expect(e.original(wrong.token).content).toContain('There is no KIE key named `team-z`; the bot has `a`, `b`');
    const pinned = await e.slash('settings', [sub('set', [str('kie_key', 'b')])]);
    expect(e.original(pinned.token).content).toContain('KIE key → **`b`**');
    await imagine(e);
    await imagine(e);
    expect(createKeys(e)).toEqual(['b', 'b']);

    // b runs dry: out of rotation; the pinned channel is refused privately, nothing sent, rather than spending a's credits.
    e.sim.setCredits(0, 'b');
    const failing = await imagine(e);
    expect((await jobOf(e, failing)).state).toBe('failed');
    const sent = e.creates().length;
    const refused = await imagine(e);
    expect(e.creates()).toHaveLength(sent);
    const reply = e.original(refused.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toContain('The KIE key "b" this needs is out of rotation');
  });
});
