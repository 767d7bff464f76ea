/**
 * Channel settings: policy lives on channels because channels are how teams
 * divide work. A channel's effective value for each setting is its own
 * explicit value, else the server's (guild-wide default), else the built-in
 * default; `resolve` says which of the three each value came from so
 * `/settings view` can show it.
 *
 * Only explicitly set values are stored (SettingsRecords, keys `guild:<id>`
 * and `channel:<id>`, one record per setting), so changing a server default
 * reaches every channel that hasn't overridden it.
 */
import { z } from 'zod';
import { ASPECT_RATIOS, SPEEDS, VERSIONS, type Speed } from '../midjourney.js';

/**
 * Where explicit settings live: per level key, one record per setting, so
 * an update writes only the settings it names and two processes changing
 * different settings of one channel at once both keep their change (the
 * store does each update in one transaction).
 */
export interface SettingsRecords {
  /** The stored settings of each key that has any (one read for all the keys). */
  read(keys: readonly string[]): Promise<Map<string, Record<string, unknown>>>;
  /** Store `set`, remove `remove` (or every setting of the key), and return the key's settings afterwards. */
  update(key: string, set: Record<string, unknown>, remove: readonly string[] | 'all'): Promise<Record<string, unknown>>;
  /** Every key starting with `prefix`, with its settings (rarely: the low-balance check). */
  list(prefix: string): Promise<Array<[string, Record<string, unknown>]>>;
}

export const BUTTON_POLICIES = ['anyone', 'author'] as const;
export type ButtonPolicy = (typeof BUTTON_POLICIES)[number];

/** Largest accepted max-concurrent value: KIE allows 20 creates per 10 s per account anyway. */
export const MAX_CONCURRENT_LIMIT = 50;

const snowflake = z.string().regex(/^\d{5,25}$/, 'must be a Discord id');

/** Every setting, with its validation. The field order is the order `/settings view` lists them in. */
export const SettingsSchema = z.object({
  enabled: z.boolean(),
  /** The image service new jobs here go to: a configured provider's id, or 'default' (the deployment's IMAGE_PROVIDER). */
  provider: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a provider id'),
  /** The one KIE key (by name, from KIE_API_KEYS) KIE jobs here use — a team that pays separately; 'any' = the least busy. */
  kieKey: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be a KIE key name'),
  version: z.enum(VERSIONS),
  aspectRatio: z.enum(ASPECT_RATIOS),
  speed: z.enum(SPEEDS),
  stylize: z.number().int().min(0).max(1000),
  allowedSpeeds: z.array(z.enum(SPEEDS)).min(1, 'allow at least one speed'),
  videoAllowed: z.boolean(),
  hdAllowed: z.boolean(),
  /** Defaults for /animate and the Animate buttons when the user doesn't say. */
  videoHd: z.boolean(),
  videoBatchSize: z.union([z.literal(1), z.literal(2), z.literal(4)]),
  buttons: z.enum(BUTTON_POLICIES),
  maxConcurrent: z.number().int().min(1).max(MAX_CONCURRENT_LIMIT),
  /** Jobs one user may start per UTC day in one channel; null = no limit. */
  userDailyJobs: z.number().int().min(1).nullable(),
  /** Credits the channel may spend per UTC day / month; null = no limit. */
  dailyBudget: z.number().min(0).nullable(),
  monthlyBudget: z.number().min(0).nullable(),
  /** Refused in prompts as whole words, case-insensitively. */
  bannedWords: z.array(z.string().trim().min(1).max(100)).max(200),
  /** Whether failed jobs still count against budgets and daily limits. */
  countFailed: z.boolean(),
  /** A single job (a command's or a button's) estimated above this many credits asks to be confirmed first; null = never. */
  confirmAbove: z.number().min(0).nullable(),
  /** Server only: a create whose image service is unavailable goes to another configured one (the reply says so). */
  failover: z.boolean(),
  /** Server only: where the low-balance alert goes, and below how many credits. */
  alertChannelId: snowflake.nullable(),
  lowBalanceThreshold: z.number().min(0).nullable(),
});
export type EffectiveSettings = z.infer<typeof SettingsSchema>;
export type SettingKey = keyof EffectiveSettings;
export type StoredSettings = Partial<EffectiveSettings>;

