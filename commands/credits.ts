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
import { isProviderError, type ImageProvider } from '../src/domain/provider.js';
import { formatCredits } from '../src/domain/team/ledger.js';
import { teamOf } from '../src/domain/team/team.js';
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
  const team = teamOf(ctx);
  // One balance per configured provider (each in its own unit), the default first.
  const ids = [ctx.providers.defaultId, ...ctx.providers.ids().filter((id) => id !== ctx.providers.defaultId)];
  const reports: string[] = [];
  let balance: number | null = null;
  for (const id of ids) {
    const provider = ctx.providers.get(id)!;
    let credits: number;
    let keyLines: string[] = [];
    try {
      // Several accounts (KIE keys): each by name, never the key; the balance is the sum over those in rotation.
      if (provider.accounts && provider.accountReports) ({ credits, keyLines } = await perKey(provider));
      else credits = (await provider.balance()).credits;
    } catch (error) {
      if (!isProviderError(error)) throw error;
      if (ids.length === 1) throw new UserError(`Couldn't read the ${provider.displayName} balance: ${error.userMessage}`);
      reports.push(`**${provider.displayName}**: couldn't read the balance: ${error.userMessage}`);
      continue;
    }
    if (id === ctx.providers.defaultId) balance = credits;
    const burn = await burnRate(team.ledger, ctx.clock.now(), BURN_WINDOW_DAYS);
    const report = [...keyLines, formatCreditsReport(credits, burn)].join('\n');
    reports.push(ids.length === 1 && keyLines.length === 0 ? report : `**${provider.displayName}**\n${report}`);
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

/** One line per account, and the credits new jobs can draw on (the accounts in rotation). Reading also puts back accounts that have credits again. */
async function perKey(provider: ImageProvider): Promise<{ credits: number; keyLines: string[] }> {
  const reports = await provider.accountReports!();
  const read = reports.filter((r) => r.credits !== null);
  if (read.length === 0) {
    // Every read failed: the provider's own error, as with one account.
    return { credits: (await provider.balance()).credits, keyLines: [] };
  }
  const keyLines = reports.map((r) => {
    const balance = r.credits === null ? `couldn't read the balance (${r.problem ?? 'no answer'})` : `${formatCredits(r.credits)} credits`;
    return `• \`${r.name}\`: ${balance}${r.inRotation ? '' : ` — **out of rotation** (${r.outReason ?? 'refused'})`}`;
  });
  const credits = read.filter((r) => r.inRotation).reduce((sum, r) => sum + r.credits!, 0);
  keyLines.push(`In rotation: ${formatCredits(credits)} credits`);
  return { credits, keyLines };
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
