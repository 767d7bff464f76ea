/** Connecting to Discord at start, with one clear line for each way it can fail. */
import { Events, type Client } from 'discord.js';
import type { Config } from '../config.js';
import { DISCORD_DEFAULT_API, DiscordUnreachableError, probeDiscord, withinGatewayTimeout } from '../discord/preflight.js';
import type { Logger } from '../log.js';

/** Longer than ws's own 30 s handshake timeout, which answers first for a gateway that does not answer at all. */
const GATEWAY_READY_TIMEOUT_MS = 40_000;

/**
 * Discord's REST API answers and accepts the token (retried with backoff),
 * then the gateway logs in within 30 s; otherwise one line saying which part
 * could not be reached and why.
 */
export async function connectDiscord(client: Client, config: Config, logger: Logger): Promise<void> {
  const apiUrl = config.DISCORD_API_URL ?? DISCORD_DEFAULT_API;
  await probeDiscord({
    apiUrl,
    token: config.DISCORD_TOKEN,
    onRetry: (error, delayMs, attempt, attempts) =>
      logger.warn({ attempt, attempts, retryInMs: delayMs }, `${error.message}; trying again in ${Math.round(delayMs / 1000)} s`),
  });
  const gateway = `${apiUrl} (gateway)`;
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  // A login failure that is not about the token is the gateway being unreachable: say so in the same words.
  // It is tried once: logging the same client in again after a failed handshake can leave a socket whose
  // late 'error' event crashes the process (seen with discord.js 14 / ws 8), so the REST probe above is
  // where the retries are.
  const login = client.login(config.DISCORD_TOKEN).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (/TokenInvalid|invalid token/i.test(message)) throw error;
    throw new DiscordUnreachableError(gateway, message, true);
  });
  // ws gives up on a silent gateway after 30 s ("Opening handshake has timed out"); this limit catches a
  // gateway that connects but never says READY.
  await withinGatewayTimeout(Promise.all([login, ready]), gateway, GATEWAY_READY_TIMEOUT_MS);
}