export const SETTING_KEYS = Object.keys(SettingsSchema.shape) as SettingKey[];

/** Settings that describe the server (or the KIE account), not a channel: only settable server-wide. */
export const SERVER_ONLY_KEYS: readonly SettingKey[] = ['failover', 'alertChannelId', 'lowBalanceThreshold'];

export const DEFAULT_SETTINGS: Readonly<EffectiveSettings> = Object.freeze({
  enabled: true,
  provider: 'default',
  kieKey: 'any',
  version: '7',
  aspectRatio: '1:1',
  speed: 'fast',
  stylize: 100,
  allowedSpeeds: [...SPEEDS],
  videoAllowed: true,
  hdAllowed: true,
  videoHd: false,
  videoBatchSize: 1,
  buttons: 'anyone',
  maxConcurrent: 3,
  userDailyJobs: null,
  dailyBudget: null,
  monthlyBudget: null,
  bannedWords: [],
  countFailed: false,
  confirmAbove: null,
  failover: false,
  alertChannelId: null,
  lowBalanceThreshold: null,
});

export const SCOPES = ['channel', 'server'] as const;
export type SettingsScope = (typeof SCOPES)[number];
export type SettingSource = SettingsScope | 'default';

export interface ResolvedSettings {
  values: EffectiveSettings;
  sources: Record<SettingKey, SettingSource>;
}

export class InvalidSettingError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidSettingError';
  }
}

/**
 * Keep only the stored values that are still valid. A value that no longer
 * parses (an older build's format, a hand edit) is dropped, so the setting
 * falls back to the next level instead of breaking every job in the channel.
 */
export function sanitizeStored(raw: unknown): StoredSettings {
  if (!raw || typeof raw !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = (raw as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const parsed = SettingsSchema.shape[key].safeParse(value);
    if (parsed.success) out[key] = parsed.data;
  }
  return out as StoredSettings;
}

/** Validate a patch for one scope; throws InvalidSettingError naming the first bad key. */
export function validatePatch(scope: SettingsScope, patch: Record<string, unknown>): StoredSettings {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (!(SETTING_KEYS as string[]).includes(key)) throw new InvalidSettingError(key, `unknown setting ${key}`);
    const k = key as SettingKey;
    if (scope === 'channel' && SERVER_ONLY_KEYS.includes(k)) {
      throw new InvalidSettingError(key, `${key} can only be set for the whole server`);
    }
    const parsed = SettingsSchema.shape[k].safeParse(value);
    if (!parsed.success) {
      throw new InvalidSettingError(key, `${key}: ${parsed.error.issues[0]?.message ?? 'invalid value'}`);
    }
    out[key] = Array.isArray(parsed.data) ? dedupe(parsed.data) : parsed.data;
  }
  return out as StoredSettings;
}

function dedupe<T>(list: T[]): T[] {
  return [...new Set(list)];
}

/** Default speed to use when the configured one isn't allowed: fast, else relaxed, else turbo. */
const SPEED_FALLBACK_ORDER: readonly Speed[] = ['fast', 'relaxed', 'turbo'];

/**
 * channel > server > default, key by key. Server-only keys ignore channel
 * values. If the effective default speed isn't an allowed speed (the server
 * defaults to turbo, a channel forbids it), the default becomes the first
 * allowed speed, attributed to wherever `allowedSpeeds` came from: a
 * channel's default must never be a speed it refuses. Likewise HD is never
 * the video default where HD isn't allowed.
 */
