/**
 * The pure parts of delivering results as Discord attachments: why a result
 * is linked instead, what its file is called, and the payload of a brand-new
 * message when the job's own message cannot be reached.
 */
import { extname } from 'node:path';
import type { JobOrigin, JobResult } from '../domain/job.js';
import { TooLargeError, formatBytes, type DownloadError } from '../media/download.js';
import type { MessagePayload } from './render/messages.js';

/** Why a result is linked instead of attached, as the result message shows it. */
export function linkReason(error: DownloadError): string {
  if (error instanceof TooLargeError) {
    const size = error.exact ? `${formatBytes(error.size)} > ` : '> ';
    return `too large to attach (${size}${formatBytes(error.limit)})`;
  }
  return `download failed: ${error.message}`;
}

/**
 * The attachment name of a result: what it is and its number as the buttons
 * count it ("clip-2" goes with Extend 2), then the job, so downloaded files
 * don't collide. Unique within a message by construction (Discord maps
 * uploads and ids by name).
 */
export function attachmentName(jobId: string, result: Pick<JobResult, 'kind'>, position: number, downloaded: string): string {
  const ext = extname(downloaded) || (result.kind === 'video' ? '.mp4' : '.png');
  return `${result.kind === 'video' ? 'clip' : 'image'}-${position + 1}-${jobId}${ext}`;
}

/** The payload of a brand-new message: it must ping its user and reply to where the job was. */
export function asNewMessage(payload: MessagePayload, origin: JobOrigin): MessagePayload & { message_reference?: object } {
  const ping = `<@${origin.userId}>`;
  const replyTo = origin.messageId ?? origin.replyToMessageId;
  const content = payload.content.includes(ping) ? payload.content : `${ping} ${payload.content}`.slice(0, 2000);
  return {
    ...payload,
    content,
    allowed_mentions: { parse: [], users: [origin.userId] },
    ...(replyTo ? { message_reference: { message_id: replyTo, channel_id: origin.channelId, fail_if_not_exists: false } } : {}),
  };
}

