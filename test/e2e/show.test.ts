/**
 * /show end to end: jobs made with /imagine through the fake Discord and the
 * local KIE server, then brought back by id or by message link — after a
 * restart, after KIE has deleted the files, from another server, by someone
 * who cannot read the job's channel — and the buttons on the copy used.
 * Every payload is checked against Discord's schema by the harness.
 */
import { ApplicationCommandOptionType, ChannelType, PermissionFlagsBits, type Client } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { BAD_JOB_REF, JOB_NOT_FOUND, parseJobRef } from '../../commands/show.js';
import type { Job } from '../../src/domain/job.js';
import type { FakeMessage } from '../support/fakeDiscord.js';
import { bool, buttonsOf, CHANNEL, EPHEMERAL, GUILD, OTHER_USER, str, useE2E, USER, type E2E, type Injected, type Option } from './harness.js';

/** A subcommand option, e.g. /settings set. */
const sub = (name: string, options: Option[] = []): Option => ({ type: ApplicationCommandOptionType.Subcommand, name, options }) as unknown as Option;

const start = useE2E();
const PROMPT = 'a lighthouse at dawn --ar 3:2';
const OTHER_GUILD = '1200000000000000009';
const OTHER_CHANNEL = '1300000000000000002';
const SECRET_CHANNEL = '1300000000000000003';
const PRIVATE_THREAD = '1300000000000000004';
const DAY = 86_400_000;

const delivered = (e: E2E, messageId: () => string | undefined) => (): boolean => {
  const id = messageId();
  return id !== undefined && (e.fake.message(id)?.attachments.length ?? 0) > 0;
};

async function grid(e: E2E, init: Parameters<E2E['slash']>[2] = {}): Promise<{ message: FakeMessage; job: Job }> {
  const cmd = await e.slash('imagine', [str('prompt', PROMPT)], init);
  await e.runUntil(delivered(e, () => e.fake.originalFor(cmd.token)?.id));
  const message = e.original(cmd.token);
  const job = (await e.jobs()).find((j) => j.origin.messageId === message.id)!;
  return { message, job };
}

const show = (e: E2E, job: string, init: Parameters<E2E['slash']>[2] = {}): Promise<Injected> => e.slash('show', [str('job', job)], init);
const link = (m: FakeMessage, host = 'discord.com', guild = GUILD): string => `https://${host}/channels/${guild}/${m.channel_id}/${m.id}`;

/** The private answer an interaction got (a reply, or the follow-up after a removed placeholder). */
function privateAnswer(e: E2E, injected: Injected): FakeMessage {
  const record = e.fake.interactionFor(injected.token)!;
  const ids = [record.originalId, ...record.followupIds].filter((id): id is string => id !== null);
  const found = ids.map((id) => e.fake.message(id)).find((m) => m && m.flags & EPHEMERAL);
  if (!found) throw new Error('no private answer');
  return found;
}

