/**
 * Which Discord servers may spend the team's credits. With commands
 * registered globally, anyone can add a public bot to their own server; the
 * gate makes every interaction from any other server a private "not set up
 * here", and the bot leaves such servers (when added, and at start-up).
 */
import type { Guild } from 'discord.js';
import type { DomainLogger } from '../domain/logger.js';

export const NOT_SET_UP_MESSAGE = "Teamjourney isn't set up in this server. Ask the bot's owner to add this server to ALLOWED_GUILD_IDS.";

export class GuildGate {
  private readonly allowed: ReadonlySet<string> | null;

  /** `allowed` null: every server (no allowlist configured). */
  constructor(allowed: readonly string[] | null) {
    this.allowed = allowed ? new Set(allowed) : null;
  }

  get restricted(): boolean {
    return this.allowed !== null;
  }

  /** Whether an interaction from this server (null: a DM) may be served. DMs are refused once there is an allowlist. */
  allows(guildId: string | null): boolean {
    if (this.allowed === null) return true;
    return guildId !== null && this.allowed.has(guildId);
  }

  /** Leave `guild` if it is not allowed; logged either way it goes. */
  async leaveIfNotAllowed(guild: Guild, logger: DomainLogger): Promise<boolean> {
    if (this.allows(guild.id)) return false;
    try {
      await guild.leave();
      logger.warn({ guildId: guild.id, guildName: guild.name }, 'left a server that is not in ALLOWED_GUILD_IDS');
      return true;
    } catch (err) {
      logger.warn({ err, guildId: guild.id }, 'could not leave a server that is not in ALLOWED_GUILD_IDS');
      return false;
    }
  }
}
