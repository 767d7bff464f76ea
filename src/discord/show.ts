/**
 * /show's copy of a finished job: its results as fresh attachments on a new
 * message, with the job's own (live) buttons.
 *
 * Discord cannot attach a file of one message to another, so every result is
 * downloaded and uploaded again. Where from, in order:
 * 1. the attachment the job's message already re-hosts (the presenter
 *    uploaded it on delivery): the bot reads that message (bot route, so the
 *    attachment URLs come back freshly signed) and fetches the file by its
 *    stored attachment id; this is what still works after the provider
 *    deleted its files (KIE ~14 days, APIXO ~1 day);
 * 2. the provider's URL, only while the provider still keeps it (its
 *    `resultUrlTtlMs`, counted from the task's end) — never an expired URL.
 * A result neither gives is linked with the reason (a jump link to the
 * original message once the provider's URL is dead). Nothing here calls the
 * provider's API.
 */
import type { RawFile, REST } from 'discord.js';
import { providerOf, type Job, type JobResult } from '../domain/job.js';
import { DEFAULT_RESULT_URL_TTL_MS, type ProviderCapabilities } from '../domain/provider.js';
import type { Clock } from '../domain/ports.js';
import { DownloadError, downloadResult, type Download, type Downloaded } from '../media/download.js';
import {
  attachmentName,
  DEFAULT_DOWNLOAD_CONCURRENCY,
  DEFAULT_DOWNLOAD_TIMEOUT_MS,
  DEFAULT_MAX_ATTACHMENT_BYTES,
  linkReason,
  mapLimited,
  MAX_ATTACHMENTS_PER_MESSAGE,
  type PresenterLogger,
} from './presenter.js';
import { messageLink, renderResult, type MessagePayload, type UploadedFile } from './render.js';
import { DiscordRestError, getChannelMessage } from './rest.js';

export interface ResultShowerDeps {
  rest: REST;
  clock: Clock;
  download?: Download;
  /** Origins trusted over http / on loopback (the simulators; in tests the fake Discord's CDN). */
  trustedMediaOrigins?: readonly string[];
  /** What each provider can do (its buttons, how long it keeps results). */
  capabilitiesOf?: (providerId: string) => ProviderCapabilities | undefined;
  downloadTimeoutMs?: number;
  logger?: PresenterLogger;
}

/** The message to post: payload plus the files its `attachments` name by index. */
export interface ShownCopy {
  payload: MessagePayload;
  files: RawFile[];
  /** Results attached (0: nothing could be fetched, so there is nothing worth posting). */
  attached: number;
  /** Why the others are not attached, one line each (for a private note). */
  missing: string[];
}

type Fetched = { file: Downloaded } | { linkedBecause: string; url: string };

export class ResultShower {
  private readonly download: Download;

  constructor(private readonly deps: ResultShowerDeps) {
    this.download = deps.download ?? downloadResult;
  }

  /** Whether the provider still serves this job's result URLs. */
  providerKeeps(job: Job): boolean {
    const ttl = this.deps.capabilitiesOf?.(providerOf(job))?.resultUrlTtlMs ?? DEFAULT_RESULT_URL_TTL_MS;
    const endedAt = job.kieCompletedAt ?? job.finishedAt;
    return endedAt === null || this.deps.clock.now() - endedAt < ttl;
  }

  /** The copy of a succeeded job's result message, within `maxBytes` per file (the interaction's upload limit). */
  async copy(job: Job, maxBytes: number | null): Promise<ShownCopy> {
    const limit = maxBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
    const hosted = await this.hostedUrls(job);
    const fresh = this.providerKeeps(job);
    const original = job.origin.messageId ? messageLink(job.origin.guildId, job.origin.channelId, job.origin.messageId) : null;

    const fetched = await mapLimited(job.results, DEFAULT_DOWNLOAD_CONCURRENCY, async (result, position): Promise<Fetched> => {
      const fallbackUrl = fresh || !original ? result.url : original;
      if (position >= MAX_ATTACHMENTS_PER_MESSAGE) return { linkedBecause: `Discord allows ${MAX_ATTACHMENTS_PER_MESSAGE} files per message`, url: fallbackUrl };
      const sources = [result.attachmentId ? hosted.get(result.attachmentId) : undefined, fresh ? result.url : undefined].filter(
        (u): u is string => typeof u === 'string',
      );
      let reason = fresh ? 'not downloaded' : 'no longer available: the image service has deleted it and the original message no longer carries it';
      for (const url of sources) {
        try {
          return { file: await this.download(url, { maxBytes: limit, timeoutMs: this.deps.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS, trustedOrigins: this.deps.trustedMediaOrigins ?? [] }) };
        } catch (error) {
          if (!(error instanceof DownloadError)) throw error;
          this.deps.logger?.debug({ jobId: job.id, url: error.url, reason: error.message }, '/show: a result source failed');
          reason = linkReason(error);
        }
      }
      return { linkedBecause: reason, url: fallbackUrl };
    });

    const files: RawFile[] = [];
    const uploaded: UploadedFile[] = [];
    const missing: string[] = [];
    const results: JobResult[] = job.results.map((result, position) => {
      const f = fetched[position]!;
      if ('file' in f) {
        const name = attachmentName(job.id, result, position, f.file.filename);
        const contentType = f.file.contentType === 'application/octet-stream' ? undefined : f.file.contentType;
        files.push({ name, data: f.file.data, ...(contentType ? { contentType } : {}) });
        uploaded.push({ name, position });
        return { ...result, attachmentId: null, linkedBecause: null };
      }
      missing.push(`#${position + 1}: ${f.linkedBecause}`);
      return { ...result, url: f.url, attachmentId: null, linkedBecause: f.linkedBecause };
    });
    const capabilities = this.deps.capabilitiesOf?.(providerOf(job));
    const rendered = renderResult({ ...job, results }, uploaded, { now: this.deps.clock.now(), ...(capabilities ? { capabilities } : {}) });
    // A copy someone else asked for: it names the author but pings nobody.
    return { payload: { ...rendered, allowed_mentions: { parse: [] } }, files, attached: files.length, missing };
  }

  /** Attachment id → a freshly signed URL, read from the job's own message; empty when that message is out of reach. */
  private async hostedUrls(job: Job): Promise<Map<string, string>> {
    const { channelId, messageId } = job.origin;
    if (!messageId || !job.results.some((r) => r.attachmentId)) return new Map();
    try {
      const message = await getChannelMessage(this.deps.rest, channelId, messageId);
      return new Map((message.attachments ?? []).map((a) => [a.id, a.url] as const));
    } catch (error) {
      if (!(error instanceof DiscordRestError)) throw error;
      this.deps.logger?.debug({ jobId: job.id, status: error.status, code: error.code }, '/show: the job message could not be read');
      return new Map();
    }
  }
}