/** What the gateway's GUILD_CREATE gives discord.js: the server, its roles and channels (one of them hidden from @everyone). */
function cacheGuild(client: Client): void {
  const everyone = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory | PermissionFlagsBits.SendMessages | PermissionFlagsBits.UseApplicationCommands;
  const text = (id: string, name: string, overwrites: unknown[] = []) => ({ id, type: ChannelType.GuildText, guild_id: GUILD, name, position: 0, permission_overwrites: overwrites });
  (client.guilds as unknown as { _add(data: unknown): unknown })._add({
    id: GUILD,
    name: 'team',
    owner_id: '1400000000000000099',
    unavailable: false,
    roles: [{ id: GUILD, name: '@everyone', permissions: String(everyone), position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
    channels: [
      text(CHANNEL, 'general'),
      text(OTHER_CHANNEL, 'elsewhere'),
      text(SECRET_CHANNEL, 'secret', [{ id: GUILD, type: 0, allow: '0', deny: String(PermissionFlagsBits.ViewChannel) }]),
    ],
    threads: [
      {
        id: PRIVATE_THREAD,
        type: ChannelType.PrivateThread,
        guild_id: GUILD,
        parent_id: CHANNEL,
        name: 'private',
        owner_id: USER,
        thread_metadata: { archived: false, auto_archive_duration: 1440, archive_timestamp: new Date(0).toISOString(), locked: false },
      },
    ],
    members: [],
    emojis: [],
    stickers: [],
    features: [],
  });
}

describe('parseJobRef', () => {
  it.each([
    ['lz3k9a1b2c3d4', { kind: 'id', jobId: 'lz3k9a1b2c3d4' }],
    ['  `LZ3K9A1B2C3D4` ', { kind: 'id', jobId: 'lz3k9a1b2c3d4' }],
    [`https://discord.com/channels/${GUILD}/${CHANNEL}/1500000000000000001`, { kind: 'message', guildId: GUILD, channelId: CHANNEL, messageId: '1500000000000000001' }],
    [`<https://ptb.discord.com/channels/${GUILD}/${CHANNEL}/1500000000000000001>`, { kind: 'message', guildId: GUILD, channelId: CHANNEL, messageId: '1500000000000000001' }],
    [`https://canary.discordapp.com/channels/${GUILD}/${CHANNEL}/1500000000000000001/`, { kind: 'message', guildId: GUILD, channelId: CHANNEL, messageId: '1500000000000000001' }],
    [`https://discord.com/channels/@me/${CHANNEL}/1500000000000000001`, { kind: 'message', guildId: null, channelId: CHANNEL, messageId: '1500000000000000001' }],
    ['1500000000000000001', { kind: 'message', messageId: '1500000000000000001' }],
  ])('%s', (raw, ref) => {
    expect(parseJobRef(raw)).toEqual(ref);
  });

  it.each(['', 'hello world', 'https://evil.example/channels/1/2/3', `https://discord.com/channels/${GUILD}/${CHANNEL}`, 'a'.repeat(30), 'job-1'])('refuses %j', (raw) => {
    expect(parseJobRef(raw)).toBeNull();
  });
});

describe('/show end to end', () => {
  it('brings a job from before a restart back by id and by link, with its files and live buttons; one U click is one KIE task', async () => {
    const e = await start();
    const g = await grid(e);
    await e.restart();
    e.sim.clearRequests();

    const byId = await show(e, g.job.id);
    expect(e.fake.interactionFor(byId.token)?.ackType).toBe(5);
    const shown = e.original(byId.token);
    expect(shown.flags & EPHEMERAL).toBe(0);
    expect(shown.id).not.toBe(g.message.id);
    expect(shown.content).toContain('a lighthouse at dawn');
    expect(shown.content).toContain(`<@${USER}>`);
    expect(shown.mentions).toEqual([]);
    expect(shown.attachments).toHaveLength(4);
    shown.attachments.forEach((a, i) => expect(e.fake.attachmentData(a.id)).toEqual(e.fake.attachmentData(g.message.attachments[i]!.id)));
    expect(buttonsOf(shown).map((b) => b.label ?? b.emoji)).toEqual(buttonsOf(g.message).map((b) => b.label ?? b.emoji));
    // Nothing was asked of KIE: the files came from Discord.
    expect(e.sim.requests).toEqual([]);

    const byLink = await show(e, link(g.message, 'ptb.discord.com'), { channelId: OTHER_CHANNEL });
    const again = e.original(byLink.token);
    expect(again.channel_id).toBe(OTHER_CHANNEL);
    expect(again.attachments).toHaveLength(4);
    // A link to a copy works as well as one to the original.
    const ofCopy = await show(e, link(again));
    expect(e.original(ofCopy.token).attachments).toHaveLength(4);
    expect(e.original(ofCopy.token).content).toBe(shown.content);

    const click = await e.click(shown, 'U2');
    expect(e.creates('upscale').map((r) => r.body)).toEqual([{ taskId: g.job.taskId, imageIndex: 1 }]);
    expect(buttonsOf(e.fake.message(shown.id)!).find((b) => b.label === 'U2')?.style).toBe(1);
    const upscaleId = e.fake.interactionFor(click.token)!.followupIds[0]!;
    await e.runUntil(delivered(e, () => upscaleId));
    expect(e.fake.message(upscaleId)!.content).toContain('Image #2');

    // The same U2 on the original message, or on the other copy, points at that upscale: no second task.
    const second = await e.click(again, 'U2');
    expect(e.original(second.token).content).toContain(upscaleId);
    expect(e.creates('upscale')).toHaveLength(1);
  });

  it('shows a job whose files KIE has deleted from the attachments Discord keeps; with neither, says so privately', async () => {
    const e = await start();
    const g = await grid(e);
    e.sim.forget(g.job.taskId!);
    // Long past KIE's retention.
    await e.app.ctx.repo.update(g.job.id, (j) => ({ ...j, kieCompletedAt: e.clock.now() - 20 * DAY, finishedAt: e.clock.now() - 20 * DAY }));
    e.sim.clearRequests();

    const cmd = await show(e, g.job.id);
    const shown = e.original(cmd.token);
    expect(shown.attachments).toHaveLength(4);
    expect(e.sim.requests).toEqual([]);
    // Its buttons are there and say what they say on the original: past retention a press is refused privately.
    const press = await e.click(shown, 'V1');
    expect(JSON.stringify(e.requestsFor(press.token)[0]!.body)).toContain('no longer available');
    expect(e.creates()).toEqual([]);

    // The original message is deleted too: nothing left to show, and nothing asked of KIE.
    e.fake.failNext({ route: 'channelGet', status: 404, code: 10008, times: 1 });
    const gone = await show(e, g.job.id);
    expect(privateAnswer(e, gone).content).toContain('can be shown any more');
    expect(e.fake.messages(CHANNEL).filter((m) => !(m.flags & EPHEMERAL) && m.attachments.length > 0)).toHaveLength(2);
    expect(e.sim.requests).toEqual([]);
  });

  it('the channel a copy is in decides its buttons: author-only there refuses a teammate’s press; a disabled channel refuses /show', async () => {
    const e = await start();
    const g = await grid(e);
    await e.slash('settings', [sub('set', [str('buttons', 'author')])], { channelId: OTHER_CHANNEL });
    const cmd = await show(e, g.job.id, { channelId: OTHER_CHANNEL });
    const copy = e.original(cmd.token);
    const press = await e.click(copy, 'U1', { user: { id: OTHER_USER } });
    expect(JSON.stringify(e.requestsFor(press.token)[0]!.body)).toMatch(/author/i);
    expect(e.creates('upscale')).toEqual([]);
    // On the original, in a channel where anyone may press, the same teammate can.
    await e.click(g.message, 'U1', { user: { id: OTHER_USER } });
    expect(e.creates('upscale')).toHaveLength(1);

    await e.slash('settings', [sub('set', [bool('enabled', false)])], { channelId: OTHER_CHANNEL });
    const off = await show(e, g.job.id, { channelId: OTHER_CHANNEL });
    expect(privateAnswer(e, off).content).toContain('turned off');
  });

  it('within KIE’s retention, a job whose message is gone is shown from KIE’s files', async () => {
    const e = await start();
    const g = await grid(e);
    e.sim.clearRequests();
    e.fake.failNext({ route: 'channelGet', status: 404, code: 10008 });
    const cmd = await show(e, g.job.id);
    expect(e.original(cmd.token).attachments).toHaveLength(4);
    expect(e.sim.requests.map((r) => r.endpoint)).toEqual(['file', 'file', 'file', 'file']);
    expect(e.creates()).toEqual([]);
  });

  it('another server’s job, an unknown id and a bad input get private answers and touch nothing', async () => {
    const e = await start({ allowedGuildIds: [GUILD, OTHER_GUILD] });
    const g = await grid(e);
    e.sim.clearRequests();
    const before = e.fake.requests.length;

    const fromElsewhere = await show(e, g.job.id, { guildId: OTHER_GUILD, channelId: '1300000000000000099' });
    expect(privateAnswer(e, fromElsewhere).content).toBe(JOB_NOT_FOUND);
    const linkElsewhere = await show(e, link(g.message, 'discord.com', OTHER_GUILD), { guildId: OTHER_GUILD, channelId: '1300000000000000099' });
    expect(privateAnswer(e, linkElsewhere).content).toBe(JOB_NOT_FOUND);
    const bareMessageId = await show(e, g.message.id, { guildId: OTHER_GUILD, channelId: '1300000000000000099' });
    expect(privateAnswer(e, bareMessageId).content).toBe(JOB_NOT_FOUND);
    const unknown = await show(e, 'zzzzzzzzzzzzz');
    expect(privateAnswer(e, unknown).content).toBe(JOB_NOT_FOUND);
    const wrongChannel = await show(e, `https://discord.com/channels/${GUILD}/${OTHER_CHANNEL}/${g.message.id}`);
    expect(privateAnswer(e, wrongChannel).content).toBe(JOB_NOT_FOUND);
    const bad = await show(e, 'the red one please');
    expect(privateAnswer(e, bad).content).toBe(BAD_JOB_REF);

    expect(e.sim.requests).toEqual([]);
    // Nothing but the private answers went to Discord: no message read, no public message.
    const routes = new Set(e.fake.requests.slice(before).map((r) => r.route));
    expect([...routes].sort()).toEqual(['interactionCallback']);
  });

  it('a job still running answers privately with its state and a jump link', async () => {
    const e = await start({ durationMs: () => 60_000 });
    const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
    await e.clock.advance(5_000);
    const [job] = await e.jobs();
    const answer = privateAnswer(e, await show(e, job!.id));
    expect(answer.content).toContain('still generating');
    expect(answer.content).toContain(`/${GUILD}/${CHANNEL}/${e.original(cmd.token).id}`);
  });

  it('a teammate sees a job of another channel only if they can read that channel; its author always can', async () => {
    const e = await start();
    const open = await grid(e);
    const secret = await grid(e, { channelId: SECRET_CHANNEL });

    // Without the gateway's cache the bot cannot tell, so it refuses.
    const blind = await show(e, open.job.id, { user: { id: OTHER_USER }, channelId: OTHER_CHANNEL });
    expect(privateAnswer(e, blind).content).toBe(JOB_NOT_FOUND);
    // In the job's own channel anyone there can.
    const here = await show(e, open.job.id, { user: { id: OTHER_USER } });
    expect(e.original(here.token).attachments).toHaveLength(4);

    cacheGuild(e.client);
    const visible = await show(e, open.job.id, { user: { id: OTHER_USER }, channelId: OTHER_CHANNEL });
    expect(e.original(visible.token).attachments).toHaveLength(4);
    const hidden = await show(e, link(secret.message), { user: { id: OTHER_USER }, channelId: OTHER_CHANNEL });
    expect(privateAnswer(e, hidden).content).toBe(JOB_NOT_FOUND);
    const author = await show(e, link(secret.message), { channelId: OTHER_CHANNEL });
    const copy = e.original(author.token);
    expect(copy.attachments).toHaveLength(4);
    // The author brought it into a channel the teammate reads: that copy is theirs to show again, the secret original still is not.
    const viaCopy = await show(e, link(copy), { user: { id: OTHER_USER } });
    expect(e.original(viaCopy.token).attachments).toHaveLength(4);
    const byId = await show(e, secret.job.id, { user: { id: OTHER_USER } });
    expect(privateAnswer(e, byId).content).toBe(JOB_NOT_FOUND);

    // A private thread of a channel they read is still not theirs to read.
    const inThread = await grid(e, { channelId: PRIVATE_THREAD, parentChannelId: CHANNEL });
    const thread = await show(e, inThread.job.id, { user: { id: OTHER_USER } });
    expect(privateAnswer(e, thread).content).toBe(JOB_NOT_FOUND);
    const own = await show(e, inThread.job.id);
    expect(e.original(own.token).attachments).toHaveLength(4);
  });
});
