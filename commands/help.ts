/**
 * /help — what the bot does, privately: the commands, the Midjourney
 * parameters it understands in a prompt, the buttons on its results, and
 * this channel's effective limits (from the same settings /imagine obeys).
 */
import {
  ApplicationCommandType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { SlashCommand } from '../src/discord/command.js';
import type { AppContext } from '../src/discord/context.js';
import { UserError } from '../src/domain/errors.js';
import { estimateCredits, type PriceTable } from '../src/domain/pricing.js';
import { MJ_VERSIONS, NIJI_NUMBERS } from '../src/domain/prompt/values.js';
import { MAX_BATCH_JOBS } from '../src/domain/prompt/permutations.js';
import { ASPECT_RATIOS, RANGES } from '../src/domain/midjourney.js';
import type { EffectiveSettings } from '../src/domain/team/settings.js';

export const data = {
  name: 'help',
  description: 'How to use the bot: commands, prompt parameters, buttons and this channel’s limits',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const COMMANDS = [
  '`/imagine prompt:<text>` — four images (options: image, aspect, version, speed, stylize, weird, variety…)',
  '`/animate image:<file> | url:<link>` — animate an image into video (motion, hd, batch)',
  '`/usage` — jobs and credits by channel and person · `/credits` — the KIE balance and burn rate',
  '`/history` — your past jobs, 10 a page (filters: state, kind, search; channel or server scope) · `/info` — your jobs now, your use today, the budget left, how long jobs take',
  '`/show job:<id or message link>` — bring a past job back here, with its images and live buttons',
  '`/settings view | set | reset` — this channel’s settings (Manage Channels to change)',
];

const range = (r: { min: number; max: number }): string => `${r.min}–${r.max}`;
const PARAMETERS = [
  `\`--ar W:H\` (${ASPECT_RATIOS.join(', ')}) · \`--v\` ${MJ_VERSIONS.join(', ')} · \`--niji ${NIJI_NUMBERS.join('/')}\``,
  `\`--s\` stylize ${range(RANGES.stylization)} · \`--w\` weird ${range(RANGES.weirdness)} · \`--c\` chaos ${range(RANGES.variety)} · \`--relax\` / \`--fast\` / \`--turbo\``,
  `\`--sref <url>\` style reference · \`--oref <url>\` with \`--ow\` ${range(RANGES.ow)} · image URLs at the start → image-to-image`,
  `\`a {red, blue} car\` one job per combination · \`--repeat N\` / \`--r N\` N runs · at most ${MAX_BATCH_JOBS} jobs, confirmed first`,
  'Refused, never silently dropped: `--tile`, `--seed`, `--q`, `--no`, `--cref`, `--style`',
];

const BUTTONS = [
  '**U1–U4** upscale · **V1–V4** variations · **🔄** the same prompt again',
  'On an upscale: **Vary**, **Animate (High/Low motion)** · on a video: **Extend N** (✏️ to write the continuation)',
  '**🔄 Retry** on a failure · **❌ Cancel** on your queued job · **Confirm** / **Cancel** on your batch',
];

const credits = (n: number): string => `${Number.isInteger(n) ? n : n.toFixed(2)} credits`;

/** This channel's limits as /imagine applies them. */
export function formatLimits(s: EffectiveSettings, prices: PriceTable): string[] {
  if (!s.enabled) return ['The bot is **switched off** in this channel (`/settings set enabled:false`).'];
  const lines = [
    `Speeds allowed: ${s.allowedSpeeds.join(', ')} (default **${s.speed}**, ${credits(estimateCredits('grid', { speed: s.speed }, prices))} a grid) · version ${s.version} · aspect ${s.aspectRatio}`,
    `Up to **${s.maxConcurrent}** jobs at once here (more wait in a queue) · ${s.userDailyJobs === null ? 'no daily limit per person' : `**${s.userDailyJobs}** jobs per person per day`}`,
    `Budget: ${s.dailyBudget === null ? 'no daily limit' : `**${credits(s.dailyBudget)}** a day`} · ${s.monthlyBudget === null ? 'no monthly limit' : `**${credits(s.monthlyBudget)}** a month`}${s.countFailed ? ' (failed jobs count)' : ''}${s.confirmAbove === null ? '' : ` · jobs over **${credits(s.confirmAbove)}** ask to be confirmed`}`,
    `Video: ${s.videoAllowed ? `allowed${s.hdAllowed ? ', HD too' : ', SD only'}` : 'not allowed'} · buttons: ${s.buttons === 'author' ? 'only the job’s author' : 'anyone'}${s.bannedWords.length ? ` · ${s.bannedWords.length} banned word(s)` : ''}`,
  ];
  if (s.kieKey !== 'any') lines.push(`KIE jobs here use only the KIE key \`${s.kieKey}\``);
  return lines;
}

export function formatHelp(channelId: string, settings: EffectiveSettings, prices: PriceTable): string {
  return [
    '**Teamjourney** — Midjourney for the team, through KIE.ai.',
    '',
    '**Commands**',
    ...COMMANDS,
    '',
    '**Parameters in a prompt**',
    ...PARAMETERS,
    '',
    '**Buttons on results**',
    ...BUTTONS,
    '',
    `**Limits in <#${channelId}>**`,
    ...formatLimits(settings, prices),
  ]
    .join('\n')
    .slice(0, 2000);
}

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  if (!interaction.guildId) throw new UserError('The bot works in server channels; run /help in one.');
  const resolved = await ctx.team.settings.resolve(interaction.guildId, interaction.channelId);
  await interaction.editReply({ content: formatHelp(interaction.channelId, resolved.values, ctx.prices), allowedMentions: { parse: [] } });
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
