/**
 * /credits — the shared KIE account's balance, how fast the team spends it
 * (from the ledger: the last 7 days' average) and how long it lasts at that
 * rate. Reading the balance also feeds the low-balance alert.
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
import { isProviderError } from '../src/domain/provider.js';
import { burnRate, formatCreditsReport } from '../src/domain/team/usage.js';

/** Days the burn rate averages over. */
export const BURN_WINDOW_DAYS = 7;

export const data = {
  name: 'credits',
  description: "The team's image-service credit balance, burn rate and how long it lasts",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const team = ctx.team;
  // One balance per configured provider (each in its own unit), the default first.
  const ids = [ctx.providers.defaultId, ...ctx.providers.ids().filter((id) => id !== ctx.providers.defaultId)];
  const reports: string[] = [];
  let balance: number | null = null;
  for (const id of ids) {
    const provider = ctx.providers.get(id)!;
    let credits: number;
    try {
      credits = (await provider.balance()).credits;
    } catch (error) {
      if (!isProviderError(error)) throw error;
      if (ids.length === 1) throw new UserError(`Couldn't read the ${provider.displayName} balance: ${error.userMessage}`);
      reports.push(`**${provider.displayName}**: couldn't read the balance: ${error.userMessage}`);
      continue;
    }
    if (id === ctx.providers.defaultId) balance = credits;
    const burn = await burnRate(team.ledger, ctx.clock.now(), BURN_WINDOW_DAYS);
    const report = formatCreditsReport(credits, burn);
    reports.push(ids.length === 1 ? report : `**${provider.displayName}**\n${report}`);
  }
  await interaction.editReply({ content: reports.join('\n\n'), allowedMentions: { parse: [] } });
  if (balance === null) return;
  // The alert is a side effect of a fresh balance; it must not spoil the answer.
  try {
    for (const outcome of await team.alerts.check(balance)) {
      if (outcome.error !== undefined) ctx.logger.warn({ err: outcome.error, guildId: outcome.guildId }, 'low-balance alert not sent');
    }
  } catch (error) {
    ctx.logger.warn({ err: error }, 'low-balance alert check failed');
  }
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
