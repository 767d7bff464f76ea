/**
 * Issue 10's promises, each through the real app (fake Discord, local KIE
 * server): who may spend the team's credits, what the bot repeats, and what
 * it refuses to trust. Each test failed on main before its change.
 */
import { describe, expect, it } from 'vitest';
import { ApplicationCommandOptionType, Events, Partials, PermissionFlagsBits } from 'discord.js';
import { rawSlashCommand, snowflake } from '../support/discordClient.js';
import { bool, CHANNEL, EPHEMERAL, GUILD, int, str, useE2E, type E2E, type Injected, type Option } from './harness.js';

/** A subcommand option, e.g. /settings set. */
const num = (name: string, value: number): Option => ({ type: ApplicationCommandOptionType.Number, name, value });
const sub = (name: string, options: Option[] = []): Option =>
  ({ type: ApplicationCommandOptionType.Subcommand, name, options }) as unknown as Option;

const start = useE2E();

/** A raw /command, not yet injected. */
const rawSlashCommandFor = (name: string, options: Option[]) => rawSlashCommand({ id: snowflake(Date.now()), name, options });

/** The interaction was refused with one private reply containing `text`, and nothing reached KIE. */
async function expectRefusedPrivately(e: E2E, cmd: Injected, text: string): Promise<void> {
  const reply = e.original(cmd.token);
  expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
  expect(reply.content).toContain(text);
  expect(e.creates()).toEqual([]);
  expect(await e.jobs()).toEqual([]);
}

describe('reference image URLs', () => {
  const img = (n: number) => `https://img.example.com/${n}.png`;

  it('refuses more than 5 reference images before KIE hears of it', async () => {
    const e = await start();
    const srefs = [1, 2, 3, 4, 5, 6].map(img).join(' ');
    const cmd = await e.slash('imagine', [str('prompt', `a red fox --sref ${srefs}`)]);
    await expectRefusedPrivately(e, cmd, 'At most 5 reference images');
  });

  it.each([
    ['a leading image prompt', `http://img.example.com/a.png a red fox`],
    ['--sref', `a red fox --sref http://img.example.com/s.png`],
    ['--oref', `a red fox --oref http://img.example.com/o.png --v 7`],
  ])('refuses a plain http URL as %s', async (_what, prompt) => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', prompt)]);
    await expectRefusedPrivately(e, cmd, 'must be https');
  });
});

describe('banned words', () => {
  it.each([
    ['a zero-width space', 'a nu\u200Bde figure', 'nu<U+200B>de'],
    ['a soft hyphen', 'a nu\u00ADde figure', 'nu<U+00AD>de'],
    ['a Cyrillic у', 'a nudе figure', 'nudе'],
  ])('are found through %s, shown as typed, and nothing reaches KIE', async (_what, prompt, shown) => {
    const e = await start();
    await e.slash('settings', [sub('set', [str('banned_words', 'nude, gore')])]);
    const cmd = await e.slash('imagine', [str('prompt', prompt)]);
    await expectRefusedPrivately(e, cmd, `“${shown}” (read as “nude”)`);
  });
});

describe('echoed prompts', () => {
  it('show masked links, headings and mentions as text, and ping nobody from user text', async () => {
    const e = await start();
    const OTHER = '1400000000000000009';
    const cmd = await e.slash('imagine', [str('prompt', `# [Free Nitro](https://evil.example/x) for <@${OTHER}> @everyone <#123>`)]);
    await e.runUntil(() => (e.fake.originalFor(cmd.token)?.attachments.length ?? 0) === 4);
    const message = e.original(cmd.token);
    expect(message.content).toContain('\\# \\[Free Nitro\\](https://evil.example/x) for \\<@');
    expect(message.content).toContain('\\<#123\\>');
    expect(message.content).not.toMatch(/(^|[^\\])\[Free Nitro\]/);
    // Only the requester is pinged, whatever the prompt says.
    expect(message.mentions.map((u) => u.id)).not.toContain(OTHER);
    expect(message.mention_everyone ?? false).toBe(false);
    for (const r of e.requestsFor(cmd.token)) {
      const am = (r.body as { allowed_mentions?: { parse?: string[] } } | null)?.allowed_mentions;
      if (am) expect(am.parse ?? []).toEqual([]);
    }
  });
});

