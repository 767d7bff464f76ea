/**
 * /imagine — the heart of the bot. Thin: read options, parse the prompt
 * (pure), hand a draft job to the job service, acknowledge correctly.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { ASPECT_RATIOS, RANGES, SPEEDS, VERSIONS, versionLabel } from '../src/domain/midjourney.js';
import { parseImagineBatch, type ImagineOptions } from '../src/domain/prompt/index.js';
import type { JobDraft } from '../src/domain/actions.js';
import { pinnedAccountOf } from '../src/domain/team/team.js';
import type { SlashCommand } from '../src/discord/command.js';
import type { AppContext } from '../src/discord/context.js';
import { Ack } from '../src/discord/ack.js';
import { policyChannelIdOf } from '../src/discord/submit.js';
import { submitOrAsk } from '../src/discord/handlers/batch.js';

const IMAGE_MODES = [
  { name: 'image prompt (img2img)', value: 'image_prompt' },
  { name: 'style reference (--sref)', value: 'style_reference' },
  { name: 'omni reference (--oref)', value: 'omni_reference' },
] as const;

export const data = {
  name: 'imagine',
  description: 'Create images with Midjourney',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'prompt',
      description: 'What to imagine. Midjourney parameters work too: --ar 16:9 --v 7 --s 250 --sref <url> …',
      required: true,
      max_length: 4000,
    },
    { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'An image to start from or take style from' },
    {
      type: ApplicationCommandOptionType.String,
      name: 'image_use',
      description: 'How to use the image (default: image prompt)',
      choices: IMAGE_MODES.map((m) => ({ name: m.name, value: m.value })),
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'aspect',
      description: 'Aspect ratio (--ar)',
      choices: ASPECT_RATIOS.map((r) => ({ name: r, value: r })),
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'version',
      description: 'Model version (--v / --niji)',
      choices: VERSIONS.map((v) => ({ name: versionLabel(v), value: v })),
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'speed',
      description: 'relaxed is cheapest, turbo fastest',
      choices: SPEEDS.map((s) => ({ name: s, value: s })),
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'stylize',
      description: 'Stylize (--s), 0–1000',
      min_value: RANGES.stylization.min,
      max_value: RANGES.stylization.max,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'weird',
      description: 'Weirdness (--w), 0–3000',
      min_value: RANGES.weirdness.min,
      max_value: RANGES.weirdness.max,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'variety',
      description: 'Variety (--c / --chaos), 0–100',
      min_value: RANGES.variety.min,
      max_value: RANGES.variety.max,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'omni_weight',
      description: 'Omni reference strength (--ow), 1–1000',
      min_value: RANGES.ow.min,
      max_value: RANGES.ow.max,
    },
    { type: ApplicationCommandOptionType.Boolean, name: 'translate', description: 'Translate a non-English prompt to English' },
  ],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** Read the typed options into the parser's input (no validation here; the parser does it). */
export function readOptions(interaction: ChatInputCommandInteraction): { prompt: string; options: ImagineOptions } {
  const o = interaction.options;
  const attachment = o.getAttachment('image');
  const options: ImagineOptions = {};
  const str = (name: string) => o.getString(name) ?? undefined;
  const num = (name: string) => o.getInteger(name) ?? undefined;
  if (str('aspect')) options.aspect = str('aspect');
  if (str('version')) options.version = str('version');
  if (str('speed')) options.speed = str('speed');
  if (num('stylize') !== undefined) options.stylize = num('stylize');
  if (num('weird') !== undefined) options.weird = num('weird');
  if (num('variety') !== undefined) options.variety = num('variety');
  if (num('omni_weight') !== undefined) options.omniWeight = num('omni_weight');
  const translate = o.getBoolean('translate');
  if (translate !== null) options.translate = translate;
  if (attachment) {
    options.image = { url: attachment.url, contentType: attachment.contentType, size: attachment.size, name: attachment.name };
  }
  const mode = str('image_use');
  if (mode) options.imageMode = mode as ImagineOptions['imageMode'];
  return { prompt: o.getString('prompt', true), options };
}

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const ack = new Ack(interaction, ctx.acks, ctx.clock.now);
  ack.armDeadline();
  const { prompt, options } = readOptions(interaction);
  const settings = await ctx.team.channel(interaction.guildId, policyChannelIdOf(interaction));
  const parsed = parseImagineBatch({
    prompt,
    options,
    defaults: settings.defaults,
    maxAttachmentBytes: ctx.limits.maxInputImageBytes,
  });
  if (!parsed.ok) return ack.refuse(parsed.error.message);
  const provider = settings.provider ?? ctx.providers.defaultId;
  const drafts: JobDraft[] = parsed.value.map((job) => ({
    ...pinnedAccountOf(provider, settings),
    provider,
    kind: 'grid',
    spec: job.parsed.request,
    promptText: job.promptText,
    speed: job.parsed.speed,
    parent: null,
  }));
  await submitOrAsk(interaction, ack, ctx, { promptText: prompt, drafts, confirmAbove: settings.confirmAbove ?? null });
}

export const command: SlashCommand = { data, defer: 'none', execute };
