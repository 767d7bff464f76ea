/**
 * The invite link for the bot's own application: the scopes and the
 * permissions it needs in the channels it serves, as one integer.
 */
import { PermissionFlagsBits } from 'discord.js';

/** What the bot does in a channel: read it, answer, post results as files and links, follow up in threads. */
export const BOT_PERMISSIONS = [
  PermissionFlagsBits.ViewChannel,
  PermissionFlagsBits.SendMessages,
  PermissionFlagsBits.SendMessagesInThreads,
  PermissionFlagsBits.EmbedLinks,
  PermissionFlagsBits.AttachFiles,
  PermissionFlagsBits.ReadMessageHistory,
] as const;

export const BOT_PERMISSIONS_INTEGER: bigint = BOT_PERMISSIONS.reduce((all, p) => all | p, 0n);

export function inviteUrl(applicationId: string): string {
  const params = new URLSearchParams({
    client_id: applicationId,
    scope: 'bot applications.commands',
    permissions: BOT_PERMISSIONS_INTEGER.toString(),
  });
  return `https://discord.com/oauth2/authorize?${params.toString()}`;
}
