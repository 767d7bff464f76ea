/**
 * How job states reach Discord: the JobPresenter of src/domain/ports.ts.
 *
 * A job lives in one message (origin.messageId: the interaction's reply or
 * a followup). It is edited through the interaction token while that works
 * (15 minutes, no bot permissions needed); after that, or when Discord says
 * the token is dead (401 / 50027 / 10015, never retried), through the bot's
 * channel route; and if the message cannot be reached at all (deleted,
 * ephemeral, no access), a final result is posted as a new message that
 * mentions the user and replies to the original — a result is never lost
 * silently. The returned origin follows the message (and forgets a dead
 * token), so the next call goes straight to the right route.
 *
 * Results are re-hosted: each KIE file is downloaded (a few at a time) and
 * uploaded as an attachment when within the size limit; the others are
 * linked with the reason. Throttling progress edits is the tracker's job.
 */
import type { RawFile, REST } from 'discord.js';
import type { APIMessage } from 'discord-api-types/v10';
import type { DomainLogger } from '../domain/logger.js';
import { providerOf, type Job, type JobOrigin, type JobResult } from '../domain/job.js';
import type { ProviderCapabilities } from '../domain/provider.js';
import type { Clock, JobPresenter } from '../domain/ports.js';
import { DownloadError, UnsafeUrlError, downloadResult, type Download, type Downloaded } from '../media/download.js';
import * as defaultRenderers from './render/messages.js';
import type { MessagePayload, RenderContext, UploadedFile } from './render/messages.js';
import { Semaphore, mapLimited } from '../domain/concurrency.js';
import { asNewMessage, attachmentName, linkReason } from './attachments.js';
import {
  DiscordRestError,
  createChannelMessage,
  editChannelMessage,
  editInteractionMessage,
  isMessageUnreachable,
  isPayloadTooLarge,
  isTokenRejected,
} from './rest.js';

/** The pure renderers of src/discord/render/messages.ts (injectable for tests). */
export interface Renderers {
  renderStatus(job: Job, ctx: RenderContext): MessagePayload;
  renderResult(job: Job, files: readonly UploadedFile[], ctx?: RenderContext): MessagePayload;
  renderFailure(job: Job, ctx?: RenderContext): MessagePayload;
}

export type PresenterLogger = Pick<DomainLogger, 'debug' | 'warn'>;

export interface DiscordPresenterDeps {
  /** The client's REST (client.rest), so a DISCORD_API_URL proxy applies here too. */
  rest: REST;
  clock: Clock;
  render?: Renderers;
  download?: Download;
  logger?: PresenterLogger;
  /** Stop using the interaction token after this age (Discord: 15 min). Default 14 min. */
  tokenMaxAgeMs?: number;
  /** Upload limit when the interaction did not say (origin.attachmentSizeLimit). Default 10 MiB. */
  maxAttachmentBytes?: number;
  /** Per-file download deadline. Default 60 s. */
  downloadTimeoutMs?: number;
  /** Files downloaded at once for one job. Default 4. */
  downloadConcurrency?: number;
  /** Files downloaded at once across all jobs (a global cap). Default 8. */
  maxDownloadsInFlight?: number;
  /** Result URL origins trusted over http / on loopback (the configured simulator or KIE base URL). */
  trustedMediaOrigins?: readonly string[];
  /** A queued job's place in its channel's queue (1 = next), for "Queued · position 3". */
  queuePosition?: (job: Job) => Promise<number | null>;
  /** What each provider can do, so a result shows only its provider's buttons (absent: KIE's layout). */
  capabilitiesOf?: (providerId: string) => ProviderCapabilities | undefined;
}

export const DEFAULT_TOKEN_MAX_AGE_MS = 14 * 60 * 1000;
export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 60_000;
export const DEFAULT_DOWNLOAD_CONCURRENCY = 4;
export const DEFAULT_MAX_DOWNLOADS_IN_FLIGHT = 8;
/** Discord's limit of attachments on one message. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** Where an edit landed: the message Discord returned, and the origin that now points at it. */
interface Sent {
  message: APIMessage;
  origin: JobOrigin;
}

/** A message the bot could not reach without posting a new one (progress only). */
interface Unreached {
  message: null;
  origin: JobOrigin;
}

/** One result after its download: a file to upload, or the reason it is linked. */
type Fetched = { file: Downloaded } | { linkedBecause: string };

export class DiscordPresenter implements JobPresenter {
  private readonly rest: REST;
  private readonly clock: Clock;
  private readonly render: Renderers;
  private readonly download: Download;
  private readonly logger: PresenterLogger | undefined;
  private readonly tokenMaxAgeMs: number;
  private readonly maxAttachmentBytes: number;
  private readonly downloadTimeoutMs: number;
  private readonly downloadConcurrency: number;
  private readonly downloadSlots: Semaphore;
  private readonly trustedMediaOrigins: readonly string[];
  private readonly queuePosition: DiscordPresenterDeps['queuePosition'];
  private readonly capabilitiesOf: DiscordPresenterDeps['capabilitiesOf'];

