/**
 * Provider × button, end to end: the real app through the fake Discord,
 * against each provider's local server (KIE's, APIXO's). For each provider a
 * grid gets U1–U4, V1–V4 and 🔄; an upscale gets exactly the buttons its
 * provider can do, and every one of them works (a delivered result, the
 * follow-up sent to the provider that made the parent, never to the other).
 */
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/domain/job.js';
import type { FakeMessage } from '../support/fakeDiscord.js';
import { ApplicationCommandOptionType } from 'discord.js';
import { bool, buttonsOf, str, useE2E, type E2E, type Injected, type Option } from './harness.js';

/** A subcommand option, e.g. /settings set. */
const sub = (name: string, options: Option[] = []): Option => ({ type: ApplicationCommandOptionType.Subcommand, name, options }) as unknown as Option;

const start = useE2E();
const PROMPT = 'a lighthouse at dusk --ar 16:9';

async function jobOfMessage(e: E2E, messageId: string): Promise<Job> {
  const job = (await e.jobs()).find((j) => j.origin.messageId === messageId);
  if (!job) throw new Error(`no job lives in message ${messageId}`);
  return job;
}

async function delivered(e: E2E, messageId: () => string | undefined): Promise<{ message: FakeMessage; job: Job }> {
  await e.runUntil(() => {
    const id = messageId();
    const message = id ? e.fake.message(id) : undefined;
    return message !== undefined && message.attachments.length > 0;
  });
  const id = messageId()!;
  const job = await jobOfMessage(e, id);
  expect(job).toMatchObject({ state: 'succeeded', delivered: true });
  return { message: e.fake.message(id)!, job };
}

const newMessageOf = (e: E2E, click: Injected) => (): string | undefined => {
  const record = e.fake.interactionFor(click.token);
  if (!record) return undefined;
  return record.ackType === 7 ? record.followupIds[0] : (record.originalId ?? undefined);
};

async function grid(e: E2E) {
  const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
  return delivered(e, () => e.fake.originalFor(cmd.token)?.id);
}

async function press(e: E2E, on: FakeMessage, label: string) {
  const click = await e.click(on, label);
  return delivered(e, newMessageOf(e, click));
}

const labels = (m: FakeMessage): string[] => buttonsOf(m).map((b) => b.label ?? b.emoji ?? '?');
const GRID_BUTTONS = ['U1', 'U2', 'U3', 'U4', '🔄', 'V1', 'V2', 'V3', 'V4'];

const TABLE = [
  {
    provider: 'kie' as const,
    upscaleButtons: ['Vary', 'Animate (High motion)', 'Animate (Low motion)'],
  },
  {
    provider: 'apixo' as const,
    upscaleButtons: ['Upscale (Subtle)', 'Upscale (Creative)', 'Vary (Subtle)', 'Vary (Strong)'],
  },
];

describe.each(TABLE)('$provider behind the buttons', ({ provider, upscaleButtons }) => {
  const other = provider === 'kie' ? 'apixo' : 'kie';
  const creates = (e: E2E, id: 'kie' | 'apixo'): number =>
    id === 'kie'
      ? e.events.filter((x) => x.startsWith('kie:')).length
      : (e.apixoSim?.requests.filter((r) => r.method === 'POST' && r.endpoint !== 'status').length ?? 0);

  it('a grid gets U1–U4, V1–V4 and 🔄; each works and stays with the provider', async () => {
    const e = await start({ provider });
    const g = await grid(e);
    expect(g.job.provider).toBe(provider);
    expect(labels(g.message)).toEqual(GRID_BUTTONS);
    const before = creates(e, other);

    const v = await press(e, g.message, 'V2');
    expect(v.job).toMatchObject({ kind: 'vary', provider });
    expect(labels(v.message)).toEqual(GRID_BUTTONS);
    const again = await press(e, g.message, '🔄');
    expect(again.job).toMatchObject({ kind: 'grid', provider });
    const u = await press(e, g.message, 'U3');
    expect(u.job).toMatchObject({ kind: 'upscale', provider });
    expect(creates(e, other)).toBe(before);
  });

  it(`an upscale gets exactly ${upscaleButtons.join(', ')}, and every one works`, async () => {
    const e = await start({ provider });
    const g = await grid(e);
    const u = await press(e, g.message, 'U1');
    expect(labels(u.message)).toEqual(upscaleButtons);
    const before = creates(e, other);
    for (const label of upscaleButtons) {
      const r = await press(e, u.message, label);
      expect(r.job.provider).toBe(provider);
      expect(r.job.parent).toMatchObject({ jobId: u.job.id });
      expect(r.job.state).toBe('succeeded');
    }
    expect(creates(e, other)).toBe(before);
    // The grid, the upscale and one create per button went to this provider's server.
    expect(creates(e, provider)).toBe(2 + upscaleButtons.length);
  });
});