export function mergeSettings(server: StoredSettings, channel: StoredSettings): ResolvedSettings {
  const values: Record<string, unknown> = {};
  const sources = {} as Record<SettingKey, SettingSource>;
  for (const key of SETTING_KEYS) {
    const fromChannel = SERVER_ONLY_KEYS.includes(key) ? undefined : channel[key];
    if (fromChannel !== undefined) {
      values[key] = fromChannel;
      sources[key] = 'channel';
    } else if (server[key] !== undefined) {
      values[key] = server[key];
      sources[key] = 'server';
    } else {
      const d = DEFAULT_SETTINGS[key];
      values[key] = Array.isArray(d) ? [...d] : d;
      sources[key] = 'default';
    }
  }
  const merged = values as EffectiveSettings;
  if (!merged.allowedSpeeds.includes(merged.speed)) {
    merged.speed = SPEED_FALLBACK_ORDER.find((s) => merged.allowedSpeeds.includes(s)) ?? merged.speed;
    sources.speed = sources.allowedSpeeds;
  }
  if (merged.videoHd && !merged.hdAllowed) {
    merged.videoHd = false;
    sources.videoHd = sources.hdAllowed;
  }
  return { values: merged, sources };
}

export const settingsKey = (scope: SettingsScope, id: string): string =>
  `${scope === 'server' ? 'guild' : 'channel'}:${id}`;

/** Reads and writes settings; each update is one transaction over per-setting records. */
export class ChannelSettings {
  constructor(private readonly records: SettingsRecords) {}

  /** The values explicitly set at one level (not inherited). */
  async explicit(scope: SettingsScope, id: string): Promise<StoredSettings> {
    const key = settingsKey(scope, id);
    return sanitizeStored((await this.records.read([key])).get(key));
  }

  /**
   * Effective settings for a channel. `guildId` null (a DM) has no server
   * level; `channelId` null gives the server's effective values.
   */
  async resolve(guildId: string | null, channelId: string | null): Promise<ResolvedSettings> {
    const serverKey = guildId ? settingsKey('server', guildId) : null;
    const channelKey = channelId ? settingsKey('channel', channelId) : null;
    const stored = await this.records.read([serverKey, channelKey].filter((k): k is string => k !== null));
    return mergeSettings(
      serverKey ? sanitizeStored(stored.get(serverKey)) : {},
      channelKey ? sanitizeStored(stored.get(channelKey)) : {},
    );
  }

  /** Validate and store a patch; returns the level's explicit values after the change. */
  async set(scope: SettingsScope, id: string, patch: Record<string, unknown>): Promise<StoredSettings> {
    const valid = validatePatch(scope, patch);
    return sanitizeStored(await this.records.update(settingsKey(scope, id), valid, []));
  }

  /** Remove explicit values so they inherit again; `'all'` clears the level. */
  async reset(scope: SettingsScope, id: string, keys: readonly SettingKey[] | 'all'): Promise<StoredSettings> {
    return sanitizeStored(await this.records.update(settingsKey(scope, id), {}, keys));
  }

  /** Every server that set something explicitly, with its values (for the low-balance alert). */
  async *servers(): AsyncGenerator<[guildId: string, values: StoredSettings]> {
    for (const [key, raw] of await this.records.list('guild:')) yield [key.slice('guild:'.length), sanitizeStored(raw)];
  }
}

// ---------------------------------------------------------------------------
// Changing settings: the rules /settings applies around ChannelSettings
// ---------------------------------------------------------------------------

/** Where a change applies: the server defaults of `guildId`, or channel `channelId` (a thread's parent). */
export interface SettingsTarget {
  scope: SettingsScope;
  guildId: string;
  channelId: string;
}

/** The part of TeamPolicy a change needs: start whatever a higher concurrency limit now lets run. */
export interface ConcurrencyRefresh {
  refresh(channelId?: string): Promise<void>;
}

/** The providers a channel may be pointed at (the deployment's configured ones). */
export interface ProviderChoices {
  /** A configured provider; `accounts`: its account names when it has several (KIE_API_KEYS). */
  get(id: string): { readonly accounts?: readonly string[] } | undefined;
  ids(): readonly string[];
}