describe('logs', () => {
  it('never contain an interaction token, even from a discord.js error (url, requestBody)', async () => {
    const e = await start();
    e.fake.failNext({ route: 'interactionCallback', status: 500, code: 0, message: 'boom', times: 3 });
    const cmd = await e.slash('credits', []);
    await e.settle();
    const logged = JSON.stringify(e.logs);
    // The failure was logged, with the route it failed on, but not the token.
    expect(logged).toContain('interactions/');
    expect(logged).toContain('[redacted]');
    expect(logged).not.toContain(cmd.token);
    e.logs.length = 0;
  });
});

describe('an interaction another process acknowledged (40060)', () => {
  it('stops before any provider call and answers nothing', async () => {
    const e = await start();
    e.fake.failNext({ route: 'interactionCallback', status: 400, code: 40060, message: 'Interaction has already been acknowledged.' });
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')]);
    await e.settle();
    expect(e.creates()).toEqual([]);
    expect(e.sim.requests).toEqual([]);
    expect(await e.jobs()).toEqual([]);
    expect(e.requestsFor(cmd.token).filter((r) => r.status < 300)).toEqual([]);
    expect(e.logs.some((l) => /acknowledged elsewhere/.test(l.msg))).toBe(true);

    // What admission reserved was given back: the next command runs.
    const next = await e.slash('imagine', [str('prompt', 'a blue fox')]);
    expect(e.creates()).toHaveLength(1);
    expect(e.original(next.token)).toBeTruthy();
  });
});

describe('/settings checks permissions at run time', () => {
  /** A plain member: may use commands, manages nothing (an admin overrode default_member_permissions). */
  const MEMBER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.UseApplicationCommands);

  it.each([
    ['set', [sub('set', [int('max_concurrent', 5)])], 'Manage Channels'],
    ['reset', [sub('reset', [str('setting', 'all')])], 'Manage Channels'],
    ['set at server scope', [sub('set', [str('scope', 'server'), int('max_concurrent', 5)])], 'Manage Server'],
  ])('refuses %s to a member without the permission', async (_what, options, needs) => {
    const e = await start();
    const cmd = await e.slash('settings', options, { permissions: MEMBER });
    const reply = e.original(cmd.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toContain(`needs the ${needs} permission`);
    const view = await e.slash('settings', [sub('view')], { permissions: MEMBER });
    expect(e.original(view.token).content).not.toMatch(/Max(imum)? concurrent[^\n]*5/i);
  });

  it('lets a member with Manage Channels change the channel', async () => {
    const e = await start();
    const perms = String(BigInt(MEMBER) | PermissionFlagsBits.ManageChannels);
    const cmd = await e.slash('settings', [sub('set', [int('max_concurrent', 5)])], { permissions: perms });
    expect(e.original(cmd.token).content).not.toContain('needs the');
  });
});

