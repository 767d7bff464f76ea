/**
 * ResultShower on its own (a stand-in REST and download): where each result
 * of a /show copy comes from — the re-hosted attachment first, the
 * provider's URL only within its lifetime — and what is linked, with which
 * reason and URL, when neither gives a file.
 */
import type { REST } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { ResultShower } from '../../src/discord/show.js';
import { DiscordRestError } from '../../src/discord/rest.js';
import type { Job } from '../../src/domain/job.js';
import { DEFAULT_RESULT_URL_TTL_MS, type ProviderCapabilities } from '../../src/domain/provider.js';
import { DownloadFailedError, TooLargeError, type Download } from '../../src/media/download.js';
import { APIXO_CAPABILITIES } from '../../src/providers/apixo/adapter.js';
import { storedJob } from '../support/jobFixtures.js';

const NOW = Date.UTC(2026, 0, 1);
const clock = { now: () => NOW, setTimeout: () => 0, clearTimeout: () => {} };
const png = (url: string) => ({ data: Buffer.from(url), contentType: 'image/png', filename: 'x.png' });

function finished(overrides: Partial<Job> = {}): Job {
  const base = storedJob({ state: 'succeeded', delivered: true, finishedAt: NOW - 60_000, kieCompletedAt: NOW - 60_000 });
  return {
    ...base,
    origin: { ...base.origin, messageId: 'm1' },
    results: [0, 1, 2, 3].map((i) => ({ url: `https://kie.example/r${i}.png`, kind: 'image' as const, attachmentId: `a${i}`, linkedBecause: null })),
    ...overrides,
  };
}

/** A REST whose GET of the job's message answers with these attachments, or fails. */
function rest(attachments: string[] | 'gone'): { rest: REST; gets: string[] } {
  const gets: string[] = [];
  const stub = {
    get: async (route: string) => {
      gets.push(route);
      if (attachments === 'gone') throw new DiscordRestError('channelGet', 404, 10008, 'Unknown Message');
      return { id: 'm1', attachments: attachments.map((id) => ({ id, url: `https://cdn.discordapp.com/attachments/c1/${id}/x.png`, filename: 'x.png' })) };
    },
  };
  return { rest: stub as unknown as REST, gets };
}

function shower(r: REST, download: Download, caps?: ProviderCapabilities): { s: ResultShower; fetched: string[] } {
  const fetched: string[] = [];
  const s = new ResultShower({
    rest: r,
    clock,
    download: async (url, opts) => {
      fetched.push(url);
      return download(url, opts);
    },
    ...(caps ? { capabilitiesOf: () => caps } : {}),
  });
  return { s, fetched };
}

describe('ResultShower.copy', () => {
  it('re-uploads the attachments the job message keeps, pinging nobody, and never asks the provider', async () => {
    const { rest: r, gets } = rest(['a0', 'a1', 'a2', 'a3']);
    const { s, fetched } = shower(r, async (url) => png(url));
    const copy = await s.copy(finished(), null);
    expect(gets).toEqual(['/channels/c1/messages/m1']);
    expect(fetched.every((u) => u.startsWith('https://cdn.discordapp.com/'))).toBe(true);
    expect(copy.attached).toBe(4);
    expect(copy.payload.attachments).toEqual([0, 1, 2, 3].map((n) => ({ id: String(n), filename: expect.stringMatching(new RegExp(`^image-${n + 1}-`)) })));
    expect(copy.payload.allowed_mentions).toEqual({ parse: [] });
    expect(copy.payload.components.length).toBeGreaterThan(0);
  });

  it('within the provider’s lifetime a missing attachment comes from the provider; a file too large is linked to it', async () => {
    const { rest: r } = rest(['a0']);
    const { s, fetched } = shower(r, async (url, opts) => {
      if (url.endsWith('r3.png')) throw new TooLargeError(url, 30_000_000, opts.maxBytes, true);
      return png(url);
    });
    const copy = await s.copy(finished(), 10 * 1024 * 1024);
    expect(fetched).toEqual(['https://cdn.discordapp.com/attachments/c1/a0/x.png', 'https://kie.example/r1.png', 'https://kie.example/r2.png', 'https://kie.example/r3.png']);
    expect(copy.attached).toBe(3);
    expect(copy.payload.content).toContain('Image #4: https://kie.example/r3.png (too large to attach');
  });

  it('past the provider’s lifetime (APIXO: a day) its URL is never fetched; what is lost is linked to the original message', async () => {
    const day = 24 * 3_600_000;
    const job = finished({ finishedAt: NOW - 2 * day, kieCompletedAt: NOW - 2 * day });
    const { rest: r } = rest(['a0', 'a1']);
    const { s, fetched } = shower(r, async (url) => {
      if (url.includes('/a1/')) throw new DownloadFailedError(url, 404, 'HTTP 404');
      return png(url);
    }, APIXO_CAPABILITIES);
    expect(APIXO_CAPABILITIES.resultUrlTtlMs).toBe(day);
    expect(s.providerKeeps(job)).toBe(false);
    const copy = await s.copy(job, null);
    expect(fetched.some((u) => u.startsWith('https://kie.example/'))).toBe(false);
    expect(copy.attached).toBe(1);
    expect(copy.missing).toHaveLength(3);
    expect(copy.payload.content).toContain('Image #3: https://discord.com/channels/g1/c1/m1 (no longer available');
    // KIE's default lifetime (14 days) still covers two days.
    expect(shower(r, async (u) => png(u)).s.providerKeeps(job)).toBe(true);
    expect(shower(r, async (u) => png(u)).s.providerKeeps(finished({ finishedAt: NOW - DEFAULT_RESULT_URL_TTL_MS, kieCompletedAt: null }))).toBe(false);
  });

  it('an unreachable job message falls back to the provider; nothing at all leaves attached 0', async () => {
    const { rest: r } = rest('gone');
    const { s } = shower(r, async (url) => {
      throw new DownloadFailedError(url, 404, 'HTTP 404');
    });
    const copy = await s.copy(finished(), null);
    expect(copy.attached).toBe(0);
    expect(copy.missing[0]).toMatch(/^#1: download failed/);
  });
});
