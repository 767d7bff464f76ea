/**
 * Registers the slash commands with one bulk overwrite: guild-scoped when a
 * guild id is given (instant, for a team's own server), global otherwise.
 */
import { Routes, type REST, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';

export async function applicationIdOf(rest: REST): Promise<string> {
  const app = (await rest.get(Routes.currentApplication())) as { id: string };
  return app.id;
}

export async function deployCommands(
  rest: REST,
  applicationId: string,
  guildId: string | undefined,
  definitions: readonly RESTPostAPIChatInputApplicationCommandsJSONBody[],
): Promise<number> {
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  const saved = (await rest.put(route, { body: definitions })) as unknown[];
  return saved.length;
}