/** A channel-scope change named server-only keys; the caller names them in its own words. */
export class ServerOnlySettingsError extends Error {
  constructor(readonly keys: readonly SettingKey[]) {
    super(`${keys.join(', ')} can only be set for the whole server`);
    this.name = 'ServerOnlySettingsError';
  }
}

/** The patch points a channel at a provider the deployment isn't configured for. */
export class UnconfiguredProviderError extends Error {
  constructor(
    readonly provider: string,
    readonly configured: readonly string[],
  ) {
    super(`provider ${provider} is not configured`);
    this.name = 'UnconfiguredProviderError';
  }
}

/** The patch pins a channel to a KIE key that is not configured (or KIE has only one). */
export class UnknownKieKeyError extends Error {
  constructor(
    readonly key: string,
    readonly configured: readonly string[],
  ) {
    super(`KIE key ${key} is not configured`);
    this.name = 'UnknownKieKeyError';
  }
}

export interface SettingsChanged {
  /** Keys changed at server level that this channel overrides, so the change doesn't show here. */
  shadowedHere: SettingKey[];
  /** The channel's effective values after the change. */
  effective: ResolvedSettings;
}

const targetId = (t: SettingsTarget): string => (t.scope === 'server' ? t.guildId : t.channelId);
/** A channel change refreshes that channel's queue; a server change every channel's. */
const refreshScope = (t: SettingsTarget): string | undefined => (t.scope === 'channel' ? t.channelId : undefined);

/**
 * `/settings set`: server-only keys only at server level, the provider must
 * be configured, then store the patch (InvalidSettingError on a bad value)
 * and, when the concurrency limit changed, let queued jobs start.
 */
export async function changeSettings(
  deps: { settings: ChannelSettings; policy: ConcurrencyRefresh; providers: ProviderChoices },
  target: SettingsTarget,
  patch: Partial<EffectiveSettings>,
): Promise<SettingsChanged> {
  const serverOnly = (Object.keys(patch) as SettingKey[]).filter((k) => SERVER_ONLY_KEYS.includes(k));
  if (target.scope === 'channel' && serverOnly.length > 0) throw new ServerOnlySettingsError(serverOnly);
  if (patch.provider !== undefined && patch.provider !== 'default' && !deps.providers.get(patch.provider)) {
    throw new UnconfiguredProviderError(patch.provider, deps.providers.ids());
  }
  if (patch.kieKey !== undefined && patch.kieKey !== 'any') {
    const keys = deps.providers.get('kie')?.accounts ?? [];
    if (!keys.includes(patch.kieKey)) throw new UnknownKieKeyError(patch.kieKey, keys);
  }
  await deps.settings.set(target.scope, targetId(target), patch);
  if (patch.maxConcurrent !== undefined) await deps.policy.refresh(refreshScope(target));
  let shadowedHere: SettingKey[] = [];
  if (target.scope === 'server') {
    const here = await deps.settings.explicit('channel', target.channelId);
    shadowedHere = (Object.keys(patch) as SettingKey[]).filter((k) => k in here && !SERVER_ONLY_KEYS.includes(k));
  }
  return { shadowedHere, effective: await deps.settings.resolve(target.guildId, target.channelId) };
}

/** `/settings reset`: make one setting (or all) inherit again, let queued jobs start; the channel's values after. */
export async function resetSettings(
  deps: { settings: ChannelSettings; policy: ConcurrencyRefresh },
  target: SettingsTarget,
  keys: readonly SettingKey[] | 'all',
): Promise<ResolvedSettings> {
  await deps.settings.reset(target.scope, targetId(target), keys);
  await deps.policy.refresh(refreshScope(target));
  return deps.settings.resolve(target.guildId, target.channelId);
}

export const isSettingKey = (key: string): key is SettingKey => (SETTING_KEYS as string[]).includes(key);
