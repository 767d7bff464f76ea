import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REST, Routes } from 'discord.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiscordPresenter, type Renderers } from '../../src/discord/presenter.js';
import { asNewMessage, attachmentName, linkReason } from '../../src/discord/attachments.js';
import { mapLimited } from '../../src/domain/concurrency.js';
import * as render from '../../src/discord/render/messages.js';
import { DiscordRestError } from '../../src/discord/rest.js';
import type { Job, JobOrigin } from '../../src/domain/job.js';
import type { Clock } from '../../src/domain/ports.js';
import { DownloadFailedError, TooLargeError } from '../../src/media/download.js';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, TEST_BOT_TOKEN, rawSlashCommand } from '../support/discordClient.js';
import { discordPayloadIssues, type DiscordPayloadKind } from '../support/discordSchema.js';
import { startFakeDiscord, type FakeDiscord, type FakeRoute } from '../support/fakeDiscord.js';

// ---------------------------------------------------------------------------
// A local file server standing in for KIE's result URLs
// ---------------------------------------------------------------------------

const png = (n: number, fill: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(n, fill)]);
const FILES: Record<string, Buffer> = {
  '/r/t1_0.png': png(100, 1),
  '/r/t1_1.png': png(100, 2),
  '/r/t1_2.png': png(100, 3),
  '/r/t1_3.png': png(100, 4),
  '/r/big.png': png(5000, 5),
};

let files: Server;
let filesUrl: string;