describe('servers that may spend the team’s credits (ALLOWED_GUILD_IDS)', () => {
  const STRANGER_GUILD = '1299999999999999999';

  it.each([
    ['/imagine', 'imagine', [str('prompt', 'a red fox --turbo')]],
    ['/credits', 'credits', []],
    ['/settings', 'settings', [sub('view')]],
  ])('answers %s in any other server privately that it is not set up there, and sends nothing to KIE', async (_what, name, options) => {
    const e = await start();
    const cmd = await e.slash(name, options, { guildId: STRANGER_GUILD });
    const reply = e.original(cmd.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toContain("isn't set up in this server");
    expect(e.sim.requests).toEqual([]);
    expect(await e.jobs()).toEqual([]);
  });

  it('refuses a button pressed in another server', async () => {
    const e = await start();
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')]);
    await e.runUntil(() => (e.fake.originalFor(cmd.token)?.attachments.length ?? 0) === 4);
    const press = await e.click(e.original(cmd.token), 'U1', { guildId: STRANGER_GUILD });
    expect(e.requestsFor(press.token)[0]).toMatchObject({ body: { type: 4, data: { flags: EPHEMERAL } } });
    expect(e.creates()).toHaveLength(1);
  });

  it('serves every server when no allowlist is configured', async () => {
    const e = await start({ allowedGuildIds: null });
    await e.slash('imagine', [str('prompt', 'a red fox')], { guildId: STRANGER_GUILD });
    expect(e.creates()).toHaveLength(1);
  });

  it('leaves a server it is added to that is not allowed, and stays in an allowed one', async () => {
    const e = await start();
    const client = e.client as unknown as {
      guilds: { _add(raw: unknown): unknown };
      emit(event: string, ...args: unknown[]): boolean;
    };
    for (const id of [STRANGER_GUILD, GUILD]) {
      const guild = client.guilds._add({ id, name: `guild ${id}`, unavailable: false, channels: [], members: [], roles: [] });
      client.emit('guildCreate', guild);
    }
    await e.fake.waitFor((f) => f.requests.some((r) => r.route === 'guildLeave'));
    await e.settle();
    const leaves = e.fake.requests.filter((r) => r.route === 'guildLeave');
    expect(leaves.map((r) => r.params.guildId)).toEqual([STRANGER_GUILD]);
    expect(e.logs.some((l) => /left a server/.test(l.msg) && l.guildId === STRANGER_GUILD)).toBe(true);
  });

  it('leaves servers that are not allowed when it becomes ready', async () => {
    const e = await start();
    const client = e.client as unknown as { guilds: { _add(raw: unknown): unknown }; emit(event: string, ...args: unknown[]): boolean };
    client.guilds._add({ id: STRANGER_GUILD, name: 'stranger', unavailable: false, channels: [], members: [], roles: [] });
    client.emit(Events.ClientReady, e.client);
    await e.fake.waitFor((f) => f.requests.some((r) => r.route === 'guildLeave'));
    expect(e.fake.requests.filter((r) => r.route === 'guildLeave').map((r) => r.params.guildId)).toEqual([STRANGER_GUILD]);
  });
});

describe('a create whose outcome is unknown', () => {
  it('is its own state, counts against the budget whatever "failed jobs count" says, says so, and offers no Retry', async () => {
    const e = await start();
    await e.slash('settings', [sub('set', [num('daily_budget', 16)])]);
    e.sim.inject({ kind: 'lostAnswer', endpoint: 'generate', times: 2 });
    const first = await e.slash('imagine', [str('prompt', 'a red fox')]);
    await e.slash('imagine', [str('prompt', 'a blue fox')]);
    await e.settle();

    // KIE made both tasks; the bot heard nothing back.
    expect(e.sim.requests.filter((r) => r.endpoint === 'generate' && r.taskId)).toHaveLength(2);
    const jobs = await e.jobs();
    expect(jobs.map((j) => j.state)).toEqual(['unknown', 'unknown']);
    const message = e.original(first.token);
    expect(message.content).toContain('outcome unknown');
    expect(message.content).toContain('may have made (and charged for) it');
    expect(message.components).toEqual([]);

    // 16 of 16 credits are taken by the two unknown outcomes: the third is refused before KIE.
    const third = await e.slash('imagine', [str('prompt', 'a green fox')]);
    expect(e.original(third.token).flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(e.creates('generate')).toHaveLength(2);
  });

  it('is delivered when a later callback reveals its task', async () => {
    const e = await start({ callbacks: true });
    e.sim.inject({ kind: 'lostAnswer', endpoint: 'generate' });
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox --ar 16:9')]);
    await e.settle();
    const [job] = await e.jobs();
    expect(job!.state).toBe('unknown');

    const taskId = e.sim.requests.find((r) => r.endpoint === 'generate')!.taskId!;
    await e.clock.advance(e.sim.tasks.get(taskId)!.finishAt - e.clock.now());
    await e.sim.fireCallbacks();
    await expect
      .poll(async () => {
        await e.clock.advance(0);
        return e.fake.originalFor(cmd.token)?.attachments.length ?? 0;
      })
      .toBe(4);
    await e.settle();
    const done = await e.job(job!.id);
    expect(done).toMatchObject({ state: 'succeeded', delivered: true, taskId });
    expect(e.creates('generate')).toHaveLength(1);
  });
});

describe('threads and forum posts follow their parent channel', () => {
  const THREAD = '1300000000000000077';
  const inThread = { channelId: THREAD, parentChannelId: CHANNEL };
  /** As src/main.ts builds it: the server cached (Guilds intent), channels built from the interaction (Partials.Channel). */
  const startInCachedGuild = async (): Promise<E2E> => {
    const e = await start();
    e.client.options.partials = [Partials.Channel];
    (e.client as unknown as { guilds: { _add(raw: unknown): unknown } }).guilds._add({
      id: GUILD, name: 'team', unavailable: false, channels: [], members: [], roles: [],
    });
    return e;
  };

  it("refuses in a thread of a disabled channel, with the parent's rule", async () => {
    const e = await startInCachedGuild();
    await e.slash('settings', [sub('set', [bool('enabled', false)])]);
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')], inThread);
    await expectRefusedPrivately(e, cmd, 'turned off');
  });

  it("counts a thread's job in the parent's budget and ledger, and delivers it in the thread", async () => {
    const e = await startInCachedGuild();
    await e.slash('settings', [sub('set', [num('daily_budget', 8)])]);
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')], inThread);
    await e.runUntil(() => (e.fake.originalFor(cmd.token)?.attachments.length ?? 0) === 4);
    expect(e.original(cmd.token).channel_id).toBe(THREAD);
    const [job] = await e.jobs();
    expect(job!.origin).toMatchObject({ channelId: THREAD, policyChannelId: CHANNEL });
    const team = e.app.team;
    expect(await team.ledger.get(job!.id)).toMatchObject({ channelId: CHANNEL });

    // The parent's 8-credit budget is spent, from the parent and from another thread alike.
    const parent = await e.slash('imagine', [str('prompt', 'a blue fox')]);
    expect(e.original(parent.token).flags & EPHEMERAL).toBe(EPHEMERAL);
    const other = await e.slash('imagine', [str('prompt', 'a green fox')], { channelId: '1300000000000000078', parentChannelId: CHANNEL });
    expect(e.original(other.token).flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(e.creates()).toHaveLength(1);

    // /usage in the thread reports the parent channel.
    const usage = await e.slash('usage', [], inThread);
    expect(e.original(usage.token).content).toContain(`<#${CHANNEL}>`);
  });
});

describe('result URLs from the provider', () => {
  it('are linked, not fetched, when they are plain http to an origin nobody configured (reason logged)', async () => {
    const e = await start({ trustedMediaOrigins: [] });
    const cmd = await e.slash('imagine', [str('prompt', 'a red fox')]);
    await e.runUntil(() => e.fake.originalFor(cmd.token)?.content.includes('Image #4') ?? false);
    const message = e.original(cmd.token);
    expect(message.attachments).toEqual([]);
    expect(message.content).toContain('Image #1: http://127.0.0.1');
    // The simulator served no file: nothing was fetched.
    expect(e.sim.requests.filter((r) => r.endpoint === 'file')).toEqual([]);
    expect(e.logs.some((l) => /not fetched/.test(l.msg) && /https only/.test(String(l.reason)))).toBe(true);
  });
});

describe('shutdown (SIGTERM)', () => {
  it('stops taking commands first, then waits for a KIE create already sent before returning', async () => {
    const e = await start();
    e.sim.inject({ kind: 'slow', delayMs: 400, endpoint: 'generate' });
    const cmd = e.inject(rawSlashCommandFor('imagine', [str('prompt', 'a red fox')]));
    await e.fake.waitFor((f) => f.requests.some((r) => r.route === 'interactionCallback'));
    await new Promise((r) => setTimeout(r, 50)); // the create is on the wire
    let handled = false;
    void cmd.handled.then(() => (handled = true));

    await e.app.stop();
    // stop() returned only once the create was answered and recorded.
    expect(handled).toBe(true);
    const [job] = await e.jobs();
    expect(job).toMatchObject({ state: 'running' });
    expect(job!.taskId).toBeTruthy();
    // And no new command is taken any more.
    expect(() => e.inject(rawSlashCommandFor('imagine', [str('prompt', 'another fox')]))).toThrow(/did not handle/);
  });
});
