/**
 * /info end to end: my running and queued jobs with queue positions, my use
 * today against the limits, the channel's budget left, the balance, and how
 * long KIE takes now (what the tracker learned, or that it learned nothing yet).
 */
import { describe, expect, it } from 'vitest';
import { EPHEMERAL, int, str, useE2E } from './harness.js';
import type { Option } from './harness.js';
import { ApplicationCommandOptionType } from 'discord.js';

const start = useE2E();
const sub = (name: string, options: Option[]): Option => ({ type: ApplicationCommandOptionType.Subcommand, name, options }) as Option;

describe('/info end to end', () => {
  it('shows running and queued jobs with positions, today against the limits, the budget and the balance', async () => {
    const e = await start();
    await e.slash('settings', [sub('set', [int('max_concurrent', 1), int('user_daily_jobs', 5), ({ type: ApplicationCommandOptionType.Number, name: 'daily_budget', value: 100 }) as Option])]);
    await e.slash('imagine', [str('prompt', 'first fox --fast')]);
    await e.slash('imagine', [str('prompt', 'second fox --fast')]);
    await e.settle();
    const cmd = await e.slash('info', []);
    const reply = e.original(cmd.token);
    expect(reply.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(reply.content).toMatch(/first fox[^\n]*running/);
    expect(reply.content).toMatch(/second fox[^\n]*queued, position 1/);
    expect(reply.content).toMatch(/You: 2 jobs · \d+(\.\d+)? credits \(limit 5 a day, 3 left\)/);
    expect(reply.content).toMatch(/of 100 credits left today/);
    expect(reply.content).toMatch(/balance\*\*: \d/);
  });

  it('says so when nothing runs, and that nothing is learned of KIE\'s timings yet', async () => {
    const e = await start();
    const cmd = await e.slash('info', []);
    expect(e.original(cmd.token).content).toContain('Nothing running or queued.');
    expect(e.original(cmd.token).content).toContain('no daily job limit');
    expect(e.original(cmd.token).content).toContain(
      '**How long KIE takes now**\nNothing learned yet — using the usual windows (turbo 10–40 s, fast 30–100 s, relaxed 90–300 s).',
    );
  });

  it('shows what the tracker has learned of how long KIE takes, from the jobs it finished', async () => {
    const e = await start();
    const fast = await e.slash('imagine', [str('prompt', 'a fast fox')]);
    const turbo = await e.slash('imagine', [str('prompt', 'a turbo fox --turbo')]);
    await e.runUntil(() => [fast, turbo].every((c) => (e.fake.originalFor(c.token)?.attachments.length ?? 0) === 4));
    const cmd = await e.slash('info', []);
    const content = e.original(cmd.token).content;
    // Turbo before fast; each from the one job the simulator ran (20 s), which the prior still tempers.
    expect(content).toMatch(
      /\*\*How long KIE takes now\*\*\n- turbo grids: median \d+ s, 90 % within \d+–\d+ s, from 1 recent job\n- fast grids: median \d+ s, 90 % within \d+–\d+ s, from 1 recent job$/,
    );
    expect(content).not.toContain('Nothing learned yet');
  });
});
