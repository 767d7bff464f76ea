/**
 * Pure rendering of jobs into Discord API payloads (plain JSON, exactly what
 * is sent). Classic messages only: content + attachments + button rows, not
 * Components V2 (docs/NOTES.md: V2 rejects `content` and its upload rules on
 * interaction edits are unclear).
 *
 * Every payload stays inside Discord's limits whatever the input: prompts
 * are truncated to fit 2000 characters, labels to 80, at most 5 rows of 5
 * buttons, custom_ids from the codec (≤ 100, unique per message).
 *
 * Message payloads carry only fields valid for both a channel message
 * create/edit and an interaction (webhook) edit, so the presenter can send
 * the same object down either path.
 */
import { MessageFlags, TextInputStyle, ComponentType } from 'discord-api-types/v10';
import type { APIAllowedMentions, APIModalInteractionResponseCallbackData, RESTAPIAttachment } from 'discord-api-types/v10';
import { isFollowUpSpec, specOf, type Job, type JobResult } from '../../domain/job.js';
import { PROMPT_MAX_LENGTH } from '../../domain/midjourney.js';
import type { ProviderCapabilities } from '../../domain/provider.js';
import { encodeCustomId, EXTEND_PROMPT_INPUT_ID } from '../customId.js';
import { cancelComponents, resultComponents, retryComponents } from './buttons.js';
import type { ButtonRow } from './buttons.js';
import {
  creditsPhrase,
  DISCORD_LIMITS,
  fitPrompt,
  formatDuration,
  formatElapsed,
  formatParams,
  mention,
  oneLine,
  escapeMarkdown,
  truncate,
} from './format.js';

export { formatDuration, formatElapsed, formatParams, messageLink, truncate, DISCORD_LIMITS } from './format.js';
export { resultComponents, MAX_EXTENDABLE_CLIPS } from './buttons.js';
export type { Button, ButtonRow } from './buttons.js';

/** What rendering needs besides the job: the time, and the queue position if queued. */
export interface RenderContext {
  /** ms since epoch; elapsed time is measured against it. */
  now: number;
  /** 1-based position in the channel queue, for queued jobs, when known. */
  queuePosition?: number | null;
  /** What the job's provider can do: its result gets only those buttons (absent: KIE's layout). */
  capabilities?: ProviderCapabilities;
}

/** A classic message: valid as a channel message create/edit and as an interaction (webhook) edit. */
export interface MessagePayload {
  content: string;
  /** Always present, possibly empty: an edit must clear buttons that no longer apply. */
  components: ButtonRow[];
  allowed_mentions: APIAllowedMentions;
  /** On results: new uploads (`id` = index n of multipart part `files[n]`) and existing attachments to keep. */
  attachments?: RESTAPIAttachment[];
  flags?: number;
}

/** An ephemeral reply (errors, pointers). */
export interface EphemeralPayload {
  content: string;
  components: ButtonRow[];
  allowed_mentions: APIAllowedMentions;
  flags: MessageFlags.Ephemeral;
}

/** A file the presenter uploads with the result: which result (0-based position in job.results) under which name. */
export interface UploadedFile {
  name: string;
  position: number;
}

/** Status edits and notices never ping. */
const NO_PINGS: APIAllowedMentions = { parse: [] };
/** Final results ping their requester only (never @everyone or roles from a prompt). */
const pingRequester = (job: Job): APIAllowedMentions => ({ parse: [], users: [job.origin.userId] });

const MAX_REASON_LENGTH = 300;

// ---------------------------------------------------------------------------
// Content pieces
// ---------------------------------------------------------------------------

/**
 * The 0-based image/clip a button job acted on, from the request sent to
 * the provider (the source of truth; a vary of an upscale varies its grid
 * image), else from the parent link.
 */
function sourcePosition(job: Job): number | null {
  const spec = specOf(job);
  if (!isFollowUpSpec(spec)) return job.parent?.position ?? null;
  if (job.kind === 'vary' && spec.source.resultKind === 'upscale' && spec.source.grid) return spec.source.grid.position;
  return spec.source.position;
}

const numbered = (noun: string, position: number | null): string => (position === null ? noun : `${noun} #${position + 1}`);

/** The motion of a video request ("High motion"), if it has one. */
function motionLabel(job: Job): string | null {
  const spec = specOf(job);
  const motion = isFollowUpSpec(spec)
    ? spec.action === 'animate_high' ? 'high' : spec.action === 'animate_low' ? 'low' : null
    : spec.kind === 'animate' ? spec.motion : null;
  if (motion === null) return null;
  return motion === 'high' ? 'High motion' : 'Low motion';
}

/**
 * What the message is about, between the prompt and the user, in
 * Midjourney's wording: "Image #2", "Variations of Image #3 by", …
 * Empty for a plain grid.
 */
