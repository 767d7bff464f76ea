/**
 * /settings — per-channel policy for the people who manage channels.
 *
 *   view                 every effective value for this channel and where it comes from   (view.ts)
 *   set [scope] <…>      change one or more values for this channel (or, scope:server, the server defaults)   (set.ts)
 *   reset <setting|all>  make values inherit again   (reset.ts)
 *
 * One option per setting comes from the table in options.ts; the rules
 * (server-only keys, which channel wins, refreshing the queue) live in
 * src/domain/team/settings.ts; the permission checks in target.ts.
 * Visible to members with Manage Channels (default_member_permissions);
 * server-wide changes also need Manage Server. Replies are ephemeral.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  PermissionFlagsBits,
  type APIApplicationCommandBasicOption,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { SlashCommand } from '../../src/discord/command.js';
import type { AppContext } from '../../src/discord/context.js';
import { UserError } from '../../src/domain/errors.js';
import { SETTINGS_UI } from './options.js';
import { view } from './view.js';
import { set } from './set.js';
import { reset } from './reset.js';

export { SETTINGS_UI } from './options.js';
export { formatSettingsView } from './view.js';
export { readPatch, describeChanges } from './set.js';

const SCOPE_OPTION: APIApplicationCommandBasicOption = {
  type: ApplicationCommandOptionType.String,
  name: 'scope',
  description: 'This channel (default) or the defaults for the whole server',
  choices: [
    { name: 'this channel', value: 'channel' },
    { name: 'whole server (defaults)', value: 'server' },
  ],
};

export const data = {
  name: 'settings',
  description: "This channel's Teamjourney settings: defaults, limits and budgets",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  default_member_permissions: String(PermissionFlagsBits.ManageChannels),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'view',
      description: 'Show every setting for this channel and where it comes from',
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'set',
      description: 'Change settings for this channel, or server-wide defaults',
      options: [SCOPE_OPTION, ...SETTINGS_UI.map((s) => s.option)],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'reset',
      description: 'Make a setting inherit again (from the server, or the built-in default)',
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: 'setting',
          description: 'Which setting',
          required: true,
          choices: [...SETTINGS_UI.map((s) => ({ name: s.label, value: s.key })), { name: 'all settings', value: 'all' }],
        },
        SCOPE_OPTION,
      ],
    },
  ],
} satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

type Subcommand = (interaction: ChatInputCommandInteraction, ctx: AppContext) => Promise<void>;
const SUBCOMMANDS = new Map<string, Subcommand>([
  ['view', view],
  ['set', set],
  ['reset', reset],
]);

export async function execute(interaction: ChatInputCommandInteraction, ctx: AppContext): Promise<void> {
  const run = SUBCOMMANDS.get(interaction.options.getSubcommand(true));
  if (!run) throw new UserError('Unknown /settings subcommand.');
  return run(interaction, ctx);
}

export const command: SlashCommand = { data, defer: 'ephemeral', execute };
