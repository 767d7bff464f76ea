/**
 * /animate — turn any image into a Midjourney video (mj_video / mj_video_hd).
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { MOTIONS, VIDEO_BATCH_SIZES, type Motion } from '../src/domain/midjourney.js';
import { ANIMATE_OPTION_NAMES, buildVideoRequest, checkAttachment, PromptError } from '../src/domain/prompt/index.js';
import { pinnedAccountOf } from '../src/domain/team/team.js';
import type { SlashCommand } from '../src/discord/command.js';
import type { AppContext } from '../src/discord/context.js';
import { Ack } from '../src/discord/ack.js';
import { policyChannelIdOf } from '../src/discord/submit.js';
import { submitOrAsk } from '../src/discord/handlers/batch.js';

export const data = {
  name: 'animate',
  description: 'Animate an image into a short Midjourney video',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  options: [
    { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'The image to animate (or give a URL)' },
    { type: ApplicationCommandOptionType.String, name: 'url', description: 'An image URL to animate (instead of an attachment)', max_length: 2000 },
    { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What should happen in the video', max_length: 2000 },
    {
      type: ApplicationCommandOptionType.String,
      name: 'motion',
      description: 'How much movement (default high)',
      choices: MOTIONS.map((m) => ({ name: m, value: m })),
    },
    { type: ApplicationCommandOptionType.Boolean, name: 'hd', description: 'High definition (costs more; default: the channel setting)' },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'batch',
      description: 'How many clips (default: the channel setting)',
      choices: VIDEO_BATCH_SIZES.map((n) => ({ name: String(n), value: n })),
    },
  ],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const ack = new Ack(interaction, ctx.acks, ctx.clock.now);
  ack.armDeadline();
  const o = interaction.options;
  const attachment = o.getAttachment('image');
  const url = o.getString('url')?.trim();
  if (attachment && url) return ack.refuse('Give either an image attachment or a URL, not both.');
  if (!attachment && !url) return ack.refuse('Give an image to animate: attach one (`image`) or paste its address (`url`).');
  let imageUrl = url!;
  if (attachment) {
    // The same check /imagine applies to its image option (type, size, http(s) URL).
    try {
      imageUrl = checkAttachment(ANIMATE_OPTION_NAMES.imageUrl, attachment, ctx.limits.maxInputImageBytes);
    } catch (error) {
      if (error instanceof PromptError) return ack.refuse(error.message);
      throw error;
    }
  }
  const view = await ctx.team.channel(interaction.guildId, policyChannelIdOf(interaction));
  const hd = o.getBoolean('hd') ?? view.videoHd;
  const prompt = o.getString('prompt') ?? undefined;
  const built = buildVideoRequest({
    imageUrl,
    prompt,
    motion: (o.getString('motion') as Motion | null) ?? 'high',
    hd,
    batch: o.getInteger('batch') ?? view.videoBatchSize,
  });
  if (!built.ok) return ack.refuse(built.error.message);
  const promptText = prompt ?? built.value.prompt ?? '';
  const provider = view.provider ?? ctx.providers.defaultId;
  const draft = { ...pinnedAccountOf(provider, view), provider, kind: hd ? 'video_hd' : 'video', spec: built.value, promptText, speed: null, parent: null } as const;
  // Above the channel's confirm_above threshold, the author confirms first (a batch of one).
  await submitOrAsk(interaction, ack, ctx, { promptText, drafts: [draft], confirmAbove: view.confirmAbove ?? null });
}

export const command: SlashCommand = { data, defer: 'none', execute };