function subject(job: Job): string {
  const position = sourcePosition(job);
  switch (job.kind) {
    case 'grid':
      return '';
    case 'upscale':
      return numbered('Image', position);
    case 'vary':
      return `Variations of ${numbered('Image', position)} by`;
    case 'video':
    case 'video_hd': {
      const hd = job.kind === 'video_hd' ? 'HD video' : 'Video';
      const motion = motionLabel(job);
      return `${motion ? `${hd} (${motion})` : hd} by`;
    }
    case 'extend':
      return `Extension of ${numbered('clip', position)} by`;
  }
}

/** What failed, for the failure line: "Upscale of Image #2". */
function failedWhat(job: Job): string {
  const position = sourcePosition(job);
  switch (job.kind) {
    case 'grid':
      return 'Generation';
    case 'upscale':
      return `Upscale of ${numbered('Image', position)}`;
    case 'vary':
      return `Variations of ${numbered('Image', position)}`;
    case 'video':
      return 'Video';
    case 'video_hd':
      return 'HD video';
    case 'extend':
      return `Extension of ${numbered('clip', position)}`;
  }
}

/** "fast · 8 credits" (speed omitted for video, which has none). */
function costPhrase(job: Job, estimate: boolean): string {
  const credits = creditsPhrase(job.estimatedCredits, estimate);
  return job.speed ? `${job.speed} · ${credits}` : credits;
}

/**
 * The cost line of a finished result, for every kind: "fast · 8 credits ·
 * 41 s" — the speed, the credits its ledger line charges (the job's
 * estimate, as admission booked it), and how long the provider took (sent →
 * the provider's completion time, else when the bot saw it finish).
 */
export function resultCostLine(job: Job): string {
  const end = job.kieCompletedAt ?? job.finishedAt;
  const took = job.submittedAt !== null && end !== null ? ` · ${formatDuration(end - job.submittedAt)}` : '';
  return `${costPhrase(job, false)}${took}`;
}

/** The state in brackets on a status message: "Waiting to start", "Queued · position 3", "Generating · 0:42". */
export function statusLabel(job: Job, ctx: RenderContext): string {
  switch (job.state) {
    case 'queued':
      return ctx.queuePosition != null ? `Queued · position ${ctx.queuePosition}` : 'Queued';
    case 'pending':
      return 'Waiting to start';
    case 'running':
      return `Generating · ${formatElapsed(ctx.now - (job.submittedAt ?? job.createdAt))}`;
    case 'succeeded':
      return 'Done';
    case 'failed':
      return 'Failed';
    case 'unknown':
      return 'Outcome unknown';
    case 'cancelled':
      return 'Cancelled';
  }
}

/**
 * "**<prompt>** - <subject> <@user> (<suffix>)" followed by `extra` lines,
 * with the prompt truncated so the whole content fits Discord's limit.
 */
/** "-# Made by APIXO: KIE was unavailable (…)" when the create failed over to another provider. */
function failoverLine(job: Job): string[] {
  if (!job.failover || !job.provider) return [];
  const reason = truncate(oneLine(job.failover.reason), MAX_REASON_LENGTH);
  return [`-# Made by ${job.provider.toUpperCase()}: ${job.failover.from.toUpperCase()} was unavailable (${reason})`];
}

