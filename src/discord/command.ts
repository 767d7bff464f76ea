/**
 * The shape of a slash command module (one file per command in commands/,
 * as in the discord.js guide): its definition as Discord JSON, how the
 * router acknowledges it, and what it does.
 */
import type { ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { AppContext } from './context.js';

export interface SlashCommand {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /**
   * How the router acknowledges the interaction before execute() runs, so the
   * 3-second deadline is met centrally: 'public' / 'ephemeral' defer the
   * reply; 'none' leaves the first response to the command (a modal).
   */
  defer: 'public' | 'ephemeral' | 'none';
  execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void>;
}