describe('/settings provider: a channel chooses among the configured providers', () => {
  it('new jobs go to the chosen provider; an older job’s buttons still go to the provider that made it', async () => {
    const e = await start({ provider: 'apixo' });
    const apixoGrid = await grid(e);
    expect(apixoGrid.job.provider).toBe('apixo');

    await e.slash('settings', [sub('set', [str('provider', 'kie')])]);
    const kieGrid = await grid(e);
    expect(kieGrid.job.provider).toBe('kie');

    // The APIXO grid's upscale is still APIXO's, with APIXO's upscale buttons.
    const u = await press(e, apixoGrid.message, 'U2');
    expect(u.job.provider).toBe('apixo');
    expect(labels(u.message)).toEqual(['Upscale (Subtle)', 'Upscale (Creative)', 'Vary (Subtle)', 'Vary (Strong)']);
    const k = await press(e, kieGrid.message, 'U2');
    expect(k.job.provider).toBe('kie');
    expect(labels(k.message)).toEqual(['Vary', 'Animate (High motion)', 'Animate (Low motion)']);
  });

  it("each provider learns its own timings; /info shows the channel's provider's, with its balance", async () => {
    const e = await start({ provider: 'apixo' });
    await grid(e); // an APIXO grid, in a channel on the default (APIXO)
    const info = async (): Promise<string> => e.original((await e.slash('info', [])).token).content;
    const apixoInfo = await info();
    expect(apixoInfo).toContain('**APIXO balance**');
    expect(apixoInfo).toMatch(/\*\*How long APIXO takes now\*\*\n- fast grids: median \d+ s, 90 % within \d+–\d+ s, from 1 recent job$/);

    await e.slash('settings', [sub('set', [str('provider', 'kie')])]);
    const kieInfo = await info();
    expect(kieInfo).toContain('**KIE balance**');
    // KIE has finished nothing yet: APIXO's grid says nothing of KIE's speed.
    expect(kieInfo).toContain('**How long KIE takes now**\nNothing learned yet');
    await grid(e);
    expect(await info()).toMatch(/\*\*How long KIE takes now\*\*\n- fast grids: .* from 1 recent job$/);
  });

  it('refuses a provider the bot is not configured for', async () => {
    const e = await start();
    const cmd = await e.slash('settings', [sub('set', [str('provider', 'apixo')])]);
    const reply = e.fake.originalFor(cmd.token);
    expect(reply?.content).toContain('not configured for APIXO');
  });
});

describe('failover on create (per server, /settings failover)', () => {
  it('with failover on, a create APIXO answers 503 goes to KIE and the reply says so; its buttons are KIE’s', async () => {
    const e = await start({ provider: 'apixo' });
    await e.slash('settings', [sub('set', [str('scope', 'server'), bool('failover', true)])]);
    e.apixoSim!.inject({ kind: 'http', status: 503, endpoint: 'create', times: 1 });
    const g = await grid(e);
    expect(g.job).toMatchObject({ provider: 'kie', failover: { from: 'apixo' } });
    expect(g.message.content).toContain('Made by KIE: APIXO was unavailable');
    const u = await press(e, g.message, 'U1');
    expect(u.job.provider).toBe('kie');
    expect(labels(u.message)).toEqual(['Vary', 'Animate (High motion)', 'Animate (Low motion)']);
  });

  it('with failover off (the default), the same failure is shown and nothing goes to KIE', async () => {
    const e = await start({ provider: 'apixo' });
    e.apixoSim!.inject({ kind: 'http', status: 503, endpoint: 'create', times: 1 });
    const cmd = await e.slash('imagine', [str('prompt', PROMPT)]);
    await e.runUntil(() => e.fake.originalFor(cmd.token)?.content?.includes('unavailable') ?? false);
    expect(e.events.filter((x) => x.startsWith('kie:'))).toEqual([]);
    const job = (await e.jobs())[0]!;
    expect(job).toMatchObject({ state: 'failed', provider: 'apixo' });
  });
});
