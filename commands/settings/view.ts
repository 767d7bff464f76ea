/** `/settings view`: every effective value for this channel and where it comes from. */
import type { ChatInputCommandInteraction } from 'discord.js';
import type { AppContext } from '../../src/discord/context.js';
import { policyChannelIdOf } from '../../src/discord/submit.js';
import { teamOf } from '../../src/domain/team/team.js';
import { SETTING_KEYS, type ResolvedSettings } from '../../src/domain/team/settings.js';
import { describeSetting, truncate } from './options.js';
import { reply, requireSettingsGuild } from './target.js';

export function formatSettingsView(channelId: string, resolved: ResolvedSettings): string {
  const lines = [`**Settings for <#${channelId}>**`];
  for (const key of SETTING_KEYS) lines.push(describeSetting(key, resolved));
  lines.push('', 'Change with `/settings set`, undo with `/settings reset`. This channel’s values win over the server defaults.');
  return truncate(lines.join('\n'), 2000);
}

export async function view(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const guildId = requireSettingsGuild(interaction);
  const channelId = policyChannelIdOf(interaction);
  const resolved = await teamOf(ctx).settings.resolve(guildId, channelId);
  await reply(interaction, formatSettingsView(channelId, resolved));
}
