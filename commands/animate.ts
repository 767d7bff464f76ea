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
import { MOTIONS, VIDEO_BATCH_SIZES, type Motion } from '../src/kie/schemas.js';
import { buildVideoRequest } from '../src/domain/prompt.js';
import type { SlashCommand } from '../src/discord/command.js';
import type { AppContext } from '../src/discord/context.js';
import { Ack } from '../src/discord/ack.js';
import { submitFromInteraction } from '../src/discord/submit.js';

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

const IMAGE_TYPES = /^image\/(png|jpeg|webp|gif)$/;

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const ack = new Ack(interaction, ctx.acks, ctx.clock.now);
  ack.armDeadline();
  const o = interaction.options;
  const attachment = o.getAttachment('image');
  const url = o.getString('url')?.trim();
  if (attachment && url) return ack.refuse('Give either an image attachment or a URL, not both.');
  if (!attachment && !url) return ack.refuse('Give an image to animate: attach one (`image`) or paste its address (`url`).');
  if (attachment) {
    if (!attachment.contentType || !IMAGE_TYPES.test(attachment.contentType)) {
      return ack.refuse(`\`${attachment.name}\` is not a PNG, JPEG, WebP or GIF image.`);
    }
    if (attachment.size > ctx.limits.maxInputImageBytes) {
      const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
      return ack.refuse(`\`${attachment.name}\` is ${mb(attachment.size)} MB; the limit is ${mb(ctx.limits.maxInputImageBytes)} MB.`);
    }
  }
  const view = await ctx.team.channel(interaction.guildId, interaction.channelId);
  const hd = o.getBoolean('hd') ?? view.videoHd;
  const prompt = o.getString('prompt') ?? undefined;
  const built = buildVideoRequest({
    imageUrl: attachment?.url ?? url!,
    prompt,
    motion: (o.getString('motion') as Motion | null) ?? 'high',
    hd,
    batch: o.getInteger('batch') ?? view.videoBatchSize,
  });
  if (!built.ok) return ack.refuse(built.error.message);
  await submitFromInteraction(interaction, ack, ctx, {
    kind: hd ? 'video_hd' : 'video',
    request: { op: 'generate', body: built.value },
    promptText: prompt ?? built.value.prompt,
    speed: null,
    parent: null,
  });
}

export const command: SlashCommand = { data, defer: 'none', execute };
