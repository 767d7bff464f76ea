/**
 * /info — privately, where I stand: my running and queued jobs (with queue
 * positions), my jobs and credits today in this channel against the limits,
 * the channel's budget left today and this month, and for the provider the
 * channel uses (a channel may be pointed at one) its balance and
 * how long its tasks take now (what the tracker has learned, or the usual windows).
 * Everything comes from indexed queries (history page, ledger sums, queue
 * position) or memory (the learned timings); a provider that cannot answer its
 * balance just says so. The reply stays within Discord's limit: a long job list
 * gives way to the other sections.
 */
import {
  ApplicationCommandType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { SlashCommand } from '../src/discord/command.js';
import type { AppContext, TimingsView } from '../src/discord/context.js';
import { fitPrompt, formatCredits, truncate } from '../src/discord/render/format.js';
import { policyChannelIdOf } from '../src/discord/submit.js';
import { describeUsualWindows } from '../src/domain/durations.js';
import type { HistoryLine } from '../src/domain/history.js';
import type { JobKind } from '../src/domain/job.js';
import { isProviderError } from '../src/domain/provider.js';
import { utcDayStart } from '../src/domain/team/ledger.js';
import { budgetStatus, formatBudget } from '../src/domain/team/usage.js';

export const data = {
  name: 'info',
  description: 'Your running and queued jobs, your use today, the budget left, the balance and how long jobs take',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const OPEN_STATES = ['running', 'pending', 'queued'] as const;

/** The reply's budget, well under Discord's 2000 characters. */
export const INFO_MAX_LENGTH = 1900;
/** The kinds whose learned timings /info shows: the grids people wait on (a variation is a grid too). */
const TIMING_KINDS: readonly JobKind[] = ['grid', 'vary'];
/** At most this many timing lines (grids first, turbo → fast → relaxed), so the section stays a glance. */
const TIMING_LINES = 4;
/** One timing line's length cap (a line is about 70 characters). */
const TIMING_LINE_MAX = 120;

/** "How long KIE takes now": what the tracker has learned of grids, or the windows it uses until it has. */
export function timingsSection(providerName: string, timings: TimingsView, providerId: string): string[] {
  const learned = timings.describe(providerId, TIMING_KINDS).slice(0, TIMING_LINES);
  const body = learned.length > 0
    ? learned.map((line) => `- ${truncate(line, TIMING_LINE_MAX)}`)
    : [`Nothing learned yet — using the usual windows (${describeUsualWindows('grid')}).`];
  return [`**How long ${providerName} takes now**`, ...body];
}

/**
 * The reply: "Your jobs now" and its lines, then the other sections, whole.
 * Past `max` characters the job list's tail becomes "… and N more", so the
 * sections after it always show.
 */
export function formatInfo(jobLines: readonly string[], sections: readonly string[], max = INFO_MAX_LENGTH): string {
  const render = (shown: readonly string[], hidden: number): string =>
    ['**Your jobs now**', ...(jobLines.length === 0 ? ['Nothing running or queued.'] : shown), ...(hidden > 0 ? [`… and ${hidden} more`] : []), ...sections].join('\n');
  let shown = jobLines.length;
  while (shown > 0 && render(jobLines.slice(0, shown), jobLines.length - shown).length > max) shown -= 1;
  return truncate(render(jobLines.slice(0, shown), jobLines.length - shown), max);
}

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const history = ctx.history;
  const team = ctx.team;
  const now = ctx.clock.now();
  const channelId = policyChannelIdOf(interaction);
  const userId = interaction.user.id;
  const settings = (await team.settings.resolve(interaction.guildId, channelId)).values;

  const open: HistoryLine[] = [];
  for (const state of OPEN_STATES) {
    const page = await history.page({ guildId: interaction.guildId, userId, state }, 0);
    open.push(...page.lines);
  }
  const jobLines: string[] = [];
  for (const job of open) {
    let where: string = job.state;
    if (job.state === 'queued') {
      const position = await team.queue.position(job.channelId, job.jobId);
      if (position !== null) where = `queued, position ${position}`;
    }
    jobLines.push(`- \`${job.jobId}\` ${fitPrompt(job.promptText, 60)} — ${job.kind} · ${where} · <t:${Math.floor(job.createdAt / 1000)}:R>`);
  }

  const sections: string[] = [];
  const today = await team.ledger.spent({ channelId, userId, since: utcDayStart(now) }, settings.countFailed);
  const limit = settings.userDailyJobs === null ? 'no daily job limit' : `limit ${settings.userDailyJobs} a day, ${Math.max(0, settings.userDailyJobs - today.jobs)} left`;
  sections.push('', '**Today in this channel (UTC)**', `You: ${today.jobs} job${today.jobs === 1 ? '' : 's'} · ${formatCredits(today.credits)} credits (${limit})`);
  const budget = formatBudget(await budgetStatus(team.ledger, channelId, settings, now));
  sections.push(budget ?? 'This channel has no budget limit.');

  // The channel's provider (a channel may be pointed at one), else the deployment's default.
  const pinned = settings.provider !== 'default' ? ctx.providers.get(settings.provider) : undefined;
  const provider = pinned ?? ctx.providers.get(ctx.providers.defaultId)!;
  try {
    sections.push('', `**${provider.displayName} balance**: ${formatCredits((await provider.balance()).credits)} credits`);
  } catch (error) {
    if (!isProviderError(error)) throw error;
    sections.push('', `**${provider.displayName} balance**: couldn't read it (${error.userMessage})`);
  }
  if (ctx.timings) {
    await ctx.timings.refresh?.(provider.id);
    sections.push('', ...timingsSection(provider.displayName, ctx.timings, provider.id));
  }
  await interaction.editReply({ content: formatInfo(jobLines, sections), allowedMentions: { parse: [] } });
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
