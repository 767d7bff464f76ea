/**
 * Whether the person behind an interaction can read a channel of the same
 * server: what /show checks before bringing a teammate's job into another
 * channel, so it never reveals a channel's content to someone who cannot
 * read it there.
 *
 * - The channel the interaction came from: yes (they are in it).
 * - Another channel: its permissions for the member, computed by discord.js
 *   from the gateway's cache (the Guilds intent keeps every channel, its
 *   overwrites and the roles): View Channel and Read Message History, as
 *   reading the job's old message needs. A thread counts through its parent;
 *   a private thread only for its (cached) members.
 * - A channel the cache does not know (not cached, an archived thread, or
 *   the member came without the guild): no. Refusing is the safe answer.
 */
import { ChannelType, GuildMember, PermissionFlagsBits, type BaseInteraction } from 'discord.js';

export const READ_PERMISSIONS = [PermissionFlagsBits.ViewChannel, PermissionFlagsBits.ReadMessageHistory] as const;

export function canReadChannel(interaction: BaseInteraction, channelId: string): boolean {
  if (interaction.channelId === channelId) return true;
  const guild = interaction.guild;
  const member = interaction.member;
  // A GuildMember only when discord.js has the guild cached; the raw API member carries no roles to check with.
  if (!guild || !(member instanceof GuildMember)) return false;
  const channel = guild.channels.cache.get(channelId);
  if (!channel) return false;
  // A private thread is for its members only, whatever the parent allows (discord.js's permissionsFor does not check that).
  if (channel.type === ChannelType.PrivateThread && !channel.members.cache.has(member.id)) return false;
  return channel.permissionsFor(member).has([...READ_PERMISSIONS]);
}
