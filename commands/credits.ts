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
import { isKieError } from '../src/providers/kie/errors.js';
import { teamOf } from '../src/domain/team/team.js';
import { burnRate, formatCreditsReport } from '../src/domain/team/usage.js';

/** Days the burn rate averages over. */
export const BURN_WINDOW_DAYS = 7;

export const data = {
  name: 'credits',
  description: "The team's KIE credit balance, burn rate and how long it lasts",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const team = teamOf(ctx);
  let balance: number;
  try {
    balance = await ctx.kie.credits();
  } catch (error) {
    if (isKieError(error)) throw new UserError(`Couldn't read the KIE balance: ${error.userMessage}`);
    throw error;
  }
  const burn = burnRate(team.ledger.query(), ctx.clock.now(), BURN_WINDOW_DAYS);
  await interaction.editReply({ content: formatCreditsReport(balance, burn), allowedMentions: { parse: [] } });
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
