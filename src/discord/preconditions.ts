/**
 * Checks a handler runs before doing what it does, at run time. A command's
 * `default_member_permissions` only sets who sees it by default: server
 * admins can override that per role or member in Integrations, so anything
 * that changes team policy checks the member's actual permissions here too.
 */
import { PermissionFlagsBits, type BaseInteraction } from 'discord.js';
import { UserError } from '../domain/errors.js';

export type PermissionName = 'ManageChannels' | 'ManageGuild';

const SHOWN: Record<PermissionName, string> = { ManageChannels: 'Manage Channels', ManageGuild: 'Manage Server' };

/**
 * Throws a UserError (shown privately) unless the member has `permission`
 * in this channel (interaction.memberPermissions already includes the
 * channel's overwrites). `what` completes "… needs the X permission".
 */
export function requirePermission(interaction: BaseInteraction, permission: PermissionName, what: string): void {
  if (interaction.memberPermissions?.has(PermissionFlagsBits[permission])) return;
  throw new UserError(`${what} needs the ${SHOWN[permission]} permission.`);
}
