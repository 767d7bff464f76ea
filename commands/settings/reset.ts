/** `/settings reset <setting|all> [scope]`: make values inherit again. */
import type { ChatInputCommandInteraction } from 'discord.js';
import type { AppContext } from '../../src/discord/context.js';
import { UserError } from '../../src/domain/errors.js';
import { teamOf } from '../../src/domain/team/team.js';
import { isSettingKey, resetSettings } from '../../src/domain/team/settings.js';
import { SOURCE_LABELS, uiOf } from './options.js';
import { changeTargetOf, reply, targetName } from './target.js';

export async function reset(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const target = changeTargetOf(interaction);
  const which = interaction.options.getString('setting', true);
  if (which !== 'all' && !isSettingKey(which)) throw new UserError(`There is no setting called ${which}.`);
  const team = teamOf(ctx);
  const resolved = await resetSettings({ settings: team.settings, policy: team.policy }, target, which === 'all' ? 'all' : [which]);
  if (which === 'all') return void (await reply(interaction, `Every setting reset for ${targetName(target)}.`));
  const s = uiOf(which);
  await reply(
    interaction,
    [
      `${s.label} reset for ${targetName(target)}.`,
      `${s.label} here is now **${s.show(resolved.values[which])}** · *${SOURCE_LABELS[resolved.sources[which]]}*`,
    ].join('\n'),
  );
}
