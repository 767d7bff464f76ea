/**
 * The private error reply, in a module of its own: ack.ts and router.ts
 * both need it, and with it in router.ts the two imported each other.
 */
import { MessageFlags, type RepliableInteraction } from 'discord.js';

/**
 * Show an error only to the user, whatever was already sent: a fresh
 * ephemeral reply; an edit of an ephemeral defer; or, after a public defer,
 * removing the public placeholder and following up ephemerally.
 */
export async function replyError(interaction: RepliableInteraction, content: string): Promise<void> {
  const payload = { content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
  if (!interaction.deferred && !interaction.replied) {
    await interaction.reply(payload);
    return;
  }
  if (interaction.ephemeral) {
    await interaction.editReply({ content, allowedMentions: { parse: [] } });
    return;
  }
  // Only a slash command's deferred reply is a placeholder of ours; on a
  // component interaction the "original" message is the one carrying the
  // buttons, which must never be deleted.
  if (interaction.isChatInputCommand() && interaction.deferred && !interaction.replied) {
    await interaction.deleteReply().catch(() => {});
  }
  await interaction.followUp(payload);
}
