/**
 * /usage [period] [scope] [csv] — jobs and credits from the ledger, by
 * channel and by user, with what is left of the budgets. `csv:True` attaches
 * the ledger lines behind the report; that is for server managers only
 * (Manage Server), since it lists everyone's jobs. Replies are ephemeral.
 */
import { policyChannelIdOf } from '../src/discord/submit.js';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { SlashCommand } from '../src/discord/command.js';
import { requirePermission } from '../src/discord/preconditions.js';
import type { AppContext } from '../src/discord/context.js';
import { teamOf, type Team } from '../src/domain/team/team.js';
import { utcDayStart } from '../src/domain/team/ledger.js';
import {
  TOP_ROWS,
  USAGE_PERIODS,
  USAGE_SCOPES,
  budgetStatus,
  buildUsageReport,
  formatUsageReport,
  usageCsv,
  usageFilter,
  type BudgetStatus,
  type UsagePeriod,
  type UsageQuery,
  type UsageReport,
  type UsageScope,
} from '../src/domain/team/usage.js';

const PERIOD_NAMES: Record<UsagePeriod, string> = {
  today: 'today (UTC)',
  '7d': 'last 7 days',
  '30d': 'last 30 days',
  month: 'this month (UTC)',
};
const SCOPE_NAMES: Record<UsageScope, string> = { channel: 'this channel', server: 'this server', me: 'just me' };

export const data = {
  name: 'usage',
  description: 'Jobs and credits used, by channel and by person, and the budgets left',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'period',
      description: 'Which period (default: today)',
      choices: USAGE_PERIODS.map((p) => ({ name: PERIOD_NAMES[p], value: p })),
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'scope',
      description: 'Whose usage (default: this channel)',
      choices: USAGE_SCOPES.map((s) => ({ name: SCOPE_NAMES[s], value: s })),
    },
    {
      type: ApplicationCommandOptionType.Boolean,
      name: 'csv',
      description: 'Attach every job as a CSV file (Manage Server only)',
    },
  ],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** Budgets worth showing: this channel's, and (server-wide) those of the busiest channels. */
export async function budgetsFor(team: Team, q: UsageQuery, report: UsageReport): Promise<BudgetStatus[]> {
  const channels = q.scope === 'server' ? [q.channelId, ...report.byChannel.slice(0, TOP_ROWS).map((r) => r.id)] : [q.channelId];
  const out: BudgetStatus[] = [];
  for (const channelId of new Set(channels)) {
    const { values } = await team.settings.resolve(q.guildId, channelId);
    const status = await budgetStatus(team.ledger, channelId, values, q.now);
    if (status.daily || status.monthly) out.push(status);
  }
  return out;
}

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const o = interaction.options;
  const period = (o.getString('period') ?? 'today') as UsagePeriod;
  const scope = (o.getString('scope') ?? 'channel') as UsageScope;
  const wantsCsv = o.getBoolean('csv') ?? false;
  if (wantsCsv) requirePermission(interaction, 'ManageGuild', 'The CSV export lists everyone’s jobs, so it', 'The report itself is open to all.');
  const team = teamOf(ctx);
  const q: UsageQuery = {
    period,
    scope,
    guildId: interaction.guildId,
    // Threads and forum posts report (and count) under their parent channel.
    channelId: policyChannelIdOf(interaction),
    userId: interaction.user.id,
    now: ctx.clock.now(),
  };
  const here = (await team.settings.resolve(q.guildId, q.channelId)).values;
  const filter = usageFilter(q);
  const report = await team.ledger.report(filter, here.countFailed);

  let userDaily: { used: number; limit: number } | null = null;
  if (scope === 'me' && here.userDailyJobs !== null) {
    const today = utcDayStart(q.now);
    const { jobs: used } = await team.ledger.spent({ channelId: q.channelId, userId: q.userId, since: today }, here.countFailed);
    userDaily = { used, limit: here.userDailyJobs };
  }

  const content = formatUsageReport(report, {
    scope,
    period,
    now: q.now,
    channelId: q.channelId,
    userId: q.userId,
    countFailed: here.countFailed,
    budgets: await budgetsFor(team, q, report),
    userDaily,
  });
  const date = new Date(q.now).toISOString().slice(0, 10);
  await interaction.editReply({
    content,
    allowedMentions: { parse: [] },
    files: wantsCsv
      ? [{ attachment: Buffer.from(usageCsv(await team.ledger.query(filter), here.countFailed), 'utf8'), name: `usage-${scope}-${period}-${date}.csv` }]
      : [],
  });
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
