/**
 * Where a /settings subcommand applies, and the preconditions that go with
 * it: settings belong to server channels; changing a channel needs Manage
 * Channels, changing the server defaults Manage Server (checked at run time:
 * default_member_permissions can be overridden by server admins).
 */
import type { ChatInputCommandInteraction } from 'discord.js';
import { requireGuild, requirePermission } from '../../src/discord/preconditions.js';
import { policyChannelIdOf } from '../../src/discord/submit.js';
import type { SettingsScope, SettingsTarget } from '../../src/domain/team/settings.js';

export const requireSettingsGuild = (interaction: ChatInputCommandInteraction): string =>
  requireGuild(interaction, 'Settings belong to server channels; run this in a server.');

/** The target of `set` or `reset`, after checking the member may change it. */
export function changeTargetOf(interaction: ChatInputCommandInteraction): SettingsTarget {
  const guildId = requireSettingsGuild(interaction);
  const scope = (interaction.options.getString('scope') ?? 'channel') as SettingsScope;
  if (scope === 'server') requirePermission(interaction, 'ManageGuild', 'Changing the server-wide defaults');
  else requirePermission(interaction, 'ManageChannels', "Changing this channel's settings");
  return { scope, guildId, channelId: policyChannelIdOf(interaction) };
}

/** How a reply names the target: "the server defaults" or the channel. */
export const targetName = (t: SettingsTarget): string => (t.scope === 'server' ? 'the server defaults' : `<#${t.channelId}>`);

export const reply = (interaction: ChatInputCommandInteraction, content: string) =>
  interaction.editReply({ content, allowedMentions: { parse: [] } });