beforeAll(async () => {
  files = createServer((req, res) => {
    const body = FILES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});

afterAll(async () => {
  files.closeAllConnections();
  await new Promise<void>((resolve) => files.close(() => resolve()));
});

// ---------------------------------------------------------------------------
// Fake Discord (validating every payload against Discord's schema) and a REST
// ---------------------------------------------------------------------------

const KIND: Partial<Record<FakeRoute, DiscordPayloadKind>> = {
  webhookEdit: 'webhookEdit',
  channelEdit: 'messageEdit',
  channelCreate: 'messageCreate',
};

const T0 = Date.UTC(2025, 0, 1);
let now = T0;
const clock: Clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };

let fake: FakeDiscord;
let rest: REST;

beforeEach(async () => {
  now = T0;
  fake = await startFakeDiscord({
    botToken: TEST_BOT_TOKEN,
    validate: (route, body) => {
      const kind = KIND[route];
      const issues = kind ? discordPayloadIssues(kind, body) : [];
      if (issues.length) throw new Error(issues.join('; '));
    },
  });
  rest = new REST({ api: fake.apiUrl, retries: 0, timeout: 5_000 }).setToken(TEST_BOT_TOKEN);
});

afterEach(async () => {
  expect(fake.validationErrors).toEqual([]);
  await fake.close();
});

/** An interaction the bot acknowledged with a public defer: its token and reply message. */
async function deferredInteraction(opts: { ephemeral?: boolean; attachmentSizeLimit?: number } = {}): Promise<JobOrigin> {
  const raw = rawSlashCommand({ name: 'imagine', applicationId: fake.applicationId });
  fake.registerInteraction(raw);
  await rest.post(Routes.interactionCallback(raw.id, raw.token), {
    body: { type: 5, data: { flags: opts.ephemeral ? 64 : 0 } },
    auth: false,
  });
  return {
    guildId: raw.guild_id ?? null,
    channelId: DEFAULT_CHANNEL_ID,
    userId: DEFAULT_USER_ID,
    applicationId: fake.applicationId,
    interactionToken: raw.token,
    interactionAt: now,
    messageId: fake.originalFor(raw.token)?.id ?? null,
    replyToMessageId: null,
    attachmentSizeLimit: opts.attachmentSizeLimit ?? null,
  };
}

function job(origin: JobOrigin, patch: Partial<Job> = {}): Job {
  return {
    id: 'job1',
    kind: 'grid',
    state: 'running',
    request: { op: 'generate', body: { taskType: 'mj_txt2img', prompt: 'a red fox', speed: 'fast' } },
    promptText: 'a red fox',
    speed: 'fast',
    estimatedCredits: 8,
    origin,
    parent: null,
    taskId: 't1',
    results: [],
    error: null,
    delivered: false,
    pressed: [],
    polls: 3,
    createdAt: T0,
    submittedAt: T0,
    finishedAt: null,
    kieCompletedAt: null,
    ...patch,
  };
}

const grid = (origin: JobOrigin, paths = ['/r/t1_0.png', '/r/t1_1.png', '/r/t1_2.png', '/r/t1_3.png']): Job =>
  job(origin, {
    state: 'succeeded',
    finishedAt: T0 + 30_000,
    results: paths.map((p) => ({ url: `${filesUrl}${p}`, kind: 'image' as const })),
  });

const presenter = (extra: Partial<ConstructorParameters<typeof DiscordPresenter>[0]> = {}) =>
  new DiscordPresenter({ rest, clock, trustedMediaOrigins: [filesUrl], ...extra });

const routesHit = () => fake.requests.map((r) => `${r.route} ${r.status}`);

// ---------------------------------------------------------------------------

describe('DiscordPresenter.progress', () => {
  it('edits the reply through the interaction token, without pinging', async () => {
    const origin = await deferredInteraction();
    now += 42_000;
    const out = await presenter().progress(job(origin));
    const message = fake.message(origin.messageId ?? '');
    expect(message?.content).toContain('Generating · 0:42');
    expect(message?.mentions).toEqual([]);
    expect(routesHit()).toEqual(['interactionCallback 204', 'webhookEdit 200']);
    expect(out).toBeUndefined();
  });

  it('learns the reply id when it did not know it', async () => {
    const origin = await deferredInteraction();
    const out = await presenter().progress(job({ ...origin, messageId: null }));
    expect(out).toEqual({ origin });
    expect(fake.requests.at(-1)?.path).toContain('/messages/@original');
  });

  it('never posts a new message, and forgets a dead token', async () => {
    const origin = await deferredInteraction({ ephemeral: true });
    fake.expireToken(origin.interactionToken ?? '');
    const out = await presenter().progress(job(origin));
    expect(routesHit()).toEqual(['interactionCallback 204', 'webhookEdit 401', 'channelEdit 404']);
    expect(out).toEqual({ origin: { ...origin, interactionToken: null } });
  });

  it('swallows Discord failures but not bugs', async () => {
    const origin = await deferredInteraction();
    fake.failNext({ route: 'webhookEdit', status: 500 });
    await expect(presenter().progress(job(origin))).resolves.toBeUndefined();
    const broken: Renderers = {
      ...render,
      renderStatus: () => {
        throw new TypeError('bug');
      },
    };
    await expect(presenter({ render: broken }).progress(job(origin))).rejects.toThrow(TypeError);
  });
});

describe('DiscordPresenter.deliver', () => {
  it('uploads every result to the reply and remembers the attachment ids', async () => {
    const origin = await deferredInteraction();
    const out = await presenter().deliver(grid(origin));
    const message = fake.message(origin.messageId ?? '');
    expect(message?.attachments.map((a) => a.filename)).toEqual(['image-1-job1.png', 'image-2-job1.png', 'image-3-job1.png', 'image-4-job1.png']);
    expect(message?.components.length).toBeGreaterThan(0);
    expect(message?.mentions.map((u) => u.id)).toEqual([DEFAULT_USER_ID]);
    expect(out.delivered).toBe(true);
    expect(out.origin).toEqual(origin);
    expect(out.results?.map((r) => r.attachmentId)).toEqual(message?.attachments.map((a) => a.id));
    expect(out.results?.every((r) => r.linkedBecause === null)).toBe(true);
    const edit = fake.requests.at(-1);
    expect(edit?.route).toBe('webhookEdit');
    expect(edit?.files.map((f) => f.field)).toEqual(['files[0]', 'files[1]', 'files[2]', 'files[3]']);
    expect(fake.attachmentData(message?.attachments[2]?.id ?? '')?.equals(FILES['/r/t1_2.png'] ?? Buffer.alloc(0))).toBe(true);
  });

  it('uses the channel route once the token is older than 14 minutes', async () => {
    const origin = await deferredInteraction();
    now += 14 * 60 * 1000;
    const out = await presenter().deliver(grid(origin));
    expect(routesHit()).toEqual(['interactionCallback 204', 'channelEdit 200']);
    expect(fake.message(origin.messageId ?? '')?.attachments).toHaveLength(4);
    expect(out.origin).toEqual({ ...origin, interactionToken: null });
  });

  it('falls back to the channel route on 50027, without retrying the token', async () => {
    const origin = await deferredInteraction();
    fake.expireToken(origin.interactionToken ?? '');
    const out = await presenter().deliver(grid(origin));
    expect(routesHit()).toEqual(['interactionCallback 204', 'webhookEdit 401', 'channelEdit 200']);
    expect(out.origin?.interactionToken).toBeNull();
    expect(out.results?.every((r) => typeof r.attachmentId === 'string')).toBe(true);
  });

  it('falls back on 10015 Unknown Webhook as well', async () => {
    const origin = await deferredInteraction();
    fake.failNext({ route: 'webhookEdit', status: 404, code: 10015, message: 'Unknown Webhook' });
    await presenter().deliver(grid(origin, ['/r/t1_0.png']));
    expect(routesHit()).toEqual(['interactionCallback 204', 'webhookEdit 404', 'channelEdit 200']);
  });

  it('posts a new message that pings the user and replies to the original when the channel route fails too', async () => {
    const origin = await deferredInteraction();
    fake.expireToken(origin.interactionToken ?? '');
    fake.failNext({ route: 'channelEdit', status: 403, code: 50001, message: 'Missing Access' });
    const out = await presenter().deliver(grid(origin));
    expect(routesHit()).toEqual(['interactionCallback 204', 'webhookEdit 401', 'channelEdit 403', 'channelCreate 200']);
    const posted = fake.message(out.origin?.messageId ?? '');
    expect(posted?.id).not.toBe(origin.messageId);
    expect(posted).toMatchObject({ type: 19, message_reference: { message_id: origin.messageId } });
    expect(posted?.mentions.map((u) => u.id)).toEqual([DEFAULT_USER_ID]);
    expect(posted?.content).toContain(`<@${DEFAULT_USER_ID}>`);
    expect(posted?.attachments).toHaveLength(4);
    expect(out.results?.map((r) => r.attachmentId)).toEqual(posted?.attachments.map((a) => a.id));
    expect(out.origin).toMatchObject({ interactionToken: null, messageId: posted?.id });
  });

  it('posts a new message when the reply was ephemeral and the token has expired (10008 on the channel route)', async () => {
    const origin = await deferredInteraction({ ephemeral: true });
    now += 20 * 60 * 1000;
    const out = await presenter().deliver(grid(origin, ['/r/t1_0.png']));
    expect(routesHit()).toEqual(['interactionCallback 204', 'channelEdit 404', 'channelCreate 200']);
    // the ephemeral reply cannot be replied to: the reference is dropped, the message still lands
    expect(fake.message(out.origin?.messageId ?? '')).toMatchObject({ type: 0, attachments: [{ filename: 'image-1-job1.png' }] });
  });

  it('posts directly when there is neither a token nor a message', async () => {
    const origin = await deferredInteraction();
    const out = await presenter().deliver(
      job({ ...origin, interactionToken: null, messageId: null, replyToMessageId: origin.messageId }, { state: 'failed', error: { code: '2', message: 'banned prompt' } }),
    );
    expect(routesHit()).toEqual(['interactionCallback 204', 'channelCreate 200']);
    const posted = fake.message(out.origin?.messageId ?? '');
    expect(posted?.content).toContain('banned prompt');
    expect(posted?.message_reference?.message_id).toBe(origin.messageId);
  });

  it('links results over the interaction’s upload limit and attaches the rest', async () => {
    const origin = await deferredInteraction({ attachmentSizeLimit: 1000 });
    const out = await presenter().deliver(grid(origin, ['/r/t1_0.png', '/r/big.png']));
    expect(out.results?.[0]).toMatchObject({ linkedBecause: null });
    expect(out.results?.[0]?.attachmentId).toEqual(expect.any(String));
    expect(out.results?.[1]).toMatchObject({ attachmentId: null, linkedBecause: 'too large to attach (4.9 KB > 1000 B)' });
    const message = fake.message(origin.messageId ?? '');
    expect(message?.attachments.map((a) => a.filename)).toEqual(['image-1-job1.png']);
    expect(message?.content).toContain(`${filesUrl}/r/big.png`);
    expect(message?.content).toContain('too large to attach');
  });

  it('links results whose download failed', async () => {
    const origin = await deferredInteraction();
    const out = await presenter().deliver(grid(origin, ['/r/t1_0.png', '/r/gone.png']));
    expect(out.results?.[1]).toMatchObject({ attachmentId: null, linkedBecause: 'download failed: HTTP 404' });
    expect(fake.message(origin.messageId ?? '')?.content).toContain('download failed: HTTP 404');
  });

  it('links everything when Discord refuses the upload as too large', async () => {
    await fake.close();
    fake = await startFakeDiscord({ attachmentSizeLimit: 50 });
    rest = new REST({ api: fake.apiUrl, retries: 0 }).setToken(TEST_BOT_TOKEN);
    const origin = await deferredInteraction();
    const out = await presenter().deliver(grid(origin, ['/r/t1_0.png']));
    expect(routesHit()).toEqual(['interactionCallback 204', 'webhookEdit 413', 'webhookEdit 200']);
    expect(out.results?.[0]).toMatchObject({ attachmentId: null, linkedBecause: 'too large to attach (Discord refused the upload)' });
    expect(fake.message(origin.messageId ?? '')?.attachments).toEqual([]);
  });

  it('shows a failure with its reason', async () => {
    const origin = await deferredInteraction();
    const out = await presenter().deliver(job(origin, { state: 'failed', error: { code: '2', message: 'Midjourney generation failed' } }));
    expect(out).toEqual({ origin, delivered: true });
    expect(fake.message(origin.messageId ?? '')?.content).toContain('Midjourney generation failed');
  });

  it('lets transient errors propagate for the tracker to retry, without a fallback and without the token', async () => {
    const origin = await deferredInteraction();
    fake.failNext({ route: 'webhookEdit', status: 500 });
    const err = await presenter().deliver(grid(origin, ['/r/t1_0.png'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordRestError);
    expect(err).toMatchObject({ route: 'webhookEdit', status: 500, transient: true });
    expect(routesHit()).toEqual(['interactionCallback 204', 'webhookEdit 500']);
    const token = origin.interactionToken ?? '';
    expect(token.length).toBeGreaterThan(10);
    expect(String(err)).not.toContain(token);
    expect(JSON.stringify(err)).not.toContain(token);
  });

  it('refuses to deliver an unfinished job', async () => {
    const origin = await deferredInteraction();
    await expect(presenter().deliver(job(origin))).rejects.toThrow(/not finished/);
  });
});

describe('helpers', () => {
  it('runs at most `limit` tasks at once and keeps the order', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimited([1, 2, 3, 4, 5, 6], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60]);
    expect(peak).toBe(2);
    await expect(mapLimited([], 4, async () => 1)).resolves.toEqual([]);
  });

  it('words link reasons', () => {
    expect(linkReason(new TooLargeError('u', Math.round(23.4 * 1024 * 1024), 10 * 1024 * 1024, true))).toBe(
      'too large to attach (23.4 MB > 10 MB)',
    );
    expect(linkReason(new TooLargeError('u', 11 * 1024 * 1024, 10 * 1024 * 1024, false))).toBe('too large to attach (> 10 MB)');
    expect(linkReason(new DownloadFailedError('u', 502, 'HTTP 502'))).toBe('download failed: HTTP 502');
  });

  it('names attachments by what they are and their number, as the buttons count them', () => {
    expect(attachmentName('job1', { kind: 'image' }, 0, 'x_0.png')).toBe('image-1-job1.png');
    expect(attachmentName('job1', { kind: 'video' }, 1, 'x_1.mp4')).toBe('clip-2-job1.mp4');
    expect(attachmentName('job1', { kind: 'video' }, 3, 'download')).toBe('clip-4-job1.mp4');
  });

  it('turns a payload into a new message that pings and replies', () => {
    const origin: JobOrigin = {
      guildId: 'g',
      channelId: 'c',
      userId: 'u',
      applicationId: 'a',
      interactionToken: null,
      interactionAt: null,
      messageId: null,
      replyToMessageId: 'm',
      attachmentSizeLimit: null,
    };
    expect(asNewMessage({ content: 'hi', components: [], allowed_mentions: { parse: [] } }, origin)).toEqual({
      content: '<@u> hi',
      components: [],
      allowed_mentions: { parse: [], users: ['u'] },
      message_reference: { message_id: 'm', channel_id: 'c', fail_if_not_exists: false },
    });
  });
});

describe('DiscordPresenter.deliver with more than 10 result files', () => {
  it('never attaches more than 10 files to one message; the rest are linked', async () => {
    const origin = await deferredInteraction();
    const paths = Array.from({ length: 12 }, (_, i) => `/r/t1_${i}.png`);
    const out = await presenter().deliver(grid(origin, paths));
    const edit = fake.requests.filter((r) => r.route === 'webhookEdit').at(-1)!;
    expect(edit.status).toBe(200);
    expect(edit.files.length).toBeLessThanOrEqual(10);
    expect(out.delivered).toBe(true);
    expect(out.results?.slice(10).every((r) => r.linkedBecause?.includes('10 files per message'))).toBe(true);
    expect(fake.message(origin.messageId ?? '')?.content).toContain('Image #12: ');
  });
});
