/**
 * The READY and GUILD_CREATE payloads of the fake gateway (fakeGateway.ts):
 * what discord.js needs to cache the bot user, its application and each
 * guild with its text channels.
 */
import {
  ChannelType,
  GatewayVersion,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildHubType,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  type APIUser,
  type ApplicationFlags,
  type ChannelFlags,
  type GuildMemberFlags,
  type RoleFlags,
  type GatewayGuildCreateDispatchData,
  type GatewayReadyDispatchData,
} from 'discord-api-types/v10';

/** A guild the bot is in, with its text channels (what discord.js caches from GUILD_CREATE). */
export interface FakeGuildInit {
  id: string;
  name?: string;
  channels: { id: string; name?: string }[];
}

/** [shard id, shard count], as IDENTIFY and READY carry it. */
export type ShardTuple = readonly [number, number];

/** Discord's flag fields are bit-set enums with no member for "none". */
const NO_FLAGS = 0;
/** Someone other than the bot owns the guild, as usual. */
const GUILD_OWNER_ID = '1000000000000000001';

export function readyData(opts: {
  user: APIUser;
  applicationId: string;
  guildIds: string[];
  sessionId: string;
  resumeUrl: string;
  shard?: ShardTuple;
}): GatewayReadyDispatchData {
  return {
    v: Number(GatewayVersion),
    user: opts.user,
    guilds: opts.guildIds.map((id) => ({ id, unavailable: true })),
    session_id: opts.sessionId,
    resume_gateway_url: opts.resumeUrl,
    shard: [...(opts.shard ?? [0, 1])] as [number, number],
    application: { id: opts.applicationId, flags: NO_FLAGS as ApplicationFlags, flags_new: '0' },
  };
}

/** A GUILD_CREATE for a small guild: @everyone, the bot as its only member, text channels. */
export function guildCreateData(guild: FakeGuildInit, bot: APIUser, joinedAt: string): GatewayGuildCreateDispatchData {
  return {
    id: guild.id,
    name: guild.name ?? 'Fake guild',
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: GUILD_OWNER_ID,
    region: 'us-east',
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
    roles: [
      {
        id: guild.id,
        name: '@everyone',
        color: 0,
        colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
        hoist: false,
        icon: null,
        unicode_emoji: null,
        position: 0,
        permissions: '2248473465835073',
        managed: false,
        mentionable: false,
        flags: NO_FLAGS as RoleFlags,
      },
    ],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotifications,
    rules_channel_id: null,
    vanity_url_code: null,
    premium_tier: GuildPremiumTier.None,
    premium_progress_bar_enabled: false,
    preferred_locale: 'en-US' as GatewayGuildCreateDispatchData['preferred_locale'],
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    nsfw_level: GuildNSFWLevel.Default,
    hub_type: null as GuildHubType | null,
    incidents_data: null,
    joined_at: joinedAt,
    large: false,
    member_count: 1,
    members: [{ user: bot, roles: [], joined_at: joinedAt, deaf: false, mute: false, flags: NO_FLAGS as GuildMemberFlags }],
    channels: guild.channels.map((c, position) => ({
      id: c.id,
      type: ChannelType.GuildText,
      guild_id: guild.id,
      name: c.name ?? `channel-${position + 1}`,
      position,
      permission_overwrites: [],
      parent_id: null,
      nsfw: false,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      flags: NO_FLAGS as ChannelFlags,
    })),
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
