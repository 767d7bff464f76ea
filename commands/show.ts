/**
 * /show job:<id or message link> — brings a past job back into this channel
 * as a fresh message with its results and live buttons, as Midjourney's
 * /show does. The buttons are the job's own (their custom_ids name it), so
 * pressing one is an ordinary button press here: this channel's policy,
 * budget and button rules apply, and a result already upscaled points at
 * the existing upscale instead of paying twice.
 *
 * Who may show what: the job must belong to this server (anything else —
 * another server's job, an unknown id, a channel the person cannot read —
 * gets the same private "not found", so nothing leaks). Its author may show
 * it in any channel of the server; anyone else only if they can read the
 * channel the job was made in, or the channel of the /show copy they link
 * to (src/discord/visibility.ts). Copies are remembered (shown_messages),
 * so a link to a copy works like a link to the original.
 *
 * Results come from the attachments the job's message already re-hosts, or
 * the provider's URL while the provider keeps it (src/discord/show.ts);
 * nothing calls the provider's API. A job without results (queued, running,
 * failed, cancelled) gets a private answer with its state and a jump link.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { Ack } from '../src/discord/ack.js';
import type { SlashCommand } from '../src/discord/command.js';
import type { AppContext } from '../src/discord/context.js';
import { JOB_ID_PATTERN } from '../src/discord/customId.js';
import { escapeMarkdown, messageLink, oneLine, truncate } from '../src/discord/render/format.js';
import { editInteractionMessage } from '../src/discord/rest.js';
import type { ResultShower } from '../src/discord/show.js';
import { policyChannelIdOf } from '../src/discord/submit.js';
import { canReadChannel } from '../src/discord/visibility.js';
import { policyChannelOf, type Job } from '../src/domain/job.js';
import { teamOf } from '../src/domain/team/team.js';
import { historyOf } from './history.js';

export const data = {
  name: 'show',
  description: 'Bring a past job back into this channel, with its images and live buttons',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'job',
      description: 'The job id (as /info shows it) or a link to its message (Copy Message Link)',
      required: true,
      max_length: 200,
    },
  ],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const BAD_JOB_REF =
  'Give the job as its id (as /info shows it) or as a link to its message (right-click the message → Copy Message Link).';
export const JOB_NOT_FOUND = 'No job with that id or message was found in this server (or you cannot see the channel it was made in).';

/** What the `job` option names: a job id, or the message a job's result lives in. */
export type JobRef = { kind: 'id'; jobId: string } | { kind: 'message'; messageId: string; guildId?: string | null; channelId?: string };

const SNOWFLAKE = '(\\d{17,20})';
/** discord.com, ptb. and canary. (and the old discordapp.com) message links. */
const MESSAGE_LINK = new RegExp(`^https?://(?:(?:ptb|canary)\\.)?discord(?:app)?\\.com/channels/(@me|\\d{17,20})/${SNOWFLAKE}/${SNOWFLAKE}/?$`, 'i');

/** The option's text as a job reference, or null when it is neither an id nor a message link. Pure. */
export function parseJobRef(raw: string): JobRef | null {
  // Tolerate what copying adds: surrounding <…> (a link without embed) and `…` (an id from /info).
  const text = raw.trim().replace(/^<(.*)>$/s, '$1').replace(/^`+|`+$/g, '').trim();
  const link = MESSAGE_LINK.exec(text);
  if (link) return { kind: 'message', guildId: link[1] === '@me' ? null : link[1]!, channelId: link[2]!, messageId: link[3]! };
  // A bare message id (Copy Message ID); job ids are much shorter.
  if (/^\d{17,20}$/.test(text)) return { kind: 'message', messageId: text };
  const id = text.toLowerCase();
  return JOB_ID_PATTERN.test(id) ? { kind: 'id', jobId: id } : null;
}

function showerOf(ctx: AppContext): ResultShower {
  if (!ctx.show) throw new Error('show is not wired into the app context');
  return ctx.show;
}

