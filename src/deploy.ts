/**
 * `npm run commands:deploy`: register the slash commands and exit. The bot
 * also does this at startup; this is for doing only that (e.g. in CD).
 */
import { existsSync } from 'node:fs';
import { REST } from 'discord.js';
import { ConfigError, parseDeployConfig } from './config.js';
import { applicationIdOf, deployCommands } from './discord/deploy.js';
import { commandDefinitions } from '../commands/index.js';

async function run(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = parseDeployConfig(process.env);
  const rest = new REST(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}).setToken(config.DISCORD_TOKEN);
  const appId = await applicationIdOf(rest);
  const count = await deployCommands(rest, appId, config.DISCORD_GUILD_ID, commandDefinitions());
  console.log(`Registered ${count} commands ${config.DISCORD_GUILD_ID ? `in guild ${config.DISCORD_GUILD_ID}` : 'globally'}.`);
}

run().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : `Could not register commands: ${(error as Error).message}`);
  process.exit(1);
});
