/**
 * `npm run commands:deploy`: register the slash commands and exit. The bot
 * also does this at startup; this is for doing only that (e.g. in CD).
 */
import { existsSync } from 'node:fs';
import { REST } from 'discord.js';
import { ConfigError, parseDeployConfig } from './config.js';
import { applicationIdOf, deployCommands } from './discord/registerCommands.js';
import { DISCORD_DEFAULT_API, DiscordTokenRejectedError, DiscordUnreachableError, probeDiscord } from './discord/preflight.js';
import { commandDefinitions } from '../commands/index.js';

async function run(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = parseDeployConfig(process.env);
  // The same checks and words as `npm start`: an unreachable Discord or a rejected token is one line.
  await probeDiscord({
    apiUrl: config.DISCORD_API_URL ?? DISCORD_DEFAULT_API,
    token: config.DISCORD_TOKEN,
    onRetry: (error, delayMs) => console.error(`${error.message}; trying again in ${Math.round(delayMs / 1000)} s`),
  });
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const appId = await applicationIdOf(rest);
  const count = await deployCommands(rest, appId, config.DISCORD_GUILD_ID, commandDefinitions());
  console.log(`Registered ${count} commands ${config.DISCORD_GUILD_ID ? `in guild ${config.DISCORD_GUILD_ID}` : 'globally'}.`);
}

run().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ConfigError || error instanceof DiscordTokenRejectedError) console.error(message);
  else if (/\b401\b|Unauthorized|TokenInvalid/i.test(message)) console.error(new DiscordTokenRejectedError().message);
  else if (error instanceof DiscordUnreachableError) console.error(`Could not register commands: ${message}. Check the network, or DISCORD_API_URL if you set it.`);
  else console.error(`Could not register commands: ${message}`);
  process.exit(1);
});
