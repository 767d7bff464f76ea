/**
 * /info end to end: my running and queued jobs with queue positions, my use
 * today against the limits, the channel's budget left and the balance.
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

  it('says so when nothing runs', async () => {
    const e = await start();
    const cmd = await e.slash('info', []);
    expect(e.original(cmd.token).content).toContain('Nothing running or queued.');
    expect(e.original(cmd.token).content).toContain('no daily job limit');
  });
});