function headline(job: Job, suffix: string | null, extra: string[] = []): string {
  const who = [subject(job), mention(job.origin.userId)].filter((s) => s.length > 0).join(' ');
  const build = (prompt: string): string =>
    [`**${prompt}** - ${who}${suffix ? ` (${suffix})` : ''}`, ...failoverLine(job), ...extra].join('\n');
  const budget = DISCORD_LIMITS.content - build('').length;
  // Last resort (absurdly long extra lines): cut the whole content.
  return truncate(build(fitPrompt(job.promptText, Math.max(0, budget))), DISCORD_LIMITS.content);
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

/**
 * A job that is not finished yet: queued, waiting to start or generating,
 * with its resolved parameters and cost. Queued jobs get ❌ Cancel. Never
 * pings (status edits are frequent).
 */
export function renderStatus(job: Job, ctx: RenderContext): MessagePayload {
  const params = formatParams(specOf(job));
  const details = [params ? `\`${params}\`` : null, costPhrase(job, true)].filter((s): s is string => s !== null).join(' · ');
  return {
    content: headline(job, statusLabel(job, ctx), [details]),
    components: job.state === 'queued' ? cancelComponents(job) : [],
    allowed_mentions: NO_PINGS,
  };
}

const resultNoun = (r: JobResult): string => (r.kind === 'video' ? 'Video' : 'Image');

/** "Image #3: <url> (too large to attach)" for a result shown as a link. */
function linkLine(result: JobResult, position: number): string {
  const reason = result.linkedBecause ? ` (${truncate(oneLine(result.linkedBecause), MAX_REASON_LENGTH)})` : '';
  return `${resultNoun(result)} #${position + 1}: ${result.url}${reason}`;
}

/**
 * A succeeded job: its files, links for results that could not be attached,
 * and the buttons for its kind.
 *
 * `files` are the uploads sent with this payload: files[n] must be the
 * multipart part `files[n]`. Results not uploaded now but already attached
 * earlier (attachmentId set, not linked) are kept by id, so re-rendering an
 * existing message never drops its files; any other result is linked.
 */
export function renderResult(job: Job, files: readonly UploadedFile[], ctx?: RenderContext): MessagePayload {
  const uploaded = new Set(files.map((f) => f.position));
  const kept: RESTAPIAttachment[] = [];
  const links: string[] = [];
  job.results.forEach((result, position) => {
    if (uploaded.has(position)) return;
    if (result.attachmentId && !result.linkedBecause) kept.push({ id: result.attachmentId });
    else links.push(linkLine(result, position));
  });
  return {
    content: headline(job, resultCostLine(job), links),
    components: resultComponents(job, ctx?.capabilities),
    attachments: [...files.map((f, n): RESTAPIAttachment => ({ id: String(n), filename: f.name })), ...kept],
    allowed_mentions: pingRequester(job),
  };
}

/**
 * A failed job: what failed and why (KIE's reason), and 🔄 Retry. A job whose
 * outcome is unknown (KIE may have it) says so and offers no Retry: pressing
 * it could pay twice for one image.
 */
export function renderFailure(job: Job, _ctx?: RenderContext): MessagePayload {
  if (job.state === 'unknown') {
    return {
      content: headline(job, 'outcome unknown', [
        `⚠️ ${failedWhat(job)} was sent to KIE but its answer was lost, so KIE may have made (and charged for) it. ` +
          "It counts against this channel's budget and limits; if KIE reports the task later, the result appears here.",
      ]),
      components: [],
      allowed_mentions: pingRequester(job),
    };
  }
  const reason = job.error ? truncate(escapeMarkdown(oneLine(job.error.message)), MAX_REASON_LENGTH) : 'unknown error';
  return {
    content: headline(job, 'failed', [`❌ ${failedWhat(job)} failed: ${reason}`]),
    components: retryComponents(job),
    allowed_mentions: pingRequester(job),
  };
}

/**
 * The buttons of a result message after one was pressed (job.pressed
 * already updated): the edit that turns U2 blue. Works for every kind.
 */
export function renderPressedGrid(job: Job, capabilities?: ProviderCapabilities): { components: ButtonRow[] } {
  return { components: resultComponents(job, capabilities) };
}

/**
 * The manual-extend modal for one clip (0-based clipIndex): one required
 * paragraph input, prefilled with the job's prompt for the user to edit.
 * Returns the modal data (what discord.js showModal takes; wrap it as
 * `{ type: 9, data }` for a raw interaction callback). Uses a Label
 * component, since action rows in modals are deprecated.
 */
export function renderExtendModal(job: Job, clipIndex: number): APIModalInteractionResponseCallbackData {
  const clip = clipIndex + 1;
  return {
    custom_id: encodeCustomId({ action: 'extend_modal', jobId: job.id, index: clipIndex }),
    title: truncate(`Extend clip ${clip}`, DISCORD_LIMITS.modalTitle),
    components: [
      {
        type: ComponentType.Label,
        label: truncate(`Prompt for clip ${clip}`, DISCORD_LIMITS.labelText),
        description: 'Describe how the video should continue.',
        component: {
          type: ComponentType.TextInput,
          custom_id: EXTEND_PROMPT_INPUT_ID,
          style: TextInputStyle.Paragraph,
          value: truncate(job.promptText.trim(), PROMPT_MAX_LENGTH),
          required: true,
          min_length: 1,
          max_length: PROMPT_MAX_LENGTH,
        },
      },
    ],
  };
}

function ephemeral(content: string): EphemeralPayload {
  return {
    content: truncate(content, DISCORD_LIMITS.content),
    components: [],
    allowed_mentions: NO_PINGS,
    flags: MessageFlags.Ephemeral,
  };
}

/**
 * An ephemeral error for the user ("⚠️ …"). `flags` is for a reply or a
 * follow-up; when editing a reply that was already deferred, leave it out
 * (`const { flags, ...edit } = …`): the deferral decided the visibility.
 */
export const renderUserError = (message: string): EphemeralPayload => ephemeral(`⚠️ ${message}`);

/** An ephemeral pointer or notice ("That upscale is already running: <link>"). */
export const renderNotice = (message: string): EphemeralPayload => ephemeral(message);
