/** `/settings set [scope] <…>`: change one or more values for this channel, or the server defaults. */
import type { ChatInputCommandInteraction } from 'discord.js';
import type { AppContext } from '../../src/discord/context.js';
import { UserError } from '../../src/domain/errors.js';
import { teamOf } from '../../src/domain/team/team.js';
import {
  InvalidSettingError,
  ServerOnlySettingsError,
  UnconfiguredProviderError,
  UnknownKieKeyError,
  changeSettings,
  type EffectiveSettings,
  type SettingKey,
} from '../../src/domain/team/settings.js';
import { SETTINGS_UI, uiOf, type Options, type SettingUi } from './options.js';
import { changeTargetOf, reply, targetName } from './target.js';

/** Every setting whose option was given, as a patch for the settings service. */
export function readPatch(options: Options): Partial<EffectiveSettings> {
  const patch: Record<string, unknown> = {};
  for (const s of SETTINGS_UI) {
    const value = (s as unknown as SettingUi).read(options);
    if (value !== undefined) patch[s.key] = value;
  }
  return patch as Partial<EffectiveSettings>;
}

export function describeChanges(patch: Partial<EffectiveSettings>): string {
  return Object.entries(patch)
    .map(([key, value]) => {
      const s = uiOf(key as SettingKey);
      return `${s.label} → **${s.show(value)}**`;
    })
    .join('\n');
}

/** The domain's refusals in the words of this command's options. */
function refusalOf(error: unknown): unknown {
  if (error instanceof ServerOnlySettingsError) {
    const names = error.keys.map((k) => `\`${uiOf(k).option.name}\``).join(', ');
    return new UserError(`${names} can only be set for the whole server: add \`scope:whole server\`.`);
  }
  if (error instanceof UnconfiguredProviderError) {
    const configured = error.configured.map((p) => p.toUpperCase()).join(', ');
    return new UserError(`The bot is not configured for ${error.provider.toUpperCase()}; it can use ${configured}.`);
  }
  if (error instanceof UnknownKieKeyError) {
    return new UserError(
      error.configured.length > 0
        ? `There is no KIE key named \`${error.key}\`; the bot has ${error.configured.map((k) => `\`${k}\``).join(', ')} (or \`any\`).`
        : 'The bot has a single KIE key, so there is nothing to pin (KIE_API_KEYS configures several).',
    );
  }
  if (error instanceof InvalidSettingError) return new UserError(`That value doesn't work: ${error.message}.`);
  return error;
}

export async function set(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const target = changeTargetOf(interaction);
  const patch = readPatch(interaction.options);
  if (Object.keys(patch).length === 0) throw new UserError('Nothing to change: pick at least one setting.');
  const team = teamOf(ctx);
  const changed = await changeSettings({ settings: team.settings, policy: team.policy, providers: ctx.providers }, target, patch).catch(
    (error: unknown) => {
      throw refusalOf(error);
    },
  );

  const lines = [`Updated ${targetName(target)}:`, describeChanges(patch)];
  if (changed.shadowedHere.length > 0) {
    const labels = changed.shadowedHere.map((k) => uiOf(k).label.toLowerCase()).join(', ');
    lines.push('', `Note: <#${target.channelId}> has its own ${labels}, which still wins here.`);
  }
  const speed = changed.effective.values.speed;
  if (target.scope === 'channel' && patch.speed !== undefined && speed !== patch.speed) {
    lines.push('', `Note: ${patch.speed} isn't an allowed speed here, so the default is ${speed}.`);
  }
  await reply(interaction, lines.join('\n'));
}
