/**
 * Every slash command, one module each. The router and the deploy step
 * both read this list, so a command is added in exactly one place.
 */
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { SlashCommand } from '../src/discord/command.js';
import { command as imagine } from './imagine.js';
import { command as animate } from './animate.js';
import { command as settings } from './settings/index.js';
import { command as usage } from './usage.js';
import { command as credits } from './credits.js';
import { command as help } from './help.js';
import { command as history } from './history.js';
import { command as info } from './info.js';
import { command as show } from './show.js';

export const commands: readonly SlashCommand[] = [imagine, animate, settings, usage, credits, history, info, show, help];

export function commandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return commands.map((c) => c.data);
}