  constructor(deps: DiscordPresenterDeps) {
    this.rest = deps.rest;
    this.clock = deps.clock;
    this.render = deps.render ?? defaultRenderers;
    this.download = deps.download ?? downloadResult;
    this.logger = deps.logger;
    this.tokenMaxAgeMs = deps.tokenMaxAgeMs ?? DEFAULT_TOKEN_MAX_AGE_MS;
    this.maxAttachmentBytes = deps.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
    this.downloadTimeoutMs = deps.downloadTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
    this.downloadConcurrency = deps.downloadConcurrency ?? DEFAULT_DOWNLOAD_CONCURRENCY;
    this.downloadSlots = new Semaphore(deps.maxDownloadsInFlight ?? DEFAULT_MAX_DOWNLOADS_IN_FLIGHT);
    this.trustedMediaOrigins = deps.trustedMediaOrigins ?? [];
    this.queuePosition = deps.queuePosition;
    this.capabilitiesOf = deps.capabilitiesOf;
  }

  /**
   * Best effort: edit the status in place, through the token or the channel
   * route, never by posting a new message. Discord failures are logged and
   * swallowed (the next progress or the delivery will try again); a bug in
   * our code still throws.
   */
  async progress(job: Job): Promise<Partial<Pick<Job, 'origin'>> | void> {
    const position = job.state === 'queued' && this.queuePosition ? await this.queuePosition(job).catch(() => null) : null;
    const payload = this.render.renderStatus(job, { now: this.clock.now(), ...(position ? { queuePosition: position } : {}) });
    try {
      const sent = await this.send(job, payload, [], false);
      if (sent.message === null) this.logger?.debug({ jobId: job.id }, 'progress: the job message is out of reach');
      return sameOrigin(sent.origin, job.origin) ? undefined : { origin: sent.origin };
    } catch (error) {
      if (!(error instanceof DiscordRestError)) throw error;
      this.logger?.warn({ jobId: job.id, route: error.route, status: error.status, code: error.code }, 'progress edit failed');
      return undefined;
    }
  }

  /**
   * The final state. Succeeded: results re-hosted (or linked) in the job's
   * message; failed: the reason and a retry button; cancelled: the status.
   * Throws DiscordRestError when Discord cannot be reached at all right now,
   * so the tracker retries the delivery later.
   */
  async deliver(job: Job): Promise<Partial<Pick<Job, 'origin' | 'results' | 'delivered'>>> {
    const capabilities = this.capabilitiesOf?.(providerOf(job));
    const ctx: RenderContext = { now: this.clock.now(), ...(capabilities ? { capabilities } : {}) };
    switch (job.state) {
      case 'succeeded':
        return this.deliverResults(job, ctx);
      case 'failed':
      case 'unknown': {
        const { origin } = await this.sendFinal(job, this.render.renderFailure(job, ctx), []);
        return { origin, delivered: true };
      }
      case 'cancelled': {
        const { origin } = await this.sendFinal(job, this.render.renderStatus(job, ctx), []);
        return { origin, delivered: true };
      }
      default:
        throw new Error(`deliver: job ${job.id} is ${job.state}, not finished`);
    }
  }

  private async deliverResults(job: Job, ctx: RenderContext): Promise<Partial<Pick<Job, 'origin' | 'results' | 'delivered'>>> {
    const limit = job.origin.attachmentSizeLimit ?? this.maxAttachmentBytes;
    // Discord takes at most 10 attachments per message: files past the 10th are linked, never fetched.
    const fetched = await mapLimited(job.results, this.downloadConcurrency, (result, position) =>
      position < MAX_ATTACHMENTS_PER_MESSAGE
        ? this.fetchResult(job, result, limit)
        : Promise.resolve<Fetched>({ linkedBecause: `Discord allows ${MAX_ATTACHMENTS_PER_MESSAGE} files per message` }),
    );

    const uploads: { position: number; raw: RawFile }[] = [];
    const results: JobResult[] = job.results.map((result, position) => {
      const f = fetched[position];
      if (f && 'file' in f) {
        const name = attachmentName(job.id, result, position, f.file.filename);
        const contentType = f.file.contentType === 'application/octet-stream' ? undefined : f.file.contentType;
        uploads.push({ position, raw: { name, data: f.file.data, ...(contentType ? { contentType } : {}) } });
        return { ...result, attachmentId: null, linkedBecause: null };
      }
      return { ...result, attachmentId: null, linkedBecause: f && 'linkedBecause' in f ? f.linkedBecause : 'not downloaded' };
    });

    const attempt = (rs: JobResult[], ups: typeof uploads) =>
      this.sendFinal(
        job,
        this.render.renderResult({ ...job, results: rs }, ups.map((u): UploadedFile => ({ name: u.raw.name, position: u.position })), ctx),
        ups.map((u) => u.raw),
      );

    let sent: Sent;
    let finalResults = results;
    let finalUploads = uploads;
    try {
      sent = await attempt(results, uploads);
    } catch (error) {
      if (!(error instanceof DiscordRestError) || !isPayloadTooLarge(error) || uploads.length === 0) throw error;
      // Discord's real limit was below what the interaction said: link everything instead.
      this.logger?.warn({ jobId: job.id, files: uploads.length }, 'Discord refused the upload as too large; linking the results');
      const uploaded = new Set(uploads.map((u) => u.position));
      finalResults = results.map((r, position) =>
        uploaded.has(position) ? { ...r, linkedBecause: 'too large to attach (Discord refused the upload)' } : r,
      );
      finalUploads = [];
      sent = await attempt(finalResults, finalUploads);
    }

    const idByName = new Map((sent.message.attachments ?? []).map((a) => [a.filename, a.id] as const));
    for (const u of finalUploads) {
      const result = finalResults[u.position];
      if (result) finalResults[u.position] = { ...result, attachmentId: idByName.get(u.raw.name) ?? null };
    }
    return { origin: sent.origin, results: finalResults, delivered: true };
  }

