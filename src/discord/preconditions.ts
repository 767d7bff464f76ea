/**
 * Checks a handler runs before doing what it does, at run time, each one
 * throwing a UserError (shown privately) when it fails — the role sapphire's
 * preconditions play. A command's `default_member_permissions` only sets who
 * sees it by default: server admins can override that per role or member in
 * Integrations, so anything that changes team policy or shows other people's
 * data checks the member's actual permissions here too.
 */
import { PermissionFlagsBits, type BaseInteraction } from 'discord.js';
import { UserError } from '../domain/errors.js';

export type PermissionName = 'ManageChannels' | 'ManageGuild';

const SHOWN: Record<PermissionName, string> = { ManageChannels: 'Manage Channels', ManageGuild: 'Manage Server' };

/** interaction.memberPermissions already includes the channel's overwrites; none (a DM) has no permission. */
export function hasPermission(interaction: BaseInteraction, permission: PermissionName): boolean {
  return interaction.memberPermissions?.has(PermissionFlagsBits[permission]) ?? false;
}

/**
 * Refuses unless the member has `permission` in this channel. `what`
 * completes "… needs the X permission."; `hint` follows it (what to do instead).
 */
export function requirePermission(interaction: BaseInteraction, permission: PermissionName, what: string, hint?: string): void {
  if (hasPermission(interaction, permission)) return;
  throw new UserError(`${what} needs the ${SHOWN[permission]} permission.${hint ? ` ${hint}` : ''}`);
}

/** Refuses outside a server (a DM, a user-installed context); returns the server's id. */
export function requireGuild(interaction: BaseInteraction, refusal: string): string {
  if (!interaction.guildId) throw new UserError(refusal);
  return interaction.guildId;
}
