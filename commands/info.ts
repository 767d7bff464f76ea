/**
 * /info — privately, where I stand: my running and queued jobs (with queue
 * positions), my jobs and credits today in this channel against the limits,
 * the channel's budget left today and this month, and the provider balance.
 * Everything comes from indexed queries (history page, ledger sums, queue
 * position); a provider that cannot answer its balance just says so.
 */
import {
  ApplicationCommandType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { SlashCommand } from '../src/discord/command.js';
import type { AppContext } from '../src/discord/context.js';
import { fitPrompt, formatCredits } from '../src/discord/render/format.js';
import { policyChannelIdOf } from '../src/discord/submit.js';
import type { HistoryLine } from '../src/domain/history.js';
import { isProviderError } from '../src/domain/provider.js';
import { utcDayStart } from '../src/domain/team/ledger.js';
import { budgetStatus, formatBudget } from '../src/domain/team/usage.js';

export const data = {
  name: 'info',
  description: 'Your running and queued jobs, your use today, the budget left and the balance',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const OPEN_STATES = ['running', 'pending', 'queued'] as const;

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
  const lines: string[] = ['**Your jobs now**'];
  if (open.length === 0) lines.push('Nothing running or queued.');
  for (const job of open) {
    let where: string = job.state;
    if (job.state === 'queued') {
      const position = await team.queue.position(job.channelId, job.jobId);
      if (position !== null) where = `queued, position ${position}`;
    }
    lines.push(`- \`${job.jobId}\` ${fitPrompt(job.promptText, 60)} — ${job.kind} · ${where} · <t:${Math.floor(job.createdAt / 1000)}:R>`);
  }

  const today = await team.ledger.spent({ channelId, userId, since: utcDayStart(now) }, settings.countFailed);
  const limit = settings.userDailyJobs === null ? 'no daily job limit' : `limit ${settings.userDailyJobs} a day, ${Math.max(0, settings.userDailyJobs - today.jobs)} left`;
  lines.push('', '**Today in this channel (UTC)**', `You: ${today.jobs} job${today.jobs === 1 ? '' : 's'} · ${formatCredits(today.credits)} credits (${limit})`);
  const budget = formatBudget(await budgetStatus(team.ledger, channelId, settings, now));
  lines.push(budget ?? 'This channel has no budget limit.');

  const provider = ctx.providers.get(ctx.providers.defaultId)!;
  try {
    lines.push('', `**${provider.displayName} balance**: ${formatCredits((await provider.balance()).credits)} credits`);
  } catch (error) {
    if (!isProviderError(error)) throw error;
    lines.push('', `**${provider.displayName} balance**: couldn't read it (${error.userMessage})`);
  }
  await interaction.editReply({ content: lines.join('\n'), allowedMentions: { parse: [] } });
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
