/**
 * /history end to end: jobs made with /imagine through the fake Discord and
 * the local KIE server, then listed from the SQL tables, 10 per page, with
 * ◀ ▶ buttons (typed custom_ids) that page the stored view in place. Every
 * payload is checked against Discord's schema by the harness.
 */
import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { buttonsOf, CHANNEL, EPHEMERAL, GUILD, OTHER_USER, str, useE2E, USER, type E2E } from './harness.js';

const start = useE2E();
const MEMBER = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages | PermissionFlagsBits.UseApplicationCommands);

/** n jobs a second apart (so newest-first is well defined), prompts `cat 1` … `cat n`. */
async function imagineMany(e: E2E, n: number, userId = USER): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await e.slash('imagine', [str('prompt', `cat ${i}`)], { user: { id: userId } });
    await e.clock.advance(1000);
  }
  await e.settle();
}

const linesOf = (content: string): string[] => content.split('\n').filter((l) => l.startsWith('• '));

describe('/history end to end', () => {
  it('lists my jobs newest first, 10 per page, with kind, speed, state, credits, relative time and a jump link; ▶ and ◀ page in place', async () => {
    const e = await start();
    await imagineMany(e, 12);
    const jobs = await e.jobs();
    const cmd = await e.slash('history', []);
    expect(e.fake.interactionFor(cmd.token)?.ackType).toBe(5);
    const first = e.requestsFor(cmd.token)[0]!;
    expect(((first.body as { data?: { flags?: number } }).data?.flags ?? 0) & EPHEMERAL).toBe(EPHEMERAL);

    const msg = e.original(cmd.token);
    const lines = linesOf(msg.content);
    expect(lines).toHaveLength(10);
    expect(lines[0]).toContain('**cat 12**');
    expect(lines[9]).toContain('**cat 3**');
    const newest = jobs.find((j) => j.promptText === 'cat 12')!;
    expect(lines[0]).toMatch(/ · grid · fast · (running|pending|queued|succeeded) · \d+(\.\d+)? credits · <t:\d+:R> · \[jump\]\(https:\/\/discord\.com\/channels\//);
    expect(lines[0]).toContain(`<t:${Math.floor(newest.createdAt / 1000)}:R>`);
    expect(lines[0]).toContain(`/${GUILD}/${CHANNEL}/${newest.origin.messageId}`);

    const buttons = buttonsOf(msg);
    expect(buttons.map((b) => b.label)).toEqual(['◀', '▶']);
    expect(buttons.map((b) => b.action)).toEqual([expect.objectContaining({ action: 'history_page', index: 0 }), expect.objectContaining({ action: 'history_page', index: 1 })]);

    const next = await e.click(msg, '▶');
    expect(e.fake.interactionFor(next.token)?.ackType).toBe(7);
    const page2 = e.original(cmd.token);
    expect(linesOf(page2.content).map((l) => /\*\*(cat \d+)\*\*/.exec(l)?.[1])).toEqual(['cat 2', 'cat 1']);
    expect(page2.content).toContain('page 2');

    await e.click(page2, '◀');
    expect(linesOf(e.original(cmd.token).content)[0]).toContain('**cat 12**');
    expect(e.logs.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('filters by search text and kind, keeps others’ jobs out of "just me", and escapes prompts without pinging', async () => {
    const e = await start();
    await imagineMany(e, 11);
    await e.slash('imagine', [str('prompt', '@everyone <@1400000000000000002> [x](https://evil.example) 100%_off')], { user: { id: OTHER_USER } });
    await e.settle();

    const search = await e.slash('history', [str('search', 'CAT 1')]);
    expect(linesOf(e.original(search.token).content).map((l) => /\*\*(cat \d+)\*\*/.exec(l)?.[1])).toEqual(['cat 11', 'cat 10', 'cat 1']);

    const upscales = await e.slash('history', [str('kind', 'upscale')]);
    expect(e.original(upscales.token).content).toContain('No jobs match.');

    const percent = await e.slash('history', [str('search', '%_')], { user: { id: OTHER_USER } });
    const theirs = linesOf(e.original(percent.token).content);
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toContain('\\<@1400000000000000002\\>');
    expect(theirs[0]).toContain('\\[x\\]');
    for (const r of e.requestsFor(percent.token)) {
      const am = (r.body as { allowed_mentions?: { parse?: string[] } } | null)?.allowed_mentions;
      if (am) expect(am.parse ?? []).toEqual([]);
    }

    const channel = await e.slash('history', [str('scope', 'channel')], { permissions: MEMBER });
    expect(linesOf(e.original(channel.token).content)).toHaveLength(10);
    expect(e.original(channel.token).content).toContain('everyone');
  });

  it('needs Manage Server for the server scope and for another person; only the author can page', async () => {
    const e = await start();
    await imagineMany(e, 11);
    const server = await e.slash('history', [str('scope', 'server')], { permissions: MEMBER });
    expect(e.original(server.token).content).toContain('Manage Server');
    expect(e.original(server.token).components).toEqual([]);

    const mine = await e.slash('history', []);
    const click = await e.click(e.original(mine.token), '▶', { user: { id: OTHER_USER } });
    const reply = e.requestsFor(click.token)[0]!;
    expect(JSON.stringify(reply.body)).toContain('someone else');
    expect(linesOf(e.original(mine.token).content)[0]).toContain('**cat 11**');

    const all = await e.slash('history', [str('scope', 'server')]);
    expect(linesOf(e.original(all.token).content)).toHaveLength(10);
  });
});
