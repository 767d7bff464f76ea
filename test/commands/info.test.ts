/**
 * /info's pure parts: the "How long KIE takes now" section from the learned
 * timings, and the reply kept within Discord's limit at its longest. (The
 * command end to end: test/e2e/info.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { formatInfo, INFO_MAX_LENGTH, timingsSection } from '../../commands/info.js';
import { LearnedTimings, ProviderTimings } from '../../src/domain/durations.js';
import type { JobKind } from '../../src/domain/job.js';
import { expectValidWebhookEdit } from '../support/discordSchema.js';
import { ManualClock } from '../support/manualClock.js';

const s = (seconds: number): number => seconds * 1000;

describe('timingsSection', () => {
  it('shows the grids the learner knows, turbo → fast → relaxed, grids before variations, at most four lines', async () => {
    const clock = new ManualClock();
    const byProvider = new ProviderTimings(() => new LearnedTimings({ clock }), ['kie', 'apixo']);
    const timings = byProvider.for('kie');
    for (const kind of ['vary', 'upscale', 'grid'] as const) {
      for (const speed of ['relaxed', 'fast', 'turbo'] as const) await timings.observe(kind, speed, s(40), 1);
    }
    await timings.observe('video', null, s(80), 1);
    const lines = timingsSection('KIE', byProvider, 'kie');
    expect(lines[0]).toBe('**How long KIE takes now**');
    expect(lines.slice(1).map((l) => l.replace(/:.*/, ''))).toEqual(['- turbo grids', '- fast grids', '- relaxed grids', '- turbo variations']);
    expect(lines[1]).toMatch(/^- turbo grids: median \d+ s, 90 % within \d+–\d+ s, from 1 recent job$/);
    // APIXO learns from its own tasks only: KIE's say nothing of it.
    expect(timingsSection('APIXO', byProvider, 'apixo')[1]).toMatch(/^Nothing learned yet/);
  });

  it('says nothing is learned yet, with the windows the tracker uses meanwhile', () => {
    const nothing = { describe: (_provider: string, _kinds?: readonly JobKind[]) => [] };
    expect(timingsSection('APIXO', nothing, 'apixo')).toEqual([
      '**How long APIXO takes now**',
      'Nothing learned yet — using the usual windows (turbo 10–40 s, fast 30–100 s, relaxed 90–300 s).',
    ]);
  });

  it('asks the learner for grid kinds only, and cuts an overlong line', () => {
    const asked: Array<[string, readonly JobKind[] | undefined]> = [];
    const long = { describe: (provider: string, kinds?: readonly JobKind[]) => (asked.push([provider, kinds]), ['x'.repeat(500)]) };
    const [, line] = timingsSection('KIE', long, 'kie');
    expect(asked).toEqual([['kie', ['grid', 'vary']]]);
    expect(line!.length).toBeLessThanOrEqual(122);
  });
});

describe('formatInfo', () => {
  const sections = ['', '**Today in this channel (UTC)**', 'You: 40 jobs · 320 credits (limit 50 a day, 10 left)', '', '**How long KIE takes now**', '- fast grids: median 41 s'];

  it('is the job list, then every section', () => {
    expect(formatInfo(['- `a` one', '- `b` two'], sections)).toBe(['**Your jobs now**', '- `a` one', '- `b` two', ...sections].join('\n'));
    expect(formatInfo([], sections).split('\n').slice(0, 2)).toEqual(['**Your jobs now**', 'Nothing running or queued.']);
  });

  it('at its longest (30 jobs with 60-character prompts) the job list gives way and every section stays whole, a valid message edit', () => {
    const job = (i: number) => `- \`01JABCDEFGHJKMNPQRSTVW${String(i).padStart(4, '0')}\` ${'a long prompt about a fox in the snow, watercolor, soft light'.slice(0, 60)} — grid · queued, position ${i} · <t:1735733730:R>`;
    const jobs = Array.from({ length: 30 }, (_, i) => job(i + 1));
    const content = formatInfo(jobs, sections);
    expect(content.length).toBeLessThanOrEqual(INFO_MAX_LENGTH);
    expect(content).toMatch(/\n… and \d+ more\n/);
    expect(content.endsWith(sections.join('\n'))).toBe(true);
    const shown = content.split('\n').filter((l) => l.startsWith('- `'));
    expect(shown.length + Number(/… and (\d+) more/.exec(content)![1])).toBe(30);
    expectValidWebhookEdit({ content, allowed_mentions: { parse: [] } });
  });
});
