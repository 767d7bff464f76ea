/**
 * Routes every interaction to its handler: slash commands by name, buttons
 * and modals by their typed custom_id. Acknowledgement and error handling
 * live here, once: a UserError is shown to the user ephemerally; anything
 * else is logged and the user gets a short apology with a reference.
 */
import { MessageFlags, type Interaction, type RepliableInteraction } from 'discord.js';
import { replyError } from './replyError.js';
import { UserError } from '../domain/errors.js';
import { isAlreadyAcknowledged } from './ack.js';
import type { SlashCommand } from './command.js';
import type { AppContext } from './context.js';
import { decodeCustomId, type ComponentAction } from './customId.js';
import { GuildGate, NOT_SET_UP_MESSAGE } from './guilds.js';

/** Handles a decoded button or modal submit. Owns its own acknowledgement (a modal must come first). */
export type ComponentHandler = (interaction: RepliableInteraction, action: ComponentAction, ctx: AppContext) => Promise<void>;

export const STALE_COMPONENT_MESSAGE =
  'This button is from an older version of the bot and no longer works. Run the command again.';

export class InteractionRouter {
  private readonly commands: Map<string, SlashCommand>;

  constructor(
    commands: readonly SlashCommand[],
    private readonly onComponent: ComponentHandler,
    private readonly ctx: AppContext,
    private readonly guilds: GuildGate = new GuildGate(null),
  ) {
    this.commands = new Map(commands.map((c) => [c.data.name, c]));
  }

  async handle(interaction: Interaction): Promise<void> {
    try {
      if (!this.guilds.allows(interaction.guildId)) {
        // Another server's members must not spend the team's credits or read its balance.
        if (interaction.isAutocomplete()) await interaction.respond([]);
        else if (interaction.isRepliable()) await replyError(interaction, NOT_SET_UP_MESSAGE);
        return;
      }
      if (interaction.isChatInputCommand()) {
        const command = this.commands.get(interaction.commandName);
        if (!command) return void (await replyError(interaction, 'This command is not available any more.'));
        if (command.defer === 'public') await interaction.deferReply();
        else if (command.defer === 'ephemeral') await interaction.deferReply({ flags: MessageFlags.Ephemeral });
        await command.execute(interaction, this.ctx);
        return;
      }
      if (interaction.isButton() || interaction.isModalSubmit()) {
        const action = decodeCustomId(interaction.customId);
        if (!action) return void (await replyError(interaction, STALE_COMPONENT_MESSAGE));
        await this.onComponent(interaction, action, this.ctx);
      }
    } catch (error) {
      if (isAlreadyAcknowledged(error)) {
        // Another process answered first and owns the interaction: no reply, no provider call from here.
        this.ctx.logger.warn({ interactionId: interaction.id }, 'interaction already acknowledged elsewhere; leaving it to that process');
        return;
      }
      if (!interaction.isRepliable()) return;
      if (error instanceof UserError) {
        await replyError(interaction, error.message).catch((e: unknown) => this.logFailure(interaction, e));
        return;
      }
      const ref = this.logFailure(interaction, error);
      await replyError(interaction, `Something went wrong on our side (ref ${ref}). Please try again.`).catch(() => {});
    }
  }

  private logFailure(interaction: Interaction, error: unknown): string {
    const ref = interaction.id.slice(-6);
    this.ctx.logger.error(
      { err: error, ref, interactionId: interaction.id, guildId: interaction.guildId, channelId: interaction.channelId, type: interaction.type },
      'interaction handler failed',
    );
    return ref;
  }
}