  /** Download one result; size and network problems become a link reason, bugs still throw. */
  private async fetchResult(job: Job, result: JobResult, maxBytes: number): Promise<Fetched> {
    try {
      const opts = { maxBytes, timeoutMs: this.downloadTimeoutMs, trustedOrigins: this.trustedMediaOrigins };
      return { file: await this.downloadSlots.run(() => this.download(result.url, opts)) };
    } catch (error) {
      if (!(error instanceof DownloadError)) throw error;
      if (error instanceof UnsafeUrlError) this.logger?.warn({ jobId: job.id, url: error.url, reason: error.message }, 'result URL not fetched; linked instead');
      else this.logger?.debug({ jobId: job.id, url: error.url, reason: error.message }, 'result linked instead of attached');
      return { linkedBecause: linkReason(error) };
    }
  }

  /** A final state may post a new message: it always lands somewhere, or throws. */
  private sendFinal(job: Job, payload: MessagePayload, files: RawFile[]): Promise<Sent> {
    return this.send(job, payload, files, true);
  }

  /**
   * Token route → channel route → (finals only) a new message. Each step is
   * taken only when the previous one says the message cannot be reached that
   * way; any other failure (5xx, rate limit, network) propagates untouched.
   */
  private async send(job: Job, payload: MessagePayload, files: RawFile[], allowNew: true): Promise<Sent>;
  private async send(job: Job, payload: MessagePayload, files: RawFile[], allowNew: boolean): Promise<Sent | Unreached>;
  private async send(job: Job, payload: MessagePayload, files: RawFile[], allowNew: boolean): Promise<Sent | Unreached> {
    let origin = job.origin;
    const log = (error: DiscordRestError, next: string) =>
      this.logger?.debug({ jobId: job.id, route: error.route, status: error.status, code: error.code }, `falling back to ${next}`);

    if (origin.interactionToken !== null && this.tokenFresh(origin)) {
      try {
        const message = await editInteractionMessage(
          this.rest,
          { applicationId: origin.applicationId, token: origin.interactionToken, messageId: origin.messageId },
          payload,
          files,
        );
        return { message, origin: { ...origin, messageId: message.id } };
      } catch (error) {
        if (!(error instanceof DiscordRestError)) throw error;
        if (isTokenRejected(error)) origin = { ...origin, interactionToken: null };
        else if (!isMessageUnreachable(error)) throw error;
        log(error, 'the channel route');
      }
    } else if (origin.interactionToken !== null) {
      origin = { ...origin, interactionToken: null };
    }

    if (origin.messageId !== null) {
      try {
        const message = await editChannelMessage(this.rest, origin.channelId, origin.messageId, payload, files);
        return { message, origin: { ...origin, messageId: message.id } };
      } catch (error) {
        if (!(error instanceof DiscordRestError) || !isMessageUnreachable(error)) throw error;
        log(error, allowNew ? 'a new message' : 'nothing (progress)');
      }
    }

    if (!allowNew) return { message: null, origin };
    const message = await createChannelMessage(this.rest, origin.channelId, asNewMessage(payload, origin), files);
    // The new message is the bot's, not the interaction's: the token cannot edit it.
    return { message, origin: { ...origin, messageId: message.id, interactionToken: null } };
  }

  /** Unknown age counts as fresh: Discord will say if it is not. */
  private tokenFresh(origin: JobOrigin): boolean {
    return origin.interactionAt === null || this.clock.now() - origin.interactionAt < this.tokenMaxAgeMs;
  }
}

function sameOrigin(a: JobOrigin, b: JobOrigin): boolean {
  return a.messageId === b.messageId && a.interactionToken === b.interactionToken;
}