/**
 * The job the reference names, if it is in this server and the person may
 * see it: its author, or someone who can read the channel of the message
 * named (the job's own, or a /show copy's) or the job's own channel.
 */
async function findJob(ref: JobRef, interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<Job | undefined> {
  if (ref.kind === 'message' && ref.guildId !== undefined && ref.guildId !== interaction.guildId) return undefined;
  const found =
    ref.kind === 'id'
      ? await ctx.repo.get(ref.jobId).then((job) => (job ? { job, channelId: job.origin.channelId } : undefined))
      : await historyOf(ctx).jobByMessage(ref.messageId);
  if (!found) return undefined;
  const { job, channelId } = found;
  if (job.origin.guildId === null || job.origin.guildId !== interaction.guildId) return undefined;
  if (ref.kind === 'message' && ref.channelId !== undefined && ref.channelId !== channelId) return undefined;
  if (job.origin.userId === interaction.user.id) return job;
  if (canReadChannel(interaction, job.origin.channelId)) return job;
  return channelId !== job.origin.channelId && canReadChannel(interaction, channelId) ? job : undefined;
}

/** Why a job has nothing to show, with its state and a jump link; null when it has results. */
async function nothingToShow(job: Job, ctx: AppContext): Promise<string | null> {
  if (job.state === 'succeeded' && job.results.length > 0) return null;
  const link = job.origin.messageId ? `: ${messageLink(job.origin.guildId, job.origin.channelId, job.origin.messageId)}` : '.';
  switch (job.state) {
    case 'queued': {
      const position = await teamOf(ctx).queue.position(policyChannelOf(job.origin), job.id).catch(() => null);
      return `That job is still waiting in its channel's queue${position ? ` (position ${position})` : ''}, so it has no results yet${link}`;
    }
    case 'pending':
      return `That job is about to start, so it has no results yet${link}`;
    case 'running':
      return `That job is still generating (started <t:${Math.floor((job.submittedAt ?? job.createdAt) / 1000)}:R>), so it has no results yet${link}`;
    case 'failed': {
      const why = job.error ? ` (${truncate(escapeMarkdown(oneLine(job.error.message)), 200)})` : '';
      return `That job failed${why}, so it has no results to show${link}`;
    }
    case 'unknown':
      return `That job's outcome is unknown (its answer from the image service was lost), so it has no results to show${link}`;
    case 'cancelled':
      return `That job was cancelled before it started, so it has no results${link}`;
    case 'succeeded':
      return `That job finished without results${link}`;
  }
}

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const ack = new Ack(interaction, ctx.acks, ctx.clock.now);
  ack.armDeadline();
  const ref = parseJobRef(interaction.options.getString('job', true));
  if (!ref) return ack.refuse(BAD_JOB_REF);
  const view = await ctx.team.channel(interaction.guildId, policyChannelIdOf(interaction));
  if (!view.enabled) return ack.refuse('Teamjourney is turned off in this channel.');
  const job = await findJob(ref, interaction, ctx);
  if (!job) return ack.refuse(JOB_NOT_FOUND);
  const why = await nothingToShow(job, ctx);
  if (why) return ack.refuse(why);

  await ack.publicly();
  const shower = showerOf(ctx);
  const copy = await shower.copy(job, interaction.attachmentSizeLimit ?? null);
  if (copy.attached === 0 && !shower.providerKeeps(job)) {
    return ack.refuse(`Nothing of that job can be shown any more (${copy.missing.join('; ')}).`);
  }
  const posted = await editInteractionMessage(
    interaction.client.rest,
    { applicationId: interaction.applicationId, token: interaction.token, messageId: null },
    copy.payload,
    copy.files,
  );
  // A link to this copy finds the job too (best effort: the copy is already up).
  await historyOf(ctx)
    .saveShownMessage(posted.id, job.id, interaction.channelId, ctx.clock.now())
    .catch((err: unknown) => ctx.logger.warn({ err, jobId: job.id }, '/show: could not remember the copy'));
}

export const command: SlashCommand = { data, defer: 'none', execute };
